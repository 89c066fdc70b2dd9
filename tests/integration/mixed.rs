//! One object whose regions end in different states: the satisfied region keeps the object on
//! its resync schedule, so these tests prove that the refused regions are not filed again while
//! the operator demonstrably keeps reconciling (and re-reading the satisfied region).

use std::time::Duration;

use quota_operator::api::{QuotaRequirement, TargetState};
use quota_sim::{Scenario, Sim, SimHandle};

use crate::{
    fake::{FakeCloud, Slot},
    harness::{Qr, TestEnv, sim_clouds},
};

const ACCOUNT: &str = "111111111111";
const KEY: &str = "AKIDMIXEDEXAMPLE";
const RESYNCS: u64 = 5;

async fn sim(yaml: &str) -> SimHandle {
    Sim::new(Scenario::from_yaml(yaml).expect("scenario"))
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim")
}

fn states(qr: &QuotaRequirement) -> Vec<(String, TargetState)> {
    qr.status
        .iter()
        .flat_map(|s| s.targets.iter().map(|t| (t.region.clone(), t.state)))
        .collect()
}

fn expect(pairs: &[(&str, TargetState)]) -> Vec<(String, TargetState)> {
    pairs.iter().map(|(r, s)| (r.to_string(), *s)).collect()
}

#[tokio::test]
async fn aws_a_satisfied_region_beside_a_denied_one_files_nothing_more_over_five_resyncs() {
    let sim = sim(&format!(
        "aws:\n  accounts: {{{KEY}: \"{ACCOUNT}\"}}\n  quotas:\n  - {{serviceCode: ec2, quotaCode: L-34B43A08, value: 640}}\n  - {{serviceCode: ec2, quotaCode: L-34B43A08, account: \"{ACCOUNT}\", region: us-east-1, value: 5000}}\n  schedule:\n    default: {{outcome: deny, closeAfter: 500ms, message: \"Not enough usage history\"}}\n"
    ))
    .await;
    let mut env = TestEnv::new("mixed-aws").await;
    let account = env.aws_account("aws", ACCOUNT).await;
    env.create_spot(&account, &["us-east-1", "eu-west-1"]).await;
    env.start_operator_with(sim_clouds(&sim, KEY, Duration::from_millis(200)).await);
    let want = expect(&[
        ("us-east-1", TargetState::Satisfied),
        ("eu-west-1", TargetState::Denied),
    ]);
    env.wait_qr("spot", |qr| states(qr) == want).await;
    assert_eq!(sim.aws().filed().len(), 1);

    let reads = || {
        sim.aws()
            .calls_in(ACCOUNT, "us-east-1", "ListServiceQuotas")
    };
    let before = reads();
    env.reconciled("spot", RESYNCS).await;
    let reread = reads() - before;
    println!(
        "{RESYNCS} resyncs: us-east-1 read {reread} times, filings {}",
        sim.aws().filed().len()
    );
    assert!(
        reread >= 2,
        "the satisfied region is re-read ({reread} reads)"
    );
    assert_eq!(sim.aws().filed().len(), 1, "the denial is not filed again");
    let qr = env.qrs().get("spot").await.unwrap();
    assert_eq!(states(&qr), want);
}

#[tokio::test]
async fn gcp_satisfied_partially_granted_and_refused_regions_write_nothing_more() {
    let sim = sim(
        "gcp:\n  values:\n  - {quotaId: CPUS-per-project-region, region: us-central1, value: 1000}\n  schedule:\n    default: {outcome: partial, grantedValue: 250, after: 500ms, stateDetail: \"only 250 CPUs\"}\n    rules:\n    - {region: asia-east1, outcome: refuse, after: 500ms, stateDetail: \"Not enough usage history\"}\n",
    )
    .await;
    let mut env = TestEnv::new("mixed-gcp").await;
    let account = env.gcp_account("gcp", "demo-project").await;
    env.create_qr(
        Qr::gcp("cpus", &account, "CPUS-per-project-region")
            .regions(&["us-central1", "europe-west4", "asia-east1"])
            .desired(400),
    )
    .await;
    env.start_operator_with(sim_clouds(&sim, KEY, Duration::from_millis(200)).await);
    let want = expect(&[
        ("us-central1", TargetState::Satisfied),
        ("europe-west4", TargetState::PartiallyGranted),
        ("asia-east1", TargetState::Denied),
    ]);
    env.wait_qr("cpus", |qr| states(qr) == want).await;
    let writes = sim.gcp().writes().len();
    assert_eq!(writes, 2, "one write for each region that needed one");

    let reads = || sim.gcp().calls("GetQuotaInfo");
    let before = reads();
    env.reconciled("cpus", RESYNCS).await;
    let reread = reads() - before;
    println!(
        "{RESYNCS} resyncs: {reread} QuotaInfo reads, writes {}",
        sim.gcp().writes().len()
    );
    assert!(reread >= 2, "the quota is re-read ({reread} reads)");
    assert_eq!(sim.gcp().writes().len(), writes, "nothing written again");
    assert_eq!(states(&env.qrs().get("cpus").await.unwrap()), want);
}

#[tokio::test]
async fn four_states_in_one_object_stay_put_while_it_keeps_being_reconciled() {
    let mut env = TestEnv::new("mixed-four").await;
    let cloud = FakeCloud::new();
    let slot = |region: &str| Slot::new(ACCOUNT, region, "ec2", "L-34B43A08");
    cloud.set_quota(slot("us-east-1"), "Spot", 5000.0, true);
    cloud.set_quota(slot("eu-west-1"), "Spot", 640.0, true);
    cloud.set_quota(slot("ap-south-1"), "Spot", 10.0, false);
    cloud.set_quota(slot("us-west-2"), "Spot", 640.0, true);
    let account = env.aws_account("aws", ACCOUNT).await;
    env.create_spot(
        &account,
        &["us-east-1", "eu-west-1", "ap-south-1", "us-west-2"],
    )
    .await;
    env.start_operator(cloud.clone());
    env.wait_qr("spot", |qr| {
        states(qr)
            .iter()
            .filter(|(_, s)| *s == TargetState::Requested)
            .count()
            == 2
    })
    .await;
    for r in cloud.requests() {
        if r.slot.region == "eu-west-1" {
            cloud.deny(&r.view.id, "DENIED", "Not approved.");
        } else {
            cloud.approve(&r.view.id);
        }
    }
    let want = expect(&[
        ("us-east-1", TargetState::Satisfied),
        ("eu-west-1", TargetState::Denied),
        ("ap-south-1", TargetState::NotAdjustable),
        ("us-west-2", TargetState::Satisfied),
    ]);
    env.wait_qr("spot", |qr| states(qr) == want).await;
    let (filed, reads) = (cloud.filed_count(), cloud.calls("GetServiceQuota"));
    env.reconciled("spot", RESYNCS).await;
    assert!(
        cloud.calls("GetServiceQuota") >= reads + RESYNCS,
        "every region re-read"
    );
    assert_eq!(cloud.filed_count(), filed);
    assert_eq!(states(&env.qrs().get("spot").await.unwrap()), want);
}
