//! The operator as a real process (the binary cargo built), for what only a process shows:
//! SIGKILL, leader election between replicas, a restart. Its log goes to a file the test reads.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use crate::harness::kubeconfig;

pub const KEY: &str = "AKIDPROCESSEXAMPLE";

pub struct OperatorProcess {
    pub name: String,
    child: Child,
    log: PathBuf,
}

impl OperatorProcess {
    /// Starts `quota-operator run` watching `namespace`, with the AWS and GCP endpoints at `sim`
    /// and short intervals; `extra` adds flags.
    pub fn start(name: &str, namespace: &str, sim: &str, extra: &[&str]) -> Self {
        Self::start_with_kubeconfig(name, namespace, sim, extra, kubeconfig())
    }

    /// As [`start`](Self::start), acting with `kubeconfig` (e.g. one that impersonates a
    /// ServiceAccount).
    pub fn start_with_kubeconfig(
        name: &str,
        namespace: &str,
        sim: &str,
        extra: &[&str],
        kubeconfig: &std::path::Path,
    ) -> Self {
        let log = std::env::temp_dir().join(format!("qo-{namespace}-{name}.log"));
        let file = std::fs::File::create(&log).expect("operator log file");
        let child = Command::new(env!("CARGO_BIN_EXE_quota-operator"))
            .arg("run")
            .args(["--namespace", namespace])
            .args(["--probe-addr", "127.0.0.1:0"])
            .args(["--aws-endpoint-url", sim, "--gcp-endpoint-url", sim])
            .args(["--poll-seconds", "1", "--resync-seconds", "2"])
            .args([
                "--aws-cache-ttl-seconds",
                "1",
                "--gcp-cache-ttl-seconds",
                "1",
            ])
            .args(extra)
            .env("KUBECONFIG", kubeconfig)
            .env("RUST_LOG", "info")
            .env("AWS_ACCESS_KEY_ID", KEY)
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .expect("start quota-operator");
        Self {
            name: name.into(),
            child,
            log,
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log has a line containing `text`; panics with the log on time-out.
    pub async fn wait_log(&self, text: &str, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        while !self.log().contains(text) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{}: no `{text}` in the log within {timeout:?}:\n{}",
                self.name,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL: no cleanup, no lease release, nothing flushed.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, as Kubernetes stops a pod, then waits for the process to end.
    pub async fn terminate(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().expect("wait").is_none() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} did not stop on SIGTERM",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for OperatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
