//! `GET /v3/projects/{project}/timeSeries` as google-cloud-monitoring-v3 calls it: `filter`,
//! `interval.startTime` / `interval.endTime` (RFC 3339), `aggregation.alignmentPeriod` (`60s`),
//! `aggregation.perSeriesAligner` (a number from the Rust client, a name from others), `view`,
//! `pageSize`, `pageToken`. Counted per project as `ListTimeSeries`; faults and unknown projects
//! answer as for Cloud Quotas.

use axum::{
    Router,
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::{
    filter::Filter,
    series::{self, Aligner, Shape},
};
use crate::gcp::{
    error::{Code, GcpError},
    method::Method,
    model::state::{GcpState, Shared},
    params::Params,
};
use crate::{paging, shared::current};

/// Monitoring's largest page (and its page size when none is asked).
const MAX_PAGE: i64 = 100_000;

pub fn router(shared: Shared) -> Router {
    Router::new()
        .route("/v3/projects/{project}/timeSeries", get(list))
        .with_state(shared)
}

async fn list(
    State(shared): State<Shared>,
    Path(project): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let method = Method::ListTimeSeries;
    let result = current(&shared, |st, now| {
        let result = if !st.scenario.project_exists(&project) {
            Err(GcpError::new(
                Code::PermissionDenied,
                format!(
                    "Permission {} denied (or the resource may not exist).",
                    method.permission()
                ),
            ))
        } else {
            st.take_fault(method, &project)
                .map_or_else(|| answer(st, &project, &Params(pairs), now), Err)
        };
        let code = result.as_ref().err().map(|e| e.code);
        st.counters.record(&project, method, code);
        result
    });
    match result {
        Ok(v) => {
            let mut resp = (StatusCode::OK, v.to_string()).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=UTF-8"),
            );
            resp
        }
        Err(e) => e.into_response(),
    }
}

fn answer(
    st: &GcpState,
    project: &str,
    params: &Params,
    now: Timestamp,
) -> Result<Value, GcpError> {
    let filter_text = params.text("filter");
    let filter = Filter::parse(&filter_text)?;
    let shape = shape(params)?;
    let size = match params.number("pageSize")? {
        0 => MAX_PAGE,
        n if (1..=MAX_PAGE).contains(&n) => n,
        n => return Err(GcpError::invalid(format!("Invalid page_size {n}."))),
    } as usize;
    // Samples from one period before the start, so the oldest aligned point is whole.
    let from =
        Timestamp::from_second(shape.start.as_second() - shape.period).unwrap_or(shape.start);
    let to = Timestamp::from_second(shape.end.as_second() + 1).unwrap_or(shape.end);
    let all = series::matching(st, project, &filter, from, to, now);
    let query = format!(
        "timeSeries/{project}/{filter_text}/{}/{}/{:?}/{}",
        shape.start, shape.end, shape.aligner, shape.period
    );
    let (items, next) = paging::page(&all, &params.text("pageToken"), size, &query)
        .map_err(|_| GcpError::invalid("Invalid page token."))?;
    let enc = params.enc();
    let out: Vec<Value> = items
        .iter()
        .map(|s| s.to_json(&shape, enc))
        .collect::<Result<_, _>>()?;
    Ok(json!({
        "timeSeries": out,
        "nextPageToken": next.unwrap_or_default(),
        "unit": "1",
    }))
}

fn time(params: &Params, key: &str) -> Result<Option<Timestamp>, GcpError> {
    params
        .get(key)
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse::<Timestamp>().map_err(|_| {
                GcpError::invalid(format!("Invalid value at '{key}' (type.googleapis.com/google.protobuf.Timestamp), \"{v}\""))
            })
        })
        .transpose()
}

/// The interval, aligner, period and view a request asks for.
fn shape(params: &Params) -> Result<Shape, GcpError> {
    let end = time(params, "interval.endTime")?
        .ok_or_else(|| GcpError::invalid("Field interval.endTime is required."))?;
    let start = time(params, "interval.startTime")?
        .unwrap_or_else(|| Timestamp::from_second(end.as_second() - 60).unwrap_or(end));
    if start > end {
        return Err(GcpError::invalid(
            "The start time must be before the end time in the interval.",
        ));
    }
    let aligner = Aligner::parse(&params.text("aggregation.perSeriesAligner"))?;
    let period = match params.get("aggregation.alignmentPeriod") {
        None | Some("") => 60,
        Some(p) => {
            let secs = p.strip_suffix('s').and_then(|n| n.parse::<f64>().ok());
            match secs {
                Some(s) if s >= 60.0 => s as i64,
                _ => {
                    return Err(GcpError::invalid(format!(
                        "The alignment period must be at least 60s, got \"{p}\"."
                    )));
                }
            }
        }
    };
    match params.text("aggregation.crossSeriesReducer").as_str() {
        "" | "0" | "REDUCE_NONE" => {}
        other => {
            return Err(GcpError::invalid(format!(
                "The simulator does not support the cross-series reducer {other}."
            )));
        }
    }
    let headers_only = match params.text("view").as_str() {
        "" | "0" | "FULL" => false,
        "1" | "HEADERS" => true,
        other => {
            return Err(GcpError::invalid(format!(
                "Invalid value at 'view', \"{other}\""
            )));
        }
    };
    Ok(Shape {
        start,
        end,
        aligner,
        period,
        headers_only,
    })
}
