//! EC2 DescribeInstanceTypes against independent clients: the AWS CLI (botocore's ec2 query
//! protocol) for the wire, and moto's instance-type catalog (scraped from AWS) as the judge of
//! the vCPU numbers. DescribeRegions in `regions`.

use std::{collections::BTreeMap, path::PathBuf, process::Output};

#[path = "support/aws.rs"]
mod support;

#[path = "ec2/regions.rs"]
mod regions;

use support::start;

use quota_sim::{Scenario, SimHandle, aws::FaultInjection, aws::InstanceTypes};
use serde_json::{Value, json};
use tokio::process::Command;

/// `aws ec2 <args>`'s JSON with the default key; panics with stderr when it failed.
async fn aws_ec2_ok(sim: &SimHandle, args: &[&str]) -> Value {
    let out = aws_ec2(sim, "AKIDTESTEXAMPLE", args).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `aws ec2 <args>` against the simulator, with no real configuration and no retries.
async fn aws_ec2(sim: &SimHandle, key: &str, args: &[&str]) -> Output {
    let args = [&["ec2"], args].concat();
    support::run(&sim.endpoint(), &[("AWS_ACCESS_KEY_ID", key)], &args).await
}

/// `describe-instance-types --region <region> --instance-types <types...>`.
fn describe<'a>(region: &'a str, types: &[&'a str]) -> Vec<&'a str> {
    [
        &[
            "describe-instance-types",
            "--region",
            region,
            "--instance-types",
        ],
        types,
    ]
    .concat()
}

/// Instance type -> default vCPUs, from the CLI's JSON; panics with stderr on failure.
async fn vcpus(sim: &SimHandle, region: &str, types: &[&str]) -> BTreeMap<String, u64> {
    let v = aws_ec2_ok(sim, &describe(region, types)).await;
    v["InstanceTypes"]
        .as_array()
        .expect("InstanceTypes")
        .iter()
        .map(|t| {
            let name = t["InstanceType"].as_str().unwrap().to_string();
            (name, t["VCpuInfo"]["DefaultVCpus"].as_u64().unwrap())
        })
        .collect()
}

/// The CLI's stderr for a call that must fail with `code`.
async fn fails(sim: &SimHandle, key: &str, region: &str, types: &[&str], code: &str) -> String {
    let args = describe(region, types);
    let out = aws_ec2(sim, key, &args).await;
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success(),
        "aws ec2 {args:?} should fail with {code}"
    );
    assert!(
        stderr.contains(&format!("({code})")),
        "expected {code}, got: {stderr}"
    );
    stderr
}

#[tokio::test]
async fn cli_describes_instance_types_with_their_vcpus() {
    let sim = start("").await;
    let got = vcpus(&sim, "us-east-1", &["m5.2xlarge", "c6i.4xlarge"]).await;
    assert_eq!(
        got,
        BTreeMap::from([("c6i.4xlarge".into(), 16), ("m5.2xlarge".into(), 8)])
    );

    let args = [
        "describe-instance-types",
        "--region",
        "eu-west-1",
        "--instance-types",
        "hpc6a.48xlarge",
    ];
    let v = aws_ec2_ok(&sim, &args).await;
    let t = &v["InstanceTypes"][0];
    assert_eq!(
        t["SupportedUsageClasses"],
        json!(["on-demand"]),
        "no Spot for hpc6a: {t}"
    );
    assert_eq!(t["VCpuInfo"]["DefaultCores"], 96);
    assert_eq!(t["VCpuInfo"]["DefaultThreadsPerCore"], 1);
    assert_eq!(t["MemoryInfo"]["SizeInMiB"], 393216);
    assert_eq!(sim.calls("DescribeInstanceTypes"), 2);
    assert_eq!(
        sim.calls_in("123456789012", "eu-west-1", "DescribeInstanceTypes"),
        1
    );
}

#[tokio::test]
async fn cli_pages_through_every_type_of_the_region() {
    let sim = start("").await;
    // Without --instance-types the CLI follows nextToken itself (page size 5).
    let args = [
        "describe-instance-types",
        "--region",
        "us-west-2",
        "--page-size",
        "5",
    ];
    let v = aws_ec2_ok(&sim, &args).await;
    let all = InstanceTypes::built_in().all().len();
    assert_eq!(v["InstanceTypes"].as_array().unwrap().len(), all);
    assert_eq!(sim.calls("DescribeInstanceTypes") as usize, all.div_ceil(5));
}

#[tokio::test]
async fn unknown_type_is_invalid_instance_type() {
    let sim = start("").await;
    let stderr = fails(
        &sim,
        "AKIDTESTEXAMPLE",
        "us-east-1",
        &["m5.huge", "m5.large"],
        "InvalidInstanceType",
    )
    .await;
    assert!(
        stderr.contains("The following supplied instance types do not exist: [m5.huge]"),
        "{stderr}"
    );
    let errors = sim.counters().iter().map(|c| c.errors).sum::<u64>();
    assert_eq!(errors, 1, "the refusal is counted as an error");
}

const WITHDRAWN: &str = r#"
aws:
  ec2:
    instanceTypes:
    - {instanceType: m7i.large, vCpus: 2, cores: 1, threadsPerCore: 2, memoryMiB: 8192}
    notOffered:
      eu-west-3: [p5.48xlarge]
"#;

#[tokio::test]
async fn a_type_withdrawn_from_a_region_is_refused_there_only() {
    let sim = start(WITHDRAWN).await;
    fails(
        &sim,
        "AKIDTESTEXAMPLE",
        "eu-west-3",
        &["p5.48xlarge"],
        "InvalidInstanceType",
    )
    .await;
    let got = vcpus(&sim, "us-east-1", &["p5.48xlarge", "m7i.large"]).await;
    assert_eq!(
        got,
        BTreeMap::from([("m7i.large".into(), 2), ("p5.48xlarge".into(), 192)])
    );
    let got = vcpus(&sim, "eu-west-3", &["m5.large"]).await;
    assert_eq!(got["m5.large"], 2);
}

#[tokio::test]
async fn faults_throttles_and_unknown_keys_answer_ec2_errors() {
    let sim =
        start("aws:\n  rejectUnknownKeys: true\n  accounts: {AKIDKNOWN: \"111111111111\"}\n").await;
    fails(
        &sim,
        "AKIDSTRANGER",
        "us-east-1",
        &["m5.large"],
        "AuthFailure",
    )
    .await;

    sim.inject_fault(FaultInjection {
        operation: "DescribeInstanceTypes".into(),
        fault: quota_sim::aws::Fault::AccessDenied,
        count: Some(1),
        account: None,
        region: None,
        delay: None,
    })
    .unwrap();
    let stderr = fails(
        &sim,
        "AKIDKNOWN",
        "us-east-1",
        &["m5.large"],
        "UnauthorizedOperation",
    )
    .await;
    assert!(stderr.contains("ec2:DescribeInstanceTypes"), "{stderr}");

    sim.inject_throttles(quota_sim::aws::ThrottleInjection {
        operation: "DescribeInstanceTypes".into(),
        count: 1,
        account: Some("111111111111".into()),
        region: None,
        every: None,
    })
    .unwrap();
    fails(
        &sim,
        "AKIDKNOWN",
        "us-east-1",
        &["m5.large"],
        "RequestLimitExceeded",
    )
    .await;
    assert_eq!(vcpus_as(&sim, "AKIDKNOWN").await, 2, "the next call passes");

    let c = sim
        .counters()
        .into_iter()
        .find(|c| c.account == "111111111111" && c.operation == "DescribeInstanceTypes")
        .unwrap();
    assert_eq!((c.calls, c.errors, c.throttled), (3, 2, 1));
}

async fn vcpus_as(sim: &SimHandle, key: &str) -> u64 {
    let args = [
        "describe-instance-types",
        "--region",
        "us-east-1",
        "--instance-types",
        "m5.large",
    ];
    let out = aws_ec2(sim, key, &args).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["InstanceTypes"][0]["VCpuInfo"]["DefaultVCpus"]
        .as_u64()
        .unwrap()
}

/// Types AWS has retired that moto's catalog no longer carries; the simulator takes them from
/// AWS's published specifications.
const NOT_IN_MOTO: [&str; 4] = ["p3.2xlarge", "p3.8xlarge", "f1.2xlarge", "dl1.24xlarge"];

/// A Python with moto: `~/.cache/quota-operator/moto-venv`, made (pip install moto) when
/// missing. None only when PyPI cannot be reached.
fn moto_python() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    let venv = home.join(".cache/quota-operator/moto-venv");
    let python = venv.join("bin/python");
    let has_moto = |p: &PathBuf| {
        std::process::Command::new(p)
            .args(["-c", "import moto"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if has_moto(&python) {
        return Some(python);
    }
    let made = std::process::Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success());
    assert!(made, "python3 -m venv {} failed", venv.display());
    let pip = std::process::Command::new(venv.join("bin/pip"))
        .args(["install", "-q", "moto"])
        .output()
        .expect("pip");
    if !pip.status.success() {
        let stderr = String::from_utf8_lossy(&pip.stderr);
        assert!(
            stderr.contains("Could not")
                || stderr.contains("connection")
                || stderr.contains("Network"),
            "pip install moto failed for another reason than the network: {stderr}"
        );
        return None;
    }
    Some(python)
}

#[tokio::test]
async fn motos_catalog_agrees_on_every_types_vcpus() {
    let Some(python) = moto_python() else {
        eprintln!("SKIPPED: PyPI unreachable, moto could not be installed");
        return;
    };
    let ours: Vec<String> = InstanceTypes::built_in()
        .all()
        .iter()
        .map(|t| t.instance_type.clone())
        .collect();
    // moto ships AWS's DescribeInstanceTypes answers as data; read them, not moto's code.
    let script = r#"
import gzip, json, os, sys, moto
path = os.path.join(os.path.dirname(moto.__file__), "ec2", "resources", "instance_types.json.gz")
data = json.load(gzip.open(path))
out = {}
for t in json.loads(sys.argv[1]):
    if t in data:
        v = data[t]["VCpuInfo"]
        out[t] = [v["DefaultVCpus"], v.get("DefaultCores"), v.get("DefaultThreadsPerCore"),
                  data[t]["MemoryInfo"]["SizeInMiB"], "spot" in data[t]["SupportedUsageClasses"]]
print(json.dumps(out))
"#;
    let out = Command::new(&python)
        .args(["-c", script, &serde_json::to_string(&ours).unwrap()])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let moto: BTreeMap<String, (u64, u64, u64, u64, bool)> =
        serde_json::from_slice(&out.stdout).unwrap();

    // What the simulator serves, read back through the CLI.
    let sim = start("").await;
    let names: Vec<&str> = ours.iter().map(String::as_str).collect();
    let served = vcpus(&sim, "us-east-1", &names).await;
    assert_eq!(served.len(), ours.len());
    let mut missing = Vec::new();
    let catalog = InstanceTypes::built_in();
    for t in catalog.all() {
        let name = &t.instance_type;
        let Some(&(v, cores, threads, mib, spot)) = moto.get(name) else {
            missing.push(name.as_str());
            continue;
        };
        assert_eq!(served[name], v, "{name}: vCPUs served vs moto");
        let spot_here = t.usage_classes.iter().any(|c| c == "spot");
        assert_eq!(
            (
                t.v_cpus as u64,
                t.cores as u64,
                t.threads_per_core as u64,
                t.memory_mib,
                spot_here
            ),
            (v, cores, threads, mib, spot),
            "{name}: (vCPUs, cores, threads, MiB, spot) vs moto"
        );
    }
    assert_eq!(missing, NOT_IN_MOTO, "types moto lacks");
}

#[test]
fn scenario_errors_name_the_ec2_field() {
    let err =
        Scenario::from_yaml("aws:\n  ec2:\n    notOffered: {us-east-1: [m5.huge]}\n").unwrap_err();
    assert_eq!(err.field, "aws.ec2.notOffered.us-east-1[0]", "{err}");
    let err = Scenario::from_yaml("aws:\n  ec2:\n    offered: {}\n").unwrap_err();
    assert_eq!(err.field, "aws.ec2.offered", "{err}");
}
