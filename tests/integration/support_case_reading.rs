//! The support case in status: a request whose case gets a question from AWS shows the question
//! and `AwaitingCustomerReply` in status, with one event per AWS message; `spec.aws.caseReply`
//! is sent once; the approval still ends Satisfied. An account the Support API refuses (no
//! support plan, or no `support:` permissions) shows the console hint, never an Error, and is
//! not asked again.

use std::time::Duration;

use k8s_openapi::api::events::v1::Event;
use kube::api::{Patch, PatchParams};
use quota_operator::api::{CaseStatus, QuotaRequirement, TargetState};
use quota_sim::{
    AwsSim, Scenario, SimHandle,
    aws::{Fault, FaultInjection},
};
use serde_json::json;

use crate::{
    harness::{Qr, TestEnv, condition, sim_aws},
    health::{as_json, kstatus},
};

const ACCOUNT: &str = "111111111111";
const KEY: &str = "AKIDCASEEXAMPLE";
const NO_PLAN: &str = "222222222222";
const NO_PLAN_KEY: &str = "AKIDNOPLANEXAMPLE";
const DENIED: &str = "333333333333";
const DENIED_KEY: &str = "AKIDDENIEDEXAMPLE";
const SPOT: (&str, &str) = ("ec2", "L-34B43A08");
const QUESTION: &str =
    "Hello,\n\nPlease describe your use case.\nWhich instance types will you run?";

/// Every increase opens a case soon and stays open until the test approves it.
async fn sim() -> SimHandle {
    let yaml = format!(
        "aws:\n  accounts: {{{KEY}: \"{ACCOUNT}\", {NO_PLAN_KEY}: \"{NO_PLAN}\", {DENIED_KEY}: \"{DENIED}\"}}\n  noSupportPlan: [\"{NO_PLAN}\"]\n  quotas:\n  - {{serviceCode: ec2, quotaCode: L-34B43A08, value: 640}}\n  schedule:\n    default: {{outcome: stay_open, caseOpenedAfter: 300ms}}\n"
    );
    AwsSim::new(Scenario::from_yaml(&yaml).expect("scenario"))
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim")
}

fn case(qr: &QuotaRequirement) -> Option<&CaseStatus> {
    let target = qr.status.as_ref()?.targets.first()?;
    target.request.as_ref()?.case.as_deref()
}

fn target_state(qr: &QuotaRequirement) -> Option<TargetState> {
    qr.status.as_ref()?.targets.first().map(|t| t.state)
}

fn message(qr: &QuotaRequirement) -> String {
    let target = qr.status.as_ref().and_then(|s| s.targets.first());
    target.and_then(|t| t.message.clone()).unwrap_or_default()
}

/// Events of `reason` in the test's namespace, one entry per occurrence: the recorder folds a
/// repeated event into one object with a series count, which is counted here.
async fn events(env: &TestEnv, reason: &str) -> Vec<String> {
    let api: kube::Api<Event> = kube::Api::namespaced(env.client.clone(), &env.ns);
    let list = api.list(&Default::default()).await.expect("list events");
    (list.items.into_iter())
        .filter(|e| e.reason.as_deref() == Some(reason))
        .flat_map(|e| {
            let times = e.series.as_ref().map_or(1, |s| s.count.max(1)) as usize;
            std::iter::repeat_n(e.note.unwrap_or_default(), times)
        })
        .collect()
}

#[tokio::test]
async fn a_question_from_aws_shows_in_status_once_and_the_reply_is_sent_once() {
    let sim = sim().await;
    let mut env = TestEnv::new("case-question").await;
    let account = env.aws_account("case", ACCOUNT).await;
    env.create_qr(
        Qr::aws("q", &account, SPOT)
            .regions(&["us-east-1"])
            .desired(2000),
    )
    .await;
    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(500)).await);

    let opened = env
        .wait_qr("q", |qr| case(qr).is_some_and(|c| c.status.is_some()))
        .await;
    let block = case(&opened).unwrap();
    assert_eq!(block.status.as_deref(), Some("opened"));
    assert!(!block.awaiting_customer);
    let case_id = block.display_id.clone().unwrap();
    assert_eq!(condition(&opened, "Ready"), ("False", "RequestOpen"));
    env.reconciled("q", 2).await;
    assert!(
        events(&env, "SupportCaseMessage").await.is_empty(),
        "AWS wrote nothing yet"
    );

    sim.aws().ask(&case_id, QUESTION).expect("AWS asks");
    let asked = env
        .wait_qr("q", |qr| case(qr).is_some_and(|c| c.awaiting_customer))
        .await;
    let block = case(&asked).unwrap();
    let excerpt = "Hello, Please describe your use case. Which instance types will you run?";
    assert_eq!(block.latest_aws_message.as_deref(), Some(excerpt));
    assert_eq!(block.status.as_deref(), Some("pending-customer-action"));
    assert!(block.latest_aws_message_at.is_some());
    assert_eq!(target_state(&asked), Some(TargetState::Requested));
    assert!(
        message(&asked).starts_with(&format!(
            "AwaitingCustomerReply: AWS asked a question in support case {case_id}: {excerpt} — \
             answer it in the Support Center"
        )),
        "{}",
        message(&asked)
    );
    assert_eq!(
        condition(&asked, "Ready"),
        ("False", "AwaitingCustomerReply")
    );
    let flux = kstatus(&[as_json(&asked)]);
    assert_eq!(
        flux.get("q").map(String::as_str),
        Some("InProgress"),
        "{flux:?}"
    );

    // Reconciled again and again: still one event, and no reply without spec.aws.caseReply.
    env.reconciled("q", 3).await;
    let told = events(&env, "SupportCaseMessage").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].contains(excerpt), "{told:?}");
    assert_eq!(sim.aws().case_replies(&case_id), 0);
    // A restart reads the case afresh; the status already tells of the message.
    env.kill_operator();
    let reads = sim.aws().calls("DescribeCases");
    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(500)).await);
    env.reconciled("q", 3).await;
    assert!(
        sim.aws().calls("DescribeCases") > reads,
        "the case was read again"
    );
    assert_eq!(events(&env, "SupportCaseMessage").await.len(), 1);

    let reply = json!({"spec": {"aws": {"caseReply": "m5 and c5, for the Q4 batch scale-out"}}});
    env.qrs()
        .patch("q", &PatchParams::default(), &Patch::Merge(&reply))
        .await
        .expect("set caseReply");
    let replied = env
        .wait_qr("q", |qr| {
            case(qr).is_some_and(|c| c.reply_sent_at.is_some())
        })
        .await;
    assert!(!case(&replied).unwrap().awaiting_customer);
    let recorded = &replied.status.as_ref().unwrap().case_replies;
    assert!(
        recorded.values().all(|r| r.sent_at.is_some()),
        "{recorded:?}"
    );
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    env.reconciled("q", 4).await;
    assert_eq!(
        sim.aws().case_replies(&case_id),
        1,
        "the reply is sent once"
    );
    let completed = env
        .wait_qr("q", |qr| {
            case(qr).is_some_and(|c| c.status.as_deref() == Some("customer-action-completed"))
        })
        .await;
    assert_eq!(condition(&completed, "Ready"), ("False", "RequestOpen"));
    assert_eq!(sim.aws().case_replies(&case_id), 1);

    let request = sim.aws().requests()[0].id.clone();
    sim.aws().approve(&request).expect("approve");
    let satisfied = env
        .wait_qr("q", |qr| target_state(qr) == Some(TargetState::Satisfied))
        .await;
    assert_eq!(condition(&satisfied, "Ready"), ("True", "AllSatisfied"));
    env.reconciled("q", 2).await;
    assert_eq!(events(&env, "SupportCaseMessage").await.len(), 1);
    assert_eq!(sim.aws().case_replies(&case_id), 1);
}

#[tokio::test]
async fn an_account_the_support_api_refuses_shows_the_console_hint_not_an_error() {
    let sim = sim().await;
    let mut env = TestEnv::new("case-no-plan").await;
    let no_plan = env.aws_account("no-plan", NO_PLAN).await;
    env.create_qr(
        Qr::aws("np", &no_plan, SPOT)
            .regions(&["us-east-1"])
            .desired(2000),
    )
    .await;
    env.start_operator_with(sim_aws(&sim, NO_PLAN_KEY, Duration::from_millis(500)).await);

    let hinted = env
        .wait_qr("np", |qr| case(qr).is_some_and(|c| c.note.is_some()))
        .await;
    let block = case(&hinted).unwrap();
    let id = block.display_id.clone().unwrap();
    assert_eq!(
        block.note.as_deref(),
        Some(
            format!(
                "case not readable here (SubscriptionRequiredException: AWS Premium Support \
                 Subscription is required to use this service.): answer it in the console \
                 (https://support.console.aws.amazon.com/support/home#/case/?displayId={id})"
            )
            .as_str()
        )
    );
    assert_eq!(target_state(&hinted), Some(TargetState::Requested));
    assert_eq!(condition(&hinted, "Ready"), ("False", "RequestOpen"));
    let asked = sim.aws().calls_in(NO_PLAN, "us-east-1", "DescribeCases");
    env.reconciled("np", 4).await;
    let after = env.qrs().get("np").await.unwrap();
    assert_eq!(
        target_state(&after),
        Some(TargetState::Requested),
        "never an Error"
    );
    assert_eq!(case(&after), Some(block));
    assert_eq!(
        sim.aws().calls_in(NO_PLAN, "us-east-1", "DescribeCases"),
        asked,
        "a refusing account is not asked again"
    );
    assert_eq!(asked, 1);
    assert!(
        sim.aws().calls("GetRequestedServiceQuotaChange") > 0,
        "the request is followed through Service Quotas"
    );
}

#[tokio::test]
async fn without_the_support_permissions_the_hint_names_the_refusal() {
    let sim = sim().await;
    sim.aws()
        .inject_fault(FaultInjection {
            operation: "DescribeCases".into(),
            fault: Fault::AccessDenied,
            count: None,
            account: Some(DENIED.into()),
            region: None,
            delay: None,
        })
        .expect("fault");
    let mut env = TestEnv::new("case-denied").await;
    let denied = env.aws_account("denied", DENIED).await;
    env.create_qr(
        Qr::aws("d", &denied, SPOT)
            .regions(&["us-east-1"])
            .desired(2000),
    )
    .await;
    env.start_operator_with(sim_aws(&sim, DENIED_KEY, Duration::from_millis(500)).await);
    let hinted = env
        .wait_qr("d", |qr| case(qr).is_some_and(|c| c.note.is_some()))
        .await;
    let note = case(&hinted).unwrap().note.clone().unwrap();
    assert!(
        note.starts_with("case not readable here (AccessDeniedException: ")
            && note.contains("support:DescribeCases")
            && note.contains("answer it in the console (https://support.console.aws.amazon.com/"),
        "{note}"
    );
    env.reconciled("d", 3).await;
    let after = env.qrs().get("d").await.unwrap();
    assert_eq!(target_state(&after), Some(TargetState::Requested));
    assert_eq!(sim.aws().calls_in(DENIED, "us-east-1", "DescribeCases"), 1);
}
