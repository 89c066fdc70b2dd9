//! Smithy RPC v2 CBOR, as aws-sdk-cloudwatch speaks it: the request body is a CBOR map (the SDK
//! writes indefinite-length maps, timestamps as tag 1 around epoch seconds), turned into the
//! JSON shape `input` reads; answers and errors are CBOR maps with `smithy-protocol:
//! rpc-v2-cbor`.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use ciborium::Value as Cbor;
use serde_json::{Number, Value as Json};

use super::input::{MetricDataInput, Output};
use crate::aws::error::AwsError;

pub const CONTENT_TYPE: &str = "application/cbor";

/// The request body as GetMetricData's input; an empty body is an empty input.
pub fn parse(body: &[u8]) -> Result<MetricDataInput, AwsError> {
    if body.is_empty() {
        return Ok(MetricDataInput::default());
    }
    let value: Cbor = ciborium::de::from_reader(body)
        .map_err(|e| AwsError::new("SerializationException", format!("invalid CBOR: {e}")))?;
    serde_json::from_value(to_json(value))
        .map_err(|e| AwsError::new("SerializationException", e.to_string()))
}

/// CBOR as the JSON the botocore model describes: tag 1 (a timestamp) becomes its epoch
/// seconds, byte strings hex.
fn to_json(v: Cbor) -> Json {
    match v {
        Cbor::Integer(i) => {
            let n = i128::from(i);
            i64::try_from(n)
                .map(Json::from)
                .unwrap_or_else(|_| Json::from(n as f64))
        }
        Cbor::Float(f) => Number::from_f64(f).map_or(Json::Null, Json::Number),
        Cbor::Text(s) => Json::String(s),
        Cbor::Bytes(b) => Json::String(hex::encode(b)),
        Cbor::Bool(b) => Json::Bool(b),
        Cbor::Null => Json::Null,
        Cbor::Tag(_, inner) => to_json(*inner),
        Cbor::Array(items) => Json::Array(items.into_iter().map(to_json).collect()),
        Cbor::Map(pairs) => Json::Object(
            pairs
                .into_iter()
                .filter_map(|(k, v)| match k {
                    Cbor::Text(k) => Some((k, to_json(v))),
                    _ => None,
                })
                .collect(),
        ),
        _ => Json::Null,
    }
}

fn text(s: &str) -> Cbor {
    Cbor::Text(s.to_string())
}

/// GetMetricData's output as a CBOR map; timestamps are tag 1 around epoch seconds.
pub fn render(out: &Output) -> Response {
    let results = out
        .results
        .iter()
        .map(|r| {
            let stamps = r
                .timestamps
                .iter()
                .map(|t| Cbor::Tag(1, Box::new(Cbor::Float(t.as_millisecond() as f64 / 1000.0))))
                .collect();
            Cbor::Map(vec![
                (text("Id"), text(&r.id)),
                (text("Label"), text(&r.label)),
                (text("Timestamps"), Cbor::Array(stamps)),
                (
                    text("Values"),
                    Cbor::Array(r.values.iter().map(|v| Cbor::Float(*v)).collect()),
                ),
                (text("StatusCode"), text(r.status)),
            ])
        })
        .collect();
    let mut map = vec![
        (text("MetricDataResults"), Cbor::Array(results)),
        (text("Messages"), Cbor::Array(Vec::new())),
    ];
    if let Some(t) = &out.next_token {
        map.push((text("NextToken"), text(t)));
    }
    respond(StatusCode::OK, &Cbor::Map(map))
}

/// An error as rpcv2Cbor sends it: `__type` and `message` in the body, the awsQuery code in
/// `x-amzn-query-error` (which the SDK prefers).
pub fn error(e: &AwsError) -> Response {
    let body = Cbor::Map(vec![
        (text("__type"), text(e.code)),
        (text("message"), text(&e.message)),
    ]);
    let mut resp = respond(super::json::status_of(e.code), &body);
    super::json::query_error_header(&mut resp, e.code);
    resp
}

fn respond(status: StatusCode, body: &Cbor) -> Response {
    let mut bytes = Vec::new();
    let _ = ciborium::ser::into_writer(body, &mut bytes);
    let mut resp = (status, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    h.insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tagged_timestamps_and_indefinite_maps() {
        // {_ "StartTime": 1(1700000000.5), "MaxDatapoints": 10}, as the SDK encodes it.
        let mut body = vec![0xbf];
        body.push(0x69);
        body.extend_from_slice(b"StartTime");
        body.extend_from_slice(&[0xc1, 0xfb]);
        body.extend_from_slice(&1_700_000_000.5f64.to_be_bytes());
        body.push(0x6d);
        body.extend_from_slice(b"MaxDatapoints");
        body.push(0x0a);
        body.push(0xff);
        let input = parse(&body).unwrap();
        assert_eq!(
            input.start_time.unwrap().as_millisecond(),
            1_700_000_000_500
        );
        assert_eq!(input.max_datapoints, Some(10));
    }
}
