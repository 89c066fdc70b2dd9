//! Usage from CloudWatch: one batched GetMetricData (up to 500 queries a call) per (account,
//! region) per cache period, covering every quota with a `UsageMetric` among the services the
//! quota cache holds for the region, a week of hourly samples each at the statistic AWS
//! recommends. Whatever AWS answers, refusals included, is shared by every object for the
//! period: the cost follows accounts, regions and services, never objects. Services first
//! listed inside a period (an operator starting, a new service) cost one more call, for all of
//! them together. A quota CloudWatch gives
//! nothing for (refused, no metric, no data) is looked up in the utilisation report instead.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use aws_sdk_cloudwatch::{
    Client,
    types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy},
};
use aws_smithy_types::DateTime;
use jiff::{SignedDuration, Timestamp};

use super::{
    cache::QuotaCache,
    calls::{Calls, RegionClients},
    convert::{self, UsageMetric},
    report::Report,
};
use crate::cloud::boundary::{CloudError, ErrorKind, UsageView};

/// How far back usage is read: the longest headroom window.
pub const LOOKBACK: SignedDuration = SignedDuration::from_hours(168);
/// One sample per hour: a week is 168 per quota, 84,000 for 500 quotas, inside the 100,800
/// datapoints one GetMetricData call returns.
const PERIOD_SECS: i32 = 3600;
const PER_CALL: usize = 500;

type QuotaKey = (String, String);

pub struct Usage {
    clients: RegionClients<Client>,
    ttl: Duration,
    regions: Mutex<HashMap<String, Arc<tokio::sync::Mutex<RegionUsage>>>>,
}

/// One region's reading.
#[derive(Default)]
struct RegionUsage {
    fetched: Option<Instant>,
    services: HashSet<String>,
    by_quota: HashMap<QuotaKey, Result<UsageView, CloudError>>,
    /// The utilisation report, for the quotas CloudWatch gave nothing for.
    report: Report,
}

impl Usage {
    pub fn new(ttl: Duration) -> Self {
        Self {
            clients: RegionClients::default(),
            ttl,
            regions: Mutex::default(),
        }
    }

    fn region(&self, region: &str) -> Arc<tokio::sync::Mutex<RegionUsage>> {
        let mut regions = self.regions.lock().expect("usage regions");
        regions.entry(region.to_string()).or_default().clone()
    }

    /// The usage of (service, code) in `region`. The region's lock is held across the read, so
    /// concurrent reconciles wait for the one call in flight.
    pub async fn read(
        &self,
        calls: &Calls,
        quotas: &QuotaCache,
        region: &str,
        service: &str,
        code: &str,
    ) -> Result<UsageView, CloudError> {
        let slot = self.region(region);
        let mut u = slot.lock().await;
        let fresh = u.fetched.is_some_and(|at| at.elapsed() < self.ttl);
        if !fresh {
            *u = RegionUsage::default();
        }
        if !u.services.contains(service) {
            // Every service listed since the period's read, not only this one: services that
            // first appear together in a period (an operator starting) share one call.
            let mut metrics = quotas.usage_metrics(region).await;
            metrics.retain(|(s, _, _)| !u.services.contains(s));
            let read = self.fetch(calls, region, &metrics).await;
            // Only services whose listing the cache held are read: one forgotten after a filing
            // is read (for its quotas alone) once the next reconcile has listed it again, not
            // left without usage for the rest of the period.
            u.services.extend(metrics.iter().map(|(s, _, _)| s.clone()));
            u.by_quota.extend(read);
            if !fresh {
                u.fetched = Some(Instant::now());
            }
        }
        let cloudwatch = u
            .by_quota
            .get(&(service.to_string(), code.to_string()))
            .cloned()
            .unwrap_or_else(|| {
                Err(CloudError::new(
                    ErrorKind::NotFound,
                    "NoUsageMetric",
                    format!("AWS names no UsageMetric for {service}/{code}"),
                ))
            });
        let Err(e) = cloudwatch else {
            return cloudwatch;
        };
        // CloudWatch refused or had nothing: AWS's own report may have the quota.
        u.report.advance(calls, region).await;
        u.report.usage(service, code).map_err(|r| {
            CloudError::new(
                e.kind,
                e.code.clone(),
                format!(
                    "{}; utilization report: {}: {}",
                    e.message, r.code, r.message
                ),
            )
        })
    }

    /// GetMetricData for `metrics`, 500 a call; every quota gets its series or the call's error.
    async fn fetch(
        &self,
        calls: &Calls,
        region: &str,
        metrics: &[(String, String, UsageMetric)],
    ) -> Vec<(QuotaKey, Result<UsageView, CloudError>)> {
        let client = self.clients.get(calls, region, Client::new);
        let now = Timestamp::now();
        let mut out = Vec::with_capacity(metrics.len());
        for chunk in metrics.chunks(PER_CALL) {
            let series = calls
                .limited(region, "GetMetricData", get(&client, chunk, now))
                .await;
            for (i, (service, code, metric)) in chunk.iter().enumerate() {
                let view = match &series {
                    Ok(all) => view(metric, all.get(&id(i)), now),
                    Err(e) => Err(e.clone()),
                };
                out.push(((service.clone(), code.clone()), view));
            }
        }
        out
    }
}

/// The operator's CloudWatch read of `metrics` in `region`, through `config` (its credentials
/// and endpoint), without Service Quotas: how the usage path is checked against another
/// CloudWatch implementation (moto).
pub async fn cloudwatch_usage(
    config: &aws_config::SdkConfig,
    region: &str,
    metrics: &[UsageMetric],
) -> Vec<Result<UsageView, CloudError>> {
    let calls = Calls::new(
        "cloudwatch".into(),
        config.clone(),
        config.credentials_provider(),
        config.endpoint_url().map(str::to_string),
        crate::cloud::limiter::Limiter::new(super::rates::allowed_rate, 1.0),
    );
    let listed: Vec<(String, String, UsageMetric)> = metrics
        .iter()
        .enumerate()
        .map(|(i, m)| (String::new(), i.to_string(), m.clone()))
        .collect();
    Usage::new(Duration::ZERO)
        .fetch(&calls, region, &listed)
        .await
        .into_iter()
        .map(|(_, view)| view)
        .collect()
}

fn id(i: usize) -> String {
    format!("q{i}")
}

type Series = HashMap<String, Vec<(Timestamp, f64)>>;

/// One GetMetricData, every page: the samples of each query id.
async fn get(
    client: &Client,
    chunk: &[(String, String, UsageMetric)],
    now: Timestamp,
) -> Result<Series, CloudError> {
    let start = now.checked_sub(LOOKBACK).unwrap_or(now);
    let queries: Vec<MetricDataQuery> = chunk
        .iter()
        .enumerate()
        .map(|(i, (_, _, m))| query(&id(i), m))
        .collect();
    let mut series = Series::new();
    let mut token = None;
    loop {
        let page = client
            .get_metric_data()
            .set_metric_data_queries(Some(queries.clone()))
            .start_time(DateTime::from_secs(start.as_second()))
            .end_time(DateTime::from_secs(now.as_second()))
            .scan_by(ScanBy::TimestampAscending)
            .set_next_token(token)
            .send()
            .await
            .map_err(convert::error)?;
        for r in page.metric_data_results() {
            let samples = series
                .entry(r.id().unwrap_or_default().to_string())
                .or_default();
            for (t, v) in r.timestamps().iter().zip(r.values()) {
                if let Ok(at) = Timestamp::from_second(t.secs()) {
                    samples.push((at, *v));
                }
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(series);
        }
    }
}

fn query(id: &str, m: &UsageMetric) -> MetricDataQuery {
    let dimensions = m
        .dimensions
        .iter()
        .map(|(k, v)| Dimension::builder().name(k).value(v).build())
        .collect();
    let metric = Metric::builder()
        .namespace(&m.namespace)
        .metric_name(&m.name)
        .set_dimensions(Some(dimensions))
        .build();
    let stat = MetricStat::builder()
        .metric(metric)
        .period(PERIOD_SECS)
        .stat(&m.statistic)
        .build();
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(stat)
        .return_data(true)
        .build()
}

/// A quota's samples as usage; none is unknown usage, not 0.
fn view(
    m: &UsageMetric,
    samples: Option<&Vec<(Timestamp, f64)>>,
    now: Timestamp,
) -> Result<UsageView, CloudError> {
    let what = format!(
        "CloudWatch {} {} ({}), {} per hour",
        m.namespace,
        m.name,
        m.dimensions
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", "),
        m.statistic
    );
    let mut points = samples.cloned().unwrap_or_default();
    if points.is_empty() {
        return Err(CloudError::new(
            ErrorKind::NotFound,
            "NoUsageData",
            format!("{what} has no data over the last week"),
        ));
    }
    points.sort_by_key(|(at, _)| *at);
    Ok(UsageView {
        points,
        source: what,
        read_at: now,
    })
}
