//! Usage from CloudWatch: one batched GetMetricData (up to 500 queries a call) per (account,
//! region) per cache period, covering every quota with a `UsageMetric` among the services the
//! objects of the (account, region) name, a week of hourly samples each at the statistic AWS
//! recommends. The period's first read lists those services (through the quota cache, which the
//! reconciles then find filled) before the call, so it covers them all. Whatever AWS answers,
//! refusals included, is shared by every object for the period: the cost follows accounts,
//! regions and services, never objects. A service first named inside a period (a new object)
//! costs one more call. A quota CloudWatch gives nothing for (refused, no metric, no data) is
//! looked up in the utilisation report instead.

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
    read,
    report::Report,
};
use crate::cloud::boundary::{CloudError, ErrorKind, FleetServices, UsageView};
use crate::cloud::permissions::aws as ops;

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

/// The quota a usage read is for.
#[derive(Clone, Copy)]
pub struct Asked<'a> {
    pub region: &'a str,
    pub service: &'a str,
    pub code: &'a str,
}

/// One region's reading for the cache period.
#[derive(Default)]
struct RegionUsage {
    fetched: Option<Instant>,
    /// Services whose every quota with a metric is in `by_quota`.
    complete: HashSet<String>,
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

    /// The usage of `asked`. The region's lock is held across the read, so concurrent
    /// reconciles wait for the one call in flight.
    pub async fn read(
        &self,
        calls: &Calls,
        quotas: &QuotaCache,
        asked: Asked<'_>,
        fleet: FleetServices<'_>,
    ) -> Result<UsageView, CloudError> {
        let Asked {
            region,
            service,
            code,
        } = asked;
        let slot = self.region(region);
        let mut u = slot.lock().await;
        if u.fetched.is_none_or(|at| at.elapsed() >= self.ttl) {
            *u = RegionUsage {
                fetched: Some(Instant::now()),
                ..RegionUsage::default()
            };
        }
        let key = (service.to_string(), code.to_string());
        if !u.complete.contains(service) && !u.by_quota.contains_key(&key) {
            self.catch_up(calls, quotas, &mut u, asked, fleet).await;
            // A quota AWS names no metric for is answered so for the period, not looked for
            // again by every reconcile.
            if !u.complete.contains(service) {
                u.by_quota
                    .entry(key.clone())
                    .or_insert_with(|| Err(no_metric(service, code)));
            }
        }
        let cloudwatch = u
            .by_quota
            .get(&key)
            .cloned()
            .unwrap_or_else(|| Err(no_metric(service, code)));
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

    /// Reads every quota the period has not read yet: the asked service's, then those of every
    /// service the fleet names (listed first, through the quota cache), in one batched call. A
    /// period's first reads (an operator starting, 10,000 objects arriving) then cost one
    /// GetMetricData for the (account, region), not one per service as reconciles list them.
    async fn catch_up(
        &self,
        calls: &Calls,
        quotas: &QuotaCache,
        u: &mut RegionUsage,
        asked: Asked<'_>,
        fleet: FleetServices<'_>,
    ) {
        let region = asked.region;
        read::listed(calls, quotas, region, asked.service).await;
        for service in fleet() {
            if !u.complete.contains(&service) {
                read::listed(calls, quotas, region, &service).await;
            }
        }
        let (complete, mut metrics) = quotas.usage_metrics(region).await;
        metrics.retain(|(s, c, _)| {
            !u.complete.contains(s) && !u.by_quota.contains_key(&(s.clone(), c.clone()))
        });
        if !metrics.is_empty() {
            let read = self.fetch(calls, region, &metrics).await;
            u.by_quota.extend(read);
        }
        // A service read one quota at a time (its listing refused) is never complete: a quota
        // of it read later still gets its usage, in a call of its own.
        u.complete.extend(complete);
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
                .limited(region, ops::GET_METRIC_DATA, get(&client, chunk, now))
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

fn no_metric(service: &str, code: &str) -> CloudError {
    CloudError::new(
        ErrorKind::NotFound,
        "NoUsageMetric",
        format!("AWS names no UsageMetric for {service}/{code}"),
    )
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
