//! The operator's CloudWatch usage path (GetMetricData on a quota's UsageMetric, the real
//! aws-sdk-cloudwatch client) against moto's CloudWatch, an implementation we did not write:
//! datapoints put with boto3 come back as the hourly series status shows.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use aws_config::{BehaviorVersion, Region};
use quota_operator::cloud::{
    ErrorKind,
    aws::{UsageMetric, cloudwatch_usage},
};

/// A Python with moto's server: `~/.cache/quota-operator/moto-venv`, made when missing. None only
/// when PyPI cannot be reached.
fn moto_python() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    let venv = home.join(".cache/quota-operator/moto-venv");
    let python = venv.join("bin/python");
    let ready = |p: &PathBuf| {
        Command::new(p)
            .args(["-c", "import moto, flask, boto3"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if ready(&python) {
        return Some(python);
    }
    if !python.exists() {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status();
        assert!(made.is_ok_and(|s| s.success()), "python3 -m venv failed");
    }
    let pip = Command::new(venv.join("bin/pip"))
        .args(["install", "-q", "moto[server]", "boto3"])
        .output()
        .expect("pip");
    if !pip.status.success() {
        let stderr = String::from_utf8_lossy(&pip.stderr);
        assert!(
            stderr.contains("Could not")
                || stderr.contains("connection")
                || stderr.contains("Network"),
            "pip install moto[server] failed for another reason than the network: {stderr}"
        );
        return None;
    }
    Some(python)
}

struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(python: &PathBuf) -> Moto {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(python)
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto.server");
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto.server did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    Moto { child, endpoint }
}

/// boto3 puts `hours` hourly datapoints of usage `base + hour` (the latest `base + hours - 1`)
/// on the EC2 On-Demand standard vCPU metric, as AWS publishes it in AWS/Usage.
fn put_usage(python: &PathBuf, endpoint: &str, base: u32, hours: u32) {
    let script = format!(
        r#"
import boto3, datetime
cw = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url="{endpoint}",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
now = datetime.datetime.now(datetime.timezone.utc)
dims = [{{"Name": "Service", "Value": "EC2"}}, {{"Name": "Type", "Value": "Resource"}},
        {{"Name": "Resource", "Value": "vCPU"}}, {{"Name": "Class", "Value": "Standard/OnDemand"}}]
for h in range({hours}):
    at = now - datetime.timedelta(hours={hours} - 1 - h, minutes=5)
    cw.put_metric_data(Namespace="AWS/Usage", MetricData=[{{
        "MetricName": "ResourceCount", "Dimensions": dims, "Timestamp": at,
        "Value": float({base} + h)}}])
"#
    );
    let out = Command::new(python)
        .args(["-c", &script])
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "boto3 put_metric_data: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn metric(class: &str) -> UsageMetric {
    UsageMetric {
        namespace: "AWS/Usage".into(),
        name: "ResourceCount".into(),
        dimensions: [
            ("Class", class),
            ("Resource", "vCPU"),
            ("Service", "EC2"),
            ("Type", "Resource"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .to_vec(),
        statistic: "Maximum".into(),
    }
}

#[tokio::test]
async fn the_cloudwatch_usage_path_reads_motos_series() {
    let Some(python) = moto_python() else {
        eprintln!("SKIPPED: PyPI unreachable, moto could not be installed");
        return;
    };
    let moto = start(&python);
    put_usage(&python, &moto.endpoint, 300, 24);
    let credentials =
        aws_credential_types::Credentials::new("testing", "testing", None, None, "moto");
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials)
        .endpoint_url(&moto.endpoint)
        .load()
        .await;
    let got = cloudwatch_usage(
        &config,
        "us-east-1",
        &[metric("Standard/OnDemand"), metric("F/OnDemand")],
    )
    .await;
    let series = got[0].as_ref().expect("moto's series for the metric put");
    let values: Vec<f64> = series.points.iter().map(|(_, v)| *v).collect();
    assert_eq!(values.len(), 24, "one Maximum per hour: {values:?}");
    assert_eq!(values.first(), Some(&300.0), "oldest first");
    assert_eq!(values.last(), Some(&323.0));
    assert!(series.points.windows(2).all(|w| w[0].0 < w[1].0));
    assert!(
        series.source.contains("AWS/Usage ResourceCount"),
        "{}",
        series.source
    );
    assert!(
        series.source.contains("Class=Standard/OnDemand"),
        "{}",
        series.source
    );
    // A metric with no datapoints is unknown usage, never 0.
    let none = got[1].as_ref().expect_err("no data for F/OnDemand");
    assert_eq!(
        (none.kind, none.code.as_str()),
        (ErrorKind::NotFound, "NoUsageData")
    );
}
