//! What the `/_sim/<cloud>/...` admin routes of every cloud have in common: the error their
//! control methods return and how an answer is rendered.

use std::collections::BTreeMap;

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::{Map, Value, json};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("invalid: {0}")]
    Invalid(String),
}

/// The value as JSON, or `{"error": ...}` with a status telling a typo (404) from a call
/// that cannot be made (400).
pub fn reply<T: Serialize>(r: Result<T, SimError>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => {
            let status = match e {
                SimError::NotFound(_) => StatusCode::NOT_FOUND,
                SimError::Invalid(_) => StatusCode::BAD_REQUEST,
            };
            (status, Json(json!({ "error": e.to_string() }))).into_response()
        }
    }
}

/// The call counters under `key`, plus `totals` per call name so a glance shows what was
/// called; `name_calls` gives a counter's call name and count.
pub fn counters<C: Serialize>(
    counts: &[C],
    key: &str,
    name_calls: impl Fn(&C) -> (&str, u64),
) -> Response {
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for c in counts {
        let (name, calls) = name_calls(c);
        *totals.entry(name.to_string()).or_default() += calls;
    }
    let mut body = Map::new();
    body.insert("totals".into(), json!(totals));
    body.insert(key.into(), json!(counts));
    Json(Value::Object(body)).into_response()
}
