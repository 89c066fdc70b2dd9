//! Many teams on one CloudAccount, end to end: a control plane of each test's own, so the
//! operator watches every namespace as an installed one does, the simulator behind the real SDK
//! clients, and the simulator's record of every request as the judge. What one team declares
//! never carries a filing past the admin's guardrails, never blocks another team's need, never
//! lowers a shared quota without the account's consent; and a quota the cloud refuses is asked
//! again at most once per cooldown, never for a refused value, however many objects share it.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use k8s_openapi::api::core::v1::Namespace;
use kube::{
    Api, Client,
    api::{Patch, PatchParams, PostParams},
};
use quota_operator::{
    api::{CloudAccount, QuotaRequirement, TargetState},
    controller::{self, Reconciles},
};
use quota_sim::{Scenario, Sim, SimHandle};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::{
    controlplane::PrivateControlPlane,
    harness::{Qr, install_crds_on, sim_clouds},
    process::{self, Launch},
};

const ACCOUNT: &str = "111111111111";
const KEY: &str = "AKIDTENANTSEXAMPLE";
pub(crate) const PROJECT: &str = "tenants-project";
pub(crate) const SPOT: &str = "L-34B43A08";
const ALLOWED: &str = "quota-operator.dev/allowed";

/// One control plane, a simulator, one CloudAccount, some team namespaces, and an operator
/// watching them all (regions.rs uses it too).
pub(crate) struct Fleet {
    _cp: PrivateControlPlane,
    client: Client,
    pub(crate) sim: SimHandle,
    pub(crate) account: String,
    reconciles: Arc<Reconciles>,
    operator: Option<JoinHandle<()>>,
}

impl Fleet {
    pub(crate) async fn new(scenario: &str, account: Value, teams: &[&str]) -> Self {
        let sim = Sim::new(Scenario::from_yaml(scenario).expect("scenario"))
            .serve("127.0.0.1:0".parse().unwrap())
            .await
            .expect("sim");
        let cp = tokio::task::spawn_blocking(PrivateControlPlane::start)
            .await
            .expect("control plane");
        if std::env::var_os("RUST_LOG").is_some() {
            quota_operator::telemetry::init(quota_operator::telemetry::LogFormat::Text);
        }
        let client = cp.client().await;
        install_crds_on(&client).await;
        let namespaces: Api<Namespace> = Api::all(client.clone());
        for team in teams {
            let ns = json!({"metadata": {"name": team, "labels": {ALLOWED: "true"}}});
            let ns: Namespace = serde_json::from_value(ns).unwrap();
            namespaces
                .create(&PostParams::default(), &ns)
                .await
                .expect("namespace");
        }
        let accounts: Api<CloudAccount> = Api::all(client.clone());
        let account: CloudAccount = serde_json::from_value(account).expect("CloudAccount");
        let name = account.metadata.name.clone().expect("account name");
        accounts
            .create(&PostParams::default(), &account)
            .await
            .expect("CloudAccount");
        Self {
            _cp: cp,
            client,
            sim,
            account: name,
            reconciles: Arc::default(),
            operator: None,
        }
    }

    pub(crate) fn qrs(&self, team: &str) -> Api<QuotaRequirement> {
        Api::namespaced(self.client.clone(), team)
    }

    pub(crate) async fn create(&self, team: &str, obj: Qr) {
        let obj: QuotaRequirement = serde_json::from_value(obj.json()).expect("QuotaRequirement");
        self.qrs(team)
            .create(&PostParams::default(), &obj)
            .await
            .expect("create QuotaRequirement");
    }

    pub(crate) async fn start_operator(&mut self) {
        let providers = sim_clouds(&self.sim, KEY, Duration::from_millis(200)).await;
        let config = controller::Config {
            resync: Duration::from_secs(1),
            poll: Duration::from_millis(500),
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(2),
            namespace: None,
            concurrency: 8,
            instance: "tenants".into(),
            ..Default::default()
        };
        let seams = controller::Seams {
            reconciles: Some(self.reconciles.clone()),
            account_status: false,
        };
        let run = controller::run_with(
            self.client.clone(),
            providers,
            config,
            seams,
            std::future::pending(),
        );
        self.operator = Some(tokio::spawn(run));
    }

    fn kill_operator(&mut self) {
        if let Some(op) = self.operator.take() {
            op.abort();
        }
    }

    pub(crate) async fn wait(
        &self,
        team: &str,
        name: &str,
        what: &str,
        pred: impl Fn(&QuotaRequirement) -> bool,
    ) -> QuotaRequirement {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let qr = self.qrs(team).get(name).await.expect("get");
            if pred(&qr) {
                return qr;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{team}/{name}: not {what} within 60s: {:#?}",
                qr.status
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until every one of `names` (`team/name`) was reconciled `n` more times.
    pub(crate) async fn reconciled(&self, names: &[String], n: u64) {
        let start: Vec<u64> = names.iter().map(|k| self.reconciles.count(k)).collect();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while names
            .iter()
            .zip(&start)
            .any(|(k, s)| self.reconciles.count(k) < s + n)
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "not every object was reconciled {n} more times within 60s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The values the simulator was asked for, per region, in the order they were filed.
    pub(crate) fn filed(&self) -> BTreeMap<String, Vec<f64>> {
        let mut by_region: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut filed = self.sim.aws().filed();
        filed.sort_by_key(|f| f.filed_at);
        for f in filed {
            by_region.entry(f.region).or_default().push(f.desired_value);
        }
        by_region
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.kill_operator();
    }
}

/// Two teams on one AWS CloudAccount with these guardrails; requests end as `outcome` says.
async fn two_teams(outcome: &str, guardrails: Value) -> Fleet {
    Fleet::new(
        &aws_scenario(outcome),
        aws_account("shared", guardrails),
        &["team-a", "team-b"],
    )
    .await
}

pub(crate) fn aws_account(name: &str, guardrails: Value) -> Value {
    json!({
        "metadata": {"name": name},
        "spec": {"aws": {"accountId": ACCOUNT},
                 "namespaceSelector": {"matchLabels": {ALLOWED: "true"}},
                 "guardrails": guardrails}
    })
}

pub(crate) fn aws_scenario(outcome: &str) -> String {
    format!(
        "aws:\n  accounts: {{{KEY}: \"{ACCOUNT}\", {}: \"{ACCOUNT}\"}}\n  quotas:\n  - {{serviceCode: ec2, quotaCode: {SPOT}, value: 5}}\n  schedule:\n    default: {outcome}\n",
        process::KEY
    )
}

pub(crate) fn target(qr: &QuotaRequirement) -> &quota_operator::api::TargetStatus {
    &qr.status.as_ref().expect("status").targets[0]
}

pub(crate) fn is(qr: &QuotaRequirement, state: TargetState) -> bool {
    qr.status
        .as_ref()
        .is_some_and(|s| !s.targets.is_empty() && s.targets.iter().all(|t| t.state == state))
}

#[tokio::test]
async fn a_capacity_past_the_guardrail_is_blocked_and_never_carries_another_teams_filing() {
    let approve = "{outcome: approve, closeAfter: 1s}";
    let mut fleet = two_teams(approve, json!({"maxValues": {SPOT: 1000}})).await;
    let huge = json!([{"instanceType": "m5.2xlarge", "count": 1_000_000}]);
    fleet
        .create(
            "team-a",
            Qr::ec2("fleet", &fleet.account, SPOT)
                .regions(&["us-east-1"])
                .capacity(huge),
        )
        .await;
    fleet
        .create(
            "team-b",
            Qr::ec2("small", &fleet.account, SPOT)
                .regions(&["us-east-1"])
                .desired(700),
        )
        .await;
    fleet.start_operator().await;

    let blocked = fleet
        .wait("team-a", "fleet", "Blocked", |qr| {
            is(qr, TargetState::Blocked)
        })
        .await;
    let message = target(&blocked).message.clone().unwrap_or_default();
    assert!(
        message.contains("maxValues[L-34B43A08] = 1000"),
        "{message}"
    );
    let small = fleet
        .wait("team-b", "small", "Satisfied", |qr| {
            is(qr, TargetState::Satisfied)
        })
        .await;
    let t = target(&small);
    assert_eq!(
        t.desired_value,
        Some(700),
        "the capacity past the guardrail does not count"
    );
    assert_eq!(t.driven_by.as_deref(), Some("team-b/small"));
    fleet
        .reconciled(&["team-a/fleet".into(), "team-b/small".into()], 3)
        .await;
    assert_eq!(
        fleet.filed(),
        BTreeMap::from([("us-east-1".to_string(), vec![700.0])]),
        "only the small need was filed, never the 8,000,000 vCPUs"
    );
}

#[tokio::test]
async fn one_teams_capacity_never_blocks_anothers_and_status_names_no_other_team() {
    let approve = "{outcome: approve, closeAfter: 1s}";
    let mut fleet = two_teams(approve, json!({"maxValues": {SPOT: 1000}})).await;
    let share = json!([{"instanceType": "m5.2xlarge", "count": 100}]);
    fleet
        .create(
            "team-a",
            Qr::ec2("first", &fleet.account, SPOT)
                .regions(&["us-east-1"])
                .capacity(share.clone()),
        )
        .await;
    // Created a second later: counted after the first.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    fleet
        .create(
            "team-b",
            Qr::ec2("second", &fleet.account, SPOT)
                .regions(&["us-east-1"])
                .capacity(share),
        )
        .await;
    fleet.start_operator().await;

    let first = fleet
        .wait("team-a", "first", "Satisfied", |qr| {
            is(qr, TargetState::Satisfied)
        })
        .await;
    let capacity = target(&first).capacity.clone().expect("capacity");
    assert_eq!((capacity.share, capacity.total), (800, 800));
    assert_eq!(
        capacity.others,
        vec!["(another namespace): 800 (not counted: over a guardrail)".to_string()],
        "the other team's share shows, not its name"
    );
    let second = fleet
        .wait("team-b", "second", "Blocked", |qr| {
            is(qr, TargetState::Blocked)
        })
        .await;
    let message = target(&second).message.clone().unwrap_or_default();
    assert!(
        message.contains("added to the 800 counted before it"),
        "{message}"
    );
    fleet
        .reconciled(&["team-a/first".into(), "team-b/second".into()], 3)
        .await;
    assert_eq!(
        fleet.filed(),
        BTreeMap::from([("us-east-1".to_string(), vec![800.0])])
    );
}

/// 40 objects in two namespaces on one quota in three regions, needs 10, 40, ..., 1180.
async fn crowd(fleet: &Fleet) -> Vec<String> {
    let mut names = vec![];
    for i in 0..40 {
        let team = if i % 2 == 0 { "team-a" } else { "team-b" };
        let name = format!("need-{i:02}");
        let regions = ["us-east-1", "eu-west-1", "us-west-2"];
        fleet
            .create(
                team,
                Qr::ec2(&name, &fleet.account, SPOT)
                    .regions(&regions)
                    .desired(10 + 30 * i),
            )
            .await;
        names.push(format!("{team}/{name}"));
    }
    names
}

#[tokio::test]
async fn dozens_of_teams_on_a_refused_quota_file_it_once_and_then_wait_out_the_cooldown() {
    let mut fleet = two_teams("{outcome: deny, closeAfter: 1s}", json!({})).await;
    let names = crowd(&fleet).await;
    fleet.start_operator().await;

    fleet
        .wait("team-b", "need-39", "Denied", |qr| {
            is(qr, TargetState::Denied)
        })
        .await;
    // The refusal reached everyone: they wait, and say until when.
    let waiting = fleet
        .wait("team-a", "need-00", "waiting", |qr| {
            is(qr, TargetState::Queued)
                && target(qr)
                    .message
                    .as_deref()
                    .is_some_and(|m| m.contains("at most once per 24h"))
        })
        .await;
    let message = target(&waiting).message.clone().unwrap();
    assert!(
        message.contains("request ") && message.contains("for 1180"),
        "{message}"
    );
    assert!(
        message.contains("for 1150"),
        "the next ask is the largest need below: {message}"
    );
    // A restart changes nothing: the refusal is read from the cloud's history.
    fleet.reconciled(&names, 3).await;
    fleet.kill_operator();
    fleet.start_operator().await;
    fleet.reconciled(&names, 3).await;
    let expected: BTreeMap<String, Vec<f64>> = ["eu-west-1", "us-east-1", "us-west-2"]
        .into_iter()
        .map(|r| (r.to_string(), vec![1180.0]))
        .collect();
    assert_eq!(
        fleet.filed(),
        expected,
        "one request per region, none after the refusal"
    );
    for (i, name) in names.iter().enumerate() {
        let (team, n) = name.split_once('/').unwrap();
        let qr = fleet.qrs(team).get(n).await.unwrap();
        let want = if i == 39 {
            TargetState::Denied
        } else {
            TargetState::Queued
        };
        assert!(is(&qr, want), "{name}: {:?}", qr.status.map(|s| s.summary));
    }
}

#[tokio::test]
async fn after_each_cooldown_the_largest_need_below_every_refusal_asks_once() {
    let mut fleet = two_teams(
        "{outcome: deny, closeAfter: 1s}",
        json!({"refusalCooldown": "6s"}),
    )
    .await;
    let names = crowd(&fleet).await;
    fleet.start_operator().await;
    // Three refusals per region, with an operator restart in the middle.
    fleet
        .wait("team-a", "need-38", "Denied", |qr| {
            is(qr, TargetState::Denied)
        })
        .await;
    fleet.kill_operator();
    fleet.start_operator().await;
    fleet
        .wait("team-b", "need-37", "Denied", |qr| {
            is(qr, TargetState::Denied)
        })
        .await;
    fleet.reconciled(&names, 2).await;
    let filed = fleet.filed();
    let requests = fleet.sim.aws().filed();
    for (region, values) in &filed {
        // How many cooldowns have passed by now depends on the machine's speed; what may not
        // vary is the order: each ask is the next need down, so no refused value comes back.
        let descending: Vec<f64> = (0..values.len())
            .map(|k| 1180.0 - 30.0 * k as f64)
            .collect();
        assert!(
            values.len() >= 3 && values == &descending,
            "{region}: each ask is the largest need below every refusal: {values:?}"
        );
        let mut times: Vec<_> = requests
            .iter()
            .filter(|r| &r.region == region)
            .map(|r| r.filed_at)
            .collect();
        times.sort();
        for pair in times.windows(2) {
            let gap = pair[1].duration_since(pair[0]);
            assert!(
                gap >= jiff::SignedDuration::from_secs(6),
                "{region}: asked again {gap:#} after the last request (refused after 1s; cooldown 6s)"
            );
        }
    }
    println!("tenants: re-asks after a refusal per region: {filed:?}");
}

pub(crate) fn gcp_account(name: &str, guardrails: Value) -> Value {
    json!({
        "metadata": {"name": name},
        "spec": {"gcp": {"project": PROJECT, "contactEmail": "quotas@example.com"},
                 "namespaceSelector": {"matchLabels": {ALLOWED: "true"}},
                 "guardrails": guardrails}
    })
}

async fn patch_account(fleet: &Fleet, guardrails: Value) {
    let accounts: Api<CloudAccount> = Api::all(fleet.client.clone());
    let patch = json!({"spec": {"guardrails": guardrails}});
    accounts
        .patch(
            &fleet.account,
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
        .expect("patch CloudAccount");
}

#[tokio::test]
async fn no_team_lowers_a_shared_gcp_quota_without_the_accounts_consent_and_floor() {
    let scenario = format!(
        "gcp:\n  values:\n  - {{quotaId: CPUS-per-project-region, project: {PROJECT}, region: us-central1, value: 96, usage: 10}}\n"
    );
    let mut fleet = Fleet::new(
        &scenario,
        gcp_account("shared-gcp", json!({})),
        &["team-a", "team-b"],
    )
    .await;
    let shrink = Qr::gcp("shrink", "shared-gcp", "CPUS-per-project-region")
        .regions(&["us-central1"])
        .desired(1)
        .allow_decrease();
    fleet.create("team-b", shrink).await;
    fleet.start_operator().await;

    let kept = fleet
        .wait("team-b", "shrink", "Satisfied", |qr| {
            is(qr, TargetState::Satisfied)
        })
        .await;
    let message = target(&kept).message.clone().unwrap_or_default();
    assert!(message.contains("does not consent"), "{message}");
    fleet.reconciled(&["team-b/shrink".into()], 3).await;
    assert!(
        fleet.sim.gcp().writes().is_empty(),
        "nothing written without consent"
    );

    // Consent down to 64: lowering to 1 is blocked, naming the floor.
    patch_account(
        &fleet,
        json!({"decrease": {"minValues": {"CPUS-per-project-region": 64}}}),
    )
    .await;
    let blocked = fleet
        .wait("team-b", "shrink", "Blocked", |qr| {
            is(qr, TargetState::Blocked)
        })
        .await;
    let message = target(&blocked).message.clone().unwrap_or_default();
    assert!(
        message.contains("minValues[CPUS-per-project-region] = 64"),
        "{message}"
    );
    fleet.reconciled(&["team-b/shrink".into()], 3).await;
    assert!(fleet.sim.gcp().writes().is_empty());

    // Within the floor, Google's own safety check stays on: 96 -> 80 is refused by Google.
    let patch = json!({"spec": {"desiredValue": 80}});
    fleet
        .qrs("team-b")
        .patch("shrink", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let refused = fleet
        .wait("team-b", "shrink", "refused by Google", |qr| {
            target(qr)
                .message
                .as_deref()
                .is_some_and(|m| m.contains("QUOTA_DECREASE_PERCENTAGE_TOO_HIGH"))
        })
        .await;
    assert_eq!(target(&refused).current_value, Some(96.0));
    // Only the admin turns it off.
    patch_account(
        &fleet,
        json!({"decrease": {"minValues": {"CPUS-per-project-region": 64}, "ignoreSafetyChecks": true}}),
    )
    .await;
    fleet
        .wait("team-b", "shrink", "lowered", |qr| {
            target(qr).current_value == Some(80.0) && is(qr, TargetState::Satisfied)
        })
        .await;
    let values: Vec<i64> = fleet
        .sim
        .gcp()
        .writes()
        .iter()
        .map(|w| w.preferred_value)
        .collect();
    assert_eq!(values, vec![80], "one write, at the allowed value");
}

#[tokio::test]
async fn metrics_labels_come_only_from_allowed_objects_and_go_with_them() {
    let fleet = Fleet::new(
        &aws_scenario("{outcome: approve, closeAfter: 1s}"),
        aws_account("shared", json!({})),
        &["team-a"],
    )
    .await;
    // A namespace the account does not admit, naming an account that does not exist.
    let namespaces: Api<Namespace> = Api::all(fleet.client.clone());
    let outsider: Namespace =
        serde_json::from_value(json!({"metadata": {"name": "outsider"}})).unwrap();
    namespaces
        .create(&PostParams::default(), &outsider)
        .await
        .unwrap();
    let bogus = Qr::ec2("noise", "bogus-account-xyz", SPOT)
        .regions(&["xx-bogus-9"])
        .desired(5);
    fleet.create("outsider", bogus).await;
    fleet
        .create(
            "team-a",
            Qr::ec2("spot", &fleet.account, SPOT)
                .regions(&["us-east-1"])
                .desired(3),
        )
        .await;
    let op = Launch::new(
        "metrics",
        "tenants",
        &fleet.sim.endpoint(),
        fleet._cp.kubeconfig(),
    )
    .all_namespaces()
    .spawn();
    fleet
        .wait("team-a", "spot", "Satisfied", |qr| {
            is(qr, TargetState::Satisfied)
        })
        .await;
    fleet
        .wait("outsider", "noise", "Blocked", |qr| {
            is(qr, TargetState::Blocked)
        })
        .await;
    let text = op.metrics().await;
    let series = "quota_operator_quota_current_value{account=\"shared\",region=\"us-east-1\"";
    assert!(text.contains(series), "{text}");
    for label in ["bogus-account-xyz", "xx-bogus-9"] {
        assert!(!text.contains(label), "{label} became a label:\n{text}");
    }
    fleet
        .qrs("team-a")
        .delete("spot", &Default::default())
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while op.metrics().await.contains("account=\"shared\"") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the deleted object's series stayed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
