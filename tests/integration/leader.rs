//! Two operator processes on one API server: only the Lease holder reconciles; SIGKILL the
//! holder and the standby takes over within the lease duration, filing nothing twice.

use std::time::{Duration, Instant};

use quota_operator::api::{QuotaRequirement, TargetState};
use quota_sim::{AwsSim, Scenario, SimHandle};

use crate::{
    harness::{Qr, TestEnv},
    process::{KEY, OperatorProcess},
};

const ACCOUNT: &str = "111111111111";
const LEASE_SECONDS: u64 = 6;

async fn sim() -> SimHandle {
    let yaml = format!(
        "aws:\n  accounts: {{{KEY}: \"{ACCOUNT}\"}}\n  quotas:\n  - {{serviceCode: ec2, quotaCode: L-34B43A08, value: 640}}\n  - {{serviceCode: ec2, quotaCode: L-1216C47A, value: 640}}\n  schedule:\n    default: {{outcome: approve, closeAfter: 8s}}\n"
    );
    AwsSim::new(Scenario::from_yaml(&yaml).expect("scenario"))
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim")
}

fn all(qr: &QuotaRequirement, state: TargetState) -> bool {
    qr.status
        .as_ref()
        .is_some_and(|s| !s.targets.is_empty() && s.targets.iter().all(|t| t.state == state))
}

fn elected<'a>(ns: &'a str, identity: &'a str, lease: &'a str) -> [&'a str; 11] {
    [
        "--leader-election",
        "--leader-election-namespace",
        ns,
        "--leader-election-lease-name",
        lease,
        "--leader-election-identity",
        identity,
        "--leader-election-lease-seconds",
        "6",
        "--leader-election-grace-seconds",
        "2",
    ]
}

#[tokio::test]
async fn the_standby_takes_over_after_sigkill_within_the_lease_and_files_nothing_twice() {
    let sim = sim().await;
    let env = TestEnv::new("leader").await;
    let account = env.aws_account("aws", ACCOUNT).await;
    let ns = env.ns.clone();
    let endpoint = sim.endpoint();
    let lease = "qo-leader";

    let mut a = OperatorProcess::start("a", &ns, &endpoint, &elected(&ns, "a", lease));
    a.wait_log("acquired the lease", Duration::from_secs(30))
        .await;
    let b = OperatorProcess::start("b", &ns, &endpoint, &elected(&ns, "b", lease));
    b.wait_log("standing by for the lease", Duration::from_secs(30))
        .await;

    env.create_qr(
        Qr::ec2("spot", &account, "L-34B43A08")
            .regions(&["us-east-1", "eu-west-1"])
            .desired(2000),
    )
    .await;
    env.wait_qr("spot", |qr| all(qr, TargetState::Requested))
        .await;
    assert_eq!(sim.aws().filed().len(), 2, "one request per region");
    a.wait_log("status updated", Duration::from_secs(5)).await;

    // The holder dies mid-request; a new requirement arrives while nobody holds the lease.
    a.kill();
    let killed = Instant::now();
    env.create_qr(
        Qr::ec2("on-demand", &account, "L-1216C47A")
            .regions(&["us-east-1"])
            .desired(2000),
    )
    .await;
    b.wait_log(
        "acquired the lease",
        Duration::from_secs(LEASE_SECONDS + 10),
    )
    .await;
    let takeover = killed.elapsed();
    println!(
        "takeover {:.1}s after SIGKILL (lease {LEASE_SECONDS}s)",
        takeover.as_secs_f64()
    );
    assert!(
        takeover <= Duration::from_secs(LEASE_SECONDS + 2),
        "took {takeover:?}"
    );
    let standby_log = b.log();
    let before_takeover = &standby_log[..standby_log.find("acquired the lease").unwrap()];
    assert!(
        !before_takeover.contains("status updated") && !before_takeover.contains("reconcil"),
        "the standby must not reconcile or write:\n{before_takeover}"
    );

    env.wait_qr("spot", |qr| all(qr, TargetState::Satisfied))
        .await;
    env.wait_qr("on-demand", |qr| all(qr, TargetState::Satisfied))
        .await;
    let filed = sim.aws().filed();
    let mut keys: Vec<_> = filed
        .iter()
        .map(|f| (f.region.clone(), f.quota_code.clone()))
        .collect();
    keys.sort();
    let unique = keys.len();
    keys.dedup();
    println!(
        "requests filed across the handover: {unique}, duplicates: {}",
        unique - keys.len()
    );
    assert_eq!(unique, 3, "{filed:?}");
    assert_eq!(keys.len(), unique, "no duplicate request: {filed:?}");
}

#[tokio::test]
async fn a_holder_stopped_with_sigterm_stops_reconciling_and_releases_the_lease() {
    let sim = sim().await;
    let env = TestEnv::new("leader-term").await;
    let ns = env.ns.clone();
    let endpoint = sim.endpoint();
    let lease = "qo-leader";

    let mut a = OperatorProcess::start("a", &ns, &endpoint, &elected(&ns, "a", lease));
    a.wait_log("acquired the lease", Duration::from_secs(30))
        .await;
    let b = OperatorProcess::start("b", &ns, &endpoint, &elected(&ns, "b", lease));
    b.wait_log("standing by for the lease", Duration::from_secs(30))
        .await;
    let stopped = Instant::now();
    a.terminate().await;
    assert!(a.log().contains("released the lease"), "{}", a.log());
    // kube-lease-manager's standby sleeps until the lease it last saw expires (one lease after
    // the holder's last renewal, which came before SIGTERM) before it looks again: the same bound
    // as after a SIGKILL.
    b.wait_log("acquired the lease", Duration::from_secs(LEASE_SECONDS + 2))
        .await;
    println!(
        "takeover {:.1}s after SIGTERM",
        stopped.elapsed().as_secs_f64()
    );
}
