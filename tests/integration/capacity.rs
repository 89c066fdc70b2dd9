//! Capacity instead of a number, end to end on the real API server with the simulator's EC2
//! DescribeInstanceTypes and Compute machineTypes: instance counts become vCPUs of the right
//! family quota, several teams' capacity on one quota adds up, and a type on another family's
//! quota is refused with a message naming it.

use std::time::Duration;

use quota_operator::api::{QuotaRequirement, TargetState};
use quota_sim::{Scenario, Sim, SimHandle};
use serde_json::json;

use crate::harness::{Qr, TestEnv, condition, sim_clouds};

const ACCOUNT: &str = "111111111111";
const KEY: &str = "AKIDCAPACITYEXAMPLE";
const PROJECT: &str = "capacity-project";
const SPOT: &str = "L-34B43A08";

async fn sim(yaml: &str) -> SimHandle {
    Sim::new(Scenario::from_yaml(yaml).expect("scenario"))
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim")
}

fn aws_scenario(schedule: &str) -> String {
    format!(
        "aws:\n  accounts: {{{KEY}: \"{ACCOUNT}\"}}\n  quotas:\n  - {{serviceCode: ec2, quotaCode: {SPOT}, value: 640}}\n  schedule:\n    default: {schedule}\n"
    )
}

/// The first region's message.
fn first_message(qr: &QuotaRequirement) -> String {
    qr.status
        .as_ref()
        .and_then(|s| s.targets.first())
        .and_then(|t| t.message.clone())
        .unwrap_or_default()
}

fn all(qr: &QuotaRequirement, state: TargetState) -> bool {
    qr.status
        .as_ref()
        .is_some_and(|s| !s.targets.is_empty() && s.targets.iter().all(|t| t.state == state))
}

#[tokio::test]
async fn spot_instances_in_two_regions_ask_for_their_vcpus_in_each() {
    let sim = sim(&aws_scenario("{outcome: approve, closeAfter: 1s}")).await;
    let mut env = TestEnv::new("capacity-spot").await;
    let account = env.aws_account("aws", ACCOUNT).await;
    env.create_qr(
        Qr::ec2("fleet", &account, SPOT)
            .regions(&["us-east-1", "eu-west-1"])
            .capacity(json!([{"instanceType": "m5.2xlarge", "count": 200},
               {"instanceType": "c6i.4xlarge", "count": 50}])),
    )
    .await;
    env.start_operator_with(sim_clouds(&sim, KEY, Duration::from_millis(200)).await);

    let done = env
        .wait_qr("fleet", |qr| all(qr, TargetState::Satisfied))
        .await;
    for t in &done.status.as_ref().unwrap().targets {
        let capacity = t.capacity.as_ref().expect("capacity in status");
        assert_eq!(
            capacity.arithmetic,
            "200 x m5.2xlarge (8 vCPU) + 50 x c6i.4xlarge (16 vCPU) = 2400 vCPU"
        );
        assert_eq!((capacity.share, capacity.total), (2400, 2400));
        assert_eq!(t.desired_value, Some(2400));
        assert_eq!(t.current_value, Some(2400.0));
    }
    let mut filed: Vec<_> = sim
        .aws()
        .filed()
        .into_iter()
        .map(|f| (f.region, f.quota_code, f.desired_value))
        .collect();
    filed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        filed,
        vec![
            ("eu-west-1".to_string(), SPOT.to_string(), 2400.0),
            ("us-east-1".to_string(), SPOT.to_string(), 2400.0),
        ]
    );
    assert!(
        sim.aws()
            .calls_in(ACCOUNT, "us-east-1", "DescribeInstanceTypes")
            >= 1,
        "the vCPUs came from EC2's catalog"
    );
}

#[tokio::test]
async fn two_teams_capacity_on_one_quota_adds_up_and_a_floor_takes_the_maximum() {
    let sim = sim(&aws_scenario("{outcome: approve, closeAfter: 1s}")).await;
    let mut env = TestEnv::new("capacity-teams").await;
    let account = env.aws_account("aws", ACCOUNT).await;
    env.create_qr(
        Qr::ec2("team-a", &account, SPOT)
            .regions(&["us-east-1"])
            .capacity(json!([{"instanceType": "m5.2xlarge", "count": 100}])),
    )
    .await;
    env.create_qr(
        Qr::ec2("team-b", &account, SPOT)
            .regions(&["us-east-1"])
            .capacity(json!([{"instanceType": "c6i.4xlarge", "count": 50}])),
    )
    .await;
    // A plain floor below the capacity total does not raise it.
    env.create_qr(
        Qr::ec2("floor", &account, SPOT)
            .regions(&["us-east-1"])
            .desired(1000),
    )
    .await;
    env.start_operator_with(sim_clouds(&sim, KEY, Duration::from_millis(200)).await);

    for name in ["team-a", "team-b", "floor"] {
        env.wait_qr(name, |qr| all(qr, TargetState::Satisfied))
            .await;
    }
    let ns = env.ns.clone();
    for (name, other) in [("team-a", "team-b"), ("team-b", "team-a")] {
        let qr = env.qrs().get(name).await.unwrap();
        let t = &qr.status.as_ref().unwrap().targets[0];
        let capacity = t.capacity.as_ref().expect("capacity in status");
        assert_eq!(capacity.share, 800, "{name}: {}", capacity.arithmetic);
        assert_eq!(capacity.total, 1600);
        assert_eq!(capacity.others, vec![format!("{ns}/{other}: 800")]);
        assert_eq!(t.desired_value, Some(1600));
    }
    let floor = env.qrs().get("floor").await.unwrap();
    let t = &floor.status.as_ref().unwrap().targets[0];
    assert_eq!(
        t.desired_value,
        Some(1600),
        "the larger of floor and capacity"
    );
    assert!(t.capacity.is_none());
    let filed: Vec<_> = sim
        .aws()
        .filed()
        .into_iter()
        .map(|f| f.desired_value)
        .collect();
    assert_eq!(filed, vec![1600.0], "one request, for the sum");

    env.reconciled("team-a", 3).await;
    assert_eq!(sim.aws().filed().len(), 1, "nothing filed again");
}

#[tokio::test]
async fn a_p3_on_the_standard_spot_quota_is_refused_naming_it() {
    let sim = sim(&aws_scenario("{outcome: approve, closeAfter: 1s}")).await;
    let mut env = TestEnv::new("capacity-wrong-family").await;
    let account = env.aws_account("aws", ACCOUNT).await;
    env.create_qr(
        Qr::ec2("gpus", &account, SPOT)
            .regions(&["us-east-1"])
            .capacity(json!([{"instanceType": "m5.2xlarge", "count": 10},
               {"instanceType": "p3.2xlarge", "count": 4}])),
    )
    .await;
    env.create_qr(
        Qr::ec2("unknown", &account, SPOT)
            .regions(&["us-east-1"])
            .capacity(json!([{"instanceType": "m5.huge", "count": 4}])),
    )
    .await;
    env.start_operator_with(sim_clouds(&sim, KEY, Duration::from_millis(200)).await);

    let gpus = env
        .wait_qr("gpus", |qr| all(qr, TargetState::Blocked))
        .await;
    let message = first_message(&gpus);
    assert!(
        message.contains("p3.2xlarge is a P instance")
            && message.contains("L-7212CCBC")
            && message.contains("not L-34B43A08"),
        "{message}"
    );
    assert_eq!(condition(&gpus, "Stalled").0, "True");
    let unknown = env
        .wait_qr("unknown", |qr| all(qr, TargetState::Blocked))
        .await;
    let message = first_message(&unknown);
    assert!(
        message.contains("InvalidInstanceType") && message.contains("m5.huge"),
        "the cloud's answer is shown: {message}"
    );
    env.reconciled("gpus", 2).await;
    assert!(
        sim.aws().filed().is_empty(),
        "nothing filed for a wrong spec"
    );
}

#[tokio::test]
async fn n2_machines_ask_for_their_vcpus_on_the_n2_quota() {
    let sim = sim(&format!(
        "gcp:\n  projects: [{PROJECT}]\n  schedule:\n    default: {{outcome: grant, after: 1s}}\n"
    ))
    .await;
    let mut env = TestEnv::new("capacity-gcp").await;
    let account = env.gcp_account("gcp", PROJECT).await;
    env.create_qr(
        Qr::gcp("n2", &account, "N2-CPUS-per-project-region")
            .regions(&["us-central1"])
            .capacity(json!([{"machineType": "n2-standard-8", "count": 30}])),
    )
    .await;
    env.create_qr(
        Qr::gcp("n2-on-general", &account, "CPUS-per-project-region")
            .regions(&["us-central1"])
            .capacity(json!([{"machineType": "n2-standard-8", "count": 2}])),
    )
    .await;
    env.start_operator_with(sim_clouds(&sim, KEY, Duration::from_millis(300)).await);

    let done = env
        .wait_qr("n2", |qr| all(qr, TargetState::Satisfied))
        .await;
    let t = &done.status.as_ref().unwrap().targets[0];
    assert_eq!(
        t.capacity.as_ref().unwrap().arithmetic,
        "30 x n2-standard-8 (8 vCPU) = 240 vCPU"
    );
    assert_eq!(t.current_value, Some(240.0));
    let writes: Vec<_> = sim
        .gcp()
        .writes()
        .into_iter()
        .map(|w| (w.quota_id, w.preferred_value))
        .collect();
    assert_eq!(
        writes,
        vec![("N2-CPUS-per-project-region".to_string(), 240)]
    );
    let general = env
        .wait_qr("n2-on-general", |qr| all(qr, TargetState::Blocked))
        .await;
    let message = first_message(&general);
    assert!(
        message.contains(
            "n2-standard-8 counts against its series' own quota N2-CPUS-per-project-region"
        ),
        "{message}"
    );
}
