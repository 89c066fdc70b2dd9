//! Errors as awsJson1_1 services send them: HTTP 400, `x-amzn-ErrorType`, and a JSON body with
//! `__type` and `message`. Throttling is 400 too; botocore and the Rust SDK both classify
//! `TooManyRequestsException` as a throttling error by its code, not by the status.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

/// The awsJson1_1 content type, of answers and errors alike.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AwsError {
    pub code: &'static str,
    pub message: String,
}

impl AwsError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn no_such_resource(message: impl Into<String>) -> Self {
        Self::new("NoSuchResourceException", message)
    }

    pub fn no_such_service() -> Self {
        Self::no_such_resource("The request failed because the specified service does not exist.")
    }

    pub fn no_such_quota(service: &str, code: &str) -> Self {
        Self::no_such_resource(format!(
            "The request failed because the specified quota {code} does not exist in service {service}."
        ))
    }

    pub fn illegal_argument(message: impl Into<String>) -> Self {
        Self::new("IllegalArgumentException", message)
    }

    pub fn missing(field: &str) -> Self {
        Self::illegal_argument(format!("{field} is required."))
    }

    pub fn throttled() -> Self {
        Self::new("TooManyRequestsException", "Rate exceeded")
    }

    pub fn bad_token() -> Self {
        Self::new(
            "InvalidPaginationTokenException",
            "Invalid pagination token.",
        )
    }
}

impl IntoResponse for AwsError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"__type": self.code, "message": self.message});
        let mut resp = (StatusCode::BAD_REQUEST, body.to_string()).into_response();
        let headers = resp.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        headers.insert("x-amzn-ErrorType", HeaderValue::from_static(self.code));
        resp
    }
}
