//! Karpenter NodePools as capacity, end to end on the real API server with Karpenter's own CRDs
//! (from its Go module, tools/karpenter/crds.sh) and the simulator: each NodePool's limits.cpu
//! becomes a request on the quotas its requirements reach; a raised limit raises the request
//! once; a deleted NodePool lowers the need but never the quota; a NodePool without a limit is
//! Blocked by name; NodePools add up with instance types on one quota.

use std::{process::Command, time::Duration};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{
    Api, Client, ResourceExt,
    api::{DeleteParams, DynamicObject, Patch, PatchParams, PostParams},
    core::ApiResource,
};
use quota_operator::{
    api::{QuotaRequirement, TargetState},
    capacity::nodepools::NodePool,
};
use quota_sim::{Scenario, Sim, SimHandle};
use serde_json::{Value, json};

use crate::harness::{Qr, TestEnv, eventually, sim_clouds};

const ACCOUNT: &str = "111111111111";
const KEY: &str = "AKIDNODEPOOLSEXAMPLE";
const SPOT: &str = "L-34B43A08";
const G_ON_DEMAND: &str = "L-DB2E81BA";
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Karpenter's CRDs, applied once per run as a cluster with Karpenter has them.
async fn install_karpenter(client: &Client) {
    static DONE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    DONE.get_or_init(|| install_karpenter_on(client)).await;
}

async fn install_karpenter_on(client: &Client) {
    let out = Command::new(format!("{ROOT}/tools/karpenter/crds.sh"))
        .output()
        .expect("tools/karpenter/crds.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .expect("the CRD directory")
        .trim()
        .to_string();
    let yaml = std::fs::read_to_string(format!("{dir}/karpenter.sh_nodepools.yaml")).unwrap();
    let crd: CustomResourceDefinition = serde_yaml::from_str(&yaml).expect("NodePool CRD");
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let pp = PatchParams::apply("quota-operator-tests").force();
    crds.patch(&crd.name_any(), &pp, &Patch::Apply(&crd))
        .await
        .expect("apply the NodePool CRD");
    eventually(Duration::from_secs(30), || async {
        let pools: Api<NodePool> = Api::all(client.clone());
        pools.list(&Default::default()).await.ok().map(|_| ())
    })
    .await;
}

fn pools(client: &Client) -> Api<DynamicObject> {
    Api::all_with(client.clone(), &ApiResource::erase::<NodePool>(&()))
}

/// A NodePool as a user writes one, labelled for this test only.
fn nodepool(name: &str, label: &str, cpu: Option<i64>, requirements: Value) -> Value {
    let mut pool = json!({
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": {"name": name, "labels": {"qo-test": label}},
        "spec": {"template": {"spec": {
            "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
            "requirements": requirements,
        }}},
    });
    if let Some(cpu) = cpu {
        pool["spec"]["limits"] = json!({"cpu": cpu});
    }
    pool
}

async fn create_pool(client: &Client, pool: Value) {
    let obj: DynamicObject = serde_json::from_value(pool).unwrap();
    pools(client)
        .create(&PostParams::default(), &obj)
        .await
        .expect("create NodePool");
}

fn req(key: &str, values: &[&str]) -> Value {
    json!({"key": key, "operator": "In", "values": values})
}

async fn sim() -> SimHandle {
    let yaml = format!(
        "aws:\n  accounts: {{{KEY}: \"{ACCOUNT}\"}}\n  quotas:\n  - {{serviceCode: ec2, quotaCode: {SPOT}, value: 640}}\n  - {{serviceCode: ec2, quotaCode: {G_ON_DEMAND}, value: 8}}\n  schedule:\n    default: {{outcome: approve, closeAfter: 1s}}\n"
    );
    Sim::new(Scenario::from_yaml(&yaml).expect("scenario"))
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim")
}

fn target(qr: &QuotaRequirement) -> &quota_operator::api::TargetStatus {
    &qr.status.as_ref().expect("status").targets[0]
}

fn state_is(state: TargetState) -> impl Fn(&QuotaRequirement) -> bool {
    move |qr| {
        qr.status
            .as_ref()
            .and_then(|s| s.targets.first())
            .is_some_and(|t| t.state == state)
    }
}

fn filed(sim: &SimHandle, code: &str) -> Vec<f64> {
    sim.aws()
        .filed()
        .into_iter()
        .filter(|f| f.quota_code == code)
        .map(|f| f.desired_value)
        .collect()
}

/// The environment with Karpenter's CRDs and the operator watching NodePools.
async fn env(name: &str) -> (TestEnv, String) {
    let mut env = TestEnv::new(name).await;
    install_karpenter(&env.client).await;
    env.nodepools = true;
    let account = env.aws_account("aws", ACCOUNT).await;
    (env, account)
}

#[tokio::test]
async fn nodepool_limits_become_requests_on_the_quotas_they_launch_into() {
    let sim = sim().await;
    let (mut env, account) = env("nodepools").await;
    let (batch, gpu) = (env.unique("batch"), env.unique("gpu"));
    let label = env.ns.clone();
    let spot_cmr = json!([
        req("karpenter.sh/capacity-type", &["spot"]),
        req("karpenter.k8s.aws/instance-category", &["c", "m", "r"])
    ]);
    let on_demand_g = json!([
        req("karpenter.sh/capacity-type", &["on-demand"]),
        req("karpenter.k8s.aws/instance-category", &["g"])
    ]);
    create_pool(&env.client, nodepool(&batch, &label, Some(2000), spot_cmr)).await;
    create_pool(&env.client, nodepool(&gpu, &label, Some(64), on_demand_g)).await;
    let mine = json!([{"nodePools": {"selector": {"matchLabels": {"qo-test": label}}}}]);
    for (name, code) in [("spot", SPOT), ("gpus", G_ON_DEMAND)] {
        env.create_qr(
            Qr::ec2(name, &account, code)
                .regions(&["us-east-1"])
                .capacity(mine.clone()),
        )
        .await;
    }
    env.start_operator_with(sim_clouds(&sim, KEY, Duration::from_millis(200)).await);

    let spot = env.wait_qr("spot", state_is(TargetState::Satisfied)).await;
    let capacity = target(&spot).capacity.as_ref().expect("capacity").clone();
    assert_eq!(
        capacity.arithmetic,
        format!(
            "NodePool {batch}: limits.cpu 2000, spot, categories c/m/r -> Standard Spot 2000 = 2000 vCPU"
        )
    );
    assert_eq!(target(&spot).current_value, Some(2000.0));
    let gpus = env.wait_qr("gpus", state_is(TargetState::Satisfied)).await;
    assert_eq!(
        target(&gpus).capacity.as_ref().unwrap().arithmetic,
        format!(
            "NodePool {gpu}: limits.cpu 64, on-demand, categories g -> G and VT On-Demand 64 = 64 vCPU"
        )
    );
    assert_eq!(
        filed(&sim, SPOT),
        vec![2000.0],
        "the spot pool, on Standard Spot only"
    );
    assert_eq!(
        filed(&sim, G_ON_DEMAND),
        vec![64.0],
        "the GPU pool, on G and VT On-Demand only"
    );

    // A raised limit raises the request, once.
    let raise = json!({"spec": {"limits": {"cpu": 3000}}});
    pools(&env.client)
        .patch(&batch, &PatchParams::default(), &Patch::Merge(&raise))
        .await
        .expect("raise the limit");
    env.wait_qr("spot", |qr| {
        state_is(TargetState::Satisfied)(qr) && target(qr).current_value == Some(3000.0)
    })
    .await;
    env.reconciled("spot", 3).await;
    assert_eq!(
        filed(&sim, SPOT),
        vec![2000.0, 3000.0],
        "one more request, for the new limit"
    );

    // A deleted NodePool lowers the need, never the quota.
    pools(&env.client)
        .delete(&batch, &DeleteParams::default())
        .await
        .expect("delete the NodePool");
    let spot = env
        .wait_qr("spot", |qr| target(qr).desired_value == Some(0))
        .await;
    assert_eq!(target(&spot).state, TargetState::Satisfied);
    env.reconciled("spot", 3).await;
    assert_eq!(
        filed(&sim, SPOT),
        vec![2000.0, 3000.0],
        "nothing filed to lower it"
    );
    let (applied, _) = sim.aws().value(ACCOUNT, "us-east-1", "ec2", SPOT).unwrap();
    assert_eq!(applied, Some(3000.0), "the quota stays where it was raised");
    let spot = env.qrs().get("spot").await.unwrap();
    assert_eq!(target(&spot).current_value, Some(3000.0));
    pools(&env.client)
        .delete(&gpu, &DeleteParams::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_nodepool_without_a_limit_is_blocked_by_name_and_pools_add_up_with_instances() {
    let sim = sim().await;
    let (mut env, account) = env("nodepools-mixed").await;
    let (open, batch) = (env.unique("open"), env.unique("batch"));
    let label = env.ns.clone();
    let spot_m = json!([
        req("karpenter.sh/capacity-type", &["spot"]),
        req("karpenter.k8s.aws/instance-category", &["m"])
    ]);
    create_pool(&env.client, nodepool(&open, &label, None, spot_m.clone())).await;
    create_pool(&env.client, nodepool(&batch, &label, Some(1000), spot_m)).await;
    env.create_qr(
        Qr::ec2("unbounded", &account, SPOT)
            .regions(&["us-east-1"])
            .capacity(json!([{"nodePools": {"names": [open]}}])),
    )
    .await;
    env.create_qr(
        Qr::ec2("mixed", &account, SPOT)
            .regions(&["us-east-1"])
            .capacity(json!([
                {"nodePools": {"names": [batch]}},
                {"instanceType": "m5.2xlarge", "count": 100}
            ])),
    )
    .await;
    env.start_operator_with(sim_clouds(&sim, KEY, Duration::from_millis(200)).await);

    let unbounded = env
        .wait_qr("unbounded", state_is(TargetState::Blocked))
        .await;
    let message = target(&unbounded).message.clone().unwrap_or_default();
    assert!(
        message.contains(&format!("NodePool {open} has no spec.limits.cpu")),
        "{message}"
    );
    let mixed = env.wait_qr("mixed", state_is(TargetState::Satisfied)).await;
    let capacity = target(&mixed).capacity.as_ref().unwrap();
    assert_eq!(
        capacity.arithmetic,
        format!(
            "100 x m5.2xlarge (8 vCPU) + NodePool {batch}: limits.cpu 1000, spot, categories m -> Standard Spot 1000 = 1800 vCPU"
        )
    );
    assert_eq!(
        filed(&sim, SPOT),
        vec![1800.0],
        "instances and NodePool, one request"
    );

    // Given a limit, the NodePool's own object asks for it on top of the others' capacity.
    let limit = json!({"spec": {"limits": {"cpu": 200}}});
    pools(&env.client)
        .patch(&open, &PatchParams::default(), &Patch::Merge(&limit))
        .await
        .unwrap();
    let unbounded = env
        .wait_qr("unbounded", state_is(TargetState::Satisfied))
        .await;
    assert_eq!(target(&unbounded).capacity.as_ref().unwrap().total, 2000);
    assert_eq!(filed(&sim, SPOT), vec![1800.0, 2000.0]);
    for name in [open, batch] {
        pools(&env.client)
            .delete(&name, &DeleteParams::default())
            .await
            .unwrap();
    }
}

#[path = "../support/cli.rs"]
mod cli;

/// The QuotaRequirements of the cluster test, as files `plan` reads (with their account).
fn plan_files(ns: &str, account: &str, label: &str) -> String {
    format!(
        "apiVersion: quota-operator.dev/v1alpha1\nkind: CloudAccount\nmetadata: {{name: {account}}}\n\
spec:\n  aws: {{accountId: \"{ACCOUNT}\"}}\n  namespaceSelector: {{matchLabels: {{allowed: \"true\"}}}}\n\
---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}, labels: {{allowed: \"true\"}}}}\n\
---\napiVersion: quota-operator.dev/v1alpha1\nkind: QuotaRequirement\nmetadata: {{name: spot, namespace: {ns}}}\n\
spec: {{accountRef: {account}, aws: {{serviceCode: ec2, quotaCode: {SPOT}}}, regions: [us-east-1], capacity: [{{nodePools: {{selector: {{matchLabels: {{qo-test: {label}}}}}}}}}]}}\n\
---\napiVersion: quota-operator.dev/v1alpha1\nkind: QuotaRequirement\nmetadata: {{name: gpus, namespace: {ns}}}\n\
spec: {{accountRef: {account}, aws: {{serviceCode: ec2, quotaCode: {G_ON_DEMAND}}}, regions: [us-east-1], capacity: [{{nodePools: {{selector: {{matchLabels: {{qo-test: {label}}}}}}}}}]}}\n"
    )
}

async fn report(files: &std::path::Path, sim: &SimHandle, format: &str) -> String {
    let creds = [
        ("AWS_ACCESS_KEY_ID", KEY),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_REGION", "us-east-1"),
    ];
    let out = cli::quota_operator("plan", &creds)
        .arg("-f")
        .arg(files)
        .args([
            "--live",
            "--aws-endpoint-url",
            &sim.endpoint(),
            "-o",
            format,
        ])
        .arg("--kubeconfig")
        .arg(crate::harness::kubeconfig())
        .arg("--nodepools")
        .output()
        .await
        .expect("quota-operator plan runs");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test]
async fn the_nodepool_report_reads_the_clusters_nodepools_in_three_formats() {
    let sim = sim().await;
    let (env, account) = env("nodepools-report").await;
    let (batch, gpu) = (env.unique("batch"), env.unique("gpu"));
    let label = env.ns.clone();
    let spot_cmr = json!([
        req("karpenter.sh/capacity-type", &["spot"]),
        req("karpenter.k8s.aws/instance-category", &["c", "m", "r"])
    ]);
    let on_demand_g = json!([
        req("karpenter.sh/capacity-type", &["on-demand"]),
        req("karpenter.k8s.aws/instance-category", &["g"])
    ]);
    create_pool(&env.client, nodepool(&batch, &label, Some(2000), spot_cmr)).await;
    create_pool(&env.client, nodepool(&gpu, &label, Some(64), on_demand_g)).await;
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("quotas.yaml");
    std::fs::write(&files, plan_files(&env.ns, &account, &label)).unwrap();

    let json: Value = serde_json::from_str(&report(&files, &sim, "json").await).unwrap();
    let quotas = json["nodepools"]["quotas"].as_array().unwrap();
    let spot = quotas
        .iter()
        .find(|q| q["quota"] == format!("ec2/{SPOT}"))
        .unwrap();
    assert_eq!(spot["current"], 640.0);
    assert_eq!(spot["nodePools"], json!([format!("{batch} (2000)")]));
    assert_eq!(spot["exceededBy"], json!([batch]));
    let g = quotas
        .iter()
        .find(|q| q["quota"] == format!("ec2/{G_ON_DEMAND}"))
        .unwrap();
    assert_eq!(
        (g["current"].as_f64(), g["total"].as_i64()),
        (Some(8.0), Some(64))
    );
    assert_eq!(
        quotas.len(),
        2,
        "only the quotas the files' objects reach: {quotas:?}"
    );
    let pool = json["nodepools"]["pools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == batch.as_str())
        .expect("the cluster's NodePool in the report")
        .clone();
    assert_eq!(pool["launches"], "spot, categories c/m/r");

    let table = report(&files, &sim, "table").await;
    let row = table
        .lines()
        .find(|l| l.starts_with(&account) && l.contains(G_ON_DEMAND))
        .unwrap_or_else(|| panic!("{table}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells[1..].join(" "),
        format!("us-east-1 ec2/{G_ON_DEMAND} (G and VT On-Demand) 8 {gpu} (64) 64 {gpu}")
    );
    let md = report(&files, &sim, "markdown").await;
    assert!(
        md.contains(&format!(
            "| {account} | us-east-1 | ec2/{SPOT} (Standard Spot) | 640 | {batch} (2000) | 2000 | {batch} |"
        )),
        "{md}"
    );
    assert!(sim.aws().filed().is_empty(), "a report files nothing");
    for name in [batch, gpu] {
        pools(&env.client)
            .delete(&name, &DeleteParams::default())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn nodepools_named_while_the_operator_does_not_watch_them_are_blocked_with_the_reason() {
    let sim = sim().await;
    let mut env = TestEnv::new("nodepools-off").await;
    install_karpenter(&env.client).await;
    let account = env.aws_account("aws", ACCOUNT).await;
    env.create_qr(
        Qr::ec2("spot", &account, SPOT)
            .regions(&["us-east-1"])
            .capacity(json!([{"nodePools": {"names": ["batch"]}}])),
    )
    .await;
    env.start_operator_with(sim_clouds(&sim, KEY, Duration::from_millis(200)).await);
    let spot = env.wait_qr("spot", state_is(TargetState::Blocked)).await;
    let message = target(&spot).message.clone().unwrap_or_default();
    assert!(
        message.contains("the operator does not read Karpenter NodePools")
            && message.contains("karpenter.nodePools=true"),
        "{message}"
    );
    assert!(sim.aws().filed().is_empty());
}
