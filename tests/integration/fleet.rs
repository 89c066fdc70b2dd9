//! A fleet of teams on one CloudAccount, end to end: a control plane of each test's own, so the
//! operator watches every namespace as an installed one does, the simulator behind the real SDK
//! clients, and the simulator's record of every request as the judge. Shared by the tests of
//! many teams on one quota (`tenants`, `one_need`).

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
    process,
};

pub const ACCOUNT: &str = "111111111111";
pub const KEY: &str = "AKIDTENANTSEXAMPLE";
pub const PROJECT: &str = "tenants-project";
pub const SPOT: &str = "L-34B43A08";
pub const ALLOWED: &str = "quota-operator.dev/allowed";

/// One control plane, a simulator, one CloudAccount, some team namespaces, and an operator
/// watching them all.
pub struct Fleet {
    pub _cp: PrivateControlPlane,
    pub client: Client,
    pub sim: SimHandle,
    pub account: String,
    pub reconciles: Arc<Reconciles>,
    operator: Option<JoinHandle<()>>,
}

impl Fleet {
    pub async fn new(scenario: &str, account: Value, teams: &[&str]) -> Self {
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

    pub fn qrs(&self, team: &str) -> Api<QuotaRequirement> {
        Api::namespaced(self.client.clone(), team)
    }

    pub async fn create(&self, team: &str, obj: Qr) {
        let obj: QuotaRequirement = serde_json::from_value(obj.json()).expect("QuotaRequirement");
        self.qrs(team)
            .create(&PostParams::default(), &obj)
            .await
            .expect("create QuotaRequirement");
    }

    pub async fn start_operator(&mut self) {
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
            templates: false,
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

    pub fn kill_operator(&mut self) {
        if let Some(op) = self.operator.take() {
            op.abort();
        }
    }

    pub async fn wait(
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
    pub async fn reconciled(&self, names: &[String], n: u64) {
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
    pub fn filed(&self) -> BTreeMap<String, Vec<f64>> {
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

pub fn aws_account(name: &str, guardrails: Value) -> Value {
    json!({
        "metadata": {"name": name},
        "spec": {"aws": {"accountId": ACCOUNT},
                 "namespaceSelector": {"matchLabels": {ALLOWED: "true"}},
                 "guardrails": guardrails}
    })
}

pub fn aws_scenario(outcome: &str) -> String {
    format!(
        "aws:\n  accounts: {{{KEY}: \"{ACCOUNT}\", {}: \"{ACCOUNT}\"}}\n  quotas:\n  - {{serviceCode: ec2, quotaCode: {SPOT}, value: 5}}\n  schedule:\n    default: {outcome}\n",
        process::KEY
    )
}

pub fn target(qr: &QuotaRequirement) -> &quota_operator::api::TargetStatus {
    &qr.status.as_ref().expect("status").targets[0]
}

pub fn is(qr: &QuotaRequirement, state: TargetState) -> bool {
    qr.status
        .as_ref()
        .is_some_and(|s| !s.targets.is_empty() && s.targets.iter().all(|t| t.state == state))
}

pub fn gcp_account(name: &str, guardrails: Value) -> Value {
    json!({
        "metadata": {"name": name},
        "spec": {"gcp": {"project": PROJECT, "contactEmail": "quotas@example.com"},
                 "namespaceSelector": {"matchLabels": {ALLOWED: "true"}},
                 "guardrails": guardrails}
    })
}

pub async fn patch_account(fleet: &Fleet, guardrails: Value) {
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
