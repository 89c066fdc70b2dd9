//! End to end with AWS: the operator on the real API server, the real SDK, and the simulator's
//! wire protocol, whose counters and filing log prove what was called and filed.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use quota_operator::{
    api::{CloudAccount, QuotaRequirement, TargetState},
    cloud::{
        CloudError, FileContext, ProviderFactory, QuotaProvider, QuotaView, RequestView, Target,
        aws::AwsFactory,
    },
};
use quota_sim::{AwsSim, Scenario, SimHandle, aws::ThrottleInjection};
use tokio::sync::Notify;

use crate::harness::{Qr, TestEnv, condition, sim_aws};

const ACCOUNT: &str = "111111111111";
const KEY: &str = "AKIDE2EEXAMPLE";

async fn sim(extra: &str) -> SimHandle {
    let yaml = format!("aws:\n  accounts: {{{KEY}: \"{ACCOUNT}\"}}\n{extra}");
    let scenario = Scenario::from_yaml(&yaml).expect("scenario");
    AwsSim::new(scenario)
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim")
}

const SPOT: (&str, &str) = ("ec2", "L-34B43A08");

/// A simulator with `scenario`, a fresh namespace and an AWS CloudAccount it may use.
async fn setup(namespace: &str, scenario: &str) -> (SimHandle, TestEnv, String) {
    let sim = sim(scenario).await;
    let env = TestEnv::new(namespace).await;
    let account = env.aws_account("aws", ACCOUNT).await;
    (sim, env, account)
}

fn all(qr: &QuotaRequirement, state: TargetState) -> bool {
    qr.status
        .as_ref()
        .is_some_and(|s| !s.targets.is_empty() && s.targets.iter().all(|t| t.state == state))
}

fn request_status(qr: &QuotaRequirement) -> Vec<String> {
    qr.status
        .iter()
        .flat_map(|s| s.targets.iter())
        .filter_map(|t| t.request.as_ref().map(|r| r.status.clone()))
        .collect()
}

#[tokio::test]
async fn spot_in_two_regions_files_one_request_each_and_follows_the_case_to_satisfied() {
    let (sim, mut env, account) = setup("aws-spot", "  quotas:\n  - {serviceCode: ec2, quotaCode: L-34B43A08, value: 640}\n  schedule:\n    default: {outcome: approve, caseOpenedAfter: 800ms, closeAfter: 2500ms}\n").await;
    env.create_qr(
        Qr::aws("spot", &account, SPOT)
            .regions(&["us-east-1", "eu-west-1"])
            .desired(2000),
    )
    .await;
    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(500)).await);

    let opened = env
        .wait_qr("spot", |qr| {
            request_status(qr) == ["CASE_OPENED", "CASE_OPENED"]
        })
        .await;
    for t in &opened.status.as_ref().unwrap().targets {
        assert_eq!(t.state, TargetState::Requested);
        assert!(
            t.request.as_ref().unwrap().case_id.is_some(),
            "the case id is shown"
        );
    }
    let done = env
        .wait_qr("spot", |qr| all(qr, TargetState::Satisfied))
        .await;
    assert_eq!(request_status(&done), ["APPROVED", "APPROVED"]);
    assert_eq!(condition(&done, "Satisfied").0, "True");
    assert!(
        done.status
            .unwrap()
            .targets
            .iter()
            .all(|t| t.current_value == Some(2000.0))
    );

    env.reconciled("spot", 3).await;
    let filed = sim.aws().filed();
    assert_eq!(filed.len(), 2, "{filed:?}");
    for region in ["us-east-1", "eu-west-1"] {
        assert_eq!(
            filed.iter().filter(|f| f.region == region).count(),
            1,
            "one request in {region}"
        );
    }
}

#[tokio::test]
async fn denied_request_ends_denied_and_is_not_filed_again() {
    let (sim, mut env, account) = setup(
        "aws-denied",
        "  schedule:\n    default: {outcome: deny, closeAfter: 700ms}\n",
    )
    .await;
    env.create_qr(
        Qr::ec2("p-spot", &account, "L-7212CCBC")
            .regions(&["us-east-1"])
            .desired(256),
    )
    .await;
    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(500)).await);

    let denied = env
        .wait_qr("p-spot", |qr| all(qr, TargetState::Denied))
        .await;
    let target = &denied.status.as_ref().unwrap().targets[0];
    assert_eq!(target.request.as_ref().unwrap().status, "DENIED");
    let message = target.message.as_deref().unwrap();
    assert!(message.contains("DENIED"), "{message}");
    assert_eq!(condition(&denied, "Satisfied"), ("False", "Denied"));
    env.reconciled("p-spot", 3).await;
    assert_eq!(sim.aws().filed().len(), 1, "never re-filed");
}

/// Passes everything through, except that after filing it signals and never returns: the
/// reconcile stops between filing and writing status, as a crash there would.
struct StopAfterFiling {
    inner: Arc<AwsFactory>,
    filed: Arc<Notify>,
}

struct StopAfterFilingProvider {
    inner: Arc<dyn QuotaProvider>,
    filed: Arc<Notify>,
}

#[async_trait]
impl ProviderFactory for StopAfterFiling {
    async fn provider(&self, account: &CloudAccount) -> Result<Arc<dyn QuotaProvider>, CloudError> {
        let inner = self.inner.provider(account).await?;
        Ok(Arc::new(StopAfterFilingProvider {
            inner,
            filed: self.filed.clone(),
        }))
    }
}

#[async_trait]
impl QuotaProvider for StopAfterFilingProvider {
    async fn quota(&self, target: &Target) -> Result<QuotaView, CloudError> {
        self.inner.quota(target).await
    }
    async fn open_request(
        &self,
        target: &Target,
        id: &str,
    ) -> Result<Option<RequestView>, CloudError> {
        self.inner.open_request(target, id).await
    }
    async fn latest_request(
        &self,
        target: &Target,
        id: &str,
    ) -> Result<Option<RequestView>, CloudError> {
        self.inner.latest_request(target, id).await
    }
    async fn request(&self, target: &Target, id: &str) -> Result<RequestView, CloudError> {
        self.inner.request(target, id).await
    }
    async fn file(
        &self,
        t: &Target,
        id: &str,
        value: i64,
        c: &FileContext,
    ) -> Result<RequestView, CloudError> {
        self.inner.file(t, id, value, c).await?;
        self.filed.notify_one();
        std::future::pending().await
    }
}

/// Runs an operator that stops for good right after its first filing, then kills it, as a crash
/// between filing and writing status would.
async fn crash_after_filing(env: &mut TestEnv, sim: &SimHandle) {
    let filed = Arc::new(Notify::new());
    let crashing = StopAfterFiling {
        inner: sim_aws(sim, KEY, Duration::from_millis(500)).await,
        filed: filed.clone(),
    };
    env.start_operator_with(Arc::new(crashing));
    tokio::time::timeout(Duration::from_secs(30), filed.notified())
        .await
        .expect("the operator filed");
    env.kill_operator();
}

#[tokio::test]
async fn a_crash_between_filing_and_status_files_nothing_new_after_restart() {
    let (sim, mut env, account) = setup("aws-crash", "  quotas:\n  - {serviceCode: ec2, quotaCode: L-34B43A08, value: 640}\n  schedule:\n    manual: true\n").await;
    env.create_qr(
        Qr::aws("spot", &account, SPOT)
            .regions(&["us-east-1"])
            .desired(2000),
    )
    .await;
    crash_after_filing(&mut env, &sim).await;

    let before = env.qrs().get("spot").await.unwrap();
    assert!(
        request_status(&before).is_empty(),
        "the crash left no request in status"
    );
    assert_eq!(sim.aws().filed().len(), 1);

    // A fresh operator (new process state, same cloud): it must adopt, not file again.
    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(500)).await);
    let adopted = env
        .wait_qr("spot", |qr| all(qr, TargetState::Requested))
        .await;
    let id = adopted.status.as_ref().unwrap().targets[0]
        .request
        .as_ref()
        .unwrap()
        .id
        .clone();
    assert_eq!(id, sim.aws().filed()[0].id);
    env.reconciled("spot", 3).await;
    assert_eq!(
        sim.aws().filed().len(),
        1,
        "nothing new was filed after the restart"
    );
    assert_eq!(sim.aws().calls("RequestServiceQuotaIncrease"), 1);

    sim.aws().approve(&id).unwrap();
    env.wait_qr("spot", |qr| all(qr, TargetState::Satisfied))
        .await;
}

#[tokio::test]
async fn a_denial_during_a_crash_between_filing_and_status_is_not_forgotten() {
    let (sim, mut env, account) =
        setup("aws-crash-denied", "  schedule:\n    manual: true\n").await;
    env.create_qr(
        Qr::aws("spot", &account, SPOT)
            .regions(&["us-east-1"])
            .desired(2000),
    )
    .await;
    crash_after_filing(&mut env, &sim).await;
    let id = sim.aws().filed()[0].id.clone();
    sim.aws()
        .deny(&id, quota_sim::RequestStatus::Denied, "no")
        .unwrap();

    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(500)).await);
    let denied = env.wait_qr("spot", |qr| all(qr, TargetState::Denied)).await;
    assert_eq!(
        denied.status.as_ref().unwrap().targets[0]
            .request
            .as_ref()
            .unwrap()
            .id,
        id
    );
    env.reconciled("spot", 3).await;
    assert_eq!(
        sim.aws().filed().len(),
        1,
        "not filed again after the restart"
    );
}

#[tokio::test]
async fn open_request_limit_queues_then_files_when_a_slot_frees() {
    let (sim, mut env, account) = setup("aws-queued", "  limits: {openPerRegion: 1, openPerAccount: 20}\n  schedule:\n    default: {outcome: approve, closeAfter: 1500ms}\n").await;
    env.create_qr(
        Qr::aws("fargate", &account, ("fargate", "L-3032A538"))
            .regions(&["us-east-1"])
            .desired(500),
    )
    .await;
    env.create_qr(
        Qr::aws("spot", &account, SPOT)
            .regions(&["us-east-1"])
            .desired(500),
    )
    .await;
    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(300)).await);

    let queued = env
        .wait_qr_any(&["fargate", "spot"], |qr| all(qr, TargetState::Queued))
        .await;
    let message = queued.status.as_ref().unwrap().targets[0]
        .message
        .clone()
        .unwrap();
    assert!(message.contains("QuotaExceededException"), "{message}");
    env.wait_qr("fargate", |qr| all(qr, TargetState::Satisfied))
        .await;
    env.wait_qr("spot", |qr| all(qr, TargetState::Satisfied))
        .await;
    assert_eq!(sim.aws().filed().len(), 2, "each filed once");
}

#[tokio::test]
async fn throttling_slows_the_operator_down_and_it_still_converges() {
    let sim = sim("  quotas:\n  - {serviceCode: ec2, quotaCode: L-34B43A08, value: 640}\n  schedule:\n    default: {outcome: approve, closeAfter: 1s}\n").await;
    for (operation, count) in [
        ("ListServiceQuotas", 6),
        ("RequestServiceQuotaIncrease", 4),
        ("GetRequestedServiceQuotaChange", 4),
    ] {
        sim.aws()
            .inject_throttles(ThrottleInjection {
                operation: operation.into(),
                count,
                account: None,
                region: None,
                every: None,
            })
            .unwrap();
    }
    let mut env = TestEnv::new("aws-throttled").await;
    let account = env.aws_account("aws", ACCOUNT).await;
    env.create_qr(
        Qr::aws("spot", &account, SPOT)
            .regions(&["us-east-1"])
            .desired(2000),
    )
    .await;
    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(300)).await);

    env.wait_qr("spot", |qr| all(qr, TargetState::Satisfied))
        .await;
    let throttled: u64 = sim.aws().counters().iter().map(|c| c.throttled).sum();
    assert_eq!(throttled, 14, "every injected throttle was met");
    assert_eq!(
        sim.aws().filed().len(),
        1,
        "throttling never doubled a request"
    );
}

#[tokio::test]
async fn a_resync_of_200_objects_costs_calls_per_combination_not_per_object() {
    let (sim, mut env, account) = setup("aws-scale", "  rates: {enabled: false}\n").await;
    // 200 objects over 3 (account, region, service) combinations, all already satisfied.
    let combos = [
        ("ec2", "L-34B43A08", "us-east-1"),
        ("ec2", "L-1216C47A", "eu-west-1"),
        ("vpc", "L-DF5E4CA3", "us-east-1"),
    ];
    for i in 0..200 {
        let (service, code, region) = combos[i % 3];
        let value = if service == "vpc" { 100 } else { 1 };
        env.create_qr(
            Qr::aws(&format!("q{i:03}"), &account, (service, code))
                .regions(&[region])
                .desired(value),
        )
        .await;
    }
    let ttl = Duration::from_secs(1);
    env.start_operator_with(sim_aws(&sim, KEY, ttl).await);
    let api = env.qrs();
    crate::harness::eventually(Duration::from_secs(60), || async {
        let list = api.list(&Default::default()).await.ok()?;
        let done = list
            .items
            .iter()
            .filter(|q| all(q, TargetState::Satisfied))
            .count();
        (done == 200).then_some(())
    })
    .await;

    // Steady state: every object resyncs every 500 ms, so 5 s is ~2000 reconciles.
    sim.aws().reset_counters();
    let window = Duration::from_secs(5);
    tokio::time::sleep(window).await;
    let counters = sim.aws().counters();
    let total: u64 = counters.iter().map(|c| c.calls).sum();
    let lists: u64 = counters
        .iter()
        .filter(|c| c.operation == "ListServiceQuotas")
        .map(|c| c.calls)
        .sum();
    let refreshes = (window.as_secs_f64() / ttl.as_secs_f64() + 1.0).ceil() as u64;
    let bound = 3 * refreshes;
    // Usage: one batched GetMetricData per (account, region) per cache period, and for quotas
    // CloudWatch has no data for (none here), one utilisation report per period.
    const USAGE: [&str; 3] = [
        "GetMetricData",
        "StartQuotaUtilizationReport",
        "GetQuotaUtilizationReport",
    ];
    let usage: u64 = counters
        .iter()
        .filter(|c| USAGE.contains(&c.operation.as_str()))
        .map(|c| c.calls)
        .sum();
    println!(
        "200 objects, 3 combinations, {window:?} of resyncs: {total} cloud calls ({lists} ListServiceQuotas, {usage} for usage), bound {bound} lists"
    );
    assert!(lists >= 3, "each combination was re-read: {counters:?}");
    assert!(lists <= bound, "calls grew with objects: {counters:?}");
    for c in counters
        .iter()
        .filter(|c| USAGE.contains(&c.operation.as_str()))
    {
        assert!(
            c.calls <= refreshes,
            "usage calls grew with objects in {}: {c:?}",
            c.region
        );
    }
    assert_eq!(
        total,
        lists + usage,
        "a resync of satisfied objects only lists and reads usage: {counters:?}"
    );
}

#[tokio::test]
async fn a_global_quota_is_reconciled_once_not_once_per_region() {
    let (sim, mut env, account) = setup(
        "aws-global",
        "  schedule:\n    default: {outcome: approve, closeAfter: 1s}\n",
    )
    .await;
    // IAM roles per account: one value for the whole account, whatever the region.
    env.create_qr(
        Qr::aws("roles", &account, ("iam", "L-FE177D64"))
            .regions(&["us-east-1", "eu-west-1"])
            .desired(2000),
    )
    .await;
    env.start_operator_with(sim_aws(&sim, KEY, Duration::from_millis(300)).await);

    let requested = env
        .wait_qr("roles", |qr| all(qr, TargetState::Requested))
        .await;
    let targets = &requested.status.as_ref().unwrap().targets;
    assert_eq!(
        targets[0].request, targets[1].request,
        "both regions show the one request"
    );
    let mirrored = targets[1].message.as_deref().unwrap();
    assert!(
        mirrored.contains("global quota, reconciled in us-east-1"),
        "{mirrored}"
    );
    env.wait_qr("roles", |qr| all(qr, TargetState::Satisfied))
        .await;
    assert_eq!(sim.aws().filed().len(), 1, "one request for a global quota");
    assert_eq!(
        sim.aws()
            .calls_in(ACCOUNT, "eu-west-1", "ListServiceQuotas"),
        0,
        "eu-west-1 never read"
    );
}
