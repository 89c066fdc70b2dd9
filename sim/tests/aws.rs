//! The AWS Service Quotas simulator against independent clients: the AWS CLI (botocore) and
//! the Rust SDK, over HTTP on loopback. Schedules use polls, manual moves or tiny delays with
//! due-time stamping, so the assertions do not depend on machine speed.

use std::{
    process::Output,
    time::{Duration, Instant},
};

use aws_sdk_servicequotas::{
    Client,
    config::{BehaviorVersion, Credentials, Region, retry::RetryConfig},
    error::ProvideErrorMetadata,
    types::RequestStatus as SdkStatus,
};
#[path = "support/aws.rs"]
mod support;

use support::start;

use quota_sim::{RequestStatus, Scenario, SimHandle, aws::ThrottleInjection};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Runs `aws service-quotas <args>` (split on spaces) against the simulator, with no real
/// configuration and no retries unless `env` says otherwise.
async fn aws_cli(sim: &SimHandle, env: &[(&str, &str)], args: &str) -> Output {
    let args: Vec<&str> = std::iter::once("service-quotas")
        .chain(args.split_whitespace())
        .collect();
    support::run(&sim.endpoint(), env, &args).await
}

/// The CLI's JSON answer; panics with its stderr when it failed.
async fn ok(sim: &SimHandle, args: &str) -> Value {
    let out = aws_cli(sim, &[], args).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "aws {args} failed: {stderr}");
    serde_json::from_slice(&out.stdout).expect("CLI JSON output")
}

/// The CLI's stderr for a call that must fail with `code`.
async fn fails(sim: &SimHandle, args: &str, code: &str) -> String {
    let out = aws_cli(sim, &[], args).await;
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "aws {args} should fail with {code}");
    let shown = stderr.contains(&format!("({code})"));
    assert!(shown, "aws {args}: expected {code}, got: {stderr}");
    stderr
}

fn len(v: &Value) -> usize {
    v.as_array().map_or(0, Vec::len)
}

fn sdk(sim: &SimHandle, key: &str, region: &str, retry: RetryConfig) -> Client {
    let conf = aws_sdk_servicequotas::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(key, "not-checked", None, None, "sim-test"))
        .endpoint_url(sim.endpoint())
        .retry_config(retry)
        .build();
    Client::from_conf(conf)
}

/// GetServiceQuota's value, or the error code.
async fn applied(c: &Client, service: &str, code: &str) -> Result<f64, String> {
    let r = c
        .get_service_quota()
        .service_code(service)
        .quota_code(code)
        .send()
        .await;
    match r {
        Ok(out) => Ok(out.quota().and_then(|q| q.value()).unwrap_or(f64::NAN)),
        Err(e) => Err(e.code().unwrap_or("no code").to_string()),
    }
}

/// RequestServiceQuotaIncrease's request id, or the error code.
async fn file(c: &Client, service: &str, code: &str, value: f64) -> Result<String, String> {
    let call = c
        .request_service_quota_increase()
        .service_code(service)
        .quota_code(code);
    match call.desired_value(value).send().await {
        Ok(out) => Ok(out
            .requested_quota()
            .and_then(|r| r.id())
            .unwrap()
            .to_string()),
        Err(e) => Err(e.code().unwrap_or("no code").to_string()),
    }
}

/// A plain HTTP/1.1 call to the admin routes: (status, JSON body or Null).
async fn admin(sim: &SimHandle, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut stream = TcpStream::connect(sim.addr()).await.unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let ctype = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/json\r\n"
    };
    let head = format!("{method} {path} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n{ctype}");
    let req = format!("{head}Content-Length: {}\r\n\r\n{body}", body.len());
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let status = raw[9..12].parse().unwrap();
    let payload = raw.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(payload).unwrap_or(Value::Null))
}

const CLI_SCENARIO: &str = r#"
aws:
  quotas:
  - {serviceCode: ec2, quotaCode: L-34B43A08, value: 640}
  - {serviceCode: vpc, quotaCode: L-DF5E4CA3, applied: false}
  schedule:
    rules:
    - {serviceCode: ec2, quotaCode: L-34B43A08, outcome: approve, caseOpenedAfter: 1 polls, closeAfter: 1 polls}
    - {outcome: stay_open, caseOpenedAfter: manual}
"#;
const SPOT: &str = "--service-code ec2 --quota-code L-34B43A08";
const ON_DEMAND: &str = "--service-code ec2 --quota-code L-1216C47A";
const VPC_ENI: &str = "--service-code vpc --quota-code L-DF5E4CA3";
const ECS_INSTANCES: &str = "--service-code ecs --quota-code L-86C34207";

#[tokio::test]
async fn cli_reads_applied_and_default_quotas() {
    let sim = start(CLI_SCENARIO).await;
    let q = &ok(&sim, &format!("get-service-quota {SPOT}")).await["Quota"];
    let name = "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests";
    let arn = "arn:aws:servicequotas:us-east-1:123456789012:ec2/L-34B43A08";
    assert_eq!(
        (&q["Value"], &q["QuotaName"], &q["QuotaArn"]),
        (&json!(640.0), &json!(name), &json!(arn))
    );
    assert_eq!(
        q["ServiceName"],
        "Amazon Elastic Compute Cloud (Amazon EC2)"
    );
    assert_eq!(
        (&q["Adjustable"], &q["GlobalQuota"], &q["Unit"]),
        (&json!(true), &json!(false), &json!("None"))
    );
    assert_eq!(
        q["UsageMetric"]["MetricDimensions"]["Class"],
        "Standard/Spot"
    );

    // No applied value: NoSuchResource, and the default answers instead.
    fails(
        &sim,
        &format!("get-service-quota {VPC_ENI}"),
        "NoSuchResourceException",
    )
    .await;
    let d = &ok(&sim, &format!("get-aws-default-service-quota {VPC_ENI}")).await["Quota"];
    assert_eq!(d["Value"], 5000.0);
    fails(
        &sim,
        &format!("get-service-quota {ECS_INSTANCES}"),
        "NoSuchResourceException",
    )
    .await;
    let d = &ok(
        &sim,
        &format!("get-aws-default-service-quota {ECS_INSTANCES}"),
    )
    .await["Quota"];
    assert_eq!(
        (&d["Value"], &d["Adjustable"]),
        (&json!(5000.0), &json!(false))
    );

    let iam = "get-service-quota --service-code iam --quota-code L-FE177D64";
    let q = &ok(&sim, iam).await["Quota"];
    assert_eq!(
        (&q["Value"], &q["GlobalQuota"]),
        (&json!(1000.0), &json!(true))
    );
    let unknown_service = "get-service-quota --service-code nosuch --quota-code L-1";
    fails(&sim, unknown_service, "NoSuchResourceException").await;
    let unknown_quota = "get-service-quota --service-code ec2 --quota-code L-NOPE";
    fails(&sim, unknown_quota, "NoSuchResourceException").await;

    let services = ok(&sim, "list-services").await;
    let codes: Vec<_> = services["Services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["ServiceCode"])
        .collect();
    for code in [
        "AWSCloudMap",
        "ec2",
        "ecs",
        "elasticloadbalancing",
        "fargate",
        "iam",
        "vpc",
    ] {
        assert!(codes.contains(&&json!(code)), "{code} in {codes:?}");
    }
}

#[tokio::test]
async fn cli_pages_through_list_service_quotas() {
    let sim = start(CLI_SCENARIO).await;
    let ec2 = "list-service-quotas --service-code ec2";
    let first = ok(&sim, &format!("{ec2} --max-items 3 --page-size 2")).await;
    assert_eq!(len(&first["Quotas"]), 3);
    assert_eq!(
        sim.calls("ListServiceQuotas"),
        2,
        "two pages of 2 for 3 items"
    );
    let token = first["NextToken"].as_str().expect("CLI resume token");
    let rest = ok(
        &sim,
        &format!("{ec2} --page-size 4 --starting-token {token}"),
    )
    .await;
    assert!(rest.get("NextToken").is_none());
    let pages = [&first["Quotas"], &rest["Quotas"]];
    let all: Vec<&Value> = pages.iter().flat_map(|p| p.as_array().unwrap()).collect();
    let mut codes: Vec<_> = all
        .iter()
        .map(|q| q["QuotaCode"].as_str().unwrap())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(
        (all.len(), codes.len()),
        (13, 13),
        "every ec2 quota once: {codes:?}"
    );

    let one = ok(&sim, &format!("{ec2} --quota-code L-0263D0A3")).await;
    assert_eq!(len(&one["Quotas"]), 1);
    // Only applied values are listed; the default listing has every quota.
    let applied = ok(&sim, "list-service-quotas --service-code vpc").await;
    assert!(
        !applied["Quotas"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["QuotaCode"] == "L-DF5E4CA3"),
        "{applied}"
    );
    let vpc = ok(&sim, "list-aws-default-service-quotas --service-code vpc").await;
    let enis = vpc["Quotas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["QuotaCode"] == "L-DF5E4CA3")
        .expect("Network interfaces per Region is listed");
    assert_eq!(enis["Value"], 5000.0);
    let unknown = "list-service-quotas --service-code nosuch";
    fails(&sim, unknown, "NoSuchResourceException").await;
    let bad_token = format!("{ec2} --no-paginate --next-token abcd");
    fails(&sim, &bad_token, "InvalidPaginationTokenException").await;
}

/// `--no-support-case-allowed` is `SupportCaseAllowed: false` on the wire: where the rule
/// opens a case, AWS opens none and the request is NOT_APPROVED; the default opens one.
#[tokio::test]
async fn cli_without_a_support_case_is_not_approved_where_a_case_would_open() {
    let sim = start(CLI_SCENARIO).await;
    let increase = "request-service-quota-increase";
    let args = format!("{increase} {SPOT} --desired-value 1000 --no-support-case-allowed");
    let filed = ok(&sim, &args).await;
    let id = filed["RequestedQuota"]["Id"].as_str().unwrap().to_string();
    assert!(!sim.request(&id).unwrap().support_case_allowed);
    let get = format!("get-requested-service-quota-change --request-id {id}");
    assert_eq!(ok(&sim, &get).await["RequestedQuota"]["Status"], "PENDING");
    let refused = ok(&sim, &get).await["RequestedQuota"].clone();
    assert_eq!(refused["Status"], "NOT_APPROVED", "{refused}");
    assert!(refused.get("CaseId").is_none(), "{refused}");

    let args = format!("{increase} {SPOT} --desired-value 1000 --support-case-allowed");
    let filed = ok(&sim, &args).await;
    let id = filed["RequestedQuota"]["Id"].as_str().unwrap().to_string();
    assert!(sim.request(&id).unwrap().support_case_allowed);
    let get = format!("get-requested-service-quota-change --request-id {id}");
    ok(&sim, &get).await;
    assert_eq!(
        ok(&sim, &get).await["RequestedQuota"]["Status"],
        "CASE_OPENED"
    );
}

#[tokio::test]
async fn cli_files_follows_and_is_refused_like_aws() {
    let sim = start(CLI_SCENARIO).await;
    let increase = "request-service-quota-increase";
    let filed = ok(&sim, &format!("{increase} {SPOT} --desired-value 1000")).await;
    let r = &filed["RequestedQuota"];
    assert_eq!(
        (&r["Status"], &r["DesiredValue"]),
        (&json!("PENDING"), &json!(1000.0))
    );
    let arn = "arn:aws:servicequotas:us-east-1:123456789012:ec2/L-34B43A08";
    assert_eq!(
        (&r["QuotaArn"], &r["ServiceCode"]),
        (&json!(arn), &json!("ec2"))
    );
    // AWS CLI v1 prints epoch-seconds timestamps as it received them.
    assert!(
        r["Created"].is_number() && r["LastUpdated"].is_number(),
        "{r}"
    );
    assert!(r.get("CaseId").is_none());
    let id = r["Id"].as_str().unwrap().to_string();

    let again = format!("{increase} {SPOT} --desired-value 2000");
    let err = fails(&sim, &again, "ResourceAlreadyExistsException").await;
    assert!(
        err.contains("Only one open service quota increase request"),
        "{err}"
    );
    let not_more = format!("{increase} {ON_DEMAND} --desired-value 5");
    let err = fails(&sim, &not_more, "IllegalArgumentException").await;
    assert!(
        err.contains("greater than the current quota value"),
        "{err}"
    );
    let fixed = format!("{increase} {ECS_INSTANCES} --desired-value 9000");
    let err = fails(&sim, &fixed, "IllegalArgumentException").await;
    assert!(err.contains("not adjustable"), "{err}");
    ok(&sim, &format!("{increase} {ON_DEMAND} --desired-value 100")).await;
    let third = format!("{increase} --service-code ec2 --quota-code L-0263D0A3 --desired-value 10");
    fails(&sim, &third, "QuotaExceededException").await;

    // The rule says: one read sees PENDING, the next the case, the next the approval.
    let by_quota = format!("list-requested-service-quota-change-history-by-quota {SPOT}");
    let reqs = ok(&sim, &by_quota).await["RequestedQuotas"].clone();
    assert_eq!(
        (len(&reqs), &reqs[0]["Id"], &reqs[0]["Status"]),
        (1, &json!(id), &json!("PENDING"))
    );
    let get = format!("get-requested-service-quota-change --request-id {id}");
    let got = &ok(&sim, &get).await["RequestedQuota"];
    assert_eq!(got["Status"], "CASE_OPENED");
    assert!(got["CaseId"].is_string(), "{got}");
    assert_eq!(ok(&sim, &get).await["RequestedQuota"]["Status"], "APPROVED");
    let q = ok(&sim, &format!("get-service-quota {SPOT}")).await;
    assert_eq!(q["Quota"]["Value"], 1000.0, "approval applies the value");
    let approved = ok(&sim, &format!("{by_quota} --status APPROVED")).await;
    assert_eq!(len(&approved["RequestedQuotas"]), 1);
    let open = "list-requested-service-quota-change-history --status CASE_OPENED";
    assert_eq!(
        len(&ok(&sim, open).await["RequestedQuotas"]),
        0,
        "on-demand stays PENDING"
    );
    let missing = "get-requested-service-quota-change --request-id nosuchrequest";
    fails(&sim, missing, "NoSuchResourceException").await;

    let filed = sim.filed();
    assert_eq!(filed.len(), 2);
    let f = &filed[0];
    assert_eq!(
        (f.id.as_str(), f.account.as_str(), f.region.as_str()),
        (id.as_str(), "123456789012", "us-east-1")
    );
    assert_eq!(
        (f.quota_code.as_str(), f.desired_value),
        ("L-34B43A08", 1000.0)
    );
    assert_eq!(sim.calls("RequestServiceQuotaIncrease"), 6);
    let gets = sim.calls_in(
        "123456789012",
        "us-east-1",
        "GetRequestedServiceQuotaChange",
    );
    assert_eq!(gets, 3);
}

#[tokio::test]
async fn cli_retries_a_throttle_and_reports_it_when_out_of_attempts() {
    let sim = start("aws: {throttles: [{operation: GetServiceQuota, count: 2}]}").await;
    let get = format!("get-service-quota {ON_DEMAND}");
    // botocore classifies TooManyRequestsException (HTTP 400) as a throttle and retries it.
    let out = aws_cli(&sim, &[("AWS_MAX_ATTEMPTS", "2")], &get).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("(TooManyRequestsException)"), "{stderr}");
    assert!(stderr.contains("reached max retries: 1"), "{stderr}");
    assert_eq!(sim.calls("GetServiceQuota"), 2);
    assert_eq!(ok(&sim, &get).await["Quota"]["Value"], 5.0);
}

#[test]
fn scenario_errors_name_the_field() {
    let seed = "{region: us-east-1, serviceCode: ec2, quotaCode: L-0263D0A3, desiredValue: 9";
    let cases = [
        ("aws:\n  acounts: {}\n", "aws.acounts"),
        ("aws:\n  accounts: {AKIDX: '123'}\n", "aws.accounts.AKIDX"),
        ("aws:\n  defaultAccount: abc\n", "aws.defaultAccount"),
        ("aws:\n  noSupportPlan: ['12']\n", "aws.noSupportPlan[0]"),
        (
            "aws:\n  schedule:\n    rules:\n    - outcome: maybe\n",
            "aws.schedule.rules[0].outcome",
        ),
        (
            "aws:\n  schedule:\n    default: {closeAfter: soon}\n",
            "aws.schedule.default.closeAfter",
        ),
        (
            "aws:\n  quotas:\n  - {serviceCode: ec2, quotaCode: L-NOPE, value: 3}\n",
            "aws.quotas[0].quotaName",
        ),
        (
            "aws:\n  quotas:\n  - {serviceCode: ec2, quotaCode: L-0263D0A3, region: x, adjustable: false}\n",
            "aws.quotas[0].account",
        ),
        (
            "aws:\n  quotas:\n  - {serviceCode: ec2, quotaCode: L-0263D0A3, value: lots}\n",
            "aws.quotas[0].value",
        ),
        (
            "aws:\n  throttles:\n  - {operation: GetQuota, count: 1}\n",
            "aws.throttles[0].operation",
        ),
        ("aws:\n  rates: {scale: 0}\n", "aws.rates.scale"),
        (
            "aws:\n  rates: {overrides: {ListThings: {rate: 1, burst: 1}}}\n",
            "aws.rates.overrides.ListThings",
        ),
        (
            "aws:\n  limits: {openPerRegion: -1}\n",
            "aws.limits.openPerRegion",
        ),
        (
            &format!("aws:\n  openRequests:\n  - {seed}, status: APPROVED}}\n"),
            "aws.openRequests[0].status",
        ),
        (
            &format!("aws:\n  openRequests:\n  - {{{}}}\n", &seed[20..]),
            "aws.openRequests[0].region",
        ),
        ("azure: {}\n", "azure"),
    ];
    for (yaml, field) in cases {
        let err = Scenario::from_yaml(yaml).expect_err(yaml);
        assert_eq!(err.field, field, "{yaml} -> {err}");
        assert!(err.to_string().contains(field), "{err}");
    }
    Scenario::from_yaml(quota_sim::EXAMPLE_SCENARIO).expect("the example parses");
}

#[tokio::test]
async fn schedule_moves_pending_case_opened_approved_and_applies_the_value() {
    let rule = "{outcome: approve, caseOpenedAfter: 30ms, closeAfter: 40ms}";
    let sim = start(&format!(
        "aws: {{rates: {{enabled: false}}, schedule: {{default: {rule}}}}}"
    ))
    .await;
    let c = sdk(&sim, "AKIDTEST", "eu-west-1", RetryConfig::disabled());
    let id = file(&c, "fargate", "L-3032A538", 64.0).await.unwrap();
    let mut seen = vec![SdkStatus::Pending];
    let deadline = Instant::now() + Duration::from_secs(10);
    let last = loop {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let got = c
            .get_requested_service_quota_change()
            .request_id(&id)
            .send()
            .await
            .unwrap();
        let r = got.requested_quota().unwrap().clone();
        let s = r.status().unwrap().clone();
        if seen.last() != Some(&s) {
            seen.push(s.clone());
        }
        if s == SdkStatus::Approved || Instant::now() > deadline {
            break r;
        }
    };
    // The case may open and close between two polls; the order may not change.
    use SdkStatus::{Approved, CaseOpened, Pending};
    assert!(
        seen == [Pending, CaseOpened, Approved] || seen == [Pending, Approved],
        "{seen:?}"
    );
    assert!(
        last.case_id().is_some_and(|c| !c.is_empty()),
        "a case was opened: {last:?}"
    );
    // Moves are stamped when due, not when seen: 70ms after filing (epoch seconds travel as
    // JSON floats, so allow for their rounding).
    let took = last.last_updated().unwrap().as_nanos() - last.created().unwrap().as_nanos();
    assert!((took - 70_000_000).abs() < 1_000_000, "{took}ns");
    assert_eq!(applied(&c, "fargate", "L-3032A538").await, Ok(64.0));
    // Another region of the same account did not change.
    let us = sdk(&sim, "AKIDTEST", "us-east-1", RetryConfig::disabled());
    assert_eq!(applied(&us, "fargate", "L-3032A538").await, Ok(6.0));
}

#[tokio::test]
async fn manual_schedule_moves_only_by_admin_calls() {
    let sim = start("aws: {schedule: {manual: true}}").await;
    let c = sdk(&sim, "AKIDTEST", "us-east-1", RetryConfig::disabled());
    let id = file(&c, "ec2", "L-0263D0A3", 20.0).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(sim.request(&id).unwrap().status, RequestStatus::Pending);

    // Rust control: the default rule opens a case, then approves.
    assert_eq!(sim.advance(&id).unwrap().status, RequestStatus::CaseOpened);
    assert_eq!(sim.advance(&id).unwrap().status, RequestStatus::Approved);
    assert!(sim.advance(&id).is_err(), "nothing after APPROVED");
    let value = sim.value("123456789012", "us-east-1", "ec2", "L-0263D0A3");
    assert_eq!(value.unwrap(), (Some(20.0), 5.0));

    // HTTP control: seed a console request, see it refused as a duplicate, deny it.
    let seed = json!({"region": "us-east-1", "serviceCode": "ec2", "quotaCode": "L-1216C47A",
                      "desiredValue": 256, "status": "CASE_OPENED"});
    let (status, seeded) = admin(&sim, "POST", "/_sim/aws/requests", Some(seed)).await;
    assert_eq!(
        (status, &seeded["status"], &seeded["source"]),
        (200, &json!("CASE_OPENED"), &json!("console"))
    );
    let seed_id = seeded["id"].as_str().unwrap().to_string();
    let dup = file(&c, "ec2", "L-1216C47A", 300.0).await;
    assert_eq!(dup.unwrap_err(), "ResourceAlreadyExistsException");
    let hist = c
        .list_requested_service_quota_change_history_by_quota()
        .service_code("ec2");
    let hist = hist
        .quota_code("L-1216C47A")
        .status(SdkStatus::CaseOpened)
        .send()
        .await
        .unwrap();
    assert_eq!(hist.requested_quotas()[0].id(), Some(seed_id.as_str()));
    let deny = Some(json!({"status": "CASE_CLOSED", "message": "no"}));
    let (status, denied) = admin(
        &sim,
        "POST",
        &format!("/_sim/aws/requests/{seed_id}/deny"),
        deny,
    )
    .await;
    assert_eq!(
        (status, &denied["status"], &denied["message"]),
        (200, &json!("CASE_CLOSED"), &json!("no"))
    );
    let (status, _) = admin(&sim, "POST", "/_sim/aws/requests/nosuch/approve", None).await;
    assert_eq!(status, 404);

    let eni = "/_sim/aws/values/123456789012/us-east-1/vpc/L-DF5E4CA3";
    let (status, _) = admin(&sim, "PUT", eni, Some(json!({"value": 6000}))).await;
    assert_eq!(status, 200);
    let (_, v) = admin(&sim, "GET", eni, None).await;
    assert_eq!(
        (&v["applied"], &v["default"]),
        (&json!(6000.0), &json!(5000.0))
    );
    assert_eq!(applied(&c, "vpc", "L-DF5E4CA3").await, Ok(6000.0));

    let (_, filed) = admin(&sim, "GET", "/_sim/aws/filed", None).await;
    assert_eq!(len(&filed), 2);
    assert_eq!(
        (&filed[0]["desiredValue"], &filed[1]["source"]),
        (&json!(20.0), &json!("console"))
    );
    let (_, calls) = admin(&sim, "GET", "/_sim/aws/calls", None).await;
    assert_eq!(calls["totals"]["RequestServiceQuotaIncrease"], 2);
    assert_eq!(calls["byScope"][0]["account"], "123456789012");
    assert_eq!(
        admin(&sim, "POST", "/_sim/aws/calls/reset", None).await.0,
        204
    );
    assert_eq!(sim.calls("RequestServiceQuotaIncrease"), 0);
    let (status, routes) = admin(&sim, "GET", "/_sim", None).await;
    assert!(status == 200 && len(&routes) > 5, "{routes}");
}

#[tokio::test]
async fn accounts_come_from_access_keys_and_regions_from_the_scope() {
    let sim = start(
        r#"
aws:
  accounts: {AKIDPROD: "111111111111", AKIDDEV: "222222222222"}
  rejectUnknownKeys: true
  quotas: [{serviceCode: ec2, quotaCode: L-34B43A08, account: "111111111111", region: eu-west-1, value: 1280}]
"#,
    )
    .await;
    let no_retry = RetryConfig::disabled;
    let prod = sdk(&sim, "AKIDPROD", "eu-west-1", no_retry());
    let dev = sdk(&sim, "AKIDDEV", "eu-west-1", no_retry());
    let q = prod
        .get_service_quota()
        .service_code("ec2")
        .quota_code("L-34B43A08")
        .send()
        .await
        .unwrap();
    let arn = "arn:aws:servicequotas:eu-west-1:111111111111:ec2/L-34B43A08";
    assert_eq!(
        (q.quota().unwrap().value(), q.quota().unwrap().quota_arn()),
        (Some(1280.0), Some(arn))
    );
    assert_eq!(applied(&dev, "ec2", "L-34B43A08").await, Ok(5.0));

    let id = file(&prod, "ec2", "L-34B43A08", 2000.0).await.unwrap();
    let err = dev
        .get_requested_service_quota_change()
        .request_id(&id)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .unwrap()
            .is_no_such_resource_exception(),
        "{err:?}"
    );
    let hist = dev
        .list_requested_service_quota_change_history()
        .send()
        .await
        .unwrap();
    assert!(hist.requested_quotas().is_empty());
    // The same account in another region does not see it.
    let prod_us = sdk(&sim, "AKIDPROD", "us-east-1", no_retry());
    let hist = prod_us
        .list_requested_service_quota_change_history()
        .send()
        .await
        .unwrap();
    assert!(hist.requested_quotas().is_empty());

    let stranger = sdk(&sim, "AKIDSTRANGER", "eu-west-1", no_retry());
    let err = stranger.list_services().send().await.unwrap_err();
    assert_eq!(err.code(), Some("UnrecognizedClientException"));
    assert_eq!(
        sim.calls_in("111111111111", "eu-west-1", "RequestServiceQuotaIncrease"),
        1
    );

    // Paging tokens belong to their query.
    let list = prod.list_aws_default_service_quotas().service_code("ec2");
    let page = list.max_results(2).send().await.unwrap();
    assert_eq!(page.quotas().len(), 2);
    let other = prod
        .list_aws_default_service_quotas()
        .service_code("fargate");
    let err = other
        .next_token(page.next_token().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidPaginationTokenException"));
    let err = prod
        .list_services()
        .max_results(101)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("IllegalArgumentException"));
}

/// Calls `op` 40 times as fast as it answers; (admitted, seconds taken). Any refusal must
/// be a throttle.
async fn burst<F, Fut>(mut op: F) -> (usize, f64)
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let start = Instant::now();
    let mut admitted = 0;
    for i in 0..40 {
        match op(i).await {
            Ok(()) => admitted += 1,
            Err(code) => assert_eq!(code, "TooManyRequestsException"),
        }
    }
    (admitted, start.elapsed().as_secs_f64())
}

#[tokio::test]
async fn throttles_at_the_documented_rates() {
    let sim = start("aws: {limits: {openPerRegion: 100, openPerAccount: 100}}").await;
    let c = sdk(&sim, "AKIDTEST", "us-east-1", RetryConfig::disabled());
    let (admitted, secs) = burst(|_| {
        let c = c.clone();
        async move { applied(&c, "ec2", "L-1216C47A").await.map(|_| ()) }
    })
    .await;
    // Burst 5, then 5 per second; the bucket only fills with time, so this bound is exact.
    assert!(
        admitted >= 5 && admitted as f64 <= 5.0 + 5.0 * secs + 1.0,
        "{admitted} in {secs}s"
    );
    assert!(admitted < 40 || secs > 7.0, "some calls were throttled");
    assert_eq!(sim.calls("GetServiceQuota"), 40);

    let codes = [
        "L-34B43A08",
        "L-3819A6DF",
        "L-7212CCBC",
        "L-C4BD4855",
        "L-88CF9481",
    ];
    let (admitted, secs) = burst(|i| {
        let c = c.clone();
        async move {
            match file(&c, "ec2", codes[i % codes.len()], 1e6).await {
                Err(code) if code == "ResourceAlreadyExistsException" => Ok(()),
                other => other.map(|_| ()),
            }
        }
    })
    .await;
    // Burst 3, then 3 per second.
    assert!(
        admitted >= 3 && admitted as f64 <= 3.0 + 3.0 * secs + 1.0,
        "{admitted} in {secs}s"
    );
    // Each region has its own buckets.
    let eu = sdk(&sim, "AKIDTEST", "eu-west-1", RetryConfig::disabled());
    assert_eq!(applied(&eu, "ec2", "L-1216C47A").await, Ok(5.0));
}

#[tokio::test]
async fn sdk_retries_injected_throttles() {
    let sim = start("aws: {rates: {enabled: false}}").await;
    let operation = "ListServices".to_string();
    let injection = ThrottleInjection {
        operation,
        count: 2,
        account: None,
        region: None,
        every: None,
    };
    sim.inject_throttles(injection).unwrap();
    let retry = RetryConfig::standard().with_max_attempts(3);
    let c = sdk(
        &sim,
        "AKIDTEST",
        "us-east-1",
        retry.with_initial_backoff(Duration::from_millis(1)),
    );
    let services = c
        .list_services()
        .send()
        .await
        .expect("the SDK retries the throttles");
    assert!(!services.services().is_empty());
    assert_eq!(sim.calls("ListServices"), 3);
    let counts = sim.counters();
    assert_eq!((counts[0].throttled, counts[0].errors), (2, 2));
}

/// The quota request template on the CLI's wire shapes: put (add and change), list, delete,
/// the association, and AWS's refusals: another region, a full template, a quota that does
/// not exist, an entry not there, an account in no organization.
#[tokio::test]
async fn cli_keeps_a_quota_request_template_like_aws() {
    let sim = start(
        r#"
aws:
  quotaTemplate:
    limit: 2
    disassociated: ["123456789012"]
"#,
    )
    .await;
    let put = "put-service-quota-increase-request-into-template";
    let spot = format!("{put} {SPOT} --aws-region eu-west-1 --desired-value 2000");
    let entry = &ok(&sim, &spot).await["ServiceQuotaIncreaseRequestInTemplate"];
    assert_eq!(
        (
            &entry["QuotaCode"],
            &entry["AwsRegion"],
            &entry["DesiredValue"]
        ),
        (&json!("L-34B43A08"), &json!("eu-west-1"), &json!(2000.0))
    );
    assert!(entry["QuotaName"].as_str().is_some_and(|n| !n.is_empty()));
    let changed = format!("{put} {SPOT} --aws-region eu-west-1 --desired-value 3000");
    ok(&sim, &changed).await;
    let on_demand = format!("{put} {ON_DEMAND} --aws-region us-east-1 --desired-value 64");
    ok(&sim, &on_demand).await;
    let list = "list-service-quota-increase-requests-in-template";
    let all = ok(&sim, list).await["ServiceQuotaIncreaseRequestInTemplateList"].clone();
    assert_eq!(len(&all), 2, "{all}");
    let eu = ok(&sim, &format!("{list} --aws-region eu-west-1")).await;
    let eu = &eu["ServiceQuotaIncreaseRequestInTemplateList"];
    assert_eq!((len(eu), &eu[0]["DesiredValue"]), (1, &json!(3000.0)));

    let third = format!("{put} {VPC_ENI} --aws-region us-east-1 --desired-value 10");
    fails(&sim, &third, "QuotaExceededException").await;
    let elsewhere = format!("{list} --region eu-west-1");
    fails(&sim, &elsewhere, "TemplatesNotAvailableInRegionException").await;
    let unknown = format!(
        "{put} --service-code ec2 --quota-code L-NOPE --aws-region us-east-1 --desired-value 1"
    );
    fails(&sim, &unknown, "NoSuchResourceException").await;

    let delete = "delete-service-quota-increase-request-from-template";
    let deleted = aws_cli(
        &sim,
        &[],
        &format!("{delete} {SPOT} --aws-region eu-west-1"),
    )
    .await;
    assert!(deleted.status.success(), "{deleted:?}");
    fails(
        &sim,
        &format!("{delete} {SPOT} --aws-region eu-west-1"),
        "NoSuchResourceException",
    )
    .await;
    let left = ok(&sim, list).await["ServiceQuotaIncreaseRequestInTemplateList"].clone();
    assert_eq!(
        (len(&left), &left[0]["QuotaCode"]),
        (1, &json!("L-1216C47A"))
    );

    let association = ok(&sim, "get-association-for-service-quota-template").await;
    assert_eq!(
        association["ServiceQuotaTemplateAssociationStatus"],
        "DISASSOCIATED"
    );

    let alone = start("aws:\n  quotaTemplate:\n    noOrganization: [\"123456789012\"]\n").await;
    let out = aws_cli(&alone, &[], "get-association-for-service-quota-template").await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("(NoAvailableOrganizationException)"),
        "{stderr}"
    );
    let fresh = start("aws: {}\n").await;
    let association = ok(&fresh, "get-association-for-service-quota-template").await;
    assert_eq!(
        association["ServiceQuotaTemplateAssociationStatus"],
        "ASSOCIATED"
    );
}

const SUPPORT_SCENARIO: &str = r#"
aws:
  accounts: {AKIDTESTEXAMPLE: "111111111111", AKIDNOPLANEXAMPLE: "222222222222"}
  noSupportPlan: ["222222222222"]
  quotas:
  - {serviceCode: ec2, quotaCode: L-34B43A08, value: 640}
  schedule:
    rules:
    - {outcome: stay_open, caseOpenedAfter: 1 polls, question: "Which instance types will you run?"}
"#;

/// Runs `aws support <args>` against the simulator as `key`.
async fn support_cli(sim: &SimHandle, key: &str, args: &str) -> Output {
    let args: Vec<&str> = std::iter::once("support")
        .chain(args.split_whitespace())
        .collect();
    support::run(&sim.endpoint(), &[("AWS_ACCESS_KEY_ID", key)], &args).await
}

async fn support_ok(sim: &SimHandle, args: &str) -> Value {
    let out = support_cli(sim, "AKIDTESTEXAMPLE", args).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "aws support {args} failed: {stderr}");
    serde_json::from_slice(&out.stdout).expect("CLI JSON output")
}

/// A request that opens a case gets a Support case of the same id, which the CLI reads with
/// its messages (AWS's question newest first); a reply completes the customer's action and is
/// counted; an unknown case and an account without a support plan answer as AWS does.
#[tokio::test]
async fn cli_reads_and_answers_the_support_case_of_a_request() {
    let sim = start(SUPPORT_SCENARIO).await;
    let filed = ok(
        &sim,
        &format!("request-service-quota-increase {SPOT} --desired-value 1000"),
    )
    .await;
    let id = filed["RequestedQuota"]["Id"].as_str().unwrap().to_string();
    let get = format!("get-requested-service-quota-change --request-id {id}");
    ok(&sim, &get).await;
    let opened = ok(&sim, &get).await["RequestedQuota"].clone();
    assert_eq!(opened["Status"], "CASE_OPENED", "{opened}");
    let case_id = opened["CaseId"].as_str().unwrap().to_string();

    let args = format!("describe-cases --case-id-list {case_id} --include-communications");
    let cases = support_ok(&sim, &args).await;
    let case = &cases["cases"][0];
    assert_eq!(len(&cases["cases"]), 1, "{cases}");
    assert_eq!(case["caseId"], case_id.as_str());
    assert_eq!(case["displayId"], case_id.as_str());
    assert_eq!(case["status"], "pending-customer-action");
    assert_eq!(case["serviceCode"], "service-limit-increase");
    assert!(
        case["timeCreated"].as_str().unwrap().ends_with('Z'),
        "{case}"
    );
    assert_eq!(case["submittedBy"], "arn:aws:iam::111111111111:root");
    let recent = &case["recentCommunications"]["communications"];
    assert_eq!(recent[0]["submittedBy"], "Amazon Web Services", "{recent}");
    assert_eq!(recent[0]["body"], "Which instance types will you run?");

    let comms = support_ok(
        &sim,
        &format!("describe-communications --case-id {case_id}"),
    )
    .await;
    assert_eq!(len(&comms["communications"]), 2, "{comms}");
    let after = comms["communications"][0]["timeCreated"]
        .as_str()
        .unwrap()
        .to_string();
    let args = format!("describe-communications --case-id {case_id} --after-time {after}");
    assert_eq!(len(&support_ok(&sim, &args).await["communications"]), 1);

    let args =
        format!("add-communication-to-case --case-id {case_id} --communication-body m5.large");
    assert_eq!(support_ok(&sim, &args).await["result"], true);
    assert_eq!(sim.aws().case_replies(&case_id), 1);
    let args = format!("describe-cases --case-id-list {case_id}");
    let status = &support_ok(&sim, &args).await["cases"][0]["status"];
    assert_eq!(status, "customer-action-completed");

    let missing = support_cli(
        &sim,
        "AKIDTESTEXAMPLE",
        "describe-cases --case-id-list case-nope",
    )
    .await;
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("(CaseIdNotFound)"), "{stderr}");

    let (status, cases) = admin(&sim, "GET", "/_sim/aws/cases", None).await;
    assert_eq!(
        (status, cases[0]["replies"].as_u64()),
        (200, Some(1)),
        "{cases}"
    );
    let ask = |id: &str| format!("/_sim/aws/cases/{id}/ask");
    let (status, _) = admin(&sim, "POST", &ask("nope"), Some(json!({"body": "why?"}))).await;
    assert_eq!(status, 404, "no such case");
    let (status, _) = admin(&sim, "POST", &ask(&case_id), Some(json!({"body": " "}))).await;
    assert_eq!(status, 400, "an empty question");
    let (status, asked) = admin(
        &sim,
        "POST",
        &ask(&case_id),
        Some(json!({"body": "And c5?"})),
    )
    .await;
    assert_eq!(
        (status, &asked["status"]),
        (200, &json!("pending-customer-action"))
    );

    let no_plan = support_cli(&sim, "AKIDNOPLANEXAMPLE", "describe-cases").await;
    let stderr = String::from_utf8_lossy(&no_plan.stderr);
    assert!(!no_plan.status.success());
    assert!(
        stderr.contains("(SubscriptionRequiredException)")
            && stderr.contains("AWS Premium Support Subscription is required to use this service."),
        "{stderr}"
    );
}
