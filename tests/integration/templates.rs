//! Quotas for new accounts: QuotaRequirements aimed at a CloudAccount with
//! `spec.aws.quotaTemplate` keep the organization's Service Quotas template equal to what they
//! declare (the simulator's template, on the real wire protocol through the real SDK); no
//! increase request is ever filed there, and a template not associated with the organization
//! is shown as such.

use std::time::Duration;

use kube::api::{DeleteParams, Patch, PatchParams};
use quota_operator::api::{QuotaRequirement, TargetState, TemplateStatus};
use quota_sim::{AwsSim, Scenario, SimHandle};
use serde_json::json;

use crate::harness::{Qr, TestEnv, eventually, sim_aws};

const KEY: &str = "AKIDE2ETEMPLATES";
const ORG: &str = "111111111111";
const LONELY: &str = "222222222222";
const SPOT: &str = "L-34B43A08";
const ON_DEMAND: &str = "L-1216C47A";

async fn sim() -> SimHandle {
    sim_with("").await
}

async fn sim_with(extra: &str) -> SimHandle {
    let yaml = format!(
        "aws:\n  accounts: {{{KEY}: \"{ORG}\"}}\n  \
         roles:\n  - {{arn: \"arn:aws:iam::{LONELY}:role/quota-operator\"}}\n  \
         quotaTemplate:\n    disassociated: [\"{LONELY}\"]\n    \
         entries:\n    - {{account: \"{ORG}\", serviceCode: vpc, quotaCode: L-DF5E4CA3, awsRegion: us-east-1, desiredValue: 10}}\n{extra}"
    );
    AwsSim::new(Scenario::from_yaml(&yaml).expect("scenario"))
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim")
}

/// The simulator's template entries of `ORG` for ec2, as (quota, region, value).
fn ec2_entries(sim: &SimHandle) -> Vec<(String, String, f64)> {
    (sim.aws().template(ORG).into_iter())
        .filter(|(service, ..)| service == "ec2")
        .map(|(_, q, r, v)| (q, r, v))
        .collect()
}

async fn wait_entries(sim: &SimHandle, want: &[(&str, &str, f64)]) {
    let want: Vec<_> = (want.iter())
        .map(|(q, r, v)| (q.to_string(), r.to_string(), *v))
        .collect();
    eventually(Duration::from_secs(30), || {
        let same = ec2_entries(sim) == want;
        async move { same.then_some(()) }
    })
    .await;
}

async fn template_status(env: &TestEnv, account: &str) -> Option<TemplateStatus> {
    env.accounts().get(account).await.ok()?.status?.template
}

fn satisfied_at(qr: &QuotaRequirement, value: f64) -> bool {
    qr.status.as_ref().is_some_and(|s| {
        s.targets
            .iter()
            .all(|t| t.state == TargetState::Satisfied && t.current_value == Some(value))
            && !s.targets.is_empty()
    })
}

#[tokio::test]
async fn quota_requirements_keep_the_organizations_template_and_file_nothing() {
    let sim = sim().await;
    let mut env = TestEnv::new("templates").await;
    let org = env
        .aws_account_spec("org", json!({"accountId": ORG, "quotaTemplate": true}))
        .await;
    let spot = |name: &str, value: i64| {
        Qr::ec2(name, &org, SPOT)
            .regions(&["us-east-1"])
            .desired(value)
    };
    env.create_qr(spot("team-a", 2000)).await;
    env.create_qr(spot("team-b", 1500)).await;
    env.templates = true;
    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(500)).await);

    // Two teams on one entry: the larger need, once.
    wait_entries(&sim, &[(SPOT, "us-east-1", 2000.0)]).await;
    let b = env.wait_qr("team-b", |qr| satisfied_at(qr, 2000.0)).await;
    let target = &b.status.as_ref().unwrap().targets[0];
    let a_key = format!("{}/team-a", env.ns);
    assert_eq!(target.driven_by.as_deref(), Some(a_key.as_str()));
    let message = target.message.as_deref().unwrap_or_default();
    assert!(
        message.contains("in the organization's template at 2000"),
        "{message}"
    );

    // One team raises its need: the entry follows.
    let patch = Patch::Merge(json!({"spec": {"desiredValue": 3000}}));
    env.qrs()
        .patch("team-b", &PatchParams::default(), &patch)
        .await
        .unwrap();
    wait_entries(&sim, &[(SPOT, "us-east-1", 3000.0)]).await;
    env.wait_qr("team-a", |qr| satisfied_at(qr, 3000.0)).await;

    // A second quota: a second entry.
    env.create_qr(
        Qr::ec2("team-c", &org, ON_DEMAND)
            .regions(&["us-east-1"])
            .desired(256),
    )
    .await;
    wait_entries(
        &sim,
        &[(ON_DEMAND, "us-east-1", 256.0), (SPOT, "us-east-1", 3000.0)],
    )
    .await;

    // Both teams gone: their entry goes; the one made outside the operator stays.
    for name in ["team-a", "team-b"] {
        env.qrs()
            .delete(name, &DeleteParams::default())
            .await
            .unwrap();
    }
    wait_entries(&sim, &[(ON_DEMAND, "us-east-1", 256.0)]).await;
    let shown = template_status(&env, &org).await.expect("status.template");
    assert_eq!(shown.associated, Some(true));
    let unmanaged: Vec<_> = (shown.entries.iter())
        .filter(|e| e.state == "Unmanaged")
        .map(|e| (e.service_code.as_str(), e.quota_code.as_str(), e.value))
        .collect();
    assert_eq!(unmanaged, vec![("vpc", "L-DF5E4CA3", 10)]);
    assert!(sim.aws().template(ORG).iter().any(|(s, ..)| s == "vpc"));

    // The operator reconciled the remaining object since, and never filed an increase here.
    env.reconciled("team-c", 2).await;
    assert!(sim.aws().filed().is_empty(), "{:?}", sim.aws().filed());
    assert_eq!(sim.aws().calls("RequestServiceQuotaIncrease"), 0);
}

#[tokio::test]
async fn a_template_not_associated_with_the_organization_is_shown_as_such() {
    let sim = sim().await;
    let mut env = TestEnv::new("templates-lonely").await;
    let role = format!("arn:aws:iam::{LONELY}:role/quota-operator");
    let lonely = env
        .aws_account_spec(
            "lonely",
            json!({"accountId": LONELY, "roleArn": role, "quotaTemplate": true}),
        )
        .await;
    env.create_qr(
        Qr::ec2("spot", &lonely, SPOT)
            .regions(&["us-east-1"])
            .desired(2000),
    )
    .await;
    env.templates = true;
    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(500)).await);

    let shown = eventually(Duration::from_secs(30), || async {
        template_status(&env, &lonely)
            .await
            .filter(|t| t.associated.is_some())
    })
    .await;
    assert_eq!(shown.associated, Some(false));
    let message = shown.message.unwrap_or_default();
    assert!(
        message.contains("not associated") && message.contains("associate-service-quota-template"),
        "{message}"
    );
    // The entry is written all the same (association is the organization's switch), and the
    // object says that new accounts do not get it yet.
    let qr = env.wait_qr("spot", |qr| satisfied_at(qr, 2000.0)).await;
    let message = qr.status.unwrap().targets[0]
        .message
        .clone()
        .unwrap_or_default();
    assert!(message.contains("not associated"), "{message}");
}

#[tokio::test]
async fn without_the_template_permissions_the_account_shows_awss_refusal() {
    let fault = "  faults:\n  - {operation: ListServiceQuotaIncreaseRequestsInTemplate, fault: accessDenied}\n";
    let sim = sim_with(fault).await;
    let mut env = TestEnv::new("templates-denied").await;
    let org = env
        .aws_account_spec("org", json!({"accountId": ORG, "quotaTemplate": true}))
        .await;
    env.create_qr(
        Qr::ec2("spot", &org, SPOT)
            .regions(&["us-east-1"])
            .desired(2000),
    )
    .await;
    env.templates = true;
    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(500)).await);

    let shown = eventually(Duration::from_secs(30), || async {
        template_status(&env, &org)
            .await
            .filter(|t| t.message.is_some())
    })
    .await;
    let message = shown.message.unwrap_or_default();
    assert!(
        message.contains("AccessDeniedException")
            && message.contains("servicequotas:ListServiceQuotaIncreaseRequestsInTemplate"),
        "{message}"
    );
    let qr = env
        .wait_qr("spot", |qr| {
            qr.status.as_ref().is_some_and(|s| {
                s.targets
                    .first()
                    .is_some_and(|t| t.state == TargetState::Error)
            })
        })
        .await;
    let message = qr.status.unwrap().targets[0]
        .message
        .clone()
        .unwrap_or_default();
    assert!(message.contains("AccessDeniedException"), "{message}");
    assert!(
        sim.aws().template(ORG).iter().all(|(s, ..)| s == "vpc"),
        "nothing written"
    );
}
