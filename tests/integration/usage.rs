//! Usage end to end: the operator on the real API server reads usage from the simulator's
//! CloudWatch and Cloud Monitoring (the official SDKs on the wire), shows it in status, keeps
//! `spec.headroom` above it (bounded, cooled down, never lowered), warns near the limit, and
//! lives beside the clouds' own auto-adjusters. The simulator's filing log says what was filed.

use std::time::Duration;

use quota_operator::api::{QuotaRequirement, TargetState, TargetStatus};
use quota_sim::{AwsSim, RequestStatus, Scenario, SimHandle, Usage, aws::AutoAdjustRequest};
use serde_json::json;

use crate::harness::{Qr, TestEnv, condition, sim_aws};

const ACCOUNT: &str = "111111111111";
const KEY: &str = "AKIDUSAGEE2E";
const ON_DEMAND: (&str, &str) = ("ec2", "L-1216C47A");

async fn sim(extra: &str) -> SimHandle {
    let yaml = format!("aws:\n  accounts: {{{KEY}: \"{ACCOUNT}\"}}\n{extra}");
    AwsSim::new(Scenario::from_yaml(&yaml).expect("scenario"))
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim")
}

pub fn target(qr: &QuotaRequirement) -> Option<&TargetStatus> {
    qr.status.as_ref()?.targets.first()
}

pub fn state(qr: &QuotaRequirement) -> Option<TargetState> {
    target(qr).map(|t| t.state)
}

/// Two objects with `spec.headroom` up to `max` on one quota: `only-headroom` with nothing else,
/// and `floor` that also declares `floor`. `qr` makes an object of the quota by name.
pub async fn create_headroom_pair(env: &TestEnv, qr: impl Fn(&str) -> Qr, floor: i64, max: i64) {
    let headroom = json!({"percent": 30, "max": max});
    env.create_qr(qr("only-headroom").headroom(headroom.clone()))
        .await;
    env.create_qr(qr("floor").desired(floor).headroom(headroom))
        .await;
}

fn used(qr: &QuotaRequirement) -> Option<f64> {
    target(qr)?.usage.as_ref()?.current
}

/// An AWS CloudAccount with a utilisation threshold (and guardrails).
async fn account(env: &TestEnv, threshold: i32, guardrails: serde_json::Value) -> String {
    let name = env.unique("aws");
    env.create_account(json!({
        "metadata": {"name": name},
        "spec": {
            "aws": {"accountId": ACCOUNT},
            "namespaceSelector": {"matchLabels": {"quota-operator.dev/allowed": "true"}},
            "usage": {"thresholdPercent": threshold},
            "guardrails": guardrails
        }
    }))
    .await
    .expect("create CloudAccount");
    name
}

async fn event_reasons(env: &TestEnv) -> Vec<(String, String)> {
    use k8s_openapi::api::events::v1::Event;
    let events: kube::Api<Event> = kube::Api::namespaced(env.client.clone(), &env.ns);
    let list = events.list(&Default::default()).await.expect("list events");
    list.items
        .into_iter()
        .filter_map(|e| Some((e.reason?, e.note.unwrap_or_default())))
        .collect()
}

fn filed_by_api(sim: &SimHandle) -> Vec<f64> {
    sim.filed()
        .iter()
        .filter(|f| f.source == quota_sim::aws::Source::Api)
        .map(|f| f.desired_value)
        .collect()
}

#[tokio::test]
async fn usage_utilisation_and_forecast_show_in_status_and_crossing_the_threshold_warns() {
    // 520 of 640 used and growing 10 a day: 81 %, the value reached in about 12 days.
    let sim = sim("  quotas:\n  - {serviceCode: ec2, quotaCode: L-1216C47A, value: 640, usage: {shape: growth, start: 520, perDay: 10}}\n").await;
    let mut env = TestEnv::new("usage-status").await;
    let account = account(&env, 80, json!(null)).await;
    env.create_qr(
        Qr::aws("od", &account, ON_DEMAND)
            .regions(&["us-east-1"])
            .desired(512),
    )
    .await;
    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(500)).await);

    let qr = env
        .wait_qr("od", |qr| {
            used(qr).is_some() && condition(qr, "NearLimit").0 == "True"
        })
        .await;
    let t = target(&qr).unwrap();
    assert_eq!(t.state, TargetState::Satisfied, "the declared 512 is met");
    let u = t.usage.as_ref().unwrap();
    assert!((519.0..522.0).contains(&u.current.unwrap()), "{u:?}");
    assert!(
        (81.2..81.6).contains(&u.utilization_percent.unwrap()),
        "{u:?}"
    );
    assert!(
        u.source
            .as_deref()
            .unwrap()
            .contains("CloudWatch AWS/Usage ResourceCount"),
        "{u:?}"
    );
    assert!(
        u.forecast
            .as_deref()
            .unwrap()
            .contains("reaches 640 in about 12 days"),
        "{u:?}"
    );
    assert!(u.exhaustion_at.is_some());
    assert_eq!(
        condition(&qr, "Ready").0,
        "True",
        "NearLimit leaves Ready alone"
    );
    assert_eq!(condition(&qr, "NearLimit").1, "UtilizationHigh");
    let out = crate::kubectl::kubectl(&env)
        .args(["get", "qr", "od"])
        .output()
        .await
        .expect("kubectl get qr");
    let text = String::from_utf8_lossy(&out.stdout);
    let header: Vec<&str> = text
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let row: Vec<&str> = text
        .lines()
        .nth(1)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let used = header
        .iter()
        .position(|h| *h == "USED%")
        .expect("a USED% column");
    assert!(row[used].starts_with("81.") || row[used] == "81", "{text}");

    let events = crate::harness::eventually(Duration::from_secs(10), || {
        let env = &env;
        async move {
            let e = event_reasons(env).await;
            e.iter().any(|(r, _)| r == "UtilizationHigh").then_some(e)
        }
    })
    .await;
    let warned: Vec<_> = events
        .iter()
        .filter(|(r, _)| r == "UtilizationHigh")
        .collect();
    assert!(warned[0].1.contains("us-east-1: 81"), "{warned:?}");
    // One crossing, one event, however many reconciles follow.
    env.reconciled("od", 3).await;
    let again = event_reasons(&env).await;
    assert_eq!(
        again.iter().filter(|(r, _)| r == "UtilizationHigh").count(),
        1
    );
    // One batched GetMetricData per (account, region) per cache period, not one per reconcile.
    let calls = sim.calls_in(ACCOUNT, "us-east-1", "GetMetricData");
    assert!((1..=8).contains(&calls), "{calls} GetMetricData calls");
    assert_eq!(filed_by_api(&sim), Vec::<f64>::new());
}

#[tokio::test]
async fn headroom_raises_as_usage_grows_within_max_and_cooldown_and_never_lowers() {
    let sim = sim("  quotas:\n  - {serviceCode: ec2, quotaCode: L-1216C47A, value: 640, usage: 600}\n  schedule:\n    default: {outcome: approve, closeAfter: 300ms}\n").await;
    let mut env = TestEnv::new("usage-headroom").await;
    let account = account(&env, 90, json!(null)).await;
    env.create_qr(
        Qr::aws("grow", &account, ON_DEMAND)
            .regions(&["us-east-1"])
            .headroom(json!({"percent": 30, "max": 1000, "cooldown": "1h"})),
    )
    .await;
    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(300)).await);

    // 600 + 30 % = 780, filed once and granted.
    let qr = env
        .wait_qr("grow", |qr| {
            state(qr) == Some(TargetState::Satisfied)
                && target(qr).and_then(|t| t.current_value) == Some(780.0)
        })
        .await;
    let h = target(&qr).unwrap().headroom.as_ref().unwrap();
    assert_eq!(h.value, 780);
    assert_eq!(h.arithmetic, "peak 600 over 168h + 30 % = 780");
    assert!(h.raised_at.is_some());
    assert_eq!(filed_by_api(&sim), vec![780.0]);

    // Usage grows inside the cooldown: headroom asks 910 but holds at 780; nothing is filed.
    sim.set_usage(
        ACCOUNT,
        "us-east-1",
        "ec2",
        "L-1216C47A",
        Usage::flat(700.0),
    )
    .unwrap();
    let qr = env
        .wait_qr("grow", |qr| {
            target(qr)
                .and_then(|t| t.headroom.as_ref())
                .and_then(|h| h.held.as_deref())
                .is_some_and(|held| held.contains("usage asks 910; held at 780 until"))
        })
        .await;
    assert_eq!(state(&qr), Some(TargetState::Satisfied));
    env.reconciled("grow", 3).await;
    assert_eq!(
        filed_by_api(&sim),
        vec![780.0],
        "no raise inside the cooldown"
    );

    // Usage falls: the value headroom asks stays (never lowered).
    sim.set_usage(
        ACCOUNT,
        "us-east-1",
        "ec2",
        "L-1216C47A",
        Usage::flat(100.0),
    )
    .unwrap();
    let qr = env
        .wait_qr("grow", |qr| used(qr).is_some_and(|u| u < 200.0))
        .await;
    let h = target(&qr).unwrap().headroom.as_ref().unwrap();
    assert_eq!(h.value, 780, "{h:?}");
    assert!(h.held.as_deref().unwrap().contains("never lowers"), "{h:?}");
    assert_eq!(filed_by_api(&sim), vec![780.0]);
}

#[tokio::test]
async fn headroom_is_capped_by_max_and_by_the_guardrails() {
    let sim = sim("  quotas:\n  - {serviceCode: ec2, quotaCode: L-1216C47A, value: 640, usage: 800}\n  - {serviceCode: ec2, quotaCode: L-34B43A08, value: 640, usage: 800}\n  schedule:\n    default: {outcome: approve, closeAfter: 300ms}\n").await;
    let mut env = TestEnv::new("usage-caps").await;
    let account = account(&env, 90, json!({"maxValues": {"L-34B43A08": 900}})).await;
    env.create_qr(
        Qr::aws("by-max", &account, ON_DEMAND)
            .regions(&["us-east-1"])
            .headroom(json!({"percent": 50, "max": 1000, "cooldown": "0s"})),
    )
    .await;
    env.create_qr(
        Qr::aws("by-guardrail", &account, ("ec2", "L-34B43A08"))
            .regions(&["us-east-1"])
            .headroom(json!({"percent": 50, "max": 5000})),
    )
    .await;
    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(300)).await);

    for (name, value, why) in [
        ("by-max", 1000.0, "capped at spec.headroom.max 1,000"),
        (
            "by-guardrail",
            900.0,
            "spec.guardrails.maxValues[L-34B43A08] = 900",
        ),
    ] {
        let qr = env
            .wait_qr(name, |qr| {
                state(qr) == Some(TargetState::Satisfied)
                    && target(qr).and_then(|t| t.current_value) == Some(value)
            })
            .await;
        let h = target(&qr).unwrap().headroom.as_ref().unwrap();
        assert!(h.arithmetic.ends_with("+ 50 % = 1,200"), "{h:?}");
        assert!(h.held.as_deref().unwrap().contains(why), "{name}: {h:?}");
    }
    let mut filed = filed_by_api(&sim);
    filed.sort_by(f64::total_cmp);
    assert_eq!(
        filed,
        vec![900.0, 1000.0],
        "each quota raised once, to its cap"
    );
}

#[tokio::test]
async fn denied_usage_permissions_leave_the_floor_working_and_file_nothing_for_headroom() {
    let sim = sim("  quotas:\n  - {serviceCode: ec2, quotaCode: L-1216C47A, value: 640, usage: 600}\n  faults:\n  - {operation: GetMetricData, fault: accessDenied}\n  - {operation: StartQuotaUtilizationReport, fault: accessDenied}\n").await;
    let mut env = TestEnv::new("usage-denied").await;
    let account = account(&env, 80, json!(null)).await;
    let qr = |name: &str| Qr::aws(name, &account, ON_DEMAND).regions(&["us-east-1"]);
    create_headroom_pair(&env, qr, 500, 1000).await;
    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(300)).await);

    let qr = env
        .wait_qr("only-headroom", |qr| state(qr) == Some(TargetState::Error))
        .await;
    let t = target(&qr).unwrap();
    let message = t.message.as_deref().unwrap();
    assert!(
        message.contains("spec.headroom needs the quota's usage"),
        "{message}"
    );
    assert!(
        message.contains("AccessDenied"),
        "the cloud's answer: {message}"
    );
    let unknown = t.usage.as_ref().unwrap().unknown.as_deref().unwrap();
    assert!(
        unknown.contains("utilization report"),
        "both sources tried: {unknown}"
    );
    let floor = env
        .wait_qr("floor", |qr| state(qr) == Some(TargetState::Satisfied))
        .await;
    assert!(
        target(&floor)
            .unwrap()
            .usage
            .as_ref()
            .unwrap()
            .unknown
            .is_some()
    );
    assert_eq!(condition(&floor, "NearLimit").1, "UsageUnknown");
    env.reconciled("only-headroom", 2).await;
    env.reconciled("floor", 2).await;
    assert!(sim.filed().is_empty(), "nothing filed: {:?}", sim.filed());
}

#[tokio::test]
async fn an_automatic_management_request_is_adopted_and_its_refusal_leads_to_one_of_our_own() {
    let sim = sim(&format!(
        "  quotas:\n  - {{serviceCode: ec2, quotaCode: L-1216C47A, value: 640, usage: 600}}\n  autoManagement:\n  - {{account: \"{ACCOUNT}\", optInType: NotifyAndAdjust, optInStatus: ENABLED}}\n  schedule: {{manual: true}}\n"
    ))
    .await;
    let theirs = sim
        .auto_adjust(AutoAdjustRequest {
            account: Some(ACCOUNT.into()),
            region: "us-east-1".into(),
            service_code: "ec2".into(),
            quota_code: "L-1216C47A".into(),
            desired_value: Some(900.0),
        })
        .unwrap();
    let mut env = TestEnv::new("usage-auto").await;
    let account = account(&env, 95, json!(null)).await;
    env.create_qr(
        Qr::aws("od", &account, ON_DEMAND)
            .regions(&["us-east-1"])
            .desired(800),
    )
    .await;
    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(300)).await);

    let qr = env
        .wait_qr("od", |qr| state(qr) == Some(TargetState::Requested))
        .await;
    let request = target(&qr).unwrap().request.as_ref().unwrap();
    assert_eq!(request.id, theirs.id);
    assert_eq!(request.made_by.as_deref(), Some("AWS automatic management"));
    env.reconciled("od", 3).await;
    assert_eq!(
        sim.filed().len(),
        1,
        "adopted, not duplicated: {:?}",
        sim.filed()
    );
    let adopted = event_reasons(&env).await;
    assert!(
        adopted
            .iter()
            .any(|(r, n)| r == "RequestAdopted" && n.contains("made by AWS automatic management")),
        "{adopted:?}"
    );

    // AWS does not approve it: the declared need is still unmet, so the operator files its own,
    // once; that one's refusal settles the need.
    sim.deny(&theirs.id, RequestStatus::NotApproved, "")
        .unwrap();
    let qr = env
        .wait_qr("od", |qr| {
            state(qr) == Some(TargetState::Requested)
                && target(qr)
                    .and_then(|t| t.request.as_ref())
                    .is_some_and(|r| r.id != theirs.id)
        })
        .await;
    assert_eq!(filed_by_api(&sim), vec![800.0]);
    let mine = target(&qr).unwrap().request.as_ref().unwrap().id.clone();
    sim.deny(&mine, RequestStatus::Denied, "not now").unwrap();
    env.wait_qr("od", |qr| state(qr) == Some(TargetState::Denied))
        .await;
    env.reconciled("od", 3).await;
    assert_eq!(filed_by_api(&sim), vec![800.0], "exactly one of our own");
}
