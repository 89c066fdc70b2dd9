//! A running simulator: where it listens, how to steer it, and how it stops. Every cloud is
//! served on the same address (AWS at `POST /`, GCP under `/v1/` and `/compute/v1/`, admin under
//! `/_sim/<cloud>`).

use std::{net::SocketAddr, ops::Deref};

use anyhow::Context as _;
use axum::{Json, Router, routing::get};
use tokio::{sync::oneshot, task::JoinHandle};

use crate::{
    aws::{self, AwsControl, AwsSim},
    call_log,
    gcp::{self, GcpControl, GcpSim},
    scenario::Scenario,
};

/// Every simulated cloud of one scenario, served together.
pub struct Sim {
    aws: AwsSim,
    gcp: GcpSim,
}

impl Sim {
    pub fn new(scenario: Scenario) -> Self {
        Self {
            aws: AwsSim::from_section(scenario.aws),
            gcp: GcpSim::from_section(scenario.gcp),
        }
    }

    /// Serves on `addr` (use port 0 for any free port) until the handle is dropped.
    pub async fn serve(self, addr: SocketAddr) -> anyhow::Result<SimHandle> {
        let router = self.aws.router().merge(self.gcp.router());
        SimHandle::start_all(addr, router, self.aws.control(), self.gcp.control()).await
    }
}

// Serving one cloud is defined here, above both clouds, rather than in `aws`/`gcp`: a cloud
// that started the whole server would need this module, which needs the cloud.
impl AwsSim {
    /// Serves on `addr` (use port 0 for any free port) until the handle is dropped; GCP runs
    /// beside it on its default scenario.
    pub async fn serve(self, addr: SocketAddr) -> anyhow::Result<SimHandle> {
        let gcp = GcpSim::from_section(Default::default());
        Sim { aws: self, gcp }.serve(addr).await
    }
}

impl GcpSim {
    /// Serves on `addr` (port 0: any free port) until the handle is dropped; AWS runs beside it
    /// on its default scenario.
    pub async fn serve(self, addr: SocketAddr) -> anyhow::Result<SimHandle> {
        let aws = AwsSim::from_section(Default::default());
        Sim { aws, gcp: self }.serve(addr).await
    }
}

/// The server task; it stops when this is dropped or on `shutdown()`. Derefs to
/// [`AwsControl`], so `handle.approve(id)`, `handle.calls("GetServiceQuota")`,
/// `handle.filed()` etc. work directly; `handle.gcp()` steers the GCP side.
pub struct SimHandle {
    addr: SocketAddr,
    aws: AwsControl,
    gcp: GcpControl,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl SimHandle {
    async fn start_all(
        addr: SocketAddr,
        router: Router,
        aws: AwsControl,
        gcp: GcpControl,
    ) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the simulator to {addr}"))?;
        let addr = listener.local_addr()?;
        let routes: Vec<&str> = aws::ADMIN_ROUTES
            .iter()
            .chain(gcp::ADMIN_ROUTES)
            .copied()
            .collect();
        let router = router
            .route("/_sim", get(|| async move { Json(routes) }))
            .layer(axum::middleware::from_fn(call_log::name_caller));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        tracing::info!(endpoint = %format!("http://{addr}"), "sim: serving");
        Ok(Self {
            addr,
            aws,
            gcp,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`: `--endpoint-url` or `endpoint_url` for AWS, `with_endpoint` for
    /// the Cloud Quotas client (gcloud wants a trailing `/` in its endpoint override).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn aws(&self) -> &AwsControl {
        &self.aws
    }

    pub fn gcp(&self) -> &GcpControl {
        &self.gcp
    }

    /// Stops accepting, lets in-flight calls finish, and waits for the server task.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.context("simulator task")??;
        }
        Ok(())
    }

    /// Serves until the task ends (for the `sim` subcommand, which stops on a signal).
    pub async fn wait(mut self) -> anyhow::Result<()> {
        if let Some(task) = self.task.take() {
            task.await.context("simulator task")??;
        }
        Ok(())
    }
}

impl Deref for SimHandle {
    type Target = AwsControl;
    fn deref(&self) -> &AwsControl {
        &self.aws
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
