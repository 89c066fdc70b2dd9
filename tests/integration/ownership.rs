//! Whose request is it: a request is used only for the quota and account it was filed for, a
//! refusal counts only against the need it refused, and a terminal state is not forever. With the
//! in-memory cloud, which keeps accounts apart and can forget a request.

use std::sync::Arc;

use quota_operator::api::{QuotaRequirement, TargetState};
use serde_json::json;

use crate::{
    fake::{FakeCloud, Slot},
    harness::{Qr, TestEnv},
};

const A: &str = "111122223333";
const B: &str = "444455556666";
const SPOT: &str = "L-34B43A08";
const ON_DEMAND: &str = "L-1216C47A";
const REGION: &str = "us-east-1";

fn slot(account: &str, code: &str) -> Slot {
    Slot::new(account, REGION, "ec2", code)
}

/// Spot and On-Demand standard vCPUs at 640 in both accounts.
fn cloud() -> Arc<FakeCloud> {
    let cloud = FakeCloud::new();
    for account in [A, B] {
        cloud.set_quota(slot(account, SPOT), "Spot", 640.0, true);
        cloud.set_quota(slot(account, ON_DEMAND), "On-Demand", 640.0, true);
    }
    cloud
}

fn target(qr: &QuotaRequirement) -> &quota_operator::api::TargetStatus {
    &qr.status.as_ref().expect("status").targets[0]
}

fn request_id(qr: &QuotaRequirement) -> Option<String> {
    target(qr).request.as_ref().map(|r| r.id.clone())
}

/// Requests filed (not seeded) in `account` for `code`, oldest first.
fn filed_in(cloud: &FakeCloud, account: &str, code: &str) -> Vec<String> {
    cloud
        .requests()
        .into_iter()
        .filter(|r| r.slot == slot(account, code))
        .map(|r| r.view.id)
        .collect()
}

async fn requested(env: &TestEnv, name: &str) -> QuotaRequirement {
    env.wait_qr(name, |qr| {
        qr.status.as_ref().is_some_and(|s| {
            s.targets
                .first()
                .is_some_and(|t| t.state == TargetState::Requested)
        })
    })
    .await
}

async fn patch_spec(env: &TestEnv, name: &str, spec: serde_json::Value) {
    env.qrs()
        .patch(
            name,
            &Default::default(),
            &kube::api::Patch::Merge(&json!({ "spec": spec })),
        )
        .await
        .expect("patch spec");
}

#[tokio::test]
async fn a_changed_account_ref_drops_the_old_request_and_files_in_the_new_account() {
    let mut env = TestEnv::new("own-ref").await;
    let cloud = cloud();
    let a = env.aws_account("a", A).await;
    let b = env.aws_account("b", B).await;
    env.create_qr(Qr::ec2("spot", &a, SPOT).regions(&[REGION]).desired(2000))
        .await;
    env.start_operator(cloud.clone());
    let first = requested(&env, "spot").await;
    let old = request_id(&first).unwrap();

    patch_spec(&env, "spot", json!({"accountRef": b})).await;
    let moved = env
        .wait_qr("spot", |qr| {
            request_id(qr).is_some_and(|id| id != old) && target(qr).state == TargetState::Requested
        })
        .await;
    let new = request_id(&moved).unwrap();
    assert_eq!(
        filed_in(&cloud, B, SPOT),
        std::slice::from_ref(&new),
        "filed in account B"
    );
    let owner = target(&moved)
        .request
        .as_ref()
        .unwrap()
        .owner
        .clone()
        .unwrap();
    assert_eq!(
        (owner.account.as_str(), owner.account_ref.as_str()),
        (B, b.as_str())
    );

    // The old account's request is refused: that is not the new account's fate.
    cloud.deny(&old, "DENIED", "Not approved.");
    env.reconciled("spot", 3).await;
    let after = env.qrs().get("spot").await.unwrap();
    assert_eq!(target(&after).state, TargetState::Requested);
    assert_eq!(request_id(&after), Some(new));
    assert_eq!(cloud.filed_count(), 2);
}

#[tokio::test]
async fn a_changed_quota_never_takes_the_old_quotas_refusal() {
    let mut env = TestEnv::new("own-quota").await;
    let cloud = cloud();
    let a = env.aws_account("a", A).await;
    env.create_qr(Qr::ec2("vcpu", &a, SPOT).regions(&[REGION]).desired(2000))
        .await;
    env.start_operator(cloud.clone());
    let old = request_id(&requested(&env, "vcpu").await).unwrap();

    patch_spec(&env, "vcpu", json!({"aws": {"quotaCode": ON_DEMAND}})).await;
    cloud.deny(&old, "DENIED", "Not approved.");
    let moved = env
        .wait_qr("vcpu", |qr| {
            request_id(qr).is_some_and(|id| id != old) && target(qr).state == TargetState::Requested
        })
        .await;
    assert_eq!(
        filed_in(&cloud, A, ON_DEMAND),
        [request_id(&moved).unwrap()]
    );
    env.reconciled("vcpu", 3).await;
    let after = env.qrs().get("vcpu").await.unwrap();
    assert_eq!(target(&after).state, TargetState::Requested, "not Denied");
    assert_eq!(cloud.filed_count(), 2);
}

#[tokio::test]
async fn a_cloud_account_pointed_at_another_account_files_there() {
    let mut env = TestEnv::new("own-repoint").await;
    let cloud = cloud();
    let a = env.aws_account("a", A).await;
    env.create_qr(Qr::ec2("spot", &a, SPOT).regions(&[REGION]).desired(2000))
        .await;
    env.start_operator(cloud.clone());
    let old = request_id(&requested(&env, "spot").await).unwrap();

    env.accounts()
        .patch(
            &a,
            &Default::default(),
            &kube::api::Patch::Merge(&json!({"spec": {"aws": {"accountId": B}}})),
        )
        .await
        .unwrap();
    let moved = env
        .wait_qr("spot", |qr| request_id(qr).is_some_and(|id| id != old))
        .await;
    assert_eq!(filed_in(&cloud, B, SPOT), [request_id(&moved).unwrap()]);
}

#[tokio::test]
async fn a_request_the_cloud_forgot_falls_back_to_the_history_not_an_endless_error() {
    let mut env = TestEnv::new("own-forgot").await;
    let cloud = cloud();
    let a = env.aws_account("a", A).await;
    env.create_qr(Qr::ec2("spot", &a, SPOT).regions(&[REGION]).desired(2000))
        .await;
    env.start_operator(cloud.clone());
    let old = request_id(&requested(&env, "spot").await).unwrap();

    // Someone else's open request is in the history: it is adopted, not duplicated.
    cloud.forget(&old);
    let console = cloud.seed_open_request(slot(A, SPOT), 2500.0);
    let adopted = env
        .wait_qr("spot", |qr| {
            request_id(qr).as_deref() == Some(console.as_str())
        })
        .await;
    assert_eq!(target(&adopted).state, TargetState::Requested);
    assert_eq!(cloud.filed_count(), 1, "nothing filed on top of it");
}

#[tokio::test]
async fn a_refused_combined_request_lets_the_smaller_need_ask_once() {
    let mut env = TestEnv::new("own-smaller").await;
    let cloud = cloud();
    // No cooldown: the smaller need asks at once (tenants.rs shows it waiting out the default).
    let a = env
        .aws_account_with("a", A, json!({"refusalCooldown": "0s"}))
        .await;
    env.create_qr(Qr::ec2("big", &a, SPOT).regions(&[REGION]).desired(2000))
        .await;
    env.create_qr(Qr::ec2("small", &a, SPOT).regions(&[REGION]).desired(1000))
        .await;
    env.start_operator(cloud.clone());
    let big = requested(&env, "big").await;
    let combined = request_id(&big).unwrap();
    requested(&env, "small").await;
    assert_eq!(cloud.filed_count(), 1, "one request, for the larger need");

    cloud.deny(&combined, "DENIED", "Not approved.");
    env.wait_qr("big", |qr| target(qr).state == TargetState::Denied)
        .await;
    let small = env
        .wait_qr("small", |qr| {
            request_id(qr).is_some_and(|id| id != combined)
        })
        .await;
    let own = target(&small).request.clone().unwrap();
    assert_eq!(
        own.requested_value, 1000.0,
        "its own need, not the refused 2000"
    );
    assert_eq!(cloud.filed_count(), 2);

    // Refused too: now that settles it, and nothing more is filed.
    cloud.deny(&own.id, "DENIED", "Not approved.");
    env.wait_qr("small", |qr| target(qr).state == TargetState::Denied)
        .await;
    env.reconciled("small", 3).await;
    env.reconciled("big", 3).await;
    assert_eq!(cloud.filed_count(), 2);
}

#[tokio::test]
async fn a_denied_object_turns_satisfied_when_the_quota_is_raised_elsewhere() {
    let mut env = TestEnv::new("own-raised").await;
    let cloud = cloud();
    let a = env.aws_account("a", A).await;
    env.create_qr(Qr::ec2("spot", &a, SPOT).regions(&[REGION]).desired(2000))
        .await;
    env.start_operator(cloud.clone());
    let id = request_id(&requested(&env, "spot").await).unwrap();
    cloud.deny(&id, "DENIED", "Not approved.");
    env.wait_qr("spot", |qr| target(qr).state == TargetState::Denied)
        .await;

    cloud.set_quota(slot(A, SPOT), "Spot", 2000.0, true);
    let raised = env
        .wait_qr("spot", |qr| target(qr).state == TargetState::Satisfied)
        .await;
    assert_eq!(target(&raised).current_value, Some(2000.0));
    assert_eq!(cloud.filed_count(), 1);
}

#[tokio::test]
async fn an_approval_that_has_not_applied_yet_is_waited_for_after_a_crash() {
    let mut env = TestEnv::new("own-approved").await;
    let cloud = cloud();
    let a = env.aws_account("a", A).await;
    // Someone else's approved request for enough, not yet applied, while no operator ran.
    let approved = cloud.seed_open_request(slot(A, SPOT), 2000.0);
    cloud.approve_unapplied(&approved);
    env.create_qr(Qr::ec2("spot", &a, SPOT).regions(&[REGION]).desired(2000))
        .await;
    env.start_operator(cloud.clone());
    let waiting = requested(&env, "spot").await;
    assert!(
        target(&waiting)
            .message
            .as_deref()
            .unwrap()
            .contains("approved"),
        "{:?}",
        target(&waiting).message
    );
    env.reconciled("spot", 3).await;
    assert_eq!(cloud.filed_count(), 0, "no second request");

    cloud.set_quota(slot(A, SPOT), "Spot", 2000.0, true);
    env.wait_qr("spot", |qr| target(qr).state == TargetState::Satisfied)
        .await;
    assert_eq!(cloud.filed_count(), 0);
}

#[tokio::test]
async fn an_object_that_never_recorded_the_refused_combined_request_does_not_ask_again() {
    let mut env = TestEnv::new("own-unrecorded").await;
    let cloud = cloud();
    let a = env.aws_account("a", A).await;
    env.create_qr(Qr::ec2("driver", &a, SPOT).regions(&[REGION]).desired(2000))
        .await;
    env.create_qr(Qr::ec2("rider", &a, SPOT).regions(&[REGION]).desired(2000))
        .await;
    env.start_operator(cloud.clone());
    let id = request_id(&requested(&env, "driver").await).unwrap();
    requested(&env, "rider").await;
    assert_eq!(cloud.filed_count(), 1);

    // As if the operator stopped before the rider's status recorded the request, and AWS
    // refused it while no operator ran.
    env.kill_operator();
    env.qrs()
        .patch_status(
            "rider",
            &Default::default(),
            &kube::api::Patch::Merge(&json!({"status": {"targets": []}})),
        )
        .await
        .unwrap();
    cloud.deny(&id, "DENIED", "Not approved.");
    env.start_operator(cloud.clone());
    env.wait_qr("driver", |qr| target(qr).state == TargetState::Denied)
        .await;
    let rider = env
        .wait_qr("rider", |qr| {
            qr.status.as_ref().is_some_and(|s| {
                s.targets
                    .first()
                    .is_some_and(|t| t.state == TargetState::Denied)
            })
        })
        .await;
    assert_eq!(request_id(&rider), Some(id));
    env.reconciled("rider", 3).await;
    assert_eq!(
        cloud.filed_count(),
        1,
        "the refused value is not filed again"
    );
}
