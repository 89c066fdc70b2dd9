//! The reconcile pipeline end to end on the real API server, with the in-memory cloud.

use std::time::Duration;

use quota_operator::api::{QuotaRequirement, TargetState};
use serde_json::json;

use crate::{
    fake::{FakeCloud, Slot},
    harness::{Qr, TestEnv, condition, summary},
};

const ACCOUNT_ID: &str = "111122223333";
const SPOT: &str = "L-34B43A08";
const SPOT_NAME: &str = "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests";

fn spot(region: &str) -> Slot {
    Slot::new(ACCOUNT_ID, region, "ec2", SPOT)
}

fn spot_cloud(value: f64) -> std::sync::Arc<FakeCloud> {
    let cloud = FakeCloud::new();
    for region in ["us-east-1", "eu-west-1"] {
        cloud.set_quota(spot(region), SPOT_NAME, value, true);
    }
    cloud
}

fn states(qr: &QuotaRequirement) -> Vec<TargetState> {
    qr.status
        .iter()
        .flat_map(|s| s.targets.iter().map(|t| t.state))
        .collect()
}

fn all(qr: &QuotaRequirement, state: TargetState) -> bool {
    let s = states(qr);
    !s.is_empty() && s.iter().all(|x| *x == state)
}

/// The reasons of the events recorded in the test's namespace.
async fn event_reasons(env: &TestEnv) -> Vec<String> {
    use k8s_openapi::api::events::v1::Event;
    let events: kube::Api<Event> = kube::Api::namespaced(env.client.clone(), &env.ns);
    let list = events.list(&Default::default()).await.expect("list events");
    list.items.into_iter().filter_map(|e| e.reason).collect()
}

/// Lets several resync and poll periods pass (the test operator resyncs every 500 ms).
/// The Spot requirement most lifecycle tests start from: 2000 vCPUs in `regions`.
fn spot_qr(account: &str, regions: &[&str]) -> Qr {
    Qr::ec2("spot", account, SPOT)
        .regions(regions)
        .desired(2000)
        .justification("Q4 batch scale-out")
}

#[tokio::test]
async fn sufficient_quota_is_satisfied_without_a_request() {
    let mut env = TestEnv::new("satisfied").await;
    let cloud = spot_cloud(5000.0);
    let account = env.aws_account("aws", ACCOUNT_ID).await;
    env.create_qr(spot_qr(&account, &["us-east-1", "eu-west-1"]))
        .await;
    assert!(
        !env.readiness.is_ready(),
        "not ready before the operator runs"
    );
    env.start_operator(cloud.clone());

    let qr = env
        .wait_qr("spot", |qr| all(qr, TargetState::Satisfied))
        .await;
    assert_eq!(summary(&qr), "Satisfied");
    assert!(
        env.readiness.is_ready(),
        "/readyz is ready once the caches are synced"
    );
    assert_eq!(condition(&qr, "Satisfied"), ("True", "AllSatisfied"));
    assert_eq!(condition(&qr, "Ready").0, "True");
    // Abnormal-true, so present only while true.
    assert_eq!(condition(&qr, "Reconciling"), ("", ""));
    assert_eq!(condition(&qr, "Stalled"), ("", ""));
    let status = qr.status.unwrap();
    assert_eq!(status.observed_generation, qr.metadata.generation);
    assert_eq!(status.quota.as_deref(), Some("ec2/L-34B43A08"));
    assert!(
        status
            .targets
            .iter()
            .all(|t| t.current_value == Some(5000.0))
    );
    assert_eq!(cloud.filed_count(), 0);
    assert_eq!(cloud.calls("RequestServiceQuotaIncrease"), 0);

    // Resyncs that change nothing write nothing: the object's resourceVersion stays put.
    let version = qr.metadata.resource_version.clone();
    env.reconciled("spot", 3).await;
    let again = env.qrs().get("spot").await.unwrap();
    assert_eq!(
        again.metadata.resource_version, version,
        "no status write without a change"
    );
    assert!(
        cloud.calls("GetServiceQuota") > 2,
        "the resyncs did read the cloud"
    );
}

#[tokio::test]
async fn shortfall_files_one_request_per_region_and_is_satisfied_after_approval() {
    let mut env = TestEnv::new("increase").await;
    let cloud = spot_cloud(640.0);
    let account = env.aws_account("aws", ACCOUNT_ID).await;
    env.create_qr(spot_qr(&account, &["us-east-1", "eu-west-1"]))
        .await;
    env.start_operator(cloud.clone());

    let qr = env
        .wait_qr("spot", |qr| all(qr, TargetState::Requested))
        .await;
    assert_eq!(condition(&qr, "Reconciling"), ("True", "RequestOpen"));
    assert_eq!(condition(&qr, "Ready").0, "False");
    assert_eq!(condition(&qr, "Satisfied"), ("False", "RequestOpen"));
    env.reconciled("spot", 3).await;
    let requests = cloud.requests();
    assert_eq!(
        requests.len(),
        2,
        "exactly one request per region: {requests:?}"
    );
    for region in ["us-east-1", "eu-west-1"] {
        let r: Vec<_> = requests
            .iter()
            .filter(|r| r.slot.region == region)
            .collect();
        assert_eq!(r.len(), 1, "{region}");
        assert_eq!(r[0].view.requested_value, 2000.0);
    }
    let ids: Vec<_> = qr
        .status
        .as_ref()
        .unwrap()
        .targets
        .iter()
        .map(|t| t.request.as_ref().unwrap().id.clone())
        .collect();

    for id in cloud.open_request_ids() {
        cloud.approve(&id);
    }
    let qr = env
        .wait_qr("spot", |qr| all(qr, TargetState::Satisfied))
        .await;
    assert_eq!(condition(&qr, "Satisfied"), ("True", "AllSatisfied"));
    for t in &qr.status.as_ref().unwrap().targets {
        assert_eq!(t.current_value, Some(2000.0));
        let request = t.request.as_ref().unwrap();
        assert_eq!(request.status, "APPROVED");
        assert!(ids.contains(&request.id));
    }
    env.reconciled("spot", 3).await;
    assert_eq!(cloud.filed_count(), 2, "no request after approval");
}

#[tokio::test]
async fn denied_request_shows_the_message_and_is_not_refiled_until_the_spec_changes() {
    let mut env = TestEnv::new("denied").await;
    let cloud = spot_cloud(640.0);
    let account = env.aws_account("aws", ACCOUNT_ID).await;
    env.create_qr(spot_qr(&account, &["us-east-1"])).await;
    env.start_operator(cloud.clone());

    env.wait_qr("spot", |qr| all(qr, TargetState::Requested))
        .await;
    let id = cloud.open_request_ids().pop().unwrap();
    cloud.deny(
        &id,
        "DENIED",
        "Your account does not have enough usage history.",
    );
    let qr = env.wait_qr("spot", |qr| all(qr, TargetState::Denied)).await;
    assert_eq!(summary(&qr), "Denied");
    assert_eq!(condition(&qr, "Satisfied"), ("False", "Denied"));
    let target = &qr.status.as_ref().unwrap().targets[0];
    let message = target.message.as_deref().unwrap();
    assert!(message.contains("enough usage history"), "{message}");
    assert_eq!(target.request.as_ref().unwrap().status, "DENIED");

    env.reconciled("spot", 3).await;
    assert_eq!(cloud.filed_count(), 1, "a denial is not re-filed on resync");
    let reasons = event_reasons(&env).await;
    for reason in ["RequestFiled", "Denied"] {
        assert!(
            reasons.iter().any(|r| r == reason),
            "no {reason} event in {reasons:?}"
        );
    }
    let qr = env.qrs().get("spot").await.unwrap();
    assert!(all(&qr, TargetState::Denied));
    let message = qr.status.as_ref().unwrap().targets[0]
        .message
        .clone()
        .unwrap();
    assert!(
        message.contains("enough usage history"),
        "the cloud's message survives resyncs: {message}"
    );

    // A spec change is a new need: the refusal does not settle it, but the quota waits out
    // the account's cooldown (24h by default) before it is asked again.
    let patch = json!({"spec": {"desiredValue": 1500}});
    env.qrs()
        .patch(
            "spot",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&patch),
        )
        .await
        .unwrap();
    let waiting = env
        .wait_qr("spot", |qr| {
            all(qr, TargetState::Queued) && message_of(qr).contains("at most once per 24h")
        })
        .await;
    assert!(message_of(&waiting).contains("for 1500"), "{waiting:?}");
    env.reconciled("spot", 3).await;
    assert_eq!(cloud.filed_count(), 1, "not within the cooldown");
    // The admin shortens the cooldown: one new request.
    set_cooldown(&env, &account, "0s").await;
    env.wait_qr("spot", |qr| all(qr, TargetState::Requested))
        .await;
    env.reconciled("spot", 3).await;
    assert_eq!(cloud.filed_count(), 2);
}

fn message_of(qr: &QuotaRequirement) -> String {
    let first = qr.status.as_ref().and_then(|s| s.targets.first());
    first.and_then(|t| t.message.clone()).unwrap_or_default()
}

async fn set_cooldown(env: &TestEnv, account: &str, cooldown: &str) {
    let accounts: kube::Api<quota_operator::api::CloudAccount> = kube::Api::all(env.client.clone());
    let patch = json!({"spec": {"guardrails": {"refusalCooldown": cooldown}}});
    accounts
        .patch(
            account,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&patch),
        )
        .await
        .expect("patch CloudAccount");
}

#[tokio::test]
async fn open_request_in_the_cloud_history_is_adopted_not_duplicated() {
    let mut env = TestEnv::new("adopt").await;
    let cloud = spot_cloud(640.0);
    let seeded = cloud.seed_open_request(spot("us-east-1"), 2500.0);
    let account = env.aws_account("aws", ACCOUNT_ID).await;
    env.create_qr(spot_qr(&account, &["us-east-1"])).await;
    env.start_operator(cloud.clone());

    let qr = env
        .wait_qr("spot", |qr| all(qr, TargetState::Requested))
        .await;
    assert_eq!(
        qr.status.as_ref().unwrap().targets[0]
            .request
            .as_ref()
            .unwrap()
            .id,
        seeded
    );
    env.reconciled("spot", 3).await;
    assert_eq!(
        cloud.filed_count(),
        0,
        "the open request was adopted, none filed"
    );
    cloud.approve(&seeded);
    env.wait_qr("spot", |qr| all(qr, TargetState::Satisfied))
        .await;
    assert_eq!(cloud.filed_count(), 0);
}

#[tokio::test]
async fn two_objects_naming_one_quota_make_one_request_at_the_larger_value() {
    let mut env = TestEnv::new("aggregate").await;
    let cloud = spot_cloud(640.0);
    let account = env.aws_account("aws", ACCOUNT_ID).await;
    env.create_qr(
        Qr::ec2("small", &account, SPOT)
            .regions(&["us-east-1"])
            .desired(1000)
            .justification("Q4 batch scale-out"),
    )
    .await;
    env.create_qr(
        Qr::ec2("large", &account, SPOT)
            .regions(&["us-east-1"])
            .desired(3000)
            .justification("Q4 batch scale-out"),
    )
    .await;
    env.start_operator(cloud.clone());

    let driver = format!("{}/large", env.ns);
    for name in ["small", "large"] {
        let qr = env
            .wait_qr(name, |qr| all(qr, TargetState::Requested))
            .await;
        let target = &qr.status.as_ref().unwrap().targets[0];
        assert_eq!(target.desired_value, Some(3000), "{name}");
        assert_eq!(target.driven_by.as_deref(), Some(driver.as_str()), "{name}");
    }
    env.reconciled("small", 3).await;
    env.reconciled("large", 3).await;
    let requests = cloud.requests();
    assert_eq!(
        requests.len(),
        1,
        "one request for the shared quota: {requests:?}"
    );
    assert_eq!(requests[0].view.requested_value, 3000.0);

    cloud.approve(&requests[0].view.id);
    env.wait_qr("small", |qr| all(qr, TargetState::Satisfied))
        .await;
    env.wait_qr("large", |qr| all(qr, TargetState::Satisfied))
        .await;
    assert_eq!(cloud.filed_count(), 1);
}

#[tokio::test]
async fn namespace_outside_the_account_selector_is_not_allowed_and_files_nothing() {
    let mut env = TestEnv::with_labels("not-allowed", json!({"team": "outsiders"})).await;
    let cloud = spot_cloud(640.0);
    let account = env.aws_account("aws", ACCOUNT_ID).await;
    env.create_qr(spot_qr(&account, &["us-east-1"])).await;
    env.start_operator(cloud.clone());

    let qr = env
        .wait_qr("spot", |qr| condition(qr, "Ready").1 == "AccountNotAllowed")
        .await;
    assert_eq!(condition(&qr, "Ready").0, "False");
    assert_eq!(summary(&qr), "AccountNotAllowed");
    assert!(all(&qr, TargetState::Blocked));
    env.reconciled("spot", 3).await;
    assert_eq!(cloud.filed_count(), 0);
    assert_eq!(
        cloud.calls("GetServiceQuota"),
        0,
        "a disallowed namespace does not even read the account"
    );
}

#[tokio::test]
async fn guardrail_blocks_a_request_above_the_account_limit() {
    let mut env = TestEnv::new("guardrail").await;
    let cloud = spot_cloud(640.0);
    let account = env.unique("aws");
    env.create_account(json!({
        "metadata": {"name": account},
        "spec": {
            "aws": {"accountId": ACCOUNT_ID},
            "namespaceSelector": {},
            "guardrails": {"maxValues": {SPOT: 1000}}
        }
    }))
    .await
    .unwrap();
    env.create_qr(spot_qr(&account, &["us-east-1"])).await;
    env.start_operator(cloud.clone());

    let qr = env
        .wait_qr("spot", |qr| all(qr, TargetState::Blocked))
        .await;
    let message = qr.status.as_ref().unwrap().targets[0]
        .message
        .clone()
        .unwrap();
    assert!(message.contains("maxValues[L-34B43A08]"), "{message}");
    env.reconciled("spot", 3).await;
    assert_eq!(cloud.filed_count(), 0);
}

#[tokio::test]
async fn missing_account_is_reported_and_picked_up_once_created() {
    let mut env = TestEnv::new("late-account").await;
    let cloud = spot_cloud(5000.0);
    let account = env.unique("aws");
    env.create_qr(spot_qr(&account, &["us-east-1"])).await;
    env.start_operator(cloud.clone());

    let qr = env
        .wait_qr("spot", |qr| condition(qr, "Ready").1 == "AccountNotFound")
        .await;
    assert_eq!(condition(&qr, "Ready").0, "False");
    env.aws_account("aws", ACCOUNT_ID).await;
    env.wait_qr("spot", |qr| all(qr, TargetState::Satisfied))
        .await;
}

#[tokio::test]
async fn non_adjustable_quota_is_reported_and_never_filed() {
    let mut env = TestEnv::new("fixed").await;
    let cloud = FakeCloud::new();
    cloud.set_quota(
        Slot::new(ACCOUNT_ID, "us-east-1", "ecs", "L-86C34207"),
        "Container instances per cluster",
        5000.0,
        false,
    );
    let account = env.aws_account("aws", ACCOUNT_ID).await;
    env.create_qr(
        Qr::aws("ecs", &account, ("ecs", "L-86C34207"))
            .regions(&["us-east-1"])
            .desired(8000),
    )
    .await;
    env.start_operator(cloud.clone());
    env.wait_qr("ecs", |qr| all(qr, TargetState::NotAdjustable))
        .await;
    env.reconciled("ecs", 3).await;
    assert_eq!(cloud.calls("RequestServiceQuotaIncrease"), 0);
}

#[tokio::test]
async fn a_denial_while_no_status_recorded_the_request_is_found_not_refiled() {
    let mut env = TestEnv::new("lost-denial").await;
    let cloud = spot_cloud(640.0);
    let account = env.aws_account("aws", ACCOUNT_ID).await;
    let qr = env
        .create_qr(
            Qr::ec2("spot", &account, SPOT)
                .regions(&["us-east-1"])
                .desired(2000)
                .justification("Q4 batch scale-out"),
        )
        .await;
    // As if an earlier run recorded its intent, filed, stopped before writing the request into
    // status, and AWS denied the request while no operator was running.
    let intent = json!({"status": {"filings": {"us-east-1": {
        "value": 2000,
        "at": jiff::Timestamp::now().to_string(),
        "owner": {
            "accountRef": account, "account": ACCOUNT_ID, "service": "ec2", "quota": SPOT,
            "scope": "us-east-1",
            "filedBy": {"uid": qr.metadata.uid.clone().unwrap(), "generation": 1}
        }
    }}}});
    env.qrs()
        .patch_status(
            "spot",
            &Default::default(),
            &kube::api::Patch::Merge(&intent),
        )
        .await
        .expect("record the intent");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let lost = cloud.seed_open_request(spot("us-east-1"), 2000.0);
    cloud.deny(&lost, "DENIED", "Not approved.");
    env.start_operator(cloud.clone());

    let qr = env.wait_qr("spot", |qr| all(qr, TargetState::Denied)).await;
    let request = qr.status.as_ref().unwrap().targets[0]
        .request
        .clone()
        .unwrap();
    assert_eq!(request.id, lost);
    assert_eq!(request.closed_at_generation, qr.metadata.generation);
    env.reconciled("spot", 3).await;
    assert_eq!(
        cloud.filed_count(),
        0,
        "the denial is not forgotten by filing again"
    );
    let qr = env.qrs().get("spot").await.unwrap();
    assert!(
        qr.status.unwrap().filings.is_empty(),
        "the intent is cleared once its request is recorded"
    );
}

#[tokio::test]
async fn a_denial_from_before_the_object_existed_is_not_its_refusal_but_the_quota_waits_its_cooldown()
 {
    let mut env = TestEnv::new("old-denial").await;
    let cloud = spot_cloud(640.0);
    let old = cloud.seed_open_request(spot("us-east-1"), 2000.0);
    cloud.deny(&old, "DENIED", "Not approved.");
    // creationTimestamp has whole seconds: make sure the object is younger than the denial.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let account = env.aws_account("aws", ACCOUNT_ID).await;
    env.create_qr(spot_qr(&account, &["us-east-1"])).await;
    env.start_operator(cloud.clone());

    // Not Denied (someone else's old denial is not this object's), but the quota was refused
    // less than a cooldown ago: it waits, whatever need asks.
    env.wait_qr("spot", |qr| {
        all(qr, TargetState::Queued) && message_of(qr).contains("at most once per 24h")
    })
    .await;
    env.reconciled("spot", 3).await;
    assert_eq!(cloud.filed_count(), 0, "{:?}", cloud.requests());
    set_cooldown(&env, &account, "0s").await;
    env.wait_qr("spot", |qr| all(qr, TargetState::Requested))
        .await;
    assert_eq!(cloud.filed_count(), 1);
}
