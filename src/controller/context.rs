//! What every reconcile shares: the intervals (`Config`), the clients, stores and caches
//! (`Context`), and the error a reconcile can end with.

use std::{sync::Arc, time::Duration};

use k8s_openapi::api::core::v1::Namespace;
use kube::{
    Client,
    core::PartialObjectMeta,
    runtime::{events::Recorder, reflector::Store},
};

use super::{
    backoff::Backoff, case_reads::CaseReads, ledger::Ledger, needs, reconciles::Reconciles,
    turns::Turns,
};
use crate::{
    api::{CloudAccount, QuotaRequirement},
    capacity::nodepools::{NodePool, NodePools},
    cloud::ProviderFactory,
};

/// How often things happen; every interval is a flag of `quota-operator run`.
#[derive(Clone, Debug)]
pub struct Config {
    /// Re-read healthy objects this often (their quota may have changed outside the operator).
    pub resync: Duration,
    /// Follow open or queued requests this often.
    pub poll: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Watch only this namespace (all when None).
    pub namespace: Option<String>,
    /// Reconciles that may run at once.
    pub concurrency: u16,
    /// Name in events' reportingController.
    pub instance: String,
    /// Flipped once the caches are synced (served as `/readyz`).
    pub readiness: crate::probes::Readiness,
    /// How long reconciles in flight may run on after the shutdown signal before they are cut
    /// off (a filing cut off is claimed through its recorded intent, as after a SIGKILL).
    pub shutdown_grace: Duration,
    /// Watch Karpenter NodePools (`karpenter.sh/v1`, when the CRD is installed), so that
    /// `spec.capacity[].nodePools` can name them.
    pub karpenter_nodepools: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            resync: Duration::from_secs(600),
            poll: Duration::from_secs(60),
            backoff_base: Duration::from_secs(5),
            backoff_max: Duration::from_secs(300),
            namespace: None,
            concurrency: 16,
            instance: "quota-operator".into(),
            readiness: crate::probes::Readiness::default(),
            shutdown_grace: Duration::from_secs(20),
            karpenter_nodepools: false,
        }
    }
}

pub struct Context {
    pub client: Client,
    pub providers: Arc<dyn ProviderFactory>,
    pub accounts: Store<CloudAccount>,
    pub namespaces: Store<PartialObjectMeta<Namespace>>,
    pub requirements: Store<QuotaRequirement>,
    /// Which objects need which quota, for aggregation.
    pub needs: Arc<needs::Needs>,
    pub ledger: Ledger,
    /// Support cases read, at most once per poll interval each.
    pub case_reads: CaseReads,
    /// Whose turn it is at each region's open-request slots.
    pub turns: Turns,
    pub backoff: Backoff,
    pub recorder: Recorder,
    pub config: Config,
    /// Karpenter NodePools, when watched; else why not.
    pub nodepools: Result<Store<NodePool>, String>,
    /// Counts finished reconciles per object, for tests (`Seams`).
    pub reconciles: Option<Arc<Reconciles>>,
    pub(super) stores_ready: tokio::sync::OnceCell<()>,
}

impl Context {
    /// Aggregation and namespace rules read the stores: wait until they hold the whole cluster.
    /// One task waits on the stores and the rest on this cell, because a store's
    /// `wait_until_ready` wakes only the last task that polled it.
    pub(super) async fn stores_ready(&self) {
        self.stores_ready
            .get_or_init(|| async {
                let _ = self.accounts.wait_until_ready().await;
                let _ = self.namespaces.wait_until_ready().await;
                let _ = self.requirements.wait_until_ready().await;
                // A need computed before the NodePools are listed would count none of them.
                if let Ok(pools) = &self.nodepools {
                    let _ = pools.wait_until_ready().await;
                }
                self.config.readiness.set_ready();
            })
            .await;
    }
}

impl Context {
    /// The NodePools `spec.capacity` may name, as the watch holds them.
    pub fn nodepools(&self) -> NodePools {
        match &self.nodepools {
            Ok(store) => NodePools::Known(store.state()),
            Err(why) => NodePools::Unavailable(why.clone()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
}

impl Error {
    /// Bounded label for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Kube(_) => "KubeApi",
        }
    }
}
