//! Usage from Cloud Monitoring: `serviceruntime.googleapis.com/quota/allocation/usage` for
//! allocation quotas (hourly maxima) and `.../quota/rate/net_usage` for rate quotas (per-minute
//! quotas: the busiest minute of each hour, ALIGN_MAX over the per-minute deltas; per-day ones:
//! the total of each 24 hours). One list of every series of a kind in the project (all services
//! and locations) per cache period, a week back, each kind listed only once some quota asks for
//! it. Each quota finds its series by service, quota metric (QuotaInfo's `metric`) and location
//! (its region, or `global`). What Monitoring answers, refusals included, is kept for the
//! period: the cost follows projects, never objects.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use google_cloud_monitoring_v3::{
    client::MetricService,
    model::{
        Aggregation, TimeInterval, aggregation::Aligner, list_time_series_request::TimeSeriesView,
        typed_value::Value,
    },
};
use jiff::{SignedDuration, Timestamp};

use super::convert;
use crate::cloud::boundary::{CloudError, ErrorKind, UsageView};

pub const ALLOCATION_USAGE: &str = "serviceruntime.googleapis.com/quota/allocation/usage";
pub const RATE_USAGE: &str = "serviceruntime.googleapis.com/quota/rate/net_usage";
const LOOKBACK: SignedDuration = SignedDuration::from_hours(168);

/// Which of Monitoring's quota usage metrics a quota's usage comes from, and how it is reduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Allocation,
    PerMinute,
    PerDay,
}

impl Kind {
    /// From QuotaInfo's `refreshInterval` (empty for allocation quotas); None for an interval
    /// Monitoring's per-minute deltas do not add up to (`10 seconds`).
    pub fn of(refresh_interval: &str) -> Option<Self> {
        match refresh_interval {
            "" => Some(Self::Allocation),
            "minute" => Some(Self::PerMinute),
            "day" => Some(Self::PerDay),
            _ => None,
        }
    }

    fn metric_type(self) -> &'static str {
        match self {
            Self::Allocation => ALLOCATION_USAGE,
            Self::PerMinute | Self::PerDay => RATE_USAGE,
        }
    }

    /// (alignment period in seconds, aligner, what a sample is).
    fn aggregation(self) -> (i64, Aligner, &'static str) {
        match self {
            Self::Allocation => (3600, Aligner::AlignMax, "maximum per hour"),
            Self::PerMinute => (3600, Aligner::AlignMax, "the busiest minute of each hour"),
            Self::PerDay => (86_400, Aligner::AlignSum, "total per 24 hours"),
        }
    }
}

/// (service, quota metric, location) -> samples, oldest first.
type Series = HashMap<(String, String, String), Vec<(Timestamp, f64)>>;

/// A listing: when it was made (for the cache period), the time it read up to, and its answer.
type Listed = (Instant, Timestamp, Result<Arc<Series>, CloudError>);

pub struct Usage {
    client: MetricService,
    project: String,
    ttl: Duration,
    read: tokio::sync::Mutex<HashMap<Kind, Listed>>,
}

impl Usage {
    pub fn new(client: MetricService, project: String, ttl: Duration) -> Self {
        Self {
            client,
            project,
            ttl,
            read: tokio::sync::Mutex::default(),
        }
    }

    /// The usage of `metric` of `service` in `location`, from the `kind` of series.
    pub async fn read(
        &self,
        kind: Kind,
        service: &str,
        metric: &str,
        location: &str,
    ) -> Result<UsageView, CloudError> {
        let mut read = self.read.lock().await;
        if read
            .get(&kind)
            .is_none_or(|(at, _, _)| at.elapsed() >= self.ttl)
        {
            let now = Timestamp::now();
            let series = self.list(kind, now).await.map(Arc::new);
            read.insert(kind, (Instant::now(), now, series));
        }
        let (_, read_at, series) = read.get(&kind).expect("just read");
        let key = (
            service.to_string(),
            metric.to_string(),
            location.to_string(),
        );
        let points = series.as_ref().map_err(Clone::clone)?.get(&key).cloned();
        let source = format!(
            "Cloud Monitoring {} (quota_metric={metric}, location={location}), {}",
            kind.metric_type(),
            kind.aggregation().2
        );
        match points.filter(|p| !p.is_empty()) {
            Some(points) => Ok(UsageView {
                points,
                source,
                read_at: *read_at,
            }),
            None => Err(CloudError::new(
                ErrorKind::NotFound,
                "NoUsageData",
                format!("{source} has no data over the last week"),
            )),
        }
    }

    async fn list(&self, kind: Kind, now: Timestamp) -> Result<Series, CloudError> {
        let (alignment, aligner, _) = kind.aggregation();
        let start = now.checked_sub(LOOKBACK).unwrap_or(now);
        let interval = TimeInterval::new()
            .set_start_time(google_cloud_wkt::Timestamp::clamp(start.as_second(), 0))
            .set_end_time(google_cloud_wkt::Timestamp::clamp(now.as_second(), 0));
        let aggregation = Aggregation::new()
            .set_alignment_period(google_cloud_wkt::Duration::clamp(alignment, 0))
            .set_per_series_aligner(aligner);
        let mut series = Series::new();
        let mut token = String::new();
        loop {
            let page = self
                .client
                .list_time_series()
                .set_name(format!("projects/{}", self.project))
                .set_filter(format!(
                    "metric.type = \"{}\" AND resource.type = \"consumer_quota\"",
                    kind.metric_type()
                ))
                .set_interval(interval.clone())
                .set_aggregation(aggregation.clone())
                .set_view(TimeSeriesView::Full)
                .set_page_token(&token)
                .send()
                .await
                .map_err(convert::error);
            crate::metrics::cloud_result("gcp", "ListTimeSeries", &page);
            let page = page?;
            for ts in page.time_series {
                let label = |m: Option<&HashMap<String, String>>, k: &str| {
                    m.and_then(|m| m.get(k)).cloned().unwrap_or_default()
                };
                let resource = ts.resource.as_ref().map(|r| &r.labels);
                let metric = ts.metric.as_ref().map(|m| &m.labels);
                let key = (
                    label(resource, "service"),
                    label(metric, "quota_metric"),
                    label(resource, "location"),
                );
                let samples = series.entry(key).or_default();
                for p in ts.points {
                    let at = p.interval.as_ref().and_then(|i| i.end_time.as_ref());
                    let v = match p.value.and_then(|v| v.value) {
                        Some(Value::Int64Value(v)) => v as f64,
                        Some(Value::DoubleValue(v)) => v,
                        _ => continue,
                    };
                    if let Some(at) = at.and_then(|t| Timestamp::from_second(t.seconds()).ok()) {
                        samples.push((at, v));
                    }
                }
                samples.sort_by_key(|(at, _)| *at);
            }
            if page.next_page_token.is_empty() {
                return Ok(series);
            }
            token = page.next_page_token;
        }
    }
}
