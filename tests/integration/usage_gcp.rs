//! Usage end to end on GCP: the operator on the real API server reads allocation usage from the
//! simulator's Cloud Monitoring (google-cloud-monitoring-v3 on the wire), keeps `spec.headroom`
//! above it through the project's one QuotaPreference, and adopts a preference Google's Quota
//! Adjuster made instead of writing a second. The simulator's write log says who wrote what.

use std::time::Duration;

use quota_operator::api::TargetState;
use quota_sim::{
    Scenario, Sim, SimHandle, Usage,
    gcp::{AdjusterRaise, dims},
};
use serde_json::json;

use crate::{
    harness::{Qr, TestEnv, condition, sim_clouds},
    process::OperatorProcess,
    usage::{create_headroom_pair, state, target},
};

const PROJECT: &str = "demo-project";
const CPUS: &str = "CPUS-per-project-region";
const COMPUTE: &str = "compute.googleapis.com";

async fn sim(yaml: &str) -> SimHandle {
    Sim::new(Scenario::from_yaml(yaml).expect("scenario"))
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim")
}

/// A GCP CloudAccount with a utilisation threshold.
async fn account(env: &TestEnv, threshold: i32) -> String {
    let name = env.unique("gcp");
    env.create_account(json!({
        "metadata": {"name": name},
        "spec": {
            "gcp": {"project": PROJECT, "contactEmail": "quotas@example.com"},
            "namespaceSelector": {"matchLabels": {"quota-operator.dev/allowed": "true"}},
            "usage": {"thresholdPercent": threshold},
            // Raises paced by each spec's own cooldown (the default minimum is an hour).
            "guardrails": {"headroomMinCooldown": "0s"}
        }
    }))
    .await
    .expect("create CloudAccount");
    name
}

/// (source, preferred value) of every preference write, seeds included, in order.
fn writes(sim: &SimHandle) -> Vec<(String, i64)> {
    sim.gcp()
        .writes()
        .into_iter()
        .map(|w| (w.source, w.preferred_value))
        .collect()
}

#[tokio::test]
async fn cloud_monitoring_usage_shows_in_status_and_headroom_raises_the_preference_never_lowering_it()
 {
    let sim = sim(&format!(
        "gcp:\n  values:\n  - {{quotaId: {CPUS}, region: us-central1, value: 100, usage: 85}}\n  schedule:\n    default: {{outcome: grant, after: 300ms}}\n"
    ))
    .await;
    let mut env = TestEnv::new("usage-gcp").await;
    let account = account(&env, 80).await;
    env.create_qr(
        Qr::gcp("cpus", &account, CPUS)
            .regions(&["us-central1"])
            .headroom(json!({"percent": 20, "max": 500, "cooldown": "0s"}))
            .justification("GKE node pools"),
    )
    .await;
    env.start_operator_with(sim_clouds(&sim, "AKIDGCPUSAGE", Duration::from_millis(300)).await);

    // 85 + 20 % = 102, written once and granted.
    let qr = env
        .wait_qr("cpus", |qr| {
            state(qr) == Some(TargetState::Satisfied)
                && target(qr).and_then(|t| t.current_value) == Some(102.0)
        })
        .await;
    let t = target(&qr).unwrap();
    let u = t.usage.as_ref().unwrap();
    assert_eq!(u.current, Some(85.0), "{u:?}");
    assert!(
        (83.0..83.5).contains(&u.utilization_percent.unwrap()),
        "85 of 102: {u:?}"
    );
    let source = u.source.as_deref().unwrap();
    assert!(
        source.contains("serviceruntime.googleapis.com/quota/allocation/usage")
            && source.contains("location=us-central1"),
        "{source}"
    );
    assert!(
        u.forecast.as_deref().unwrap().contains("not within"),
        "flat usage never reaches the limit: {u:?}"
    );
    assert_eq!(condition(&qr, "NearLimit").0, "True", "83 % is over 80 %");
    let h = t.headroom.as_ref().unwrap();
    assert_eq!(h.arithmetic, "peak 85 over 168h + 20 % = 102");
    assert_eq!(
        writes(&sim),
        vec![("UpdateQuotaPreference".to_string(), 102)]
    );

    // Usage grows: 95 + 20 % = 114, the same preference raised.
    let set_usage = |value: f64| {
        let region = dims([("region", "us-central1")]);
        sim.gcp()
            .set_usage_shape(PROJECT, COMPUTE, CPUS, &region, Usage::flat(value))
            .unwrap();
    };
    set_usage(95.0);
    env.wait_qr("cpus", |qr| {
        state(qr) == Some(TargetState::Satisfied)
            && target(qr).and_then(|t| t.current_value) == Some(114.0)
    })
    .await;
    assert_eq!(
        writes(&sim).last(),
        Some(&("UpdateQuotaPreference".into(), 114))
    );

    // Usage falls to 10: headroom would ask 12, the quota stays at 114 and nothing is written.
    set_usage(10.0);
    let qr = env
        .wait_qr("cpus", |qr| {
            target(qr)
                .and_then(|t| t.usage.as_ref())
                .is_some_and(|u| u.current == Some(10.0))
        })
        .await;
    let h = target(&qr).unwrap().headroom.as_ref().unwrap();
    assert_eq!(h.value, 114, "{h:?}");
    assert!(h.held.as_deref().unwrap().contains("never lowers"), "{h:?}");
    assert_eq!(
        condition(&qr, "NearLimit"),
        ("", ""),
        "below the threshold NearLimit is left out"
    );
    env.reconciled("cpus", 3).await;
    assert_eq!(writes(&sim).len(), 2, "{:?}", writes(&sim));
    assert_eq!(sim.gcp().preferences().len(), 1);
}

/// Reconciles the operator process has finished, from its `/metrics`.
async fn reconciles(op: &OperatorProcess) -> u64 {
    let text = op.metrics().await;
    text.lines()
        .filter(|l| l.starts_with("controller_runtime_reconcile_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// Waits until the process has reconciled `n` more times.
async fn reconciled(op: &OperatorProcess, n: u64) {
    let start = reconciles(op).await;
    crate::harness::eventually(Duration::from_secs(30), || async move {
        (reconciles(op).await >= start + n).then_some(())
    })
    .await;
}

/// The operator binary (both controllers: the CloudAccount's status too) against the
/// simulator: the adjuster's preference is adopted, its refusal leads to one write of ours.
#[tokio::test]
async fn a_quota_adjuster_preference_is_adopted_and_its_refusal_leads_to_one_write_of_our_own() {
    let sim = sim(&format!(
        "gcp:\n  values:\n  - {{quotaId: {CPUS}, region: us-central1, value: 100, usage: 90}}\n  adjuster:\n  - {{project: {PROJECT}, enablement: ENABLED}}\n  schedule: {{manual: true}}\n"
    ))
    .await;
    let theirs = sim
        .gcp()
        .quota_adjuster_raise(
            PROJECT,
            AdjusterRaise {
                service: COMPUTE.into(),
                quota_id: CPUS.into(),
                region: Some("us-central1".into()),
                dimensions: Default::default(),
                preferred_value: Some(150),
            },
        )
        .unwrap();
    let env = TestEnv::new("usage-gcp-adjuster").await;
    let account = account(&env, 85).await;
    env.create_qr(
        Qr::gcp("cpus", &account, CPUS)
            .regions(&["us-central1"])
            .desired(140)
            .justification("GKE node pools"),
    )
    .await;
    let op = OperatorProcess::start("adjuster", &env.ns, &sim.endpoint(), &[]);

    let qr = env
        .wait_qr("cpus", |qr| state(qr) == Some(TargetState::Requested))
        .await;
    let request = target(&qr).unwrap().request.as_ref().unwrap();
    assert!(
        request.id.ends_with(&format!("/{}", theirs.id)),
        "{}",
        request.id
    );
    assert_eq!(request.made_by.as_deref(), Some("GCP Quota Adjuster"));
    assert_eq!(request.requested_value, 150.0, "theirs asks enough");
    let accounts = env.accounts();
    let adjuster = crate::harness::eventually(Duration::from_secs(30), || {
        let (accounts, name) = (accounts.clone(), account.clone());
        async move { accounts.get(&name).await.ok()?.status?.auto_adjuster }
    })
    .await;
    assert_eq!(adjuster.name, "GCP Quota Adjuster");
    assert_eq!(
        (adjuster.setting.as_deref(), adjuster.adjusts),
        (Some("ENABLED"), Some(true)),
        "{adjuster:?}"
    );
    // Usage on /metrics: 90 of 100 used, over the account's 85 % threshold.
    let metrics = op.metrics().await;
    let series = format!(
        "account=\"{account}\",region=\"us-central1\",quota=\"compute.googleapis.com/{CPUS}\"}}"
    );
    for (name, value) in [
        ("quota_operator_quota_usage", "90"),
        ("quota_operator_quota_utilization_ratio", "0.9"),
    ] {
        let line = format!("{name}{{{series} ");
        assert!(
            metrics.lines().any(|l| l.starts_with(&line)
                && l[line.len()..].parse::<f64>().ok() == value.parse().ok()),
            "{line}{value} missing:\n{metrics}"
        );
    }
    assert!(
        metrics.contains(&format!(
            "quota_operator_account_utilization_threshold_ratio{{account=\"{account}\"}} 0.85"
        )),
        "{metrics}"
    );
    reconciled(&op, 3).await;
    assert_eq!(
        writes(&sim),
        vec![("quota-adjuster".to_string(), 150)],
        "adopted, not written again"
    );

    // Google refuses the adjuster's increase; 140 is still unmet, so the operator writes its own
    // value into that preference, once, and that refusal settles the need.
    sim.gcp()
        .refuse(PROJECT, &theirs.id, "no capacity")
        .unwrap();
    env.wait_qr("cpus", |qr| {
        target(qr)
            .and_then(|t| t.request.as_ref())
            .is_some_and(|r| r.requested_value == 140.0 && r.made_by.is_none())
    })
    .await;
    sim.gcp()
        .refuse(PROJECT, &theirs.id, "still no capacity")
        .unwrap();
    env.wait_qr("cpus", |qr| state(qr) == Some(TargetState::Denied))
        .await;
    reconciled(&op, 3).await;
    let ours: Vec<_> = writes(&sim)
        .into_iter()
        .filter(|(source, _)| source != "quota-adjuster")
        .collect();
    assert_eq!(ours, vec![("UpdateQuotaPreference".to_string(), 140)]);
    assert_eq!(sim.gcp().preferences().len(), 1);
}

/// Without `monitoring.timeSeries.list` usage is unknown with Google's answer: a declared floor
/// still works, a headroom-only object is Error, and nothing is written for headroom.
#[tokio::test]
async fn denied_monitoring_leaves_the_floor_working_and_writes_nothing_for_headroom() {
    let sim = sim(&format!(
        "gcp:\n  values:\n  - {{quotaId: {CPUS}, region: us-central1, value: 100, usage: 90}}\n  faults:\n  - {{method: ListTimeSeries, count: 100000, code: PERMISSION_DENIED}}\n"
    ))
    .await;
    let mut env = TestEnv::new("usage-gcp-denied").await;
    let account = account(&env, 80).await;
    let qr = |name: &str| Qr::gcp(name, &account, CPUS).regions(&["us-central1"]);
    create_headroom_pair(&env, qr, 60, 500).await;
    env.start_operator_with(sim_clouds(&sim, "AKIDGCPDENIED", Duration::from_millis(300)).await);

    let qr = env
        .wait_qr("only-headroom", |qr| state(qr) == Some(TargetState::Error))
        .await;
    let message = target(&qr).unwrap().message.clone().unwrap_or_default();
    assert!(
        message.contains("spec.headroom needs the quota's usage")
            && message.contains("PERMISSION_DENIED"),
        "the cloud's answer: {message}"
    );
    let floor = env
        .wait_qr("floor", |qr| state(qr) == Some(TargetState::Satisfied))
        .await;
    let unknown = target(&floor)
        .unwrap()
        .usage
        .as_ref()
        .unwrap()
        .unknown
        .clone();
    assert!(unknown.is_some_and(|u| u.contains("PERMISSION_DENIED")));
    assert_eq!(condition(&floor, "NearLimit").1, "UsageUnknown");
    env.reconciled("only-headroom", 2).await;
    env.reconciled("floor", 2).await;
    assert_eq!(writes(&sim), Vec::<(String, i64)>::new(), "nothing written");
}
