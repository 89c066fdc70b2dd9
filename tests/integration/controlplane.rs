//! A control plane of one test's own, for tests that restart the API server: the run's shared
//! server (harness.rs) serves every other test at the same time and must never go away.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use kube::{
    Client,
    config::{KubeConfigOptions, Kubeconfig},
};

use crate::harness::ROOT;

pub struct PrivateControlPlane {
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl PrivateControlPlane {
    /// tools/controlplane/start.sh in a temporary directory; the servers stop when this is
    /// dropped, or (the script's watchdog) when the test process dies.
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("qo-private-cp-")
            .tempdir()
            .expect("temp dir");
        let out = Command::new(format!("{ROOT}/tools/controlplane/start.sh"))
            .arg(dir.path())
            .env("QO_WATCH_PID", std::process::id().to_string())
            .output()
            .expect("run tools/controlplane/start.sh");
        assert!(
            out.status.success(),
            "private control plane failed to start:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let kubeconfig = PathBuf::from(stdout.lines().last().expect("kubeconfig path").trim());
        Self { dir, kubeconfig }
    }

    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    pub async fn client(&self) -> Client {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let kubeconfig = Kubeconfig::read_from(&self.kubeconfig).expect("read kubeconfig");
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .expect("kubeconfig");
        Client::try_from(config).expect("client")
    }

    /// Stops kube-apiserver, leaves it down for `down_seconds`, starts it again on the same port
    /// and etcd, and waits until it is ready; returns how long the API was away.
    pub async fn restart_apiserver(&self, down_seconds: u32) -> std::time::Duration {
        let dir = self.dir.path().to_path_buf();
        let started = Instant::now();
        let out = tokio::task::spawn_blocking(move || {
            Command::new(format!("{ROOT}/tools/controlplane/restart-apiserver.sh"))
                .arg(&dir)
                .arg(down_seconds.to_string())
                // A server draining open watches can take its full grace period to stop; a
                // SIGKILL after 3s shows a restart as well and keeps the test short.
                .env("QO_STOP_TIMEOUT", "3")
                .output()
                .expect("run tools/controlplane/restart-apiserver.sh")
        })
        .await
        .expect("restart task");
        assert!(
            out.status.success(),
            "API server restart failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        started.elapsed()
    }
}

impl Drop for PrivateControlPlane {
    fn drop(&mut self) {
        let _ = Command::new(format!("{ROOT}/tools/controlplane/stop.sh"))
            .arg(self.dir.path())
            .output();
    }
}
