//! The Karpenter NodePool watch: started when the operator runs with NodePools on and the
//! `karpenter.sh/v1` NodePool CRD is served. A NodePool's change reconciles the objects whose
//! `spec.capacity` selects it (a changed limit changes their need).

use futures::{Stream, StreamExt, future::Either, stream};
use kube::{
    Api, Client,
    runtime::{WatchStreamExt, reflector, watcher},
};

use crate::{
    api::QuotaRequirement,
    capacity::nodepools::{self, NodePool},
};

/// The NodePools, cached and watched; or why they are not (off, or the CRD not installed), and
/// no events.
pub async fn watch(
    client: &Client,
    on: bool,
) -> (
    Result<reflector::Store<NodePool>, String>,
    impl Stream<Item = Result<NodePool, watcher::Error>> + Send + 'static,
) {
    if !on {
        return (
            Err(nodepools::OFF.to_string()),
            Either::Left(stream::empty()),
        );
    }
    let api = Api::<NodePool>::all(client.clone());
    // A list of one tells whether the CRD is served before a watch retries against a 404 forever
    // (and the stores never become ready).
    if let Err(e) = api.list(&kube::api::ListParams::default().limit(1)).await {
        let why = match &e {
            kube::Error::Api(s) if s.code == 404 => {
                "the karpenter.sh/v1 NodePool CRD is not installed in this cluster (install Karpenter, then restart the operator)".to_string()
            }
            other => format!("NodePools could not be listed at start: {other}"),
        };
        tracing::warn!(reason = %why, "Karpenter NodePools are not watched");
        return (Err(why), Either::Left(stream::empty()));
    }
    let (store, writer) = reflector::store();
    let events = reflector::reflector(writer, watcher(api, watcher::Config::default()))
        .default_backoff()
        .touched_objects();
    (Ok(store), Either::Right(events.boxed()))
}

/// Whether `qr`'s capacity may count `pool`: it names it, or selects by label (a label change
/// can take a NodePool out of a selector, which the new labels no longer show).
pub fn concerns(qr: &QuotaRequirement, pool: &NodePool) -> bool {
    qr.spec
        .capacity
        .iter()
        .flatten()
        .filter_map(|c| c.node_pools.as_ref())
        .any(|s| s.selector.is_some() || nodepools::selects(s, pool))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qr(capacity: serde_json::Value) -> QuotaRequirement {
        let spec =
            serde_json::json!({"accountRef": "a", "regions": ["us-east-1"], "capacity": capacity});
        QuotaRequirement::new("q", serde_json::from_value(spec).unwrap())
    }

    fn pool(name: &str) -> NodePool {
        NodePool::new(name, Default::default())
    }

    #[test]
    fn a_nodepool_concerns_the_objects_that_name_it_or_select_by_label() {
        let named = qr(serde_json::json!([{"nodePools": {"names": ["batch"]}}]));
        assert!(concerns(&named, &pool("batch")));
        assert!(!concerns(&named, &pool("gpu")));
        let by_label =
            qr(serde_json::json!([{"nodePools": {"selector": {"matchLabels": {"t": "x"}}}}]));
        assert!(
            concerns(&by_label, &pool("gpu")),
            "its labels may have just changed"
        );
        let instances = qr(serde_json::json!([{"instanceType": "m5.large", "count": 1}]));
        assert!(!concerns(&instances, &pool("batch")));
    }
}
