//! The operator as a real process under faults, on a control plane of this test's own:
//!
//! 1. SIGKILL at random moments while it files and follows requests, restarted each time, with
//!    the API server restarted (etcd kept) once in the middle;
//! 2. half of all cloud calls answered with throttling for a while, kills going on;
//! 3. a cloud that answers every call with an HTML 500 for a minute, kills going on.
//!
//! New objects arrive in batches while the operator is down, on quotas of their own, so requests
//! are always being filed, queued (2 open per region) and followed. After each phase a last
//! operator runs undisturbed: every object must reach the state the schedule dictates
//! (Satisfied, or Denied for the quotas the simulator refuses) with no filing intent left, and
//! the simulator's record of every request shows exactly one request per quota that needed one,
//! at the objects' largest value: no duplicate, no re-filing after a refusal, none lost.
//!
//! Seeded: the seed is printed and QO_FAULTS_SEED replays its choices (objects, kill moments;
//! the processes' own timing still varies). QO_FAULTS_LONG=1 makes 1,000 kills instead of 200.
//!
//! The crowded run puts two dozen objects on each quota of a batch: a granted quota still gets
//! one request at the largest need, and a refused one exactly one request too (the largest need
//! is then Denied and every other object waits out the account's refusal cooldown, saying so);
//! the re-asks after a refusal are counted.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use k8s_openapi::api::core::v1::Namespace;
use kube::{
    Api, Client,
    api::{ListParams, PostParams},
};
use quota_operator::api::{QuotaRequirement, TargetState};
use quota_sim::{
    AwsSim, Operation, Scenario, SimHandle,
    aws::{Fault, FaultInjection, ThrottleInjection},
};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use serde_json::json;

use crate::{
    controlplane::PrivateControlPlane,
    faults_audit::{Fate, Need, QuotaKey, audit},
    faults_check::{Expect, converged, reconciled_again},
    harness::{Qr, install_crds_on},
    process::{KEY, Launch, OperatorProcess},
};

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "us-west-2"];
/// Quotas the objects ask to raise; the schedule refuses two of them (REFUSED).
const CODES: [(&str, &str); 19] = [
    ("ec2", "L-34B43A08"),
    ("ec2", "L-3819A6DF"),
    ("ec2", "L-7212CCBC"),
    ("ec2", "L-C4BD4855"),
    ("ec2", "L-88CF9481"),
    ("ec2", "L-E3A00192"),
    ("ec2", "L-B5D1601B"),
    ("ec2", "L-85EED4F7"),
    ("ec2", "L-6B0D517C"),
    ("ec2", "L-1216C47A"),
    ("ec2", "L-DB2E81BA"),
    ("ec2", "L-417A185B"),
    ("ec2", "L-0263D0A3"),
    ("fargate", "L-3032A538"),
    ("fargate", "L-36FBB829"),
    ("elasticloadbalancing", "L-7E6692B2"),
    ("elasticloadbalancing", "L-A0D0B863"),
    ("elasticloadbalancing", "L-B211E961"),
    ("ecs", "L-21C621EB"),
];
const REFUSED: [&str; 2] = ["L-7212CCBC", "L-DB2E81BA"];
/// Objects that need nothing ask for 100 network interfaces (5000 by default): no request.
const HEALTHY: (&str, &str, i64) = ("vpc", "L-DF5E4CA3", 100);
const KILLS_PER_BATCH: usize = 15;
const CONVERGE_WITHIN: Duration = Duration::from_secs(180);

struct Settings {
    kills: usize,
    throttled_for: Duration,
    outage_for: Duration,
    seed: u64,
    /// Quotas each batch raises.
    keys_per_batch: usize,
    /// Objects on each of them: None, one or two (the largest value is requested).
    crowd: Option<usize>,
}

impl Settings {
    fn from_env() -> Self {
        let long = std::env::var("QO_FAULTS_LONG").is_ok_and(|v| v == "1");
        let seed = std::env::var("QO_FAULTS_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| rand::rng().random());
        Self {
            kills: if long { 1000 } else { 200 },
            throttled_for: Duration::from_secs(if long { 60 } else { 20 }),
            outage_for: Duration::from_secs(60),
            seed,
            keys_per_batch: 12,
            crowd: None,
        }
    }

    /// Two dozen objects on each quota, on fewer quotas and kills (the objects multiply).
    fn crowded() -> Self {
        let long = std::env::var("QO_FAULTS_LONG").is_ok_and(|v| v == "1");
        Self {
            kills: if long { 300 } else { 60 },
            throttled_for: Duration::from_secs(15),
            outage_for: Duration::from_secs(20),
            keys_per_batch: 3,
            crowd: Some(24),
            ..Self::from_env()
        }
    }
}

struct World {
    cp: PrivateControlPlane,
    qrs: Api<QuotaRequirement>,
    ns: String,
    sim: SimHandle,
    endpoint: String,
    rng: StdRng,
    accounts: Vec<String>,
    /// Quotas not yet used by a batch: (account index, region, quota).
    pool: Vec<(usize, &'static str, (&'static str, &'static str))>,
    needs: BTreeMap<QuotaKey, Need>,
    expected: BTreeMap<String, Expect>,
    batches: usize,
    kills: usize,
    /// Kills that hit while a request was open in the cloud or had just been filed.
    kills_in_flight: usize,
    keys_per_batch: usize,
    crowd: Option<usize>,
    api_restarts: usize,
    /// What went wrong in each phase; the test fails at the end, after every phase has run, so
    /// one run shows everything.
    problems: Vec<String>,
}

fn scenario(accounts: &[String]) -> Scenario {
    let mut yaml = format!("aws:\n  accounts: {{{KEY}: \"999999999999\"}}\n  roles:\n");
    for a in accounts {
        yaml.push_str(&format!(
            "  - {{arn: \"arn:aws:iam::{a}:role/quota-operator\"}}\n"
        ));
    }
    yaml.push_str(&format!(
        "  schedule:\n    default: {{outcome: approve, caseOpenedAfter: 1s, closeAfter: 2s}}\n    rules:\n    \
         - {{quotaCode: {}, outcome: deny, closeAfter: 2s}}\n    \
         - {{quotaCode: {}, outcome: case_closed, caseOpenedAfter: 1s, closeAfter: 1s}}\n",
        REFUSED[0], REFUSED[1]
    ));
    Scenario::from_yaml(&yaml).expect("scenario")
}

impl World {
    async fn new(settings: &Settings) -> Self {
        let mut rng = StdRng::seed_from_u64(settings.seed);
        // Every batch takes quotas no earlier batch used, so "one request per quota" holds.
        let keys_needed = (settings.kills / KILLS_PER_BATCH + 4) * settings.keys_per_batch;
        let per_account = REGIONS.len() * CODES.len();
        let accounts: Vec<String> = (0..keys_needed.div_ceil(per_account) as u64)
            .map(|i| (310_000_000_001 + i).to_string())
            .collect();
        let sim = AwsSim::new(scenario(&accounts))
            .serve("127.0.0.1:0".parse().unwrap())
            .await
            .expect("sim");
        let cp = tokio::task::spawn_blocking(PrivateControlPlane::start)
            .await
            .expect("control plane");
        let client = cp.client().await;
        install_crds_on(&client).await;
        let ns = format!("faults-{:06x}", rng.random_range(0..0xff_ffff));
        create_namespace_and_accounts(&client, &ns, &accounts).await;
        let mut pool = Vec::new();
        for a in 0..accounts.len() {
            for region in REGIONS {
                pool.extend(CODES.iter().map(|&c| (a, region, c)));
            }
        }
        pool.shuffle(&mut rng);
        Self {
            qrs: Api::namespaced(client, &ns),
            endpoint: sim.endpoint(),
            cp,
            ns,
            sim,
            rng,
            accounts,
            pool,
            needs: BTreeMap::new(),
            expected: BTreeMap::new(),
            batches: 0,
            kills: 0,
            kills_in_flight: 0,
            keys_per_batch: settings.keys_per_batch,
            crowd: settings.crowd,
            api_restarts: 0,
            problems: Vec::new(),
        }
    }

    /// New objects on quotas no batch used before (created while no operator runs, so the
    /// largest value of each quota is known before anything is filed).
    async fn add_batch(&mut self) {
        self.batches += 1;
        let b = self.batches;
        for i in 0..self.keys_per_batch {
            let (a, region, (service, code)) = self.pool.pop().expect("quotas left for a batch");
            let account = self.accounts[a].clone();
            let (applied, default) = self
                .sim
                .aws()
                .value(&account, region, service, code)
                .unwrap();
            let value = applied.unwrap_or(default) as i64 + self.rng.random_range(50..150);
            let fate = if REFUSED.contains(&code) {
                Fate::Refused
            } else {
                Fate::Granted
            };
            let copies = self.crowd.unwrap_or_else(|| self.rng.random_range(1..=2));
            for copy in 0..copies {
                let own = self.copy_value(copy, value, fate);
                let state = match fate {
                    Fate::Granted => TargetState::Satisfied,
                    Fate::Refused if own == value => TargetState::Denied,
                    // Below the refused largest need: waiting out the cooldown.
                    Fate::Refused => TargetState::Queued,
                };
                let name = format!("b{b}-q{i}-{copy}");
                self.create(&name, a, region, (service, code), own).await;
                self.expected.insert(name, Expect { state, value: own });
            }
            let key = (account, region.into(), service.into(), code.into());
            self.needs.insert(
                key,
                Need {
                    value: value as f64,
                    fate,
                },
            );
        }
        let (a, region) = (
            self.rng.random_range(0..self.accounts.len()),
            REGIONS[self.rng.random_range(0..REGIONS.len())],
        );
        let name = format!("b{b}-healthy");
        self.create(&name, a, region, (HEALTHY.0, HEALTHY.1), HEALTHY.2)
            .await;
        let expect = Expect {
            state: TargetState::Satisfied,
            value: HEALTHY.2,
        };
        self.expected.insert(name, expect);
    }

    /// The need of the `copy`th object on a quota whose largest need is `value`. Uncrowded, a
    /// second object on a granted quota asks for less (the largest is requested) and on a
    /// refused one for the same, so the one refusal settles both. Crowded, every other object
    /// asks for less, one apart (`value` is at least 50 above the quota's value, and a crowd
    /// is 24, so every need is above it and positive).
    fn copy_value(&mut self, copy: usize, value: i64, fate: Fate) -> i64 {
        match (self.crowd, copy) {
            (_, 0) => value,
            (Some(_), n) => value - n as i64,
            (None, _) if fate == Fate::Granted => value - self.rng.random_range(1..50),
            (None, _) => value,
        }
    }

    async fn create(&self, name: &str, account: usize, region: &str, q: (&str, &str), value: i64) {
        let obj: QuotaRequirement = serde_json::from_value(
            Qr::aws(name, &format!("acct-{account}"), q)
                .regions(&[region])
                .desired(value)
                .typed()
                .json(),
        )
        .unwrap();
        self.qrs
            .create(&PostParams::default(), &obj)
            .await
            .expect("create QuotaRequirement");
    }

    /// Debug logs name every reconcile (`reconciling object=...`), which the last run of each
    /// phase needs to prove it looked again; the killed ones log at info, as in production.
    fn start_operator(&self, debug: bool) -> OperatorProcess {
        let filter = if debug {
            "info,quota_operator=debug"
        } else {
            "info"
        };
        Launch::new("operator", &self.ns, &self.endpoint, self.cp.kubeconfig())
            .append_log()
            .log_filter(filter)
            .spawn()
    }

    fn kill(&mut self, op: &mut OperatorProcess, filed_before: usize) {
        if let Some(status) = op.exited() {
            panic!(
                "the operator exited by itself ({status}) before kill {}:\n{}",
                self.kills + 1,
                tail(&op.log())
            );
        }
        op.kill();
        self.kills += 1;
        let open = self.sim.aws().requests().iter().any(|r| r.status.is_open());
        if open || self.sim.aws().filed_count() > filed_before {
            self.kills_in_flight += 1;
        }
    }

    /// One life of the operator, ended by SIGKILL: either right after it files a request (the
    /// crash between the cloud's answer and the status write), or at a random moment.
    async fn kill_cycle(&mut self) {
        let filed_before = self.sim.aws().filed_count();
        let mut op = self.start_operator(false);
        if self.rng.random_bool(1.0 / 3.0) {
            let deadline = Instant::now() + Duration::from_secs(1);
            while self.sim.aws().filed_count() == filed_before && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let ms = self.rng.random_range(0..25);
            tokio::time::sleep(Duration::from_millis(ms)).await;
        } else {
            let ms = self.rng.random_range(50..700);
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        self.kill(&mut op, filed_before);
    }

    /// Kills until `until` says stop, a new batch every KILLS_PER_BATCH kills.
    async fn kill_loop(&mut self, mut until: impl FnMut(&Self) -> bool) -> usize {
        let start = self.kills;
        while !until(self) {
            if (self.kills - start) % KILLS_PER_BATCH == KILLS_PER_BATCH - 1 {
                self.add_batch().await;
            }
            self.kill_cycle().await;
        }
        self.kills - start
    }

    /// The API server goes away for a few seconds under a running operator, which must carry on
    /// once it is back (it is killed afterwards like any other).
    async fn restart_apiserver(&mut self) -> Duration {
        let filed_before = self.sim.aws().filed_count();
        let mut op = self.start_operator(false);
        let ms = self.rng.random_range(300..1500);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        let away = self.cp.restart_apiserver(2).await;
        self.api_restarts += 1;
        tokio::time::sleep(Duration::from_secs(3)).await;
        self.kill(&mut op, filed_before);
        away
    }
}

async fn create_namespace_and_accounts(client: &Client, ns: &str, accounts: &[String]) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let obj = serde_json::from_value(json!({
        "metadata": {"name": ns, "labels": {"quota-operator.dev/allowed": "true"}}
    }))
    .unwrap();
    namespaces
        .create(&PostParams::default(), &obj)
        .await
        .expect("namespace");
    let api: Api<quota_operator::api::CloudAccount> = Api::all(client.clone());
    for (i, id) in accounts.iter().enumerate() {
        let obj = serde_json::from_value(json!({
            "metadata": {"name": format!("acct-{i}")},
            "spec": {
                "aws": {"accountId": id, "roleArn": format!("arn:aws:iam::{id}:role/quota-operator")},
                "namespaceSelector": {"matchLabels": {"quota-operator.dev/allowed": "true"}}
            }
        }))
        .unwrap();
        api.create(&PostParams::default(), &obj)
            .await
            .expect("CloudAccount");
    }
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_sigkill_api_restarts_throttling_and_5xx_every_object_converges_with_no_duplicate_or_lost_request()
 {
    run(Settings::from_env()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_dozen_objects_per_quota_under_the_same_faults_file_each_quota_once_refused_or_not() {
    run(Settings::crowded()).await;
}

async fn run(settings: Settings) {
    println!(
        "faults: seed {} (QO_FAULTS_SEED={} replays it), {} kills, {} objects per quota",
        settings.seed,
        settings.seed,
        settings.kills,
        settings.crowd.map_or("1-2".to_string(), |n| n.to_string())
    );
    let started = Instant::now();
    let mut w = World::new(&settings).await;
    w.add_batch().await;

    // 1. SIGKILL, with the API server restarted halfway.
    let half = settings.kills / 2;
    let n = w.kill_loop(|w| w.kills >= half / 2).await;
    let away = w.restart_apiserver().await;
    println!(
        "faults: API server away {:.1}s with etcd kept",
        away.as_secs_f64()
    );
    let n = n + 1 + w.kill_loop(|w| w.kills >= half).await;
    w.converge(&format!("{n} kills and an API server restart"))
        .await;

    // 2. Half of every operation's calls throttled, on top of the simulator's own rate limits.
    w.add_batch().await;
    for op in Operation::ALL {
        let throttle = ThrottleInjection {
            operation: op.name().into(),
            count: u32::MAX,
            account: None,
            region: None,
            every: Some(2),
        };
        w.sim.aws().inject_throttles(throttle).unwrap();
    }
    let until = Instant::now() + settings.throttled_for;
    let n = w.kill_loop(|_| Instant::now() >= until).await;
    w.sim.aws().clear_throttles();
    let throttled: u64 = w.sim.aws().counters().iter().map(|c| c.throttled).sum();
    let phase = format!(
        "half of all calls throttled for {}s ({throttled} throttled so far), {n} kills",
        settings.throttled_for.as_secs()
    );
    w.converge(&phase).await;

    // 3. Every call answered with a proxy's HTML 500 for a minute.
    w.add_batch().await;
    for op in Operation::ALL {
        let fault = FaultInjection {
            operation: op.name().into(),
            fault: Fault::Html500,
            count: None,
            account: None,
            region: None,
            delay: None,
        };
        w.sim.aws().inject_fault(fault).unwrap();
    }
    let until = Instant::now() + settings.outage_for;
    let n = w.kill_loop(|_| Instant::now() >= until).await;
    w.sim.aws().clear_faults();
    let phase = format!(
        "HTTP 500 on every call for {}s, {n} kills",
        settings.outage_for.as_secs()
    );
    w.converge(&phase).await;

    // 4. SIGKILL alone, up to the run's number of kills.
    if w.kills < settings.kills {
        let n = w.kill_loop(|w| w.kills >= settings.kills).await;
        w.converge(&format!("{n} more kills")).await;
    }

    let a = audit(&w.needs, &w.sim.aws().requests());
    println!(
        "faults: {} kills ({} with a request in flight), {} API server restart, {} requests filed, \
         {} duplicates, {} lost ({} objects, {} quotas raised or refused, {:.0}s)",
        w.kills,
        w.kills_in_flight,
        w.api_restarts,
        a.filed,
        a.duplicates,
        a.lost,
        w.expected.len(),
        w.needs.len(),
        started.elapsed().as_secs_f64()
    );
    let refused = w.needs.values().filter(|n| n.fate == Fate::Refused).count();
    println!(
        "faults: re-asks after a refusal: {} for {refused} refused quotas (cooldown 24h)",
        a.after_refusal
    );
    assert!(w.kills >= settings.kills);
    assert!(w.problems.is_empty(), "{}", w.problems.join("\n"));
}

impl World {
    /// A last operator runs undisturbed until every object is where the schedule puts it, then
    /// until it has reconciled every object twice more (so a re-filing had its chance); then the
    /// simulator's record must show exactly the requests the objects imply.
    async fn converge(&mut self, phase: &str) {
        let started = Instant::now();
        let mut op = self.start_operator(true);
        loop {
            let items = match self.qrs.list(&ListParams::default()).await {
                Ok(list) => list.items,
                Err(_) => Vec::new(),
            };
            let Err(why) = converged(&self.expected, &items) else {
                break;
            };
            if started.elapsed() > CONVERGE_WITHIN {
                panic!(
                    "after {phase}: not converged within {CONVERGE_WITHIN:?}: {why}\noperator log:\n{}",
                    tail(&op.log())
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let converged = started.elapsed();
        let names: Vec<&String> = self.expected.keys().collect();
        reconciled_again(&op, &self.ns, &names, 2).await;
        op.terminate().await;
        let a = audit(&self.needs, &self.sim.aws().requests());
        println!(
            "faults: after {phase}: converged in {:.1}s; {} requests filed, {} duplicates ({} open at once, \
             {} after a refusal), {} lost, {} at a wrong value",
            converged.as_secs_f64(),
            a.filed,
            a.duplicates,
            a.open_at_once,
            a.after_refusal,
            a.lost,
            a.wrong_value
        );
        if !a.is_clean() {
            self.problems
                .push(format!("after {phase}:\n{}", a.problems.join("\n")));
        }
    }
}
