//! `/metrics` of a running operator process, linted by Prometheus's own `promtool check metrics`
//! (built from the Go module proxy, tools/promtool), with the series dashboards rely on.

use std::process::Command;

use quota_operator::api::TargetState;
use quota_sim::{AwsSim, Scenario};

use crate::{
    harness::{TestEnv, go_tool},
    process::{KEY, OperatorProcess},
};

const ACCOUNT: &str = "111111111111";

#[tokio::test]
async fn a_running_operators_metrics_pass_promtool_and_name_what_dashboards_read() {
    let yaml = format!(
        "aws:\n  accounts: {{{KEY}: \"{ACCOUNT}\"}}\n  quotas:\n  - {{serviceCode: ec2, quotaCode: L-34B43A08, value: 640, usage: {{shape: growth, start: 500, perDay: 50}}}}\n  schedule:\n    default: {{outcome: approve, closeAfter: 2s}}\n"
    );
    let sim = AwsSim::new(Scenario::from_yaml(&yaml).unwrap())
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let env = TestEnv::new("metrics").await;
    let account = env.aws_account("aws", ACCOUNT).await;
    let operator = OperatorProcess::start("m", &env.ns, &sim.endpoint(), &[]);
    env.create_spot(&account, &["us-east-1"]).await;
    env.wait_qr("spot", |qr| {
        qr.status.as_ref().is_some_and(|s| {
            s.targets.iter().all(|t| t.state == TargetState::Satisfied) && !s.targets.is_empty()
        })
    })
    .await;
    let text = operator.metrics().await;
    for series in [
        "controller_runtime_reconcile_total{controller=\"quotarequirement\",result=\"requeue_after\"}",
        "controller_runtime_reconcile_time_seconds_bucket",
        "controller_runtime_max_concurrent_reconciles{controller=\"quotarequirement\"}",
        "quota_operator_quota_current_value{account=",
        "quota_operator_quota_desired_value{account=",
        "quota_operator_targets{state=\"Satisfied\"} 1",
        "quota_operator_request_duration_seconds_count 1",
        "quota_operator_cloud_api_calls_total{cloud=\"aws\",operation=\"RequestServiceQuotaIncrease\"} 1",
        "quota_operator_leader 1",
        "quota_operator_quota_usage{account=",
        "quota_operator_quota_usage_peak{account=",
        "quota_operator_quota_utilization_ratio{account=",
        "quota_operator_quota_exhaustion_forecast_seconds{account=",
        "quota_operator_account_utilization_threshold_ratio{account=",
        "quota_operator_cloud_api_calls_total{cloud=\"aws\",operation=\"GetMetricData\"}",
        "workqueue_adds_total{name=\"quotarequirement\",controller=\"quotarequirement\"}",
        "workqueue_depth{name=\"quotarequirement\",controller=\"quotarequirement\"}",
    ] {
        assert!(text.contains(series), "{series} missing:\n{text}");
    }

    let mut check = Command::new(go_tool("promtool"))
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    check
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = check.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!(
        "promtool check metrics: exit {:?} {said}",
        out.status.code()
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool: {said}"
    );
}
