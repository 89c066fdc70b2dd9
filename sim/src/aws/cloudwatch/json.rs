//! awsJson1_0, as botocore (the AWS CLI) speaks CloudWatch: `X-Amz-Target:
//! GraniteServiceVersion20100801.GetMetricData`, JSON bodies, timestamps as epoch seconds.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::input::{MetricDataInput, Output};
use crate::aws::error::AwsError;

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

pub fn parse(body: &[u8]) -> Result<MetricDataInput, AwsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(MetricDataInput::default());
    }
    serde_json::from_slice(body).map_err(|e| AwsError::new("SerializationException", e.to_string()))
}

pub fn render(out: &Output) -> Response {
    let results: Vec<Value> = out
        .results
        .iter()
        .map(|r| {
            let stamps: Vec<f64> = (r.timestamps.iter())
                .map(|t| t.as_millisecond() as f64 / 1000.0)
                .collect();
            json!({
                "Id": r.id,
                "Label": r.label,
                "Timestamps": stamps,
                "Values": r.values,
                "StatusCode": r.status,
            })
        })
        .collect();
    let mut body = json!({ "MetricDataResults": results, "Messages": [] });
    if let Some(t) = &out.next_token {
        body["NextToken"] = json!(t);
    }
    respond(StatusCode::OK, &body)
}

pub fn error(e: &AwsError) -> Response {
    let body = json!({ "__type": e.code, "message": e.message });
    let mut resp = respond(status_of(e.code), &body);
    query_error_header(&mut resp, e.code);
    resp
}

/// CloudWatch's HTTP status for an error code: 403 for a refused action, 500 for its own
/// failures, 400 for the rest (throttling included, as in its awsQuery days).
pub fn status_of(code: &str) -> StatusCode {
    match code {
        "AccessDenied" => StatusCode::FORBIDDEN,
        "InternalServiceError" | "InternalFailure" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// `x-amzn-query-error: <Code>;<Sender|Receiver>`, the awsQuery-compatible error code.
pub fn query_error_header(resp: &mut Response, code: &str) {
    let fault = if status_of(code).is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    if let Ok(v) = HeaderValue::from_str(&format!("{code};{fault}")) {
        resp.headers_mut().insert("x-amzn-query-error", v);
    }
}

fn respond(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    resp
}
