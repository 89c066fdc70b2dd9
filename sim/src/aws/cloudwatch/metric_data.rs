//! GetMetricData answered from the quotas' usage shapes: for each period bucket, the statistic
//! over the shape's one-minute samples, validated as CloudWatch validates the call. A metric
//! no quota publishes, or one without usage in the caller's account and region, answers an
//! empty result, as CloudWatch does for a metric without data.

use std::collections::{BTreeMap, HashSet};

use jiff::Timestamp;

use super::input::{MetricDataInput, MetricStat, Output, Query, QueryResult};
use crate::aws::{caller::Caller, error::AwsError, model::state::AwsState};
use crate::paging;

/// CloudWatch's limits: queries per call, and data points per call (MaxDatapoints' default).
const MAX_QUERIES: usize = 500;
const MAX_DATAPOINTS: i64 = 100_800;

fn validation(message: impl Into<String>) -> AwsError {
    AwsError::new("ValidationError", message)
}

fn invalid_value(message: impl Into<String>) -> AwsError {
    AwsError::new("InvalidParameterValue", message)
}

/// Answers one GetMetricData call for `who`.
pub fn answer(
    st: &AwsState,
    who: &Caller,
    input: &MetricDataInput,
    now: Timestamp,
) -> Result<Output, AwsError> {
    let queries = check_queries(input)?;
    let (start, end) = match (input.start_time, input.end_time) {
        (Some(s), Some(e)) => (s, e),
        (None, _) => {
            return Err(AwsError::new(
                "MissingParameter",
                "The parameter StartTime is required.",
            ));
        }
        (_, None) => {
            return Err(AwsError::new(
                "MissingParameter",
                "The parameter EndTime is required.",
            ));
        }
    };
    if start >= end {
        return Err(invalid_value(
            "The parameter StartTime must be less than the parameter EndTime.",
        ));
    }
    let descending = match input.scan_by.as_deref() {
        None | Some("TimestampDescending") => true,
        Some("TimestampAscending") => false,
        Some(other) => {
            return Err(validation(format!(
                "1 validation error detected: Value '{other}' at 'scanBy' failed to satisfy \
                 constraint: Member must satisfy enum value set: [TimestampDescending, \
                 TimestampAscending]"
            )));
        }
    };
    let max = match input.max_datapoints {
        None => MAX_DATAPOINTS as usize,
        Some(n) if n >= 1 => n as usize,
        Some(n) => {
            return Err(invalid_value(format!(
                "MaxDatapoints must be positive, got {n}."
            )));
        }
    };
    let mut all: Vec<QueryResult> = Vec::new();
    for q in queries.iter().filter(|q| q.return_data != Some(false)) {
        let stat = q.metric_stat.as_ref().expect("checked");
        let mut points = series(st, who, stat, start, end, now);
        if descending {
            points.reverse();
        }
        all.push(QueryResult {
            id: q.id.clone(),
            label: q
                .label
                .clone()
                .unwrap_or_else(|| stat.metric.metric_name.clone()),
            timestamps: points.iter().map(|(t, _)| *t).collect(),
            values: points.iter().map(|(_, v)| *v).collect(),
            status: "Complete",
        });
    }
    page(all, input, max, &format!("{}/{}", who.account, who.region))
}

/// Checks the queries as CloudWatch does: 1 to 500, unique ids that start with a lowercase
/// letter, each a MetricStat (this simulator evaluates no metric math) with a valid period and
/// statistic.
fn check_queries(input: &MetricDataInput) -> Result<&[Query], AwsError> {
    let queries = input.metric_data_queries.as_deref().unwrap_or_default();
    if queries.is_empty() {
        return Err(AwsError::new(
            "MissingParameter",
            "The parameter MetricDataQueries is required.",
        ));
    }
    if queries.len() > MAX_QUERIES {
        return Err(validation(format!(
            "The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}."
        )));
    }
    let mut seen = HashSet::new();
    for (i, q) in queries.iter().enumerate() {
        let n = i + 1;
        let id_ok = q.id.starts_with(|c: char| c.is_ascii_lowercase())
            && q.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !id_ok {
            return Err(validation(format!(
                "Invalid metric data query id: {:?}. The id must start with a lowercase letter \
                 and contain only letters, numbers and underscores (MetricDataQueries.member.{n}.Id).",
                q.id
            )));
        }
        if !seen.insert(q.id.as_str()) {
            return Err(validation(format!(
                "The values for parameter id in MetricDataQueries are not unique: {}.",
                q.id
            )));
        }
        let Some(stat) = &q.metric_stat else {
            let msg = match q.expression {
                Some(_) => format!(
                    "The simulator evaluates no metric math: query {} needs a MetricStat.",
                    q.id
                ),
                None => format!(
                    "Exactly one of MetricStat and Expression is required in MetricDataQueries.member.{n}."
                ),
            };
            return Err(validation(msg));
        };
        check_stat(stat, n)?;
    }
    Ok(queries)
}

fn check_stat(stat: &MetricStat, n: usize) -> Result<(), AwsError> {
    let p = stat.period;
    if !(matches!(p, 1 | 5 | 10 | 30) || (p >= 60 && p % 60 == 0)) {
        return Err(invalid_value(format!(
            "The parameter MetricDataQueries.member.{n}.MetricStat.Period must be 1, 5, 10, 30 \
             or a multiple of 60, got {p}."
        )));
    }
    if Stat::parse(&stat.stat).is_none() {
        return Err(invalid_value(format!(
            "The parameter MetricDataQueries.member.{n}.MetricStat.Stat `{}` is not a statistic \
             the simulator computes (Maximum, Minimum, Average, Sum, SampleCount).",
            stat.stat
        )));
    }
    if stat.metric.namespace.is_empty() || stat.metric.metric_name.is_empty() {
        return Err(AwsError::new(
            "MissingParameter",
            format!(
                "MetricDataQueries.member.{n}.MetricStat.Metric needs a Namespace and a MetricName."
            ),
        ));
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Stat {
    Maximum,
    Minimum,
    Average,
    Sum,
    SampleCount,
}

impl Stat {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "Maximum" => Stat::Maximum,
            "Minimum" => Stat::Minimum,
            "Average" => Stat::Average,
            "Sum" => Stat::Sum,
            "SampleCount" => Stat::SampleCount,
            _ => return None,
        })
    }

    fn of(self, values: &[f64]) -> f64 {
        let sum: f64 = values.iter().sum();
        match self {
            Stat::Maximum => values.iter().copied().fold(f64::MIN, f64::max),
            Stat::Minimum => values.iter().copied().fold(f64::MAX, f64::min),
            Stat::Average => sum / values.len() as f64,
            Stat::Sum => sum,
            Stat::SampleCount => values.len() as f64,
        }
    }
}

/// The (bucket start, statistic) points of one metric in `[start, end)`, oldest first; buckets
/// are aligned on multiples of the period since the epoch, as CloudWatch aligns them.
fn series(
    st: &AwsState,
    who: &Caller,
    stat: &MetricStat,
    start: Timestamp,
    end: Timestamp,
    now: Timestamp,
) -> Vec<(Timestamp, f64)> {
    let dims: BTreeMap<String, String> = (stat.metric.dimensions.iter())
        .map(|d| (d.name.clone(), d.value.clone()))
        .collect();
    let Some(def) = st
        .catalog
        .by_metric(&stat.metric.namespace, &stat.metric.metric_name, &dims)
    else {
        return Vec::new();
    };
    let Some((usage, t0)) = st.usage_of(&who.account, &who.region, def) else {
        return Vec::new();
    };
    let how = Stat::parse(&stat.stat).expect("checked");
    let samples = usage.samples(t0, now, start, end);
    let mut buckets: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for (t, v) in samples {
        let b = t.as_second().div_euclid(stat.period) * stat.period;
        buckets.entry(b).or_default().push(v);
    }
    buckets
        .into_iter()
        .filter_map(|(b, vs)| Some((Timestamp::from_second(b).ok()?, how.of(&vs))))
        .collect()
}

/// At most `max` data points across every result; the NextToken goes on from there.
fn page(
    results: Vec<QueryResult>,
    input: &MetricDataInput,
    max: usize,
    caller: &str,
) -> Result<Output, AwsError> {
    let flat: Vec<(usize, usize)> = (results.iter().enumerate())
        .flat_map(|(r, res)| (0..res.values.len()).map(move |p| (r, p)))
        .collect();
    let query = format!(
        "GetMetricData/{caller}/{:?}/{:?}/{:?}/{}",
        input.start_time,
        input.end_time,
        input.scan_by,
        results
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    let token = input.next_token.as_deref().unwrap_or_default();
    let (slice, next) = paging::page(&flat, token, max, &query).map_err(|_| {
        AwsError::new(
            "InvalidNextToken",
            "The service couldn't process the NextToken.",
        )
    })?;
    let last = slice.last().copied();
    let out = results
        .into_iter()
        .enumerate()
        .map(|(r, res)| {
            let mine: Vec<usize> = slice
                .iter()
                .filter(|(i, _)| *i == r)
                .map(|(_, p)| *p)
                .collect();
            let more = next.is_some()
                && last.is_none_or(|(lr, lp)| r > lr || (r == lr && lp + 1 < res.values.len()));
            QueryResult {
                timestamps: mine.iter().map(|&p| res.timestamps[p]).collect(),
                values: mine.iter().map(|&p| res.values[p]).collect(),
                status: if more { "PartialData" } else { "Complete" },
                ..res
            }
        })
        .collect();
    Ok(Output {
        results: out,
        next_token: next,
    })
}
