//! Usage and the Quota Adjuster: Cloud Monitoring's quota metrics through the official
//! google-cloud-monitoring-v3 client, QuotaAdjusterSettings and adjuster preferences through
//! google-cloud-api-cloudquotas-v1.

use google_cloud_api_cloudquotas_v1::{
    client::QuotaAdjusterSettingsManager,
    model::{QuotaAdjusterSettings, quota_adjuster_settings::Enablement},
};
use google_cloud_monitoring_v3::{
    client::MetricService,
    model::{Aggregation, ListTimeSeriesResponse, TimeInterval, aggregation::Aligner},
};
use google_cloud_wkt::{Duration as WktDuration, Timestamp as WktTimestamp};
use quota_sim::{Usage, gcp::AdjusterRaise};

use super::*;

const USAGE: &str = "serviceruntime.googleapis.com/quota/allocation/usage";
const LIMIT: &str = "serviceruntime.googleapis.com/quota/limit";
const NET_USAGE: &str = "serviceruntime.googleapis.com/quota/rate/net_usage";

const USAGE_SCENARIO: &str = r#"
gcp:
  projects: [p1, p2]
  schedule: {manual: true}
  quotaInfos:
  - {service: run.googleapis.com, quotaId: ReadRequestsPerMinutePerProject, metric: run.googleapis.com/read_requests, default: 1000, refreshInterval: minute}
  values:
  - {quotaId: CPUS-per-project-region, region: us-central1, value: 100, usage: {shape: flat, value: 60}}
  - {quotaId: CPUS-per-project-region, project: p1, region: us-east1, usage: {shape: growth, start: 500, perDay: 1440}}
  - {quotaId: CPUS-ALL-REGIONS-per-project, project: p1, usage: {shape: flat, value: 7, history: 1h}}
  - {service: run.googleapis.com, quotaId: ReadRequestsPerMinutePerProject, project: p1, usage: 30}
  adjuster:
  - {project: p1, enablement: ENABLED}
  - {project: p2, enablement: INHERITED, inheritedFrom: organizations/123, ancestorEnablement: ENABLED}
"#;

async fn monitoring(sim: &SimHandle) -> MetricService {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    MetricService::builder()
        .with_endpoint(sim.endpoint())
        .with_credentials(google_cloud_auth::credentials::anonymous::Builder::new().build())
        .build()
        .await
        .expect("Monitoring client")
}

fn ts(t: jiff::Timestamp) -> WktTimestamp {
    WktTimestamp::clamp(t.as_second(), 0)
}

/// The last `minutes` minutes, ending now.
fn last(minutes: i64) -> TimeInterval {
    let now = jiff::Timestamp::now();
    let start = jiff::Timestamp::from_second(now.as_second() - minutes * 60).unwrap();
    TimeInterval::new()
        .set_start_time(ts(start))
        .set_end_time(ts(now))
}

async fn series(
    m: &MetricService,
    project: &str,
    filter: &str,
    interval: TimeInterval,
    aggregation: Option<Aggregation>,
) -> R<ListTimeSeriesResponse> {
    let mut call = m
        .list_time_series()
        .set_name(format!("projects/{project}"))
        .set_filter(filter)
        .set_interval(interval);
    if let Some(a) = aggregation {
        call = call.set_aggregation(a);
    }
    call.send().await
}

fn int_points(r: &ListTimeSeriesResponse, i: usize) -> Vec<i64> {
    let v = |p: &google_cloud_monitoring_v3::model::Point| {
        p.value
            .as_ref()
            .and_then(|v| v.int64_value().copied())
            .unwrap_or(-1)
    };
    r.time_series[i].points.iter().map(v).collect()
}

fn label(r: &ListTimeSeriesResponse, i: usize, key: &str) -> String {
    let ts = &r.time_series[i];
    let metric = ts.metric.as_ref().unwrap();
    let res = ts.resource.as_ref().unwrap();
    metric
        .labels
        .get(key)
        .or_else(|| res.labels.get(key))
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn time_series_carry_usage_and_limits_per_location() {
    let sim = start(USAGE_SCENARIO).await;
    let m = monitoring(&sim).await;
    let filter = format!(
        "metric.type = \"{USAGE}\" AND resource.type = \"consumer_quota\" AND \
         resource.labels.service = \"{COMPUTE}\" AND metric.labels.quota_metric = \"compute.googleapis.com/cpus\""
    );
    let r = series(&m, "p1", &filter, last(10), None).await.unwrap();
    let locations: Vec<String> = (0..r.time_series.len())
        .map(|i| label(&r, i, "location"))
        .collect();
    assert_eq!(locations, ["us-central1", "us-east1"]);
    assert_eq!(label(&r, 0, "project_id"), "p1");
    // Raw samples, one a minute, newest first; the flat one is 60 throughout.
    let flat = int_points(&r, 0);
    assert!((10..=11).contains(&flat.len()), "{flat:?}");
    assert!(flat.iter().all(|v| *v == 60));
    // Growth of 1440 a day is one a minute: newest first means falling values.
    let growth = int_points(&r, 1);
    assert!(growth.windows(2).all(|w| w[0] > w[1]), "{growth:?}");
    assert!((499..=501).contains(&growth[0]), "{growth:?}");

    // The limit metric names the limit; the value is the quota's.
    let limit = format!("metric.type = \"{LIMIT}\" AND resource.label.location = \"us-central1\"");
    let r = series(&m, "p1", &limit, last(5), None).await.unwrap();
    assert_eq!(r.time_series.len(), 1);
    assert_eq!(label(&r, 0, "limit_name"), CPUS);
    assert!(int_points(&r, 0).iter().all(|v| *v == 100));

    // A global quota is at `global`; its data begins `history` ago.
    let global = format!(
        "metric.type = \"{USAGE}\" AND metric.label.quota_metric = \"compute.googleapis.com/cpus_all_regions\""
    );
    let r = series(&m, "p1", &global, last(24 * 60), None)
        .await
        .unwrap();
    assert_eq!(label(&r, 0, "location"), "global");
    assert!((59..=61).contains(&r.time_series[0].points.len()));

    // Another project sees only the every-project entry.
    let r = series(&m, "p2", &filter, last(10), None).await.unwrap();
    assert_eq!(r.time_series.len(), 1);
    assert_eq!(sim.gcp().calls_in("p1", "ListTimeSeries"), 3);
    assert_eq!(sim.gcp().calls_in("p2", "ListTimeSeries"), 1);
}

#[tokio::test]
async fn aligned_points_rate_quotas_and_pages() {
    let sim = start(USAGE_SCENARIO).await;
    let m = monitoring(&sim).await;
    let filter = format!("metric.type = \"{USAGE}\" AND resource.label.location = \"us-east1\"");
    let hourly = Aggregation::new()
        .set_alignment_period(WktDuration::clamp(3600, 0))
        .set_per_series_aligner(Aligner::AlignMax);
    let r = series(&m, "p1", &filter, last(3 * 60), Some(hourly))
        .await
        .unwrap();
    let maxes = int_points(&r, 0);
    assert_eq!(maxes.len(), 3, "{maxes:?}");
    // Each hour's max is 60 above the one before (one a minute).
    assert!((maxes[0] - maxes[1] - 60).abs() <= 1, "{maxes:?}");

    // A rate quota publishes net_usage (DELTA); ALIGN_SUM over 10 minutes adds the minutes.
    let rate = format!("metric.type = \"{NET_USAGE}\"");
    let sum = Aggregation::new()
        .set_alignment_period(WktDuration::clamp(600, 0))
        .set_per_series_aligner(Aligner::AlignSum);
    let r = series(&m, "p1", &rate, last(20), Some(sum)).await.unwrap();
    assert_eq!(label(&r, 0, "location"), "global");
    assert!(format!("{:?}", r.time_series[0].metric_kind).contains("Delta"));
    assert_eq!(int_points(&r, 0)[0], 300);

    // A delta aligner on a gauge is refused as Monitoring refuses it.
    let delta = Aggregation::new()
        .set_alignment_period(WktDuration::clamp(600, 0))
        .set_per_series_aligner(Aligner::AlignDelta);
    let (code, http, _) = failure(series(&m, "p1", &filter, last(20), Some(delta)).await);
    assert_eq!((code, http), (Code::InvalidArgument, 400));

    // One series a page.
    let every = format!(
        "metric.type = \"{USAGE}\" AND metric.label.quota_metric = \"compute.googleapis.com/cpus\""
    );
    let first = m
        .list_time_series()
        .set_name("projects/p1")
        .set_filter(&every)
        .set_interval(last(5))
        .set_page_size(1)
        .send()
        .await
        .unwrap();
    assert_eq!(first.time_series.len(), 1);
    assert!(!first.next_page_token.is_empty());
    let second = m
        .list_time_series()
        .set_name("projects/p1")
        .set_filter(&every)
        .set_interval(last(5))
        .set_page_size(1)
        .set_page_token(first.next_page_token.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(second.time_series.len(), 1);
    assert!(second.next_page_token.is_empty());
    assert_ne!(label(&first, 0, "location"), label(&second, 0, "location"));
}

#[tokio::test]
async fn bad_filters_and_denied_permissions_answer_google_errors() {
    let sim = start(USAGE_SCENARIO).await;
    let m = monitoring(&sim).await;
    for bad in [
        "resource.type = \"consumer_quota\"",
        "metric.type = starts_with(\"serviceruntime\")",
        "metric.type = \"x\" OR metric.type = \"y\"",
    ] {
        let (code, http, msg) = failure(series(&m, "p1", bad, last(5), None).await);
        assert_eq!((code, http), (Code::InvalidArgument, 400), "{bad}: {msg}");
    }
    sim.gcp()
        .inject_fault(Fault {
            method: "ListTimeSeries".into(),
            count: 1,
            project: Some("p1".into()),
            code: SimCode::PermissionDenied,
            message: None,
        })
        .unwrap();
    let filter = format!("metric.type = \"{USAGE}\"");
    let (code, http, msg) = failure(series(&m, "p1", &filter, last(5), None).await);
    assert_eq!((code, http), (Code::PermissionDenied, 403));
    assert!(msg.contains("monitoring.timeSeries.list"), "{msg}");
    // The fault is spent; an unknown project is denied as Google denies it.
    assert!(series(&m, "p1", &filter, last(5), None).await.is_ok());
    let (code, _, _) = failure(series(&m, "nope", &filter, last(5), None).await);
    assert_eq!(code, Code::PermissionDenied);
    let counts = sim.gcp().counters();
    let p1 = counts
        .iter()
        .find(|c| c.project == "p1" && c.method == "ListTimeSeries")
        .unwrap();
    assert_eq!(p1.errors.get("PERMISSION_DENIED"), Some(&1));
    assert_eq!(p1.errors.get("INVALID_ARGUMENT"), Some(&3));
}

#[tokio::test]
async fn usage_shapes_replaced_at_run_time_show_in_monitoring() {
    let sim = start(USAGE_SCENARIO).await;
    let m = monitoring(&sim).await;
    let d = dims([("region", "europe-west4")]);
    let filter =
        format!("metric.type = \"{USAGE}\" AND resource.label.location = \"europe-west4\"");
    assert!(
        series(&m, "p2", &filter, last(5), None)
            .await
            .unwrap()
            .time_series
            .is_empty()
    );
    let shape: Usage = serde_json::from_value(json!({"shape": "flat", "value": 42})).unwrap();
    sim.gcp()
        .set_usage_shape("p2", COMPUTE, CPUS, &d, shape)
        .unwrap();
    let r = series(&m, "p2", &filter, last(5), None).await.unwrap();
    assert!(int_points(&r, 0).iter().all(|v| *v == 42));
    // Over HTTP too: growth anchored now starts at its `start`.
    let path = format!("/_sim/gcp/usage/p2/{COMPUTE}/{CPUS}?region=europe-west4");
    let (status, body) = admin(
        &sim,
        "PUT",
        &path,
        Some(json!({"shape": "growth", "start": 70, "perDay": 10})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["now"], 70);
    assert_eq!(body["usage"]["shape"], "growth");
    let (status, body) = admin(&sim, "PUT", &path, Some(json!({"shape": "wave"}))).await;
    assert_eq!(status, 422, "{body}");
}

async fn adjuster_client(sim: &SimHandle) -> QuotaAdjusterSettingsManager {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    QuotaAdjusterSettingsManager::builder()
        .with_endpoint(sim.endpoint())
        .with_credentials(google_cloud_auth::credentials::anonymous::Builder::new().build())
        .build()
        .await
        .expect("QuotaAdjusterSettingsManager client")
}

fn settings_name(project: &str) -> String {
    format!("projects/{project}/locations/global/quotaAdjusterSettings")
}

#[tokio::test]
async fn adjuster_settings_read_inherit_and_update() {
    let sim = start(USAGE_SCENARIO).await;
    let c = adjuster_client(&sim).await;
    let get = |p: &'static str| {
        c.get_quota_adjuster_settings()
            .set_name(settings_name(p))
            .send()
    };
    let p1 = get("p1").await.unwrap();
    assert_eq!(
        (p1.enablement.clone(), p1.inherited),
        (Enablement::Enabled, false)
    );
    assert!(p1.inherited_from.is_empty());
    let p2 = get("p2").await.unwrap();
    assert_eq!(p2.enablement, Enablement::Enabled);
    assert!(p2.inherited);
    assert_eq!(p2.inherited_from, "organizations/123");

    // A project never set: inherited from `default`, disabled.
    let sim2 = start("gcp: {}").await;
    let c2 = adjuster_client(&sim2).await;
    let fresh = c2
        .get_quota_adjuster_settings()
        .set_name(settings_name("anything"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (fresh.enablement, fresh.inherited),
        (Enablement::Disabled, true)
    );
    assert_eq!(fresh.inherited_from, "default");

    // Disable p2 on the project itself; a stale etag is ABORTED.
    let update = |s: QuotaAdjusterSettings| {
        c.update_quota_adjuster_settings()
            .set_quota_adjuster_settings(s)
            .set_update_mask(FieldMask::default().set_paths(["enablement"]))
            .send()
    };
    let off = QuotaAdjusterSettings::new()
        .set_name(settings_name("p2"))
        .set_enablement(Enablement::Disabled)
        .set_etag(p2.etag.clone());
    let done = update(off.clone()).await.unwrap();
    assert_eq!(
        (done.enablement, done.inherited),
        (Enablement::Disabled, false)
    );
    assert!(done.update_time.is_some());
    assert_ne!(done.etag, p2.etag);
    let (code, http, _) = failure(update(off).await);
    assert_eq!((code, http), (Code::Aborted, 409));
    assert_eq!(sim.gcp().calls_in("p2", "UpdateQuotaAdjusterSettings"), 2);
    assert!(!sim.gcp().adjuster_settings("p2").enabled);
}

#[tokio::test]
async fn the_adjuster_raises_above_peak_usage_and_resolves_like_others() {
    let sim = start(USAGE_SCENARIO).await;
    let c = client(&sim).await;
    let raise = |region: &str, preferred: Option<i64>| AdjusterRaise {
        service: COMPUTE.into(),
        quota_id: CPUS.into(),
        region: Some(region.into()),
        dimensions: Default::default(),
        preferred_value: preferred,
    };
    // Flat 60 in us-central1 under a value of 100: 15 % above the peak (69) would not raise
    // it, so the adjuster asks one above the value.
    let p = sim
        .gcp()
        .quota_adjuster_raise("p1", raise("us-central1", None))
        .unwrap();
    assert_eq!(p.preferred_value, 101);
    let wire = get(&c, "p1", &p.id).await;
    assert_eq!(config(&wire).request_origin, WireOrigin::AutoAdjuster);
    assert!(wire.reconciling);
    // It is open: the adjuster does not file twice; grant ends it like any other.
    assert!(
        sim.gcp()
            .quota_adjuster_raise("p1", raise("us-central1", None))
            .is_err()
    );
    sim.gcp().grant("p1", &p.id).unwrap();
    assert_eq!(region_value(&c, "p1", CPUS, "us-central1").await, 101);
    // Raising it again raises the same preference.
    let again = sim
        .gcp()
        .quota_adjuster_raise("p1", raise("us-central1", Some(130)))
        .unwrap();
    assert_eq!(
        (again.id.clone(), again.preferred_value),
        (p.id.clone(), 130)
    );
    assert!(get(&c, "p1", &p.id).await.reconciling);
    // No usage, or the adjuster disabled: refused.
    assert!(
        sim.gcp()
            .quota_adjuster_raise("p1", raise("asia-east1", None))
            .is_err()
    );
    let (status, _) = admin(
        &sim,
        "POST",
        "/_sim/gcp/adjuster/p3/raise",
        Some(json!({"quotaId": CPUS, "region": "us-central1"})),
    )
    .await;
    assert_eq!(status, 400);
    let writes = sim.gcp().writes();
    assert!(
        writes
            .iter()
            .any(|w| w.source == "quota-adjuster" && w.preferred_value == 130)
    );
}
