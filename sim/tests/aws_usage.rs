//! Usage on the AWS side through the official Rust SDKs and the AWS CLI: UsageMetric on
//! quotas, quota utilisation reports, the Automatic Management configuration, requests AWS
//! files itself, and CloudWatch GetMetricData over the quotas' usage shapes.

use std::time::Duration;

use aws_sdk_cloudwatch::{
    primitives::DateTime,
    types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy},
};
use aws_sdk_servicequotas::{
    config::{BehaviorVersion, Credentials, Region, retry::RetryConfig},
    error::ProvideErrorMetadata,
    types::{OptInStatus, OptInType, ReportStatus, RequestStatus as SdkStatus, RequestType},
};
#[path = "support/aws.rs"]
mod support;

use quota_sim::{AwsControl, SimHandle, Usage, aws::AutoAdjustRequest};
use serde_json::{Value, json};

const ACCOUNT: &str = "123456789012";
const OPTED: &str = "111111111111";
const ON_DEMAND: &str = "L-1216C47A";
const SPOT: &str = "L-34B43A08";

const SCENARIO: &str = r#"
aws:
  accounts: {AKIDOPTED: "111111111111"}
  rates: {enabled: false}
  schedule: {manual: true}
  utilizationReport: {pendingFor: 1 poll, inProgressFor: 1 poll}
  quotas:
  - {serviceCode: ec2, quotaCode: L-1216C47A, value: 1000, usage: {shape: growth, start: 500, perDay: 1440}}
  - {serviceCode: ec2, quotaCode: L-34B43A08, value: 100, usage: {shape: flat, value: 90}}
  - {serviceCode: ec2, quotaCode: L-DB2E81BA, value: 64, usage: {shape: spike, base: 8, peak: 60, at: 2h, width: 30m}}
  - serviceCode: lambda
    quotaCode: L-B99A9384
    quotaName: Concurrent executions
    default: 1000
  - {serviceCode: lambda, quotaCode: L-B99A9384, usage: 250}
  autoManagement:
  - account: "111111111111"
    optInType: NotifyAndAdjust
    notificationArn: "arn:aws:notifications::111111111111:configuration/quota-alerts"
    exclusions: {ec2: [L-0263D0A3]}
"#;

fn creds(key: &str) -> Credentials {
    Credentials::new(key, "not-checked", None, None, "sim-test")
}

fn quotas(sim: &SimHandle, key: &str) -> aws_sdk_servicequotas::Client {
    let conf = aws_sdk_servicequotas::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(creds(key))
        .endpoint_url(sim.endpoint())
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_servicequotas::Client::from_conf(conf)
}

fn cloudwatch(sim: &SimHandle, key: &str) -> aws_sdk_cloudwatch::Client {
    let conf = aws_sdk_cloudwatch::Config::builder()
        .behavior_version(aws_sdk_cloudwatch::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudwatch::config::Region::new("us-east-1"))
        .credentials_provider(creds(key))
        .endpoint_url(sim.endpoint())
        .retry_config(aws_sdk_cloudwatch::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_cloudwatch::Client::from_conf(conf)
}

/// AWS/Usage ResourceCount for an EC2 vCPU class, as AWS names it in UsageMetric.
fn vcpu_metric(class: &str) -> Metric {
    let dims = [
        ("Service", "EC2"),
        ("Type", "Resource"),
        ("Resource", "vCPU"),
        ("Class", class),
    ];
    let mut m = Metric::builder()
        .namespace("AWS/Usage")
        .metric_name("ResourceCount");
    for (name, value) in dims {
        m = m.dimensions(Dimension::builder().name(name).value(value).build());
    }
    m.build()
}

fn query(id: &str, metric: Metric, period: i32, stat: &str) -> MetricDataQuery {
    let stat = MetricStat::builder()
        .metric(metric)
        .period(period)
        .stat(stat)
        .build();
    MetricDataQuery::builder().id(id).metric_stat(stat).build()
}

fn ago(secs: i64) -> DateTime {
    let now = jiff::Timestamp::now().as_second();
    DateTime::from_secs(now - secs)
}

#[tokio::test]
async fn vcpu_quotas_name_their_usage_metric() {
    let sim = support::start(SCENARIO).await;
    let c = quotas(&sim, "AKID");
    let q = c
        .get_service_quota()
        .service_code("ec2")
        .quota_code(ON_DEMAND)
        .send()
        .await
        .unwrap();
    let m = q.quota().unwrap().usage_metric().unwrap();
    assert_eq!(m.metric_namespace(), Some("AWS/Usage"));
    assert_eq!(m.metric_name(), Some("ResourceCount"));
    assert_eq!(m.metric_statistic_recommendation(), Some("Maximum"));
    let dims = m.metric_dimensions().unwrap();
    assert_eq!(
        dims.get("Class").map(String::as_str),
        Some("Standard/OnDemand")
    );
    assert_eq!(dims.get("Resource").map(String::as_str), Some("vCPU"));
    assert_eq!(dims.get("Service").map(String::as_str), Some("EC2"));
    assert_eq!(dims.get("Type").map(String::as_str), Some("Resource"));
    let listed = c
        .list_service_quotas()
        .service_code("ec2")
        .quota_code(SPOT)
        .send()
        .await
        .unwrap();
    let dims = listed.quotas()[0]
        .usage_metric()
        .unwrap()
        .metric_dimensions()
        .unwrap();
    assert_eq!(dims.get("Class").map(String::as_str), Some("Standard/Spot"));
    // Elastic IPs publish no usage here; the Lambda quota has usage, so a stand-in metric.
    let eip = c
        .get_service_quota()
        .service_code("ec2")
        .quota_code("L-0263D0A3")
        .send()
        .await
        .unwrap();
    assert!(eip.quota().unwrap().usage_metric().is_none());
    let lambda = c
        .list_service_quotas()
        .service_code("lambda")
        .send()
        .await
        .unwrap();
    let dims = lambda.quotas()[0]
        .usage_metric()
        .unwrap()
        .metric_dimensions()
        .unwrap();
    assert_eq!(dims.get("Resource").map(String::as_str), Some("L-B99A9384"));
}

async fn report(
    c: &aws_sdk_servicequotas::Client,
    id: &str,
    max: Option<i32>,
    token: Option<String>,
) -> Result<
    aws_sdk_servicequotas::operation::get_quota_utilization_report::GetQuotaUtilizationReportOutput,
    String,
> {
    c.get_quota_utilization_report()
        .report_id(id)
        .set_max_results(max)
        .set_next_token(token)
        .send()
        .await
        .map_err(|e| e.code().unwrap_or("no code").to_string())
}

#[tokio::test]
async fn utilization_reports_move_to_completed_and_page_by_utilisation() {
    let sim = support::start(SCENARIO).await;
    let c = quotas(&sim, "AKID");
    let started = c.start_quota_utilization_report().send().await.unwrap();
    assert_eq!(started.status(), Some(&ReportStatus::Pending));
    let id = started.report_id().unwrap().to_string();
    // One poll sees PENDING, one IN_PROGRESS, then COMPLETED (`1 poll` each).
    let first = report(&c, &id, None, None).await.unwrap();
    assert_eq!(first.status(), Some(&ReportStatus::Pending));
    assert!(first.quotas().is_empty());
    let second = report(&c, &id, None, None).await.unwrap();
    assert_eq!(second.status(), Some(&ReportStatus::InProgress));
    let done = report(&c, &id, None, None).await.unwrap();
    assert_eq!(done.status(), Some(&ReportStatus::Completed));
    assert!(done.generated_at().is_some());
    // Only quotas with usage; highest utilisation first (spot 90 %, on-demand ~50 %, ...).
    let codes: Vec<&str> = done
        .quotas()
        .iter()
        .filter_map(|q| q.quota_code())
        .collect();
    assert_eq!(codes, [SPOT, ON_DEMAND, "L-B99A9384", "L-DB2E81BA"]);
    assert_eq!(done.total_count(), Some(4));
    let spot = &done.quotas()[0];
    assert_eq!(spot.utilization(), Some(90.0));
    assert_eq!(
        (spot.applied_value(), spot.default_value()),
        (Some(100.0), Some(5.0))
    );
    assert_eq!(spot.namespace(), Some("AWS/Usage"));
    assert!(spot.adjustable());
    assert!(spot.service_name().is_some() && spot.quota_name().is_some());

    // Pages of one, and the token goes on.
    let p1 = report(&c, &id, Some(1), None).await.unwrap();
    assert_eq!(p1.quotas().len(), 1);
    let p2 = report(&c, &id, Some(3), p1.next_token().map(String::from))
        .await
        .unwrap();
    assert_eq!(p2.quotas().len(), 3);
    assert!(p2.next_token().is_none());
    assert_eq!(
        report(&c, &id, Some(1001), None).await.unwrap_err(),
        "IllegalArgumentException"
    );
    assert_eq!(
        report(&c, &id, Some(1), Some("bad".into()))
            .await
            .unwrap_err(),
        "InvalidPaginationTokenException"
    );
    // Unknown ids, and another account's report, are NoSuchResource.
    assert_eq!(
        report(&c, "nope", None, None).await.unwrap_err(),
        "NoSuchResourceException"
    );
    let other = quotas(&sim, "AKIDOPTED");
    assert_eq!(
        report(&other, &id, None, None).await.unwrap_err(),
        "NoSuchResourceException"
    );
    assert_eq!(
        sim.calls_in(ACCOUNT, "us-east-1", "GetQuotaUtilizationReport"),
        8
    );
    assert_eq!(
        sim.calls_in(OPTED, "us-east-1", "GetQuotaUtilizationReport"),
        1
    );
}

#[tokio::test]
async fn reports_expire() {
    let yaml = "aws:\n  utilizationReport: {pendingFor: 0, inProgressFor: 0, expiresAfter: 1s}\n  \
                quotas:\n  - {serviceCode: ec2, quotaCode: L-1216C47A, usage: 3}\n";
    let sim = support::start(yaml).await;
    let c = quotas(&sim, "AKID");
    let id = c.start_quota_utilization_report().send().await.unwrap();
    let id = id.report_id().unwrap();
    let done = report(&c, id, None, None).await.unwrap();
    assert_eq!(done.status(), Some(&ReportStatus::Completed));
    assert_eq!(done.quotas()[0].utilization(), Some(60.0));
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(
        report(&c, id, None, None).await.unwrap_err(),
        "NoSuchResourceException"
    );
}

#[tokio::test]
async fn auto_management_configuration_per_account() {
    let sim = support::start(SCENARIO).await;
    let opted = quotas(&sim, "AKIDOPTED")
        .get_auto_management_configuration()
        .send()
        .await
        .unwrap();
    assert_eq!(opted.opt_in_type(), Some(&OptInType::NotifyAndAdjust));
    assert_eq!(opted.opt_in_status(), Some(&OptInStatus::Enabled));
    assert!(opted.notification_arn().unwrap().contains("quota-alerts"));
    let excluded = &opted.exclusion_list().unwrap()["ec2"];
    assert_eq!(excluded[0].quota_code(), Some("L-0263D0A3"));
    assert_eq!(excluded[0].quota_name(), Some("EC2-VPC Elastic IPs"));
    let never = quotas(&sim, "AKID")
        .get_auto_management_configuration()
        .send()
        .await
        .unwrap();
    assert_eq!(never.opt_in_status(), Some(&OptInStatus::Disabled));
    assert!(never.opt_in_type().is_none());
    let strict = support::start("aws: {autoManagementDefault: noSuchResource}").await;
    let err = quotas(&strict, "AKID")
        .get_auto_management_configuration()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("NoSuchResourceException"));
}

fn auto(account: &str, code: &str) -> AutoAdjustRequest {
    AutoAdjustRequest {
        account: Some(account.into()),
        region: "us-east-1".into(),
        service_code: "ec2".into(),
        quota_code: code.into(),
        desired_value: None,
    }
}

#[tokio::test]
async fn requests_aws_files_itself_are_open_requests_like_any_other() {
    let sim = support::start(SCENARIO).await;
    let ctl: &AwsControl = &sim;
    // Not opted in, or excluded: AWS files nothing.
    assert!(ctl.auto_adjust(auto(ACCOUNT, SPOT)).is_err());
    assert!(ctl.auto_adjust(auto(OPTED, "L-0263D0A3")).is_err());
    let req = ctl.auto_adjust(auto(OPTED, SPOT)).unwrap();
    // 20 % above the current value (the scenario's 100).
    assert_eq!(req.desired_value, 120.0);
    let c = quotas(&sim, "AKIDOPTED");
    let got = c
        .get_requested_service_quota_change()
        .request_id(&req.id)
        .send()
        .await
        .unwrap();
    let got = got.requested_quota().unwrap();
    assert_eq!(got.request_type(), Some(&RequestType::AutomaticManagement));
    assert_eq!(got.status(), Some(&SdkStatus::Pending));
    assert!(got.case_id().is_none());
    assert!(
        got.requester()
            .unwrap()
            .contains("servicequotas.amazonaws.com")
    );
    let history = c
        .list_requested_service_quota_change_history_by_quota()
        .service_code("ec2")
        .quota_code(SPOT)
        .send()
        .await
        .unwrap();
    assert_eq!(
        history.requested_quotas()[0].request_type(),
        Some(&RequestType::AutomaticManagement)
    );
    // The operator must adopt it: a second request for the quota is refused.
    let dup = c
        .request_service_quota_increase()
        .service_code("ec2")
        .quota_code(SPOT)
        .desired_value(200.0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(dup.code(), Some("ResourceAlreadyExistsException"));
    assert!(
        ctl.auto_adjust(auto(OPTED, SPOT)).is_err(),
        "AWS files no duplicate"
    );
    // It resolves by the usual admin moves.
    ctl.approve(&req.id).unwrap();
    assert_eq!(
        ctl.value(OPTED, "us-east-1", "ec2", SPOT).unwrap().0,
        Some(120.0)
    );
    let all = c
        .list_requested_service_quota_change_history()
        .send()
        .await
        .unwrap();
    let r = &all.requested_quotas()[0];
    assert_eq!(
        (r.status(), r.request_type()),
        (
            Some(&SdkStatus::Approved),
            Some(&RequestType::AutomaticManagement)
        )
    );
    // A request the operator files carries no RequestType.
    let mine = c
        .request_service_quota_increase()
        .service_code("ec2")
        .quota_code(ON_DEMAND)
        .desired_value(2000.0)
        .send()
        .await
        .unwrap();
    assert!(mine.requested_quota().unwrap().request_type().is_none());
    // Over HTTP.
    let (status, body) = admin(&sim, "POST", "/_sim/aws/auto-adjust", Some(json!({
        "account": OPTED, "region": "eu-west-1", "serviceCode": "ec2", "quotaCode": SPOT, "desiredValue": 300
    }))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["source"].as_str(), body["desiredValue"].as_f64()),
        (Some("automaticManagement"), Some(300.0))
    );
}

/// A plain HTTP/1.1 call to the admin routes: (status, JSON body or Null).
async fn admin(sim: &SimHandle, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\nContent-Type: application/json\r\n"
    );
    let req = format!("{head}Content-Length: {}\r\n\r\n{body}", body.len());
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let status = raw[9..12].parse().unwrap();
    let payload = raw.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(payload).unwrap_or(Value::Null))
}

#[tokio::test]
async fn get_metric_data_answers_usage_per_period() {
    let sim = support::start(SCENARIO).await;
    let cw = cloudwatch(&sim, "AKID");
    let out = cw
        .get_metric_data()
        .metric_data_queries(query(
            "ondemand",
            vcpu_metric("Standard/OnDemand"),
            3600,
            "Maximum",
        ))
        .metric_data_queries(query("spot", vcpu_metric("Standard/Spot"), 300, "Average"))
        .metric_data_queries(query("nothing", vcpu_metric("X/Spot"), 60, "Maximum"))
        .start_time(ago(3 * 3600))
        .end_time(ago(0))
        .send()
        .await
        .unwrap();
    let results = out.metric_data_results();
    assert_eq!(results.len(), 3);
    let on_demand = &results[0];
    assert_eq!(on_demand.id(), Some("ondemand"));
    assert_eq!(on_demand.label(), Some("ResourceCount"));
    assert_eq!(
        on_demand.status_code().map(|s| s.as_str()),
        Some("Complete")
    );
    // Hourly maxima of a growth of one a minute, newest first (TimestampDescending).
    let v = on_demand.values();
    assert!(v.len() >= 3, "{v:?}");
    assert!(v.windows(2).all(|w| w[0] > w[1]), "{v:?}");
    assert!((499.0..=501.0).contains(&v[0]), "{v:?}");
    let ts = on_demand.timestamps();
    assert!(ts.windows(2).all(|w| w[0].secs() - w[1].secs() == 3600));
    assert!(ts.iter().all(|t| t.secs() % 3600 == 0));
    assert!(results[1].values().iter().all(|v| *v == 90.0));
    // A metric no quota publishes: an empty result, not an error.
    assert!(results[2].values().is_empty() && results[2].timestamps().is_empty());

    // SampleCount over 5-minute buckets counts the one-minute samples; ascending on request.
    let count = cw
        .get_metric_data()
        .metric_data_queries(query("n", vcpu_metric("Standard/Spot"), 300, "SampleCount"))
        .start_time(DateTime::from_secs(ago(3600).secs() / 300 * 300))
        .end_time(DateTime::from_secs(ago(600).secs() / 300 * 300))
        .scan_by(ScanBy::TimestampAscending)
        .send()
        .await
        .unwrap();
    let r = &count.metric_data_results()[0];
    assert!(r.values().iter().all(|v| *v == 5.0), "{:?}", r.values());
    assert!(r.timestamps().windows(2).all(|w| w[0] < w[1]));
    // The spike: its peak shows in the maximum of the 4 hours around it, the base after.
    let spike = cw
        .get_metric_data()
        .metric_data_queries(query("g", vcpu_metric("G/OnDemand"), 3600, "Maximum"))
        .metric_data_queries(query("gmin", vcpu_metric("G/OnDemand"), 3600, "Minimum"))
        .start_time(ago(4 * 3600))
        .end_time(ago(0))
        .send()
        .await
        .unwrap();
    let max = spike.metric_data_results()[0].values();
    assert!(max.contains(&60.0) && max.contains(&8.0), "{max:?}");
    assert!(
        spike.metric_data_results()[1]
            .values()
            .iter()
            .all(|v| *v == 8.0)
    );
    assert_eq!(sim.calls_in(ACCOUNT, "us-east-1", "GetMetricData"), 3);
    assert_eq!(sim.calls_in(OPTED, "us-east-1", "GetMetricData"), 0);
}

#[tokio::test]
async fn get_metric_data_pages_by_max_datapoints() {
    let sim = support::start(SCENARIO).await;
    let cw = cloudwatch(&sim, "AKID");
    // Fixed once: a token is bound to the query that made it, times included.
    let end = ago(0).secs() / 60 * 60;
    let call = |token: Option<String>| {
        cw.get_metric_data()
            .metric_data_queries(query("a", vcpu_metric("Standard/Spot"), 60, "Maximum"))
            .metric_data_queries(query("b", vcpu_metric("Standard/OnDemand"), 60, "Maximum"))
            .start_time(DateTime::from_secs(end - 600))
            .end_time(DateTime::from_secs(end))
            .max_datapoints(7)
            .set_next_token(token)
            .send()
    };
    let mut token = None;
    let (mut a, mut b, mut pages) = (0, 0, 0);
    loop {
        let out = call(token).await.unwrap();
        pages += 1;
        let r = out.metric_data_results();
        assert!(r[0].values().len() + r[1].values().len() <= 7);
        a += r[0].values().len();
        b += r[1].values().len();
        if out.next_token().is_some() {
            assert!(
                r.iter()
                    .any(|x| x.status_code().map(|s| s.as_str()) == Some("PartialData"))
            );
        }
        token = out.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    assert_eq!((a, b), (10, 10));
    assert_eq!(pages, 3);
    let bad = call(Some("nope".into())).await.unwrap_err();
    assert_eq!(bad.code(), Some("InvalidNextToken"));
}

#[tokio::test]
async fn get_metric_data_validates_as_cloudwatch_does() {
    let sim = support::start(SCENARIO).await;
    let cw = cloudwatch(&sim, "AKID");
    let send = |queries: Vec<MetricDataQuery>| {
        cw.get_metric_data()
            .set_metric_data_queries(Some(queries))
            .start_time(ago(3600))
            .end_time(ago(0))
            .send()
    };
    let m = || vcpu_metric("Standard/Spot");
    let too_many: Vec<_> = (0..501)
        .map(|i| query(&format!("q{i}"), m(), 60, "Maximum"))
        .collect();
    let e = send(too_many).await.unwrap_err();
    assert_eq!(e.code(), Some("ValidationError"));
    assert!(e.message().unwrap().contains("500"));
    let ok: Vec<_> = (0..500)
        .map(|i| query(&format!("q{i}"), m(), 3600, "Maximum"))
        .collect();
    assert_eq!(send(ok).await.unwrap().metric_data_results().len(), 500);
    let dup = vec![query("a", m(), 60, "Maximum"), query("a", m(), 60, "Sum")];
    assert_eq!(send(dup).await.unwrap_err().code(), Some("ValidationError"));
    let upper = vec![query("Upper", m(), 60, "Maximum")];
    assert_eq!(
        send(upper).await.unwrap_err().code(),
        Some("ValidationError")
    );
    let period = vec![query("p", m(), 90, "Maximum")];
    assert_eq!(
        send(period).await.unwrap_err().code(),
        Some("InvalidParameterValue")
    );
    let stat = vec![query("s", m(), 60, "p99.9")];
    assert_eq!(
        send(stat).await.unwrap_err().code(),
        Some("InvalidParameterValue")
    );
    let backwards = cw
        .get_metric_data()
        .metric_data_queries(query("a", m(), 60, "Maximum"))
        .start_time(ago(0))
        .end_time(ago(3600))
        .send()
        .await
        .unwrap_err();
    assert_eq!(backwards.code(), Some("InvalidParameterValue"));
    // ReturnData false: computed (for expressions) but not returned.
    let hidden = MetricDataQuery::builder()
        .id("hidden")
        .metric_stat(
            MetricStat::builder()
                .metric(m())
                .period(60)
                .stat("Maximum")
                .build(),
        )
        .return_data(false)
        .build();
    let out = send(vec![hidden, query("shown", m(), 60, "Maximum")])
        .await
        .unwrap();
    let ids: Vec<_> = out
        .metric_data_results()
        .iter()
        .filter_map(|r| r.id())
        .collect();
    assert_eq!(ids, ["shown"]);
}

#[tokio::test]
async fn denied_and_throttled_get_metric_data_answer_cloudwatch_errors() {
    let sim = support::start(SCENARIO).await;
    sim.inject_fault(
        serde_json::from_value(json!({
            "operation": "GetMetricData", "fault": "accessDenied", "count": 1
        }))
        .unwrap(),
    )
    .unwrap();
    let cw = cloudwatch(&sim, "AKID");
    let call = || {
        cw.get_metric_data()
            .metric_data_queries(query("a", vcpu_metric("Standard/Spot"), 60, "Maximum"))
            .start_time(ago(600))
            .end_time(ago(0))
            .send()
    };
    let e = call().await.unwrap_err();
    assert_eq!(e.code(), Some("AccessDenied"));
    assert!(e.message().unwrap().contains("cloudwatch:GetMetricData"));
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(403));
    sim.inject_throttles(
        serde_json::from_value(json!({"operation": "GetMetricData", "count": 1})).unwrap(),
    )
    .unwrap();
    let e = call().await.unwrap_err();
    assert_eq!(e.code(), Some("Throttling"));
    assert!(call().await.is_ok());
    let c = sim
        .counters()
        .into_iter()
        .find(|c| c.operation == "GetMetricData")
        .unwrap();
    assert_eq!((c.calls, c.errors, c.throttled), (3, 2, 1));
}

#[tokio::test]
async fn usage_replaced_at_run_time_shows_in_metrics_and_reports() {
    let sim = support::start("aws: {rates: {enabled: false}}").await;
    let cw = cloudwatch(&sim, "AKID");
    let call = || {
        cw.get_metric_data()
            .metric_data_queries(query("a", vcpu_metric("Standard/OnDemand"), 60, "Maximum"))
            .start_time(ago(300))
            .end_time(ago(0))
            .send()
    };
    assert!(
        call().await.unwrap().metric_data_results()[0]
            .values()
            .is_empty()
    );
    let shape: Usage = serde_json::from_value(json!({"shape": "flat", "value": 4})).unwrap();
    sim.set_usage(ACCOUNT, "us-east-1", "ec2", ON_DEMAND, shape)
        .unwrap();
    let out = call().await.unwrap();
    assert!(
        out.metric_data_results()[0]
            .values()
            .iter()
            .all(|v| *v == 4.0)
    );
    assert!(!out.metric_data_results()[0].values().is_empty());
    let path = format!("/_sim/aws/usage/{ACCOUNT}/us-east-1/ec2/{ON_DEMAND}");
    let (status, body) = admin(
        &sim,
        "PUT",
        &path,
        Some(json!({"shape": "growth", "start": 5, "perDay": 1})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["now"], 5.0);
    let (status, _) = admin(
        &sim,
        "GET",
        &format!("/_sim/aws/usage/{ACCOUNT}/us-east-1/ec2/L-NOPE"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        sim.usage(ACCOUNT, "eu-west-1", "ec2", ON_DEMAND)
            .unwrap()
            .now,
        None
    );
}

// The AWS CLI (botocore) as an independent client. botocore picks awsJson1_0 for CloudWatch
// (its model lists rpcv2Cbor, json and query; json comes first in botocore's order).

async fn cli(sim: &SimHandle, key: &str, args: &[&str]) -> Value {
    let out = support::run(&sim.endpoint(), &[("AWS_ACCESS_KEY_ID", key)], args).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "aws {args:?} failed: {stderr}");
    serde_json::from_slice(&out.stdout).expect("CLI JSON output")
}

#[tokio::test]
async fn the_cli_reads_usage_reports_configuration_and_metrics() {
    let sim = support::start(SCENARIO).await;
    let listed = cli(
        &sim,
        "AKID",
        &[
            "service-quotas",
            "list-service-quotas",
            "--service-code",
            "ec2",
            "--quota-code",
            ON_DEMAND,
        ],
    )
    .await;
    let metric = &listed["Quotas"][0]["UsageMetric"];
    assert_eq!(metric["MetricNamespace"], "AWS/Usage");
    assert_eq!(metric["MetricDimensions"]["Class"], "Standard/OnDemand");

    let started = cli(
        &sim,
        "AKID",
        &["service-quotas", "start-quota-utilization-report"],
    )
    .await;
    assert_eq!(started["Status"], "PENDING");
    let id = started["ReportId"].as_str().unwrap().to_string();
    let mut got = Value::Null;
    for _ in 0..3 {
        got = cli(
            &sim,
            "AKID",
            &[
                "service-quotas",
                "get-quota-utilization-report",
                "--report-id",
                &id,
            ],
        )
        .await;
    }
    assert_eq!(got["Status"], "COMPLETED");
    assert_eq!(got["Quotas"][0]["QuotaCode"], SPOT);
    assert_eq!(got["Quotas"][0]["Utilization"], 90.0);

    let conf = cli(
        &sim,
        "AKIDOPTED",
        &["service-quotas", "get-auto-management-configuration"],
    )
    .await;
    assert_eq!(conf["OptInType"], "NotifyAndAdjust");
    assert_eq!(conf["ExclusionList"]["ec2"][0]["QuotaCode"], "L-0263D0A3");
    let never = cli(
        &sim,
        "AKID",
        &["service-quotas", "get-auto-management-configuration"],
    )
    .await;
    assert_eq!(never["OptInStatus"], "DISABLED");

    sim.auto_adjust(auto(OPTED, SPOT)).unwrap();
    let history = cli(
        &sim,
        "AKIDOPTED",
        &[
            "service-quotas",
            "list-requested-service-quota-change-history",
        ],
    )
    .await;
    assert_eq!(
        history["RequestedQuotas"][0]["RequestType"],
        "AutomaticManagement"
    );

    // Whole 10-minute buckets: three of them.
    let end = ago(0).secs() / 600 * 600;
    let (start, end) = ((end - 1800).to_string(), end.to_string());
    let queries = json!([{
        "Id": "spot",
        "MetricStat": {
            "Metric": {"Namespace": "AWS/Usage", "MetricName": "ResourceCount", "Dimensions": [
                {"Name": "Service", "Value": "EC2"}, {"Name": "Type", "Value": "Resource"},
                {"Name": "Resource", "Value": "vCPU"}, {"Name": "Class", "Value": "Standard/Spot"}]},
            "Period": 600, "Stat": "Maximum"}
    }])
    .to_string();
    let data = cli(
        &sim,
        "AKID",
        &[
            "cloudwatch",
            "get-metric-data",
            "--metric-data-queries",
            &queries,
            "--start-time",
            &start,
            "--end-time",
            &end,
        ],
    )
    .await;
    let r = &data["MetricDataResults"][0];
    assert_eq!(r["Id"], "spot");
    assert_eq!(r["StatusCode"], "Complete");
    assert_eq!(r["Values"].as_array().unwrap().len(), 3);
    assert!(r["Values"].as_array().unwrap().iter().all(|v| v == 90.0));
    assert_eq!(sim.calls_in(ACCOUNT, "us-east-1", "GetMetricData"), 1);

    // Errors come back with CloudWatch's codes.
    let bad = json!([{"Id": "Bad", "MetricStat": {"Metric": {"Namespace": "AWS/Usage", "MetricName": "ResourceCount"}, "Period": 60, "Stat": "Maximum"}}]).to_string();
    let out = support::run(
        &sim.endpoint(),
        &[],
        &[
            "cloudwatch",
            "get-metric-data",
            "--metric-data-queries",
            &bad,
            "--start-time",
            &start,
            "--end-time",
            &end,
        ],
    )
    .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("(ValidationError)"), "{stderr}");
}

#[tokio::test]
async fn with_auto_adjust_on_aws_files_when_usage_crosses_the_threshold() {
    let yaml = r#"
aws:
  accounts: {AKIDOPTED: "111111111111"}
  schedule: {manual: true}
  autoAdjust: {enabled: true, threshold: 80, raiseBy: 50}
  quotas:
  - {serviceCode: ec2, quotaCode: L-34B43A08, region: us-east-1, value: 100, usage: 85}
  - {serviceCode: ec2, quotaCode: L-1216C47A, region: us-east-1, value: 100, usage: 50}
  autoManagement:
  - {account: "111111111111", optInType: NotifyAndAdjust}
  - {account: "123456789012", optInType: NotifyOnly}
"#;
    let sim = support::start(yaml).await;
    let c = quotas(&sim, "AKIDOPTED");
    let history = c
        .list_requested_service_quota_change_history()
        .send()
        .await
        .unwrap();
    // Only the quota past 80 %, only in the NotifyAndAdjust account.
    let filed = history.requested_quotas();
    assert_eq!(filed.len(), 1);
    assert_eq!(filed[0].quota_code(), Some(SPOT));
    assert_eq!(filed[0].desired_value(), Some(150.0));
    assert_eq!(
        filed[0].request_type(),
        Some(&RequestType::AutomaticManagement)
    );
    assert!(sim.filed().iter().all(|f| f.account == OPTED));
    // Refused, it is not filed again while the value stays.
    let id = filed[0].id().unwrap().to_string();
    sim.deny(&id, quota_sim::RequestStatus::NotApproved, "no")
        .unwrap();
    let again = c
        .list_requested_service_quota_change_history()
        .send()
        .await
        .unwrap();
    assert_eq!(again.requested_quotas().len(), 1);
    assert_eq!(sim.filed_count(), 1);
}
