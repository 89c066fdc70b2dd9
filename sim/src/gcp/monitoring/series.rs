//! The quota time series of one project, built from its usage shapes: one usage series (and one
//! limit series) per quota and location that has usage, sampled every minute, raw or aligned
//! per series as the request's aggregation asks, newest point first.
//!
//! Only quotas with usage publish here; the limit series shows the value in force now at every
//! point (the simulator keeps no history of values). Usage entries with dimensions other than
//! `region` publish nothing (their labels would repeat another series'), nor does a regional
//! quota's entry without a region (it has no location).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{LIMIT, NET_USAGE, RESOURCE, USAGE, filter::Filter};
use crate::gcp::{error::GcpError, model::state::GcpState, params::Enc};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Gauge,
    Delta,
}

/// One series' identity, and how to get its value at a time.
#[derive(Clone, Debug)]
pub struct Series {
    metric_type: &'static str,
    labels: BTreeMap<String, String>,
    kind: Kind,
    /// (sample time, value), oldest first.
    samples: Vec<(Timestamp, f64)>,
}

/// How to reduce each series' samples (aggregation.perSeriesAligner, alignmentPeriod).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aligner {
    None,
    Delta,
    Rate,
    NextOlder,
    Min,
    Max,
    Mean,
    Count,
    Sum,
}

impl Aligner {
    /// The proto number (the Rust client's `enum-encoding=int`) or name.
    pub fn parse(v: &str) -> Result<Self, GcpError> {
        Ok(match v {
            "" | "0" | "ALIGN_NONE" => Aligner::None,
            "1" | "ALIGN_DELTA" => Aligner::Delta,
            "2" | "ALIGN_RATE" => Aligner::Rate,
            "4" | "ALIGN_NEXT_OLDER" => Aligner::NextOlder,
            "10" | "ALIGN_MIN" => Aligner::Min,
            "11" | "ALIGN_MAX" => Aligner::Max,
            "12" | "ALIGN_MEAN" => Aligner::Mean,
            "13" | "ALIGN_COUNT" => Aligner::Count,
            "14" | "ALIGN_SUM" => Aligner::Sum,
            other => {
                return Err(GcpError::invalid(format!(
                    "The simulator does not support the per-series aligner {other}."
                )));
            }
        })
    }
}

/// What the request asks of the points.
pub struct Shape {
    pub start: Timestamp,
    pub end: Timestamp,
    pub aligner: Aligner,
    pub period: i64,
    pub headers_only: bool,
}

/// Every series of `project` the filter matches, in a stable order.
pub fn matching(
    st: &GcpState,
    project: &str,
    filter: &Filter,
    from: Timestamp,
    to: Timestamp,
    now: Timestamp,
) -> Vec<Series> {
    let mut out = Vec::new();
    for (service, quota_id, dims, (usage, t0)) in st.usage_series(project) {
        let Some(def) = st.catalog.get(&service, &quota_id) else {
            continue;
        };
        if dims.keys().any(|k| k != "region") || (def.regional() && dims.is_empty()) {
            continue;
        }
        let location = dims
            .get("region")
            .cloned()
            .unwrap_or_else(|| "global".into());
        let resource = [
            ("resource.type", RESOURCE.to_string()),
            ("resource.label.project_id", project.to_string()),
            ("resource.label.service", service.clone()),
            ("resource.label.location", location),
            ("metric.label.quota_metric", def.metric.clone()),
        ];
        let labels = |metric: &str, extra: Option<(&str, String)>| {
            let mut l: BTreeMap<String, String> = (resource.iter())
                .map(|(k, v)| (k.to_string(), v.clone()))
                .chain(extra.map(|(k, v)| (k.to_string(), v)))
                .collect();
            l.insert("metric.type".into(), metric.into());
            l
        };
        let samples = usage.samples(t0, now, from, to);
        let (metric, kind) = match def.refresh_interval {
            Some(_) => (NET_USAGE, Kind::Delta),
            None => (USAGE, Kind::Gauge),
        };
        let limit = st.value_of(project, def, &dims) as f64;
        out.push(Series {
            metric_type: LIMIT,
            labels: labels(LIMIT, Some(("metric.label.limit_name", quota_id.clone()))),
            kind: Kind::Gauge,
            samples: samples.iter().map(|(t, _)| (*t, limit)).collect(),
        });
        out.push(Series {
            metric_type: metric,
            labels: labels(metric, None),
            kind,
            samples,
        });
    }
    out.retain(|s| filter.matches(&s.labels));
    out
}

impl Series {
    /// The TimeSeries JSON, enums in the encoding the client asked for.
    pub fn to_json(&self, shape: &Shape, enc: Enc) -> Result<Value, GcpError> {
        let points = if shape.headers_only {
            Vec::new()
        } else {
            self.points(shape)?
        };
        let double = matches!(shape.aligner, Aligner::Mean | Aligner::Rate);
        let (resource, metric): (BTreeMap<_, _>, BTreeMap<_, _>) = (
            self.labels_under("resource.label."),
            self.labels_under("metric.label."),
        );
        let kind = match self.kind {
            Kind::Gauge => enc.pick(1, "GAUGE"),
            Kind::Delta => enc.pick(2, "DELTA"),
        };
        Ok(json!({
            "metric": {"type": self.metric_type, "labels": metric},
            "resource": {"type": RESOURCE, "labels": resource},
            "metricKind": kind,
            "valueType": if double { enc.pick(3, "DOUBLE") } else { enc.pick(2, "INT64") },
            "points": points,
            "unit": "1",
        }))
    }

    fn labels_under(&self, prefix: &str) -> BTreeMap<String, String> {
        (self.labels.iter())
            .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.to_string(), v.clone())))
            .collect()
    }

    /// Points newest first: raw samples, or one per alignment period ending at the interval's
    /// end.
    fn points(&self, shape: &Shape) -> Result<Vec<Value>, GcpError> {
        let in_range: Vec<(Timestamp, f64)> = (self.samples.iter().copied())
            .filter(|(t, _)| *t >= shape.start && *t <= shape.end)
            .collect();
        if shape.aligner == Aligner::None {
            return Ok(in_range
                .iter()
                .rev()
                .map(|&(t, v)| self.point(t, v))
                .collect());
        }
        if self.kind == Kind::Gauge && matches!(shape.aligner, Aligner::Delta | Aligner::Rate) {
            return Err(GcpError::invalid(
                "The aligner cannot be applied to metrics with kind GAUGE and value type INT64.",
            ));
        }
        let mut out = Vec::new();
        let mut end = shape.end.as_second();
        while end > shape.start.as_second() - shape.period {
            let vals: Vec<f64> = (in_range.iter())
                .filter(|(t, _)| t.as_second() > end - shape.period && t.as_second() <= end)
                .map(|(_, v)| *v)
                .collect();
            if let (false, Ok(t)) = (vals.is_empty(), Timestamp::from_second(end)) {
                let v = align(shape.aligner, &vals, shape.period);
                let double = matches!(shape.aligner, Aligner::Mean | Aligner::Rate);
                out.push(self.aligned_point(t, v, double, shape.period));
            }
            end -= shape.period;
        }
        Ok(out)
    }

    /// A raw sample: a gauge at an instant, a delta over the minute from it.
    fn point(&self, t: Timestamp, v: f64) -> Value {
        let end = match self.kind {
            Kind::Gauge => t,
            Kind::Delta => Timestamp::from_second(t.as_second() + 60).unwrap_or(t),
        };
        json!({"interval": {"startTime": t.to_string(), "endTime": end.to_string()}, "value": value(v, false)})
    }

    fn aligned_point(&self, end: Timestamp, v: f64, double: bool, period: i64) -> Value {
        let start = match self.kind {
            Kind::Gauge => end,
            Kind::Delta => Timestamp::from_second(end.as_second() - period).unwrap_or(end),
        };
        json!({"interval": {"startTime": start.to_string(), "endTime": end.to_string()}, "value": value(v, double)})
    }
}

fn value(v: f64, double: bool) -> Value {
    if double {
        json!({"doubleValue": v})
    } else {
        json!({"int64Value": (v.round() as i64).to_string()})
    }
}

fn align(a: Aligner, vals: &[f64], period: i64) -> f64 {
    let sum: f64 = vals.iter().sum();
    match a {
        Aligner::Min => vals.iter().copied().fold(f64::MAX, f64::min),
        Aligner::Max => vals.iter().copied().fold(f64::MIN, f64::max),
        Aligner::Mean => sum / vals.len() as f64,
        Aligner::Count => vals.len() as f64,
        Aligner::Sum | Aligner::Delta => sum,
        Aligner::Rate => sum / period as f64,
        Aligner::NextOlder | Aligner::None => *vals.last().unwrap_or(&0.0),
    }
}
