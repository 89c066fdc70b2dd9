//! End to end with GCP: the operator on the real API server, the official Cloud Quotas client,
//! and the simulator, whose write log proves how many QuotaPreferences were made.

use std::time::Duration;

use quota_operator::{
    api::{QuotaRequirement, TargetState},
    cloud::gcp::preference_id,
};
use quota_sim::{Scenario, Sim, SimHandle};
use tokio::process::Command;

use crate::harness::{Qr, TestEnv, kubeconfig, sim_clouds};

const PROJECT: &str = "demo-project";

async fn sim(yaml: &str) -> SimHandle {
    let scenario = Scenario::from_yaml(yaml).expect("scenario");
    Sim::new(scenario)
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim")
}

fn all(qr: &QuotaRequirement, state: TargetState) -> bool {
    qr.status
        .as_ref()
        .is_some_and(|s| !s.targets.is_empty() && s.targets.iter().all(|t| t.state == state))
}

/// 400 CPUs in two regions, as the GCP tests ask.
fn cpus(account: &str) -> Qr {
    Qr::gcp("cpus", account, "CPUS-per-project-region")
        .regions(&["us-central1", "europe-west4"])
        .desired(400)
        .justification("GKE node pools")
}

#[tokio::test]
async fn cpus_in_two_regions_make_one_preference_each_and_are_satisfied_when_granted() {
    let sim = sim("gcp:\n  schedule:\n    default: {outcome: grant, after: 1500ms}\n").await;
    let mut env = TestEnv::new("gcp-cpus").await;
    let account = env.gcp_account("gcp", PROJECT).await;
    env.create_qr(cpus(&account)).await;
    env.start_operator_with(sim_clouds(&sim, "AKIDGCPE2E", Duration::from_millis(300)).await);

    let requested = env
        .wait_qr("cpus", |qr| all(qr, TargetState::Requested))
        .await;
    for t in &requested.status.as_ref().unwrap().targets {
        let request = t.request.as_ref().unwrap();
        assert_eq!(request.status, "RECONCILING");
        let own = preference_id(
            "compute.googleapis.com",
            "CPUS-per-project-region",
            &t.region,
            &[],
        );
        assert!(request.id.ends_with(&format!("/{own}")), "{}", request.id);
        // What Google's support asks for, and the justification Google recorded.
        let preferences = sim.gcp().preferences();
        let trace = preferences.into_iter().find(|p| p.id == own);
        let trace = trace.map(|p| p.trace_id).filter(|t| !t.is_empty());
        assert!(trace.is_some(), "Google gave the preference a traceId");
        assert_eq!(request.case_id, trace, "caseId is the preference's traceId");
        assert_eq!(request.justification.as_deref(), Some("GKE node pools"));
    }
    let done = env
        .wait_qr("cpus", |qr| all(qr, TargetState::Satisfied))
        .await;
    assert!(
        done.status
            .unwrap()
            .targets
            .iter()
            .all(|t| t.current_value == Some(400.0))
    );
    env.reconciled("cpus", 3).await;
    let preferences = sim.gcp().preferences();
    assert_eq!(preferences.len(), 2, "one preference per region");
    assert_eq!(sim.gcp().writes().len(), 2, "each written once");
}

#[tokio::test]
async fn a_partial_grant_shows_granted_and_preferred_values() {
    let sim = sim(
        "gcp:\n  schedule:\n    default: {outcome: partial, grantedValue: 250, after: 1s, stateDetail: \"only 250 CPUs available in this region\"}\n",
    )
    .await;
    let mut env = TestEnv::new("gcp-partial").await;
    let account = env.gcp_account("gcp", PROJECT).await;
    env.create_qr(cpus(&account)).await;
    env.start_operator_with(sim_clouds(&sim, "AKIDGCPE2E", Duration::from_millis(300)).await);

    let partial = env
        .wait_qr("cpus", |qr| all(qr, TargetState::PartiallyGranted))
        .await;
    for t in &partial.status.as_ref().unwrap().targets {
        let request = t.request.as_ref().unwrap();
        assert_eq!(
            (request.granted_value, request.requested_value),
            (Some(250.0), 400.0)
        );
        assert_eq!(request.status, "PARTIALLY_GRANTED");
        let message = t.message.as_deref().unwrap();
        assert!(message.contains("granted 250 of 400"), "{message}");
        assert!(message.contains("only 250 CPUs"), "{message}");
        assert_eq!(t.current_value, Some(250.0));
    }
    env.reconciled("cpus", 3).await;
    assert_eq!(
        sim.gcp().writes().len(),
        2,
        "a partial grant is not asked again on resync"
    );
}

#[tokio::test]
async fn restarting_the_operator_mid_way_creates_nothing_new() {
    let sim = sim("gcp:\n  schedule: {manual: true}\n").await;
    let mut env = TestEnv::new("gcp-restart").await;
    let account = env.gcp_account("gcp", PROJECT).await;
    env.create_qr(cpus(&account)).await;
    env.start_operator_with(sim_clouds(&sim, "AKIDGCPE2E", Duration::from_millis(300)).await);
    env.wait_qr("cpus", |qr| all(qr, TargetState::Requested))
        .await;
    env.kill_operator();
    assert_eq!(sim.gcp().writes().len(), 2);

    env.start_operator_with(sim_clouds(&sim, "AKIDGCPE2E", Duration::from_millis(300)).await);
    env.reconciled("cpus", 3).await;
    assert_eq!(
        sim.gcp().writes().len(),
        2,
        "the restarted operator follows, it does not write"
    );
    for p in sim.gcp().preferences() {
        sim.gcp().grant(PROJECT, &p.id).unwrap();
    }
    env.wait_qr("cpus", |qr| all(qr, TargetState::Satisfied))
        .await;
    assert_eq!(sim.gcp().writes().len(), 2);
}

#[tokio::test]
async fn kubectl_shows_aws_and_gcp_requirements_side_by_side() {
    let sim = sim("aws:\n  schedule: {manual: true}\ngcp:\n  schedule: {manual: true}\n").await;
    let mut env = TestEnv::new("side-by-side").await;
    let gcp = env.gcp_account("gcp", PROJECT).await;
    let aws = env.aws_account("aws", "123456789012").await;
    env.create_qr(
        Qr::gcp("gcp-cpus", &gcp, "CPUS-per-project-region")
            .regions(&["us-central1", "europe-west4"])
            .desired(400)
            .justification("GKE node pools"),
    )
    .await;
    env.create_qr(
        Qr::ec2("aws-spot", &aws, "L-34B43A08")
            .regions(&["us-east-1", "eu-west-1"])
            .desired(2000),
    )
    .await;
    env.start_operator_with(sim_clouds(&sim, "AKIDGCPE2E", Duration::from_millis(300)).await);
    env.wait_qr("gcp-cpus", |qr| all(qr, TargetState::Requested))
        .await;
    env.wait_qr("aws-spot", |qr| all(qr, TargetState::Requested))
        .await;

    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig())
        .args(["get", "qr", "-n", &env.ns])
        .output()
        .await
        .expect("kubectl");
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 2, "{text}");
    let row = |name: &str| {
        rows.iter()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("{name}: {text}"))
    };
    assert_eq!(
        &row("aws-spot")[1..6],
        [aws.as_str(), "ec2/L-34B43A08", "2000", "Requested", "False"]
    );
    assert_eq!(
        &row("gcp-cpus")[1..6],
        [
            gcp.as_str(),
            "compute.googleapis.com/CPUS-per-project-region",
            "400",
            "Requested",
            "False"
        ]
    );
    println!("{text}");
}
