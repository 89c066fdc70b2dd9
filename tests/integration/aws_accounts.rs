//! End to end with AWS accounts: who the credentials really are (STS), accounts reached through
//! roles, and a ListServiceQuotas the account refuses or a proxy breaks. The operator on the real
//! API server, the real SDK, and the simulator's filing log, which records the account.

use std::time::Duration;

use quota_operator::api::{QuotaRequirement, TargetState};
use quota_sim::{AwsSim, Scenario, SimHandle};
use serde_json::json;

use crate::harness::{Qr, TestEnv, condition, sim_aws};

/// The operator's own key belongs to this account; the CloudAccounts name others.
const OPERATOR_ACCOUNT: &str = "999999999999";
const KEY: &str = "AKIDE2EACCOUNTS";
const ACCOUNT_A: &str = "111111111111";
const ACCOUNT_B: &str = "222222222222";
const SPOT: &str = "L-34B43A08";

async fn sim(extra: &str) -> SimHandle {
    let yaml = format!(
        "aws:\n  accounts: {{{KEY}: \"{OPERATOR_ACCOUNT}\"}}\n  quotas:\n  \
         - {{serviceCode: ec2, quotaCode: L-34B43A08, value: 640}}\n{extra}"
    );
    AwsSim::new(Scenario::from_yaml(&yaml).expect("scenario"))
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim")
}

fn all(qr: &QuotaRequirement, state: TargetState) -> bool {
    qr.status
        .as_ref()
        .is_some_and(|s| !s.targets.is_empty() && s.targets.iter().all(|t| t.state == state))
}

fn current(qr: &QuotaRequirement) -> Option<f64> {
    qr.status.as_ref()?.targets.first()?.current_value
}

#[tokio::test]
async fn a_wrong_account_id_is_blocked_and_nothing_is_filed() {
    let sim = sim("").await;
    let mut env = TestEnv::new("aws-mismatch").await;
    // The operator's credentials act in 999999999999, the account says 111111111111.
    let wrong = env
        .aws_account_spec("wrong", json!({"accountId": ACCOUNT_A}))
        .await;
    env.create_qr(
        Qr::ec2("spot", &wrong, SPOT)
            .regions(&["us-east-1"])
            .desired(2000),
    )
    .await;
    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(500)).await);

    let blocked = env
        .wait_qr("spot", |qr| all(qr, TargetState::Blocked))
        .await;
    assert_eq!(condition(&blocked, "Ready"), ("False", "AccountMismatch"));
    let message = &blocked.status.as_ref().unwrap().targets[0].message;
    let message = message.as_deref().unwrap_or_default();
    assert!(
        message.contains(ACCOUNT_A) && message.contains(OPERATOR_ACCOUNT),
        "names both accounts: {message}"
    );
    // Three reconciles later: still nothing read or filed.
    env.reconciled("spot", 3).await;
    assert!(sim.aws().filed().is_empty(), "{:?}", sim.aws().filed());
    assert_eq!(sim.aws().calls("ListServiceQuotas"), 0);
    assert_eq!(sim.aws().calls("RequestServiceQuotaIncrease"), 0);
}

#[tokio::test]
async fn two_accounts_through_roles_each_request_filed_in_its_own_account() {
    let roles = format!(
        "  roles:\n  - {{arn: \"arn:aws:iam::{ACCOUNT_A}:role/quota-operator\"}}\n  \
         - {{arn: \"arn:aws:iam::{ACCOUNT_B}:role/quota-operator\", externalId: ext-b}}\n  \
         schedule:\n    default: {{outcome: approve, closeAfter: 700ms}}\n"
    );
    let sim = sim(&roles).await;
    let mut env = TestEnv::new("aws-roles").await;
    let a = env.aws_account_spec(
        "a",
        json!({"accountId": ACCOUNT_A, "roleArn": format!("arn:aws:iam::{ACCOUNT_A}:role/quota-operator")}),
    )
    .await;
    let b = env
        .aws_account_spec(
            "b",
            json!({
                "accountId": ACCOUNT_B,
                "roleArn": format!("arn:aws:iam::{ACCOUNT_B}:role/quota-operator"),
                "externalId": "ext-b"
            }),
        )
        .await;
    env.create_qr(
        Qr::ec2("spot-a", &a, SPOT)
            .regions(&["us-east-1"])
            .desired(2000),
    )
    .await;
    env.create_qr(
        Qr::ec2("spot-b", &b, SPOT)
            .regions(&["us-east-1"])
            .desired(3000),
    )
    .await;
    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(500)).await);

    for (name, value) in [("spot-a", 2000.0), ("spot-b", 3000.0)] {
        let done = env
            .wait_qr(name, |qr| all(qr, TargetState::Satisfied))
            .await;
        assert_eq!(current(&done), Some(value), "{name}");
    }
    let mut filed: Vec<(String, f64)> = sim
        .aws()
        .filed()
        .into_iter()
        .map(|f| (f.account, f.desired_value))
        .collect();
    filed.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(
        filed,
        [
            (ACCOUNT_A.to_string(), 2000.0),
            (ACCOUNT_B.to_string(), 3000.0)
        ],
        "each request in its own account, none in the operator's"
    );
    assert!(sim.aws().sts_calls("AssumeRole") >= 2);
}

/// With ListServiceQuotas answering `fault` for good, objects still get the right current
/// value: one already met is Satisfied, one above it is Requested.
async fn listing_broken_values_still_read(namespace: &str, fault: &str) {
    let faults = format!(
        "  faults:\n  - {{operation: ListServiceQuotas, fault: {fault}}}\n  schedule: {{manual: true}}\n"
    );
    let sim = sim(&faults).await;
    let mut env = TestEnv::new(namespace).await;
    let own = env
        .aws_account_spec("own", json!({"accountId": OPERATOR_ACCOUNT}))
        .await;
    env.create_qr(
        Qr::ec2("met", &own, SPOT)
            .regions(&["us-east-1"])
            .desired(500),
    )
    .await;
    env.create_qr(
        Qr::ec2("raise", &own, SPOT)
            .regions(&["us-east-1"])
            .desired(2000),
    )
    .await;
    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(500)).await);

    let met = env
        .wait_qr("met", |qr| all(qr, TargetState::Satisfied))
        .await;
    assert_eq!(current(&met), Some(640.0));
    let raised = env
        .wait_qr("raise", |qr| all(qr, TargetState::Requested))
        .await;
    assert_eq!(current(&raised), Some(640.0));
    assert!(sim.aws().calls("GetServiceQuota") >= 1, "read one by one");
    let filed = sim.aws().filed();
    assert_eq!(filed.len(), 1, "{filed:?}");
    assert_eq!(
        (filed[0].account.as_str(), filed[0].desired_value),
        (OPERATOR_ACCOUNT, 2000.0)
    );
}

#[tokio::test]
async fn listing_denied_values_still_read_and_requests_filed() {
    listing_broken_values_still_read("aws-list-denied", "accessDenied").await;
}

#[tokio::test]
async fn listing_answering_a_500_html_page_values_still_read_and_requests_filed() {
    listing_broken_values_still_read("aws-list-500", "html500").await;
}
