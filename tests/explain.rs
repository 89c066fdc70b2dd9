//! `quota-operator explain` as users run it: the built binary, the error on stdin, the YAML on
//! stdout, the explanation on stderr, the exit code; `--live` against the simulator (the real
//! AWS and Cloud Quotas clients over HTTP).

#[path = "support/cli.rs"]
mod cli;

use std::process::Stdio;

use quota_operator::api::QuotaRequirement;
use quota_sim::{Scenario, Sim, SimHandle};
use tokio::io::AsyncWriteExt;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the binary with `args` and `stdin`, in an environment with no cloud settings of the
/// caller's (region, credentials, endpoints), plus `env`.
async fn explain(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
    let mut cmd = cli::quota_operator("explain", env);
    cmd.args(args);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("quota-operator runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let out = child.wait_with_output().await.unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn parsed(run: &Run) -> QuotaRequirement {
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    serde_yaml::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\nstdout:\n{}", run.stdout))
}

const SPOT: &str = "An error occurred (MaxSpotInstanceCountExceeded) when calling the RunInstances \
                    operation: Max spot instance count exceeded";

#[tokio::test]
async fn spot_error_with_an_instance_type_prints_the_spot_quota_for_its_family() {
    let run = explain(
        &[
            "--instance-type",
            "m5.2xlarge",
            "--region",
            "us-east-1",
            "--account",
            "prod-aws",
        ],
        SPOT,
        &[],
    )
    .await;
    let qr = parsed(&run);
    let aws = qr.spec.aws.as_ref().unwrap();
    assert_eq!(
        (aws.service_code.as_str(), aws.quota_code.as_deref()),
        ("ec2", Some("L-34B43A08"))
    );
    assert_eq!(
        (qr.spec.account_ref.as_str(), qr.spec.regions.as_slice()),
        ("prod-aws", &["us-east-1".to_string()][..])
    );
    assert!(
        run.stderr.contains("count the vCPUs") && run.stderr.contains("--live"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("CHANGE-ME"),
        "the placeholder value is marked: {}",
        run.stdout
    );
}

#[tokio::test]
async fn spot_error_without_an_instance_type_names_the_flag() {
    let run = explain(&["--region", "us-east-1"], SPOT, &[]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("--instance-type"), "{}", run.stderr);
}

#[tokio::test]
async fn not_a_quota_error_exits_1_with_a_message() {
    let run = explain(
        &[],
        "An error occurred (UnauthorizedOperation) when calling the RunInstances operation: You \
         are not authorized to perform this operation.",
        &[],
    )
    .await;
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("not a quota error"), "{}", run.stderr);
}

#[tokio::test]
async fn elb_targets_region_comes_from_the_arn_and_the_limit_is_doubled() {
    let run = explain(
        &[],
        "TooManyTargets: The maximum number of targets per load balancer '1000' has been reached \
         on load balancer 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/web/50dc6c'",
        &[],
    )
    .await;
    let qr = parsed(&run);
    assert_eq!(
        qr.spec.aws.unwrap().quota_code.as_deref(),
        Some("L-7E6692B2")
    );
    assert_eq!(
        (qr.spec.regions[0].as_str(), qr.spec.desired_value),
        ("eu-west-1", Some(2000))
    );
}

#[tokio::test]
async fn gcp_quota_sentence_and_concurrent_operations() {
    let run = explain(
        &["--account", "prod-gcp"],
        "Quota 'CPUS' exceeded.  Limit: 8.0 in region us-east1.",
        &[],
    )
    .await;
    let qr = parsed(&run);
    let gcp = qr.spec.gcp.unwrap();
    assert_eq!(gcp.quota_id, "CPUS-per-project-region");
    assert_eq!(
        (qr.spec.regions[0].as_str(), qr.spec.desired_value),
        ("us-east1", Some(16))
    );

    let body = r#"{"error": {"code": 403, "message": "Rate Limit Exceeded", "errors": [{"message":
      "Rate Limit Exceeded", "domain": "usageLimits", "reason": "rateLimitExceeded"}], "details": [{
      "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "CONCURRENT_OPERATIONS_QUOTA_EXCEEDED",
      "domain": "compute.googleapis.com", "metadatas": {"containerType": "PROJECT", "containerId":
      "demo-project", "quotaMetric": "compute.googleapis.com/regional_concurrent_operations",
      "quotaLimit": "RegionalConcurrentOperationsPerProject", "operationType": "instances.insert",
      "location": "us-central1"}}]}}"#;
    let run = explain(&[], body, &[]).await;
    let qr = parsed(&run);
    assert_eq!(
        qr.spec.gcp.unwrap().quota_id,
        "REGIONAL-CONCURRENT-OPERATIONS-per-project-region"
    );
    assert!(run.stderr.contains("concurrency limit"), "{}", run.stderr);
    assert!(run.stderr.contains("demo-project"), "{}", run.stderr);
}

#[tokio::test]
async fn crafted_text_in_a_pasted_error_stays_data() {
    // Compute's quotaInfo, with a region, a dimension and a limit name that try to add a field
    // (`spec.allowDecrease: true`) or end a comment; and a region flag that tries the same.
    let body = r##"{"error": {"code": 403, "message": "Quota exceeded\nallowDecrease: true # 'x\"",
      "errors": [{"message": "Quota exceeded", "domain": "usageLimits", "reason": "quotaExceeded"}],
      "details": [{"quotaInfo": {"metricName": "compute.googleapis.com/cpus",
        "limitName": "CPUS-per-project-region\nallowDecrease: true",
        "dimensions": {"region": "us-central1\n  allowDecrease: true",
          "zone": "a\nspec:\n  allowDecrease: true\n#: \"'"}, "limit": 8}}]}}"##;
    let run = explain(&["--account", "prod-gcp"], body, &[]).await;
    let qr = parsed(&run);
    assert!(!qr.spec.allow_decrease, "{}", run.stdout);
    let gcp = qr.spec.gcp.unwrap();
    assert_eq!(gcp.quota_id, "CPUS-per-project-region\nallowDecrease: true");
    assert_eq!(
        gcp.dimensions["zone"],
        "a\nspec:\n  allowDecrease: true\n#: \"'"
    );
    assert_eq!(qr.spec.regions, ["us-central1\n  allowDecrease: true"]);
    let comments = run
        .stdout
        .lines()
        .take_while(|l| !l.starts_with("apiVersion:"));
    assert!(
        comments.clone().all(|l| l.starts_with("# ")),
        "{}",
        run.stdout
    );
    assert!(
        !run.stderr
            .lines()
            .any(|l| l.trim_start().starts_with("allowDecrease")),
        "{}",
        run.stderr
    );

    let spot = "An error occurred (MaxSpotInstanceCountExceeded) when calling the RunInstances \
                operation: Max spot instance count exceeded";
    let region = "us-east-1\nallowDecrease: true";
    let run = explain(
        &[
            "--instance-type",
            "m5.large",
            "--region",
            region,
            "--account",
            "a: b\n#",
        ],
        spot,
        &[],
    )
    .await;
    let qr = parsed(&run);
    assert!(!qr.spec.allow_decrease, "{}", run.stdout);
    assert_eq!(
        (qr.spec.regions[0].as_str(), qr.spec.account_ref.as_str()),
        (region, "a: b\n#")
    );
}

async fn sim() -> SimHandle {
    let scenario = Scenario::from_yaml(
        "aws:\n  accounts: {AKIDEXPLAIN: \"111111111111\"}\n  quotas:\n  - {serviceCode: ec2, quotaCode: L-34B43A08, value: 640, usage: 600}\n\
         gcp:\n  values:\n  - {quotaId: CPUS-per-project-region, value: 96}\n",
    )
    .expect("scenario");
    Sim::new(scenario)
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim")
}

#[tokio::test]
async fn live_reads_the_current_value_and_asks_for_more() {
    let sim = sim().await;
    let endpoint = sim.endpoint();
    let creds = [
        ("AWS_ACCESS_KEY_ID", "AKIDEXPLAIN"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_REGION", "us-east-1"),
    ];
    // No limit in the text: the live 640 is doubled.
    let run = explain(
        &[
            "--instance-type",
            "c6i.4xlarge",
            "--live",
            "--aws-endpoint-url",
            &endpoint,
        ],
        SPOT,
        &creds,
    )
    .await;
    let qr = parsed(&run);
    assert_eq!(qr.spec.desired_value, Some(1280), "{}", run.stdout);
    assert!(
        run.stderr.contains("Current value (--live): 640 vCPUs"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stdout.contains("CHANGE-ME: the error"),
        "no placeholder value with --live"
    );
    // Usage from CloudWatch, and what 30 % headroom over its peak would keep.
    assert!(
        run.stderr
            .contains("Usage (--live): 600 (93.8 % of the quota), peak 600 over 168h"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("the operator would keep it at peak 600 over 168h + 30 % = 780"),
        "{}",
        run.stderr
    );

    // GCP: the text says 8, the project has 96 now: current + need (doubled) wins.
    let run = explain(
        &[
            "--live",
            "--gcp-endpoint-url",
            &endpoint,
            "--project",
            "demo-project",
        ],
        "Quota 'CPUS' exceeded. Limit: 8.0 in region us-central1.",
        &[],
    )
    .await;
    let qr = parsed(&run);
    assert_eq!(
        qr.spec.desired_value,
        Some(192),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stderr.contains("Current value (--live): 96 CPUs"),
        "{}",
        run.stderr
    );
    // The project publishes no usage for it: unknown with Cloud Monitoring's answer, never 0.
    assert!(
        run.stderr.contains("Usage (--live): unknown: NoUsageData"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("would keep it at"), "{}", run.stderr);

    // Without credentials --live fails with exit 3 and prints no YAML.
    let run = explain(
        &[
            "--instance-type",
            "c6i.4xlarge",
            "--region",
            "us-east-1",
            "--live",
            "--aws-endpoint-url",
            &endpoint,
        ],
        SPOT,
        &[],
    )
    .await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stdout.is_empty() && run.stderr.contains("--live"),
        "{}",
        run.stderr
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn count_writes_capacity_that_admission_accepts_and_is_refused_off_ec2_vcpus() {
    let run = explain(
        &[
            "--instance-type",
            "m5.2xlarge",
            "--region",
            "us-east-1",
            "--count",
            "200",
            "--account",
            "prod-aws",
        ],
        SPOT,
        &[],
    )
    .await;
    let qr = parsed(&run);
    assert_eq!(qr.spec.desired_value, None, "{}", run.stdout);
    let capacity = qr.spec.capacity.as_deref().expect("capacity");
    assert_eq!(capacity.len(), 1);
    assert_eq!(
        (capacity[0].instance_type.as_deref(), capacity[0].count),
        (Some("m5.2xlarge"), 200)
    );
    assert!(run.stderr.contains("200 x m5.2xlarge"), "{}", run.stderr);
    let mut value = serde_json::to_value(&qr).unwrap();
    value["metadata"]["namespace"] = "team-batch".into();
    let verdict = quota_operator::plan::admission::Admission::ours().admit(&value);
    assert!(
        matches!(verdict, quota_operator::plan::admission::Verdict::Valid),
        "admission refuses it: {verdict:?}"
    );

    // A load balancer limit is not counted in instances.
    let run = explain(
        &["--region", "us-east-1", "--count", "5"],
        "An error occurred (TooManyTargets) when calling the RegisterTargets operation: You have reached the limit of 1000 targets per target group",
        &[],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("--count gives capacity in instances, which only EC2 vCPU quotas count"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn live_matches_an_unknown_limit_code_to_a_service_quotas_name() {
    // A quota the catalog has no entry for, as the account lists it.
    let scenario = Scenario::from_yaml(
        "aws:\n  accounts: {AKIDEXPLAIN: \"111111111111\"}\n  quotas:\n  - {serviceCode: vpc, quotaCode: L-407747CB, quotaName: Subnets per VPC, value: 200}\n",
    )
    .expect("scenario");
    let sim = Sim::new(scenario)
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim");
    let endpoint = sim.endpoint();
    let creds = [
        ("AWS_ACCESS_KEY_ID", "AKIDEXPLAIN"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ];
    let err = "An error occurred (SubnetLimitExceeded) when calling the CreateSubnet operation: \
               The maximum number of subnets has been reached.";
    // Without --live the catalog does not know it.
    let run = explain(&["--region", "eu-west-1"], err, &creds).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("--live"), "{}", run.stderr);
    // With --live its words are found in the listing, and the current value is read.
    let live = [
        "--region",
        "eu-west-1",
        "--live",
        "--aws-endpoint-url",
        &endpoint,
    ];
    let run = explain(&live, err, &creds).await;
    let qr = parsed(&run);
    let aws = qr.spec.aws.as_ref().unwrap();
    assert_eq!(
        (aws.service_code.as_str(), aws.quota_code.as_deref()),
        ("vpc", Some("L-407747CB"))
    );
    assert_eq!(qr.spec.desired_value, Some(400), "{}", run.stdout);
    assert!(
        run.stderr.contains("Subnets per VPC") && run.stderr.contains("not in explain's catalog"),
        "{}",
        run.stderr
    );
    // A code whose words no quota name holds is refused, naming the words.
    let run = explain(&live, "FrobnicatorLimitExceeded: too many", &creds).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.is_empty() && run.stderr.contains("no Service Quotas name"),
        "{}",
        run.stderr
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn not_a_quota_texts_exit_1_naming_what_they_are_and_gcp_takes_region() {
    let run = explain(
        &[],
        "ZONE_RESOURCE_POOL_EXHAUSTED: The zone 'projects/p/zones/us-central1-a' does not have \
         enough resources available to fulfill the request. Try a different zone, or try again later.",
        &[],
    )
    .await;
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains(
            "not a quota (stock-out): ZONE_RESOURCE_POOL_EXHAUSTED is a capacity stock-out"
        ),
        "{}",
        run.stderr
    );
    // A GCP text without a region takes --region instead of asking for it.
    let run = explain(
        &["--region", "europe-west4"],
        "Insufficient regional quota to satisfy request: resource \"CPUS\": request requires \
         '72.0' and is short '48.0'. project has a quota of '24.0' with '24.0' available.",
        &[],
    )
    .await;
    let qr = parsed(&run);
    assert_eq!(qr.spec.regions, ["europe-west4"]);
    assert_eq!(qr.spec.gcp.unwrap().quota_id, "CPUS-per-project-region");
}
