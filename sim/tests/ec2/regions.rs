//! EC2 DescribeRegions through the AWS CLI: AWS's regions plus every one the scenario names,
//! EC2's refusal of a name it does not know, and the same faults as every EC2 call.

use quota_sim::{Scenario, aws::FaultInjection};
use serde_json::Value;

use super::{aws_ec2, aws_ec2_ok, support::start};

const NAMED: &str = r#"
aws:
  regions: [xx-lab-1]
  quotas:
  - {serviceCode: ec2, quotaCode: L-34B43A08, region: eu-test-1, value: 64}
"#;

/// Region name -> the CLI's entry for it.
fn by_name(v: &Value) -> std::collections::BTreeMap<String, Value> {
    (v["Regions"].as_array().expect("Regions").iter())
        .map(|r| (r["RegionName"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

#[tokio::test]
async fn cli_lists_aws_regions_and_the_scenarios_own() {
    let sim = start(NAMED).await;
    let all = by_name(&aws_ec2_ok(&sim, &["describe-regions"]).await);
    for r in [
        "us-east-1",
        "us-east-2",
        "eu-west-1",
        "ap-south-1",
        "xx-lab-1",
        "eu-test-1",
    ] {
        assert!(all.contains_key(r), "{r} is listed: {:?}", all.keys());
    }
    assert!(!all.contains_key("us-east-9"));
    let east = &all["us-east-1"];
    assert_eq!(east["Endpoint"], "ec2.us-east-1.amazonaws.com");
    assert_eq!(east["OptInStatus"], "opt-in-not-required");
    assert_eq!(all["af-south-1"]["OptInStatus"], "opted-in");
    let filtered = aws_ec2_ok(
        &sim,
        &[
            "describe-regions",
            "--filters",
            "Name=region-name,Values=eu-west-1",
        ],
    )
    .await;
    assert_eq!(
        by_name(&filtered).into_keys().collect::<Vec<_>>(),
        ["eu-west-1"]
    );
    assert_eq!(sim.calls("DescribeRegions"), 2);
}

#[tokio::test]
async fn a_name_ec2_does_not_know_is_invalid_parameter_value() {
    let sim = start("").await;
    let args = [
        "describe-regions",
        "--region-names",
        "us-east-1",
        "us-east-9",
    ];
    let out = aws_ec2(&sim, "AKIDTESTEXAMPLE", &args).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("(InvalidParameterValue)")
            && stderr.contains("Invalid region: [us-east-9]"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_denied_listing_is_unauthorized_operation() {
    let sim = start("").await;
    sim.inject_fault(FaultInjection {
        operation: "DescribeRegions".into(),
        fault: quota_sim::aws::Fault::AccessDenied,
        count: Some(1),
        account: None,
        region: None,
        delay: None,
    })
    .unwrap();
    let out = aws_ec2(&sim, "AKIDTESTEXAMPLE", &["describe-regions"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("(UnauthorizedOperation)"), "{stderr}");
    assert!(stderr.contains("ec2:DescribeRegions"), "{stderr}");
    aws_ec2_ok(&sim, &["describe-regions"]).await;
}

#[test]
fn a_scenario_region_must_be_a_name() {
    let err = Scenario::from_yaml("aws:\n  regions: [\"us east 1\"]\n").unwrap_err();
    assert_eq!(err.field, "aws.regions[0]", "{err}");
}
