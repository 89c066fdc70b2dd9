//! The operator's CloudWatch usage path (GetMetricData on a quota's UsageMetric, the real
//! aws-sdk-cloudwatch client) against moto's CloudWatch, an implementation we did not write:
//! datapoints put with boto3 come back as the hourly series status shows.
//!
//! moto serves CloudWatch's awsJson1_0 protocol (what botocore picks), the Rust SDK speaks
//! rpcv2Cbor: a small proxy here re-encodes the envelope (CBOR <-> JSON, the same Smithy shapes,
//! timestamps as CBOR tag 1 <-> epoch seconds) and nothing else. Which datapoints come back,
//! their statistic per period, their order and an empty result are moto's answer.

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

/// The moto and boto3 the tests were written against: a new moto may answer CloudWatch
/// differently. Bump them together, deliberately.
const MOTO: &str = "5.2.6";
const BOTO3: &str = "1.44.18";

/// A Python with moto's server at `MOTO`: `~/.cache/quota-operator/moto-venv`, made (or brought
/// to `MOTO`) when it is not. None only when PyPI cannot be reached.
fn moto_python() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    let venv = home.join(".cache/quota-operator/moto-venv");
    let python = venv.join("bin/python");
    let ready = |p: &PathBuf| {
        Command::new(p)
            .args([
                "-c",
                &format!("import moto, flask, boto3; assert moto.__version__ == {MOTO:?}"),
            ])
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
        .args([
            "install",
            "-q",
            &format!("moto[server]=={MOTO}"),
            &format!("boto3=={BOTO3}"),
        ])
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
/// on the EC2 On-Demand standard vCPU metric, as AWS publishes it in AWS/Usage. The dimensions go
/// in the order the operator queries them (by name, as it keeps a quota's UsageMetric): moto
/// matches a query's dimensions to a metric's by sorting both, and its `Dimension.__lt__`
/// compares a value with a name, so its match depends on their order. CloudWatch's does not.
fn put_usage(python: &PathBuf, endpoint: &str, base: u32, hours: u32) {
    let script = format!(
        r#"
import boto3, datetime
cw = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url="{endpoint}",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
now = datetime.datetime.now(datetime.timezone.utc)
dims = [{{"Name": "Class", "Value": "Standard/OnDemand"}}, {{"Name": "Resource", "Value": "vCPU"}},
        {{"Name": "Service", "Value": "EC2"}}, {{"Name": "Type", "Value": "Resource"}}]
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

fn cbor_to_json(v: ciborium::Value) -> serde_json::Value {
    use ciborium::Value as C;
    match v {
        C::Tag(1, t) => cbor_to_json(*t),
        C::Integer(i) => serde_json::json!(i128::from(i) as f64),
        C::Float(f) => serde_json::json!(f),
        C::Text(t) => serde_json::json!(t),
        C::Bool(b) => serde_json::json!(b),
        C::Array(a) => a.into_iter().map(cbor_to_json).collect(),
        C::Map(m) => m
            .into_iter()
            .filter_map(|(k, v)| Some((k.into_text().ok()?, cbor_to_json(v))))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        _ => serde_json::Value::Null,
    }
}

/// JSON to CBOR; the values of `Timestamps` (and `Timestamp`) become CBOR epoch times.
fn json_to_cbor(v: serde_json::Value, time: bool) -> ciborium::Value {
    use ciborium::Value as C;
    use serde_json::Value as J;
    let epoch = |v: &J| -> Option<f64> {
        v.as_f64().or_else(|| {
            v.as_str()?
                .parse::<jiff::Timestamp>()
                .ok()
                .map(|t| t.as_millisecond() as f64 / 1000.0)
        })
    };
    match v {
        v if time && epoch(&v).is_some() => C::Tag(1, Box::new(C::Float(epoch(&v).unwrap()))),
        J::Null => C::Null,
        J::Bool(b) => C::Bool(b),
        J::Number(n) => match n.as_i64() {
            Some(i) => C::Integer(i.into()),
            None => C::Float(n.as_f64().unwrap_or_default()),
        },
        J::String(s) => C::Text(s),
        J::Array(a) => C::Array(a.into_iter().map(|v| json_to_cbor(v, time)).collect()),
        J::Object(o) => C::Map(
            o.into_iter()
                .map(|(k, v)| {
                    let time = k == "Timestamps" || k == "Timestamp";
                    (C::Text(k), json_to_cbor(v, time))
                })
                .collect(),
        ),
    }
}

/// One awsJson1_0 call to moto, over plain HTTP/1.1: (status, body).
async fn post_json(moto: &str, target: &str, auth: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = moto.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("moto");
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: {target}\r\nAuthorization: {auth}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    let head = String::from_utf8_lossy(&answer[..split]).to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    let mut body = answer[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let (mut out, mut rest) = (Vec::new(), body.as_slice());
        while let Some(nl) = rest.windows(2).position(|w| w == b"\r\n") {
            let size =
                usize::from_str_radix(String::from_utf8_lossy(&rest[..nl]).trim(), 16).unwrap_or(0);
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[nl + 2..nl + 2 + size]);
            rest = &rest[nl + 4 + size..];
        }
        body = out;
    }
    (status, body)
}

/// The rpcv2Cbor endpoint the SDK is pointed at, in front of moto.
async fn cbor_proxy(moto: String) -> String {
    use axum::{body::Bytes, extract::Path, http::HeaderMap, response::IntoResponse};
    let handler = move |Path((service, op)): Path<(String, String)>,
                        headers: HeaderMap,
                        body: Bytes| {
        let moto = moto.clone();
        async move {
            let request: ciborium::Value = ciborium::from_reader(body.as_ref()).expect("CBOR");
            let json = serde_json::to_vec(&cbor_to_json(request)).unwrap();
            let auth = headers
                .get("authorization")
                .and_then(|a| a.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let (status, answer) = post_json(&moto, &format!("{service}.{op}"), &auth, json).await;
            let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
            let mut out = Vec::new();
            ciborium::into_writer(&json_to_cbor(answer, false), &mut out).unwrap();
            (
                axum::http::StatusCode::from_u16(status).unwrap(),
                [
                    ("content-type", "application/cbor"),
                    ("smithy-protocol", "rpc-v2-cbor"),
                ],
                out,
            )
                .into_response()
        }
    };
    let app = axum::Router::new().route(
        "/service/{service}/operation/{op}",
        axum::routing::post(handler),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
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
        .endpoint_url(cbor_proxy(moto.endpoint.clone()).await)
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
