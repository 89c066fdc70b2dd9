//! Accounts without a support plan: a CloudAccount with `spec.aws.supportCaseAllowed: false`
//! files with `SupportCaseAllowed=false`, AWS (the simulator) opens no case and marks the request
//! NOT_APPROVED, and status says that a case was not allowed. With the default, the same
//! request opens a case as before.

use std::time::Duration;

use kube::api::{Patch, PatchParams};
use quota_operator::api::{QuotaRequirement, TargetState};
use quota_sim::{AwsSim, RequestStatus, Scenario, SimHandle};
use serde_json::json;

use crate::{
    harness::{Qr, TestEnv, condition, sim_aws},
    health::{as_json, kstatus},
};

const ACCOUNT: &str = "111111111111";
const KEY: &str = "AKIDNOCASEEXAMPLE";
const SPOT: (&str, &str) = ("ec2", "L-34B43A08");

/// Every increase needs a case (AWS cannot approve it by itself): CASE_OPENED soon, and
/// approved much later than any test waits.
async fn sim() -> SimHandle {
    let yaml = format!(
        "aws:\n  accounts: {{{KEY}: \"{ACCOUNT}\"}}\n  quotas:\n  - {{serviceCode: ec2, quotaCode: L-34B43A08, value: 640}}\n  schedule:\n    default: {{outcome: approve, caseOpenedAfter: 300ms, closeAfter: 600s}}\n"
    );
    AwsSim::new(Scenario::from_yaml(&yaml).expect("scenario"))
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim")
}

fn target_state(qr: &QuotaRequirement) -> Option<TargetState> {
    qr.status.as_ref()?.targets.first().map(|t| t.state)
}

fn request_status(qr: &QuotaRequirement) -> Option<String> {
    let target = qr.status.as_ref()?.targets.first()?;
    target.request.as_ref().map(|r| r.status.clone())
}

#[tokio::test]
async fn an_account_without_support_cases_is_refused_as_such_and_the_default_opens_a_case() {
    let sim = sim().await;
    let mut env = TestEnv::new("aws-no-case").await;
    let account = env.unique("no-case");
    env.create_account(json!({
        "metadata": {"name": account},
        "spec": {
            "aws": {"accountId": ACCOUNT, "supportCaseAllowed": false},
            "namespaceSelector": {"matchLabels": {"quota-operator.dev/allowed": "true"}}
        }
    }))
    .await
    .expect("create CloudAccount");
    env.create_qr(
        Qr::aws("no-case", &account, SPOT)
            .regions(&["us-east-1"])
            .desired(2000),
    )
    .await;
    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(500)).await);

    let refused = env
        .wait_qr("no-case", |qr| {
            target_state(qr) == Some(TargetState::Denied)
        })
        .await;
    assert_eq!(request_status(&refused).as_deref(), Some("NOT_APPROVED"));
    let requests = sim.aws().requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(
        !requests[0].support_case_allowed,
        "SupportCaseAllowed=false reached the simulator"
    );
    assert_eq!(requests[0].status, RequestStatus::NotApproved);
    assert_eq!(requests[0].case_id, None, "no case was opened");

    let target = &refused.status.as_ref().unwrap().targets[0];
    let message = target.message.as_deref().unwrap();
    let id = &target.request.as_ref().unwrap().id;
    assert_eq!(
        message,
        format!(
            "request {id} for 2000 was not approved: a support case was not allowed \
             (spec.aws.supportCaseAllowed is false on CloudAccount {account}); AWS approves only \
             what it can automatically: ask for less, or allow support cases, and change the \
             spec to ask again"
        )
    );
    assert_eq!(condition(&refused, "Satisfied"), ("False", "Denied"));
    let flux = kstatus(&[as_json(&refused)]);
    assert_eq!(
        flux.get("no-case").map(String::as_str),
        Some("Failed"),
        "{flux:?}"
    );
    env.reconciled("no-case", 3).await;
    assert_eq!(sim.aws().filed_count(), 1, "a refusal is not filed again");

    // The default (the setting removed): the same increase, in another region (the refused
    // one waits out its cooldown), opens a case as before.
    let unset = json!({"spec": {"aws": {"supportCaseAllowed": null}}});
    env.accounts()
        .patch(&account, &PatchParams::default(), &Patch::Merge(&unset))
        .await
        .expect("patch CloudAccount");
    env.create_qr(
        Qr::aws("with-case", &account, SPOT)
            .regions(&["eu-west-1"])
            .desired(2000),
    )
    .await;
    let opened = env
        .wait_qr("with-case", |qr| {
            request_status(qr).as_deref() == Some("CASE_OPENED")
        })
        .await;
    assert_eq!(target_state(&opened), Some(TargetState::Requested));
    let requests = sim.aws().requests();
    let default = requests
        .iter()
        .find(|r| r.region == "eu-west-1")
        .expect("filed in eu-west-1");
    assert!(default.support_case_allowed, "{default:?}");
    assert!(default.case_id.is_some(), "a case was opened");
}
