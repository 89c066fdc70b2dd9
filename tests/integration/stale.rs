//! A cache behind the API server, as an API server restart leaves it for a few seconds: the
//! operator must never file from what it has not seen. The in-process operator's watch passes
//! through a gate (see gate.rs) that holds the named objects' events back.

use std::{sync::Arc, time::Duration};

use quota_operator::api::{QuotaRequirement, TargetState};

use crate::{
    fake::{FakeCloud, Slot},
    gate::{Gate, Hold},
    harness::{Qr, TestEnv, eventually},
};

const ACCOUNT: &str = "111122223333";
const SPOT: &str = "L-34B43A08";
const ON_DEMAND: &str = "L-1216C47A";

fn cloud() -> Arc<FakeCloud> {
    let cloud = FakeCloud::new();
    for (code, name) in [(SPOT, "Spot"), (ON_DEMAND, "On-Demand")] {
        cloud.set_quota(
            Slot::new(ACCOUNT, "us-east-1", "ec2", code),
            name,
            640.0,
            true,
        );
    }
    cloud
}

fn denied(qr: &QuotaRequirement, id: &str) -> bool {
    qr.status.as_ref().is_some_and(|s| {
        s.targets.first().is_some_and(|t| {
            t.state == TargetState::Denied && t.request.as_ref().is_some_and(|r| r.id == id)
        })
    })
}

/// The request is filed and refused; waits until the operator has read the quota `n` more
/// times after the refusal, so it demonstrably reconciled from its lagging copy.
async fn refuse_and_watch(cloud: &FakeCloud, n: u64) -> String {
    let id = eventually(Duration::from_secs(30), || async {
        cloud.requests().first().map(|r| r.view.id.clone())
    })
    .await;
    cloud.deny(&id, "CASE_CLOSED", "Not approved.");
    let reads = cloud.calls("GetServiceQuota");
    eventually(Duration::from_secs(30), || async {
        (cloud.calls("GetServiceQuota") >= reads + n).then_some(())
    })
    .await;
    id
}

#[tokio::test]
async fn an_object_whose_own_copy_lags_does_not_file_its_refused_request_again() {
    let mut env = TestEnv::new("stale-own").await;
    let cloud = cloud();
    let account = env.aws_account("aws", ACCOUNT).await;
    let gate = Gate::default();
    // The operator sees the object created, never the status it writes for it.
    gate.hold("spot", Hold::Changes);
    env.create_qr(
        Qr::ec2("spot", &account, SPOT)
            .regions(&["us-east-1"])
            .desired(2000),
    )
    .await;
    env.start_operator_gated(cloud.clone(), gate.clone()).await;

    let id = refuse_and_watch(&cloud, 5).await;
    assert_eq!(cloud.filed_count(), 1, "{:?}", cloud.requests());

    gate.release("spot");
    env.wait_qr("spot", |qr| denied(qr, &id)).await;
    env.reconciled("spot", 3).await;
    assert_eq!(cloud.filed_count(), 1, "{:?}", cloud.requests());
}

#[tokio::test]
async fn a_refusal_only_a_lagging_peer_copy_records_is_not_filed_again() {
    let mut env = TestEnv::new("stale-peer").await;
    let cloud = cloud();
    let account = env.aws_account("aws", ACCOUNT).await;
    let gate = Gate::default();
    // `b` exists before the request is filed but the operator learns of it only after the
    // refusal; `a`, which files it, is seen created but not what its status then records.
    // Both come after the operator's first list, which the gate does not hold.
    gate.hold("b", Hold::All);
    gate.hold("a", Hold::Changes);
    env.create_qr(
        Qr::ec2("listed", &account, ON_DEMAND)
            .regions(&["us-east-1"])
            .desired(100),
    )
    .await;
    env.start_operator_gated(cloud.clone(), gate.clone()).await;
    env.reconciled("listed", 1).await;
    env.create_qr(
        Qr::ec2("b", &account, SPOT)
            .regions(&["us-east-1"])
            .desired(2000),
    )
    .await;
    env.create_qr(
        Qr::ec2("a", &account, SPOT)
            .regions(&["us-east-1"])
            .desired(2000),
    )
    .await;

    let id = refuse_and_watch(&cloud, 5).await;
    gate.release("b");
    env.wait_qr("b", |qr| denied(qr, &id)).await;
    env.reconciled("b", 3).await;
    assert_eq!(cloud.filed_count(), 1, "{:?}", cloud.requests());

    gate.release("a");
    env.wait_qr("a", |qr| denied(qr, &id)).await;
    env.reconciled("a", 3).await;
    env.reconciled("b", 2).await;
    assert_eq!(cloud.filed_count(), 1, "{:?}", cloud.requests());
}
