//! `quota-operator plan --live --nodepools` as a CI job runs it, against the simulator: each
//! NodePool, the quotas it draws on in each region of the QuotaRequirements that select it,
//! their current values and which NodePools can exceed them, as a table, JSON and Markdown.

#[path = "support/cli.rs"]
mod cli;

use quota_sim::{Scenario, Sim, SimHandle};
use serde_json::Value;

const FILES: &str = "apiVersion: quota-operator.dev/v1alpha1\nkind: CloudAccount\n\
metadata: {name: prod-aws}\n\
spec:\n  aws: {accountId: \"111111111111\"}\n  namespaceSelector: {matchLabels: {allowed: \"true\"}}\n\
---\napiVersion: v1\nkind: Namespace\nmetadata: {name: team-batch, labels: {allowed: \"true\"}}\n\
---\napiVersion: quota-operator.dev/v1alpha1\nkind: QuotaRequirement\n\
metadata: {name: spot, namespace: team-batch}\n\
spec: {accountRef: prod-aws, aws: {serviceCode: ec2, quotaCode: L-34B43A08}, regions: [us-east-1], capacity: [{nodePools: {selector: {matchLabels: {tier: batch}}}}]}\n\
---\napiVersion: quota-operator.dev/v1alpha1\nkind: QuotaRequirement\n\
metadata: {name: gpus, namespace: team-batch}\n\
spec: {accountRef: prod-aws, aws: {serviceCode: ec2, quotaCode: L-DB2E81BA}, regions: [us-east-1], capacity: [{nodePools: {names: [gpu]}}]}\n\
---\napiVersion: quota-operator.dev/v1alpha1\nkind: QuotaRequirement\n\
metadata: {name: unbounded, namespace: team-batch}\n\
spec: {accountRef: prod-aws, aws: {serviceCode: ec2, quotaCode: L-34B43A08}, regions: [us-east-1], capacity: [{nodePools: {names: [open]}}]}\n\
---\napiVersion: quota-operator.dev/v1alpha1\nkind: QuotaRequirement\n\
metadata: {name: small, namespace: team-batch}\n\
spec: {accountRef: prod-aws, aws: {serviceCode: ec2, quotaCode: L-34B43A08}, regions: [eu-west-1], capacity: [{nodePools: {names: [small]}}]}\n";

fn nodepool(name: &str, labels: &str, cpu: Option<i64>, requirements: &str) -> String {
    let limits = cpu.map_or(String::new(), |c| format!("  limits: {{cpu: {c}}}\n"));
    format!(
        "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {{name: {name}, labels: {{{labels}}}}}\n\
spec:\n  template:\n    spec:\n      nodeClassRef: {{group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}}\n      requirements: {requirements}\n{limits}"
    )
}

fn nodepools() -> String {
    let spot_cmr = "[{key: karpenter.sh/capacity-type, operator: In, values: [spot]}, {key: karpenter.k8s.aws/instance-category, operator: In, values: [c, m, r]}]";
    let od_g = "[{key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}, {key: karpenter.k8s.aws/instance-category, operator: In, values: [g]}]";
    let spot_m = "[{key: karpenter.sh/capacity-type, operator: In, values: [spot]}, {key: karpenter.k8s.aws/instance-category, operator: In, values: [m]}]";
    // As `kubectl get nodepools -o yaml` prints them: a List.
    let items: Vec<String> = [
        nodepool("batch", "tier: batch", Some(2000), spot_cmr),
        nodepool("gpu", "tier: ml", Some(64), od_g),
        nodepool("open", "tier: dev", None, spot_m),
        nodepool("small", "tier: dev", Some(100), spot_m),
    ]
    .iter()
    .map(|p| {
        let v: Value = serde_yaml::from_str(p).unwrap();
        v
    })
    .map(|v| serde_json::to_string(&v).unwrap())
    .collect();
    format!(
        "{{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [{}]}}",
        items.join(",")
    )
}

async fn sim() -> SimHandle {
    let scenario = Scenario::from_yaml(
        "aws:\n  accounts: {AKIDPLAN: \"111111111111\"}\n  schedule: {manual: true}\n  quotas:\n\
         \x20 - {serviceCode: ec2, quotaCode: L-34B43A08, value: 640}\n\
         \x20 - {serviceCode: ec2, quotaCode: L-DB2E81BA, value: 8}\n",
    )
    .expect("scenario");
    Sim::new(scenario)
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim")
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn plan(dir: &std::path::Path, sim: &SimHandle, extra: &[&str]) -> Run {
    let creds = [
        ("AWS_ACCESS_KEY_ID", "AKIDPLAN"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_REGION", "us-east-1"),
    ];
    let mut cmd = cli::quota_operator("plan", &creds);
    let (files, pools) = (dir.join("quotas.yaml"), dir.join("nodepools.json"));
    cmd.arg("-f").arg(&files).arg("--live");
    cmd.args(["--aws-endpoint-url", &sim.endpoint()]);
    cmd.arg("--nodepools").arg(&pools).args(extra);
    let out = cmd.output().await.expect("quota-operator runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn files() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("quotas.yaml"), FILES).unwrap();
    std::fs::write(dir.path().join("nodepools.json"), nodepools()).unwrap();
    dir
}

#[tokio::test]
async fn the_nodepool_report_names_what_each_nodepool_can_exceed_in_three_formats() {
    let sim = sim().await;
    let dir = files();
    let run = plan(dir.path(), &sim, &["-o", "json"]).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let pools = &report["nodepools"]["pools"];
    assert_eq!(pools[0]["name"], "batch");
    assert_eq!(pools[0]["limitsCpu"], 2000);
    assert_eq!(pools[0]["launches"], "spot, categories c/m/r");
    assert_eq!(
        pools[0]["quotas"],
        serde_json::json!(["ec2/L-34B43A08 (Standard Spot)"])
    );
    assert_eq!(
        pools[1]["quotas"],
        serde_json::json!(["ec2/L-DB2E81BA (G and VT On-Demand)"])
    );
    assert!(
        pools[2]["problem"]
            .as_str()
            .unwrap()
            .contains("no spec.limits.cpu"),
        "{pools}"
    );
    let quotas = report["nodepools"]["quotas"].as_array().unwrap();
    let row = |region: &str, quota: &str| -> &Value {
        quotas
            .iter()
            .find(|q| q["region"] == region && q["quota"] == quota)
            .unwrap_or_else(|| panic!("{region} {quota} in {quotas:?}"))
    };
    let spot = row("us-east-1", "ec2/L-34B43A08");
    assert_eq!(spot["current"], 640.0);
    assert_eq!(
        spot["nodePools"],
        serde_json::json!(["batch (2000)", "open (no limit)"])
    );
    assert_eq!(spot["exceededBy"], serde_json::json!(["batch", "open"]));
    let gpu = row("us-east-1", "ec2/L-DB2E81BA");
    assert_eq!(
        (gpu["current"].as_f64(), gpu["total"].as_i64()),
        (Some(8.0), Some(64))
    );
    assert_eq!(gpu["exceededBy"], serde_json::json!(["gpu"]));
    let small = row("eu-west-1", "ec2/L-34B43A08");
    assert_eq!(small["exceededBy"], serde_json::json!([]));
    assert_eq!(small["togetherExceed"], false);
    assert_eq!(quotas.len(), 3, "{quotas:?}");
    // The QuotaRequirements are planned from the same NodePools.
    let target = |name: &str| -> Value {
        report["objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == format!("team-batch/{name}"))
            .map(|o| o["targets"][0].clone())
            .unwrap()
    };
    assert_eq!(
        target("spot")["action"]["value"],
        2000,
        "{}",
        target("spot")
    );
    assert_eq!(target("gpus")["action"]["value"], 64);
    assert_eq!(target("unbounded")["action"]["kind"], "blocked");
    assert!(
        target("unbounded")["message"]
            .as_str()
            .unwrap()
            .contains("NodePool open has no spec.limits.cpu")
    );

    let table = plan(dir.path(), &sim, &[]).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    let line = |start: &str| -> String {
        table
            .stdout
            .lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("a line starting {start:?} in\n{}", table.stdout))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(line("NODEPOOL"), "NODEPOOL LIMITS.CPU LAUNCHES QUOTAS");
    assert_eq!(
        line("batch "),
        "batch 2000 spot, categories c/m/r ec2/L-34B43A08 (Standard Spot)"
    );
    assert_eq!(
        line("prod-aws  us-east-1  ec2/L-DB2E81BA"),
        "prod-aws us-east-1 ec2/L-DB2E81BA (G and VT On-Demand) 8 gpu (64) 64 gpu"
    );
    assert_eq!(
        line("prod-aws  eu-west-1"),
        "prod-aws eu-west-1 ec2/L-34B43A08 (Standard Spot) 640 small (100) 100 none"
    );

    let md = plan(dir.path(), &sim, &["-o", "markdown"]).await;
    assert_eq!(md.code, 0, "{}", md.stderr);
    assert!(
        md.stdout.contains(
            "#### Karpenter NodePools\n\n2 of 3 quotas can be exceeded by the NodePools that launch into them.\n"
        ),
        "{}",
        md.stdout
    );
    assert!(
        md.stdout.contains(
            "| prod-aws | us-east-1 | ec2/L-34B43A08 (Standard Spot) | 640 | batch (2000), open (no limit) | 2000 | batch, open |"
        ),
        "{}",
        md.stdout
    );
    assert!(sim.aws().filed().is_empty(), "plan files nothing");
}

#[tokio::test]
async fn a_nodepools_file_with_another_kind_is_a_usage_error() {
    let sim = sim().await;
    let dir = files();
    std::fs::write(dir.path().join("nodepools.json"), FILES).unwrap();
    let run = plan(dir.path(), &sim, &[]).await;
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("is not a karpenter.sh/v1 NodePool"),
        "{}",
        run.stderr
    );
}
