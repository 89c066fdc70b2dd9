//! Error paths through the operator, on the real SDK against the simulator: a cloud that fails
//! (a proxy's 5xx, throttling past the SDK's retries, AccessDenied) shows Ready=False with what
//! the cloud said, is retried with backoff, and turns Satisfied when the cloud heals, filing
//! nothing extra; an account whose role cannot be assumed is Blocked naming account and role.

use std::time::Duration;

use quota_operator::api::{QuotaRequirement, TargetState};
use quota_sim::{
    AwsSim, Scenario, SimHandle,
    aws::{Fault, FaultInjection, ThrottleInjection},
};
use serde_json::json;

use crate::harness::{TestEnv, condition, sim_aws};

const ACCOUNT: &str = "111111111111";
const KEY: &str = "AKIDERRORSEXAMPLE";

async fn sim(extra: &str) -> SimHandle {
    let yaml = format!(
        "aws:\n  accounts: {{{KEY}: \"{ACCOUNT}\"}}\n  quotas:\n  - {{serviceCode: ec2, quotaCode: L-34B43A08, value: 640}}\n  schedule:\n    default: {{outcome: approve, closeAfter: 500ms}}\n{extra}"
    );
    AwsSim::new(Scenario::from_yaml(&yaml).expect("scenario"))
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim")
}

fn state(qr: &QuotaRequirement) -> Option<TargetState> {
    qr.status.as_ref()?.targets.first().map(|t| t.state)
}

/// Reads fail as `fault`; the object shows it; the cloud heals; one request, then Satisfied.
async fn fails_then_heals(namespace: &str, break_reads: impl Fn(&SimHandle), said: &str) {
    let sim = sim("").await;
    break_reads(&sim);
    let mut env = TestEnv::new(namespace).await;
    let account = env.aws_account("aws", ACCOUNT).await;
    env.create_spot(&account, &["us-east-1"]).await;
    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(200)).await);

    let failing = env
        .wait_qr("spot", |qr| state(qr) == Some(TargetState::Error))
        .await;
    let (ready, reason) = condition(&failing, "Ready");
    assert_eq!((ready, reason), ("False", "CloudError"));
    let message = failing.status.as_ref().unwrap().targets[0]
        .message
        .clone()
        .unwrap();
    assert!(
        message.contains(said),
        "the cloud's answer is shown: {message}"
    );
    assert_eq!(
        condition(&failing, "Reconciling").0,
        "True",
        "retried, not stalled"
    );
    env.reconciled("spot", 2).await;
    assert!(
        sim.aws().filed().is_empty(),
        "nothing filed while the cloud fails"
    );

    sim.aws().clear_faults();
    env.wait_qr("spot", |qr| state(qr) == Some(TargetState::Satisfied))
        .await;
    env.reconciled("spot", 2).await;
    assert_eq!(
        sim.aws().filed().len(),
        1,
        "exactly one request once healed"
    );
}

fn fault(operation: &str, fault: Fault) -> FaultInjection {
    FaultInjection {
        operation: operation.into(),
        fault,
        count: None,
        account: None,
        region: None,
        delay: None,
    }
}

#[tokio::test]
async fn a_proxys_5xx_shows_the_http_status_and_heals() {
    fails_then_heals(
        "err-5xx",
        |sim| {
            for op in ["ListServiceQuotas", "GetServiceQuota"] {
                sim.aws().inject_fault(fault(op, Fault::Html500)).unwrap();
            }
        },
        "HTTP 500",
    )
    .await;
}

#[tokio::test]
async fn access_denied_names_the_code_and_heals() {
    fails_then_heals(
        "err-denied",
        |sim| {
            for op in ["ListServiceQuotas", "GetServiceQuota"] {
                sim.aws()
                    .inject_fault(fault(op, Fault::AccessDenied))
                    .unwrap();
            }
        },
        "AccessDenied",
    )
    .await;
}

#[tokio::test]
async fn throttling_past_the_retry_budget_is_retried_with_backoff_and_heals() {
    let sim = sim("").await;
    // More throttles than the SDK's own retries absorb (three attempts a call): several
    // reconciles in a row fail before the storm passes.
    for op in ["ListServiceQuotas", "GetServiceQuota"] {
        sim.aws()
            .inject_throttles(ThrottleInjection {
                operation: op.into(),
                count: 12,
                account: None,
                region: None,
                every: None,
            })
            .unwrap();
    }
    let mut env = TestEnv::new("err-throttle").await;
    let account = env.aws_account("aws", ACCOUNT).await;
    env.create_spot(&account, &["us-east-1"]).await;
    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(200)).await);
    let throttled = env
        .wait_qr("spot", |qr| state(qr) == Some(TargetState::Error))
        .await;
    let message = throttled.status.as_ref().unwrap().targets[0]
        .message
        .clone()
        .unwrap();
    assert!(message.contains("TooManyRequests"), "{message}");
    // The injected throttles run out as the operator backs off and retries.
    env.wait_qr("spot", |qr| state(qr) == Some(TargetState::Satisfied))
        .await;
    env.reconciled("spot", 2).await;
    assert_eq!(sim.aws().filed().len(), 1);
}

#[tokio::test]
async fn a_role_that_cannot_be_assumed_blocks_naming_account_and_role() {
    let role = "arn:aws:iam::111111111111:role/locked";
    let sim = sim(&format!(
        "  roles:\n  - {{arn: \"{role}\", assumable: false}}\n"
    ))
    .await;
    let mut env = TestEnv::new("err-role").await;
    let name = env.unique("locked");
    env.create_account(json!({
        "metadata": {"name": name},
        "spec": {"aws": {"accountId": ACCOUNT, "roleArn": role},
                 "namespaceSelector": {"matchLabels": {"quota-operator.dev/allowed": "true"}}}
    }))
    .await
    .unwrap();
    env.create_spot(&name, &["us-east-1"]).await;
    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(200)).await);
    let blocked = env
        .wait_qr("spot", |qr| state(qr) == Some(TargetState::Blocked))
        .await;
    let (stalled, reason) = condition(&blocked, "Stalled");
    assert_eq!((stalled, reason), ("True", "AccountAccessDenied"));
    let message = blocked.status.as_ref().unwrap().targets[0]
        .message
        .clone()
        .unwrap();
    assert!(
        message.contains(&name) && message.contains(role),
        "{message}"
    );
    env.reconciled("spot", 2).await;
    assert!(sim.aws().filed().is_empty());
}
