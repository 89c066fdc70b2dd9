//! A cache behind the API server, as an API server restart leaves it for a few seconds: the
//! operator must never file from what it has not seen. The in-process operator's watch passes
//! through a gate (see gate.rs) that holds the named objects' events back.

use std::{sync::Arc, time::Duration};

use kube::api::{Patch, PatchParams};
use quota_operator::api::{CloudAccount, QuotaRequirement, TargetState};
use serde_json::json;

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

#[tokio::test]
async fn a_decrease_the_account_no_longer_consents_to_is_not_filed_from_a_lagging_copy() {
    const PROJECT: &str = "stale-project";
    const CPUS: &str = "CPUS-per-project-region";
    let mut env = TestEnv::new("stale-consent").await;
    let cloud = cloud();
    let slot = Slot::new(PROJECT, "us-central1", "compute.googleapis.com", CPUS);
    cloud.set_quota(slot, "CPUs per region", 96.0, true);
    let account = env.unique("gcp");
    env.create_account(json!({
        "metadata": {"name": account},
        "spec": {
            "gcp": {"project": PROJECT, "contactEmail": "quotas@example.com"},
            "namespaceSelector": {"matchLabels": {"quota-operator.dev/allowed": "true"}},
            "guardrails": {"decrease": {"minValues": {CPUS: 64}}}
        }
    }))
    .await
    .expect("CloudAccount");
    let gate = Gate::default();
    // The operator sees the account as created, consenting; never that the consent is gone.
    gate.hold(&account, Hold::Changes);
    env.create_qr(
        Qr::gcp("listed", &account, CPUS)
            .regions(&["us-central1"])
            .desired(10),
    )
    .await;
    env.start_operator_gated(cloud.clone(), gate.clone()).await;
    env.reconciled("listed", 1).await;
    let accounts: kube::Api<CloudAccount> = kube::Api::all(env.client.clone());
    let withdrawn = json!({"spec": {"guardrails": {"decrease": null}}});
    accounts
        .patch(&account, &PatchParams::default(), &Patch::Merge(&withdrawn))
        .await
        .expect("withdraw the consent");
    // A team asks to lower the quota (96) to 80: from its copy of the account the operator would.
    env.create_qr(
        Qr::gcp("shrink", &account, CPUS)
            .regions(&["us-central1"])
            .desired(80)
            .allow_decrease(),
    )
    .await;
    let refused = env
        .wait_qr("shrink", |qr| {
            qr.status.as_ref().is_some_and(|s| {
                s.targets.first().is_some_and(|t| {
                    t.message
                        .as_deref()
                        .is_some_and(|m| m.contains("no longer consents to lowering"))
                })
            })
        })
        .await;
    env.reconciled("shrink", 3).await;
    assert_eq!(
        cloud.filed_count(),
        0,
        "nothing lowered without the consent the API server holds now: {:?} {:?}",
        cloud.requests(),
        refused.status
    );
}
