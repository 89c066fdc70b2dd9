//! End to end on the real API server: a quota whose preference someone else made is raised
//! through that preference, and an unlimited quota needs nothing. The simulator's write log and
//! preference list prove what the operator wrote.

use std::time::Duration;

use quota_operator::api::{QuotaRequirement, TargetState};
use quota_sim::{Scenario, Sim, SimHandle};

use crate::harness::{Qr, TestEnv, sim_clouds};

const PROJECT: &str = "demo-project";

async fn sim(yaml: &str) -> SimHandle {
    let scenario = Scenario::from_yaml(yaml).expect("scenario");
    Sim::new(scenario)
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim")
}

fn only(qr: &QuotaRequirement, state: TargetState) -> bool {
    qr.status
        .as_ref()
        .is_some_and(|s| s.targets.len() == 1 && s.targets[0].state == state)
}

#[tokio::test]
async fn a_console_preference_is_raised_through_it_and_stays_the_only_one() {
    let sim = sim(
        "gcp:\n  schedule: {manual: true}\n  preferences:\n  - {project: demo-project, id: console-made, quotaId: CPUS-per-project-region, region: us-central1, preferredValue: 50, contactEmail: a@example.com}\n",
    )
    .await;
    sim.gcp().grant(PROJECT, "console-made").unwrap();
    let mut env = TestEnv::new("gcp-console-pref").await;
    let account = env.gcp_account("gcp", PROJECT).await;
    env.create_qr(
        Qr::gcp("cpus", &account, "CPUS-per-project-region")
            .regions(&["us-central1"])
            .desired(400)
            .justification("GKE node pools"),
    )
    .await;
    env.start_operator_with(sim_clouds(&sim, "AKIDGCPE2E", Duration::from_millis(300)).await);

    let requested = env
        .wait_qr("cpus", |qr| only(qr, TargetState::Requested))
        .await;
    let target = &requested.status.as_ref().unwrap().targets[0];
    let request = target.request.as_ref().unwrap();
    assert!(request.id.ends_with("/console-made"), "{}", request.id);
    assert_eq!(
        (request.status.as_str(), request.requested_value),
        ("RECONCILING", 400.0)
    );
    let said = request.status_message.as_deref().unwrap_or_default();
    assert!(said.contains("CLOUD_CONSOLE"), "whose preference: {said}");
    assert!(request.submitted_at.is_some() && request.updated_at.is_some());

    sim.gcp().grant(PROJECT, "console-made").unwrap();
    let done = env
        .wait_qr("cpus", |qr| only(qr, TargetState::Satisfied))
        .await;
    assert_eq!(done.status.unwrap().targets[0].current_value, Some(400.0));
    env.reconciled("cpus", 3).await;
    let prefs = sim.gcp().preferences();
    assert_eq!(prefs.len(), 1, "{prefs:?}");
    assert_eq!(
        (prefs[0].id.as_str(), prefs[0].preferred_value),
        ("console-made", 400)
    );
    let sources: Vec<_> = sim.gcp().writes().into_iter().map(|w| w.source).collect();
    assert_eq!(sources, ["console", "UpdateQuotaPreference"]);
}

/// The provider reports -1 and refuses to write a limit on it; the decision counts -1 as meeting
/// every need (`cloud::meets` in `controller/decide/plan.rs`), so the region is Satisfied.
#[tokio::test]
async fn an_unlimited_quota_is_satisfied_at_minus_one_without_a_write() {
    let sim = sim("gcp:\n  schedule: {manual: true}\n").await;
    let mut env = TestEnv::new("gcp-unlimited").await;
    let account = env.gcp_account("gcp", PROJECT).await;
    env.create_qr(
        Qr::gcp("policies", &account, "RESOURCE-POLICIES-per-project-region")
            .regions(&["us-central1"])
            .desired(100)
            .justification("GKE node pools"),
    )
    .await;
    env.start_operator_with(sim_clouds(&sim, "AKIDGCPE2E", Duration::from_millis(300)).await);
    let done = env
        .wait_qr("policies", |qr| only(qr, TargetState::Satisfied))
        .await;
    assert_eq!(done.status.unwrap().targets[0].current_value, Some(-1.0));
    env.reconciled("policies", 3).await;
    assert!(sim.gcp().writes().is_empty(), "{:?}", sim.gcp().writes());
    assert_eq!(sim.gcp().calls("UpdateQuotaPreference"), 0);
}
