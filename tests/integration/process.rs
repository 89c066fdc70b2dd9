//! The operator as a real process (the binary cargo built), for what only a process shows:
//! SIGKILL, leader election between replicas, a restart. Its log goes to a file the test reads.

use std::{
    fs::OpenOptions,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use crate::harness::kubeconfig;

pub const KEY: &str = "AKIDPROCESSEXAMPLE";

/// The run's kubeconfig, acting as `system:serviceaccount:<ns>:<sa>` (with only the rights
/// RBAC gives that ServiceAccount).
pub fn impersonating(ns: &str, sa: &str) -> PathBuf {
    let admin = std::fs::read_to_string(kubeconfig()).expect("kubeconfig");
    let mut config: serde_yaml::Value = serde_yaml::from_str(&admin).expect("kubeconfig YAML");
    for user in config["users"].as_sequence_mut().expect("users") {
        user["user"]["as"] = format!("system:serviceaccount:{ns}:{sa}").into();
    }
    let path = std::env::temp_dir().join(format!("qo-{ns}-{sa}.kubeconfig"));
    std::fs::write(&path, serde_yaml::to_string(&config).expect("YAML")).expect("write");
    path
}

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
        kubeconfig: &Path,
    ) -> Self {
        Launch::new(name, namespace, sim, kubeconfig)
            .extra(extra)
            .spawn()
    }

    /// The exit status once the process has ended (by itself or by a signal), without waiting.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().expect("wait")
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

    /// What the process serves at `/metrics` now (the probe address is read from its log).
    pub async fn metrics(&self) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        self.wait_log("probes=", Duration::from_secs(10)).await;
        let log = self.log();
        let addr = log
            .split("probes=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .expect("the probe address in the log");
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).await.expect("read");
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        response
            .split_once("\r\n\r\n")
            .expect("a body")
            .1
            .to_string()
    }

    /// What the probe server answers at `path` now: the status line and the body.
    pub async fn get(&self, path: &str) -> (String, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        self.wait_log("probes=", Duration::from_secs(10)).await;
        let log = self.log();
        let addr = (log.split("probes=").nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .expect("the probe address in the log");
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).await.expect("read");
        let (head, body) = response.split_once("\r\n\r\n").expect("a body");
        (
            head.lines().next().unwrap_or_default().to_string(),
            body.to_string(),
        )
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
                "{} did not stop within 20s of SIGTERM; its log:\n{}",
                self.name,
                self.log()
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

/// How to start one operator process, for tests that need more than [`OperatorProcess::start`]:
/// a log that survives restarts, a chattier log level, flags of their own.
pub struct Launch<'a> {
    name: &'a str,
    namespace: &'a str,
    sim: &'a str,
    kubeconfig: &'a Path,
    extra: &'a [&'a str],
    log_filter: &'a str,
    append: bool,
    all_namespaces: bool,
    aws_credentials: bool,
}

impl<'a> Launch<'a> {
    pub fn new(name: &'a str, namespace: &'a str, sim: &'a str, kubeconfig: &'a Path) -> Self {
        Self {
            name,
            namespace,
            sim,
            kubeconfig,
            extra: &[],
            log_filter: "info",
            append: false,
            all_namespaces: false,
            aws_credentials: true,
        }
    }

    pub fn extra(mut self, extra: &'a [&'a str]) -> Self {
        self.extra = extra;
        self
    }

    /// `RUST_LOG` of the process (default `info`).
    pub fn log_filter(mut self, filter: &'a str) -> Self {
        self.log_filter = filter;
        self
    }

    /// Appends to the log of an earlier process of the same name and namespace instead of
    /// starting it afresh, so one file tells the story of every restart.
    pub fn append_log(mut self) -> Self {
        self.append = true;
        self
    }

    /// Watches every namespace, as an installed operator does (the namespace only names the log).
    pub fn all_namespaces(mut self) -> Self {
        self.all_namespaces = true;
        self
    }

    /// No AWS credentials anywhere the SDK's chain looks (it still finds no files and no
    /// instance metadata).
    pub fn without_aws_credentials(mut self) -> Self {
        self.aws_credentials = false;
        self
    }

    pub fn spawn(self) -> OperatorProcess {
        let log = std::env::temp_dir().join(format!("qo-{}-{}.log", self.namespace, self.name));
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(self.append)
            .truncate(!self.append)
            .open(&log)
            .expect("operator log file");
        let watch: &[&str] = if self.all_namespaces {
            &[]
        } else {
            &["--namespace", self.namespace]
        };
        let mut command = Command::new(env!("CARGO_BIN_EXE_quota-operator"));
        if self.aws_credentials {
            command
                .env("AWS_ACCESS_KEY_ID", KEY)
                .env("AWS_SECRET_ACCESS_KEY", "secret");
        } else {
            for unset in [
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN",
            ] {
                command.env_remove(unset);
            }
        }
        let child = command
            .arg("run")
            .args(watch)
            .args(["--probe-addr", "127.0.0.1:0"])
            .args([
                "--aws-endpoint-url",
                self.sim,
                "--gcp-endpoint-url",
                self.sim,
            ])
            .args(["--poll-seconds", "1", "--resync-seconds", "2"])
            .args([
                "--aws-cache-ttl-seconds",
                "1",
                "--gcp-cache-ttl-seconds",
                "1",
            ])
            .args(self.extra)
            .env("KUBECONFIG", self.kubeconfig)
            .env("RUST_LOG", self.log_filter)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .expect("start quota-operator");
        OperatorProcess {
            name: self.name.into(),
            child,
            log,
        }
    }
}
