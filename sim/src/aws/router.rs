//! The one AWS endpoint, in front of every AWS service. `POST /` with `X-Amz-Target:
//! ServiceQuotasV20190624.<Operation>` is Service Quotas (awsJson1_1); a form body with
//! `Action=` is EC2 (ec2 query) when the action is an EC2 one or `Version=2016-11-15`, else STS
//! (awsQuery). `AWSSupport_20130415.<Operation>` is AWS Support (awsJson1_1). For Service Quotas and EC2 it finds the caller (account and region), answers
//! injected faults and the rate limiter's throttles, counts the call, and only then asks the
//! service.
//!
//! Signatures are not verified: the simulator only reads the access key id and region from the
//! SigV4 credential scope (`Credential=AKID/date/region/servicequotas/aws4_request`), so any
//! secret key works and the scenario maps access keys to accounts.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Instant,
};

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use jiff::Timestamp;

use super::{
    cloudwatch,
    ec2::{regions as ec2_regions, responses as ec2},
    error::{AwsError, CONTENT_TYPE},
    fault::{self, Injected},
    model::state::{AwsState, Shared},
    operation::Operation,
    service_quotas::{responses as service_quotas, wire::Input},
    sts::responses as sts,
    support::responses as support,
};
use crate::shared::lock;

const TARGET_PREFIX: &str = "ServiceQuotasV20190624.";

pub async fn handle(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let target = header_str(&headers, "x-amz-target").unwrap_or_default();
    let resp = if let Some(op) = target.strip_prefix(CLOUDWATCH_PREFIX) {
        cloudwatch_call(&shared, &headers, op, &body, Encoding::Json).await
    } else if let Some(op) = target.strip_prefix(SUPPORT_PREFIX) {
        support_call(&shared, &headers, op, &body).await
    } else {
        other_call(&shared, &headers, &body).await
    };
    with_request_id(resp)
}

/// `POST /service/GraniteServiceVersion20100801/operation/<op>`: CloudWatch on Smithy RPC v2
/// CBOR, as the Rust SDK calls it.
pub async fn cbor(
    State(shared): State<Shared>,
    Path((service, op)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let resp = if service == cloudwatch::SERVICE {
        cloudwatch_call(&shared, &headers, &op, &body, Encoding::Cbor).await
    } else {
        let e = AwsError::new(
            "UnknownOperationException",
            format!("The simulator serves no rpcv2Cbor service `{service}`."),
        );
        cloudwatch::cbor::error(&e)
    };
    with_request_id(resp)
}

const CLOUDWATCH_PREFIX: &str = "GraniteServiceVersion20100801.";
const SUPPORT_PREFIX: &str = "AWSSupport_20130415.";

/// An AWS Support call (X-Amz-Target, JSON): the same access checks, faults, rate limits and
/// counters as Service Quotas.
async fn support_call(shared: &Shared, headers: &HeaderMap, name: &str, body: &[u8]) -> Response {
    let op = (Operation::SUPPORT.into_iter())
        .find(|op| op.name() == name)
        .ok_or_else(|| {
            AwsError::new(
                "UnknownOperationException",
                format!("The simulator does not implement AWS Support `{name}`."),
            )
        });
    let result = match op.and_then(|op| Ok((op, who(shared, headers)?))) {
        Ok((op, who)) => {
            guarded(shared, op, &who, |st| {
                support::dispatch(st, &who, op, body, Timestamp::now())
            })
            .await
        }
        Err(e) => Err(Refused::Error(e)),
    };
    json_answer(result)
}

fn json_answer(result: Result<serde_json::Value, Refused>) -> Response {
    match result {
        Ok(value) => {
            let mut resp = value.to_string().into_response();
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
            resp
        }
        Err(Refused::Error(e)) => e.into_response(),
        Err(Refused::Html500) => fault::html_500(),
    }
}

async fn other_call(shared: &Shared, headers: &HeaderMap, body: &Bytes) -> Response {
    if headers.get("x-amz-target").is_none() && sts::is_query(body) {
        let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        if ec2::is_ec2(&form) {
            ec2_call(shared, headers, &form).await
        } else {
            let key = credential_scope(header_str(headers, "authorization")).ok();
            sts::answer(
                &mut lock(shared),
                key.as_ref().map(|(k, _)| k.as_str()),
                body,
                Timestamp::now(),
            )
        }
    } else {
        service_quotas(shared, headers, body).await
    }
}

/// The SDKs attach this id to errors; a counter keeps runs reproducible.
fn with_request_id(mut resp: Response) -> Response {
    static REQUEST_IDS: AtomicU64 = AtomicU64::new(1);
    let n = REQUEST_IDS.fetch_add(1, Ordering::Relaxed);
    if let Ok(id) = HeaderValue::from_str(&format!("00000000-0000-4000-8000-{n:012x}")) {
        resp.headers_mut().insert("x-amzn-RequestId", id);
    }
    resp
}

/// How CloudWatch was called: the SDK's CBOR or the CLI's JSON.
#[derive(Clone, Copy)]
enum Encoding {
    Cbor,
    Json,
}

/// A CloudWatch call: the same access checks, faults, rate limits and counters as Service
/// Quotas, in CloudWatch's error codes and the caller's encoding.
async fn cloudwatch_call(
    shared: &Shared,
    headers: &HeaderMap,
    name: &str,
    body: &[u8],
    enc: Encoding,
) -> Response {
    let op = Operation::CLOUDWATCH
        .into_iter()
        .find(|op| op.name() == name)
        .ok_or_else(|| {
            AwsError::new(
                "UnknownOperationException",
                format!("The simulator does not implement CloudWatch `{name}`."),
            )
        });
    let call = op.and_then(|op| Ok((op, who(shared, headers)?)));
    let result = match call {
        Ok((op, who)) => {
            guarded(shared, op, &who, |st| {
                let input = match enc {
                    Encoding::Cbor => cloudwatch::cbor::parse(body),
                    Encoding::Json => cloudwatch::json::parse(body),
                }?;
                cloudwatch::metric_data::answer(st, &who, &input, Timestamp::now())
            })
            .await
        }
        Err(e) => Err(Refused::Error(e)),
    };
    match (result, enc) {
        (Ok(out), Encoding::Cbor) => cloudwatch::cbor::render(&out),
        (Ok(out), Encoding::Json) => cloudwatch::json::render(&out),
        (Err(Refused::Error(e)), Encoding::Cbor) => cloudwatch::cbor::error(&e),
        (Err(Refused::Error(e)), Encoding::Json) => cloudwatch::json::error(&e),
        (Err(Refused::Html500), _) => fault::html_500(),
    }
}

/// Why a call got no answer of its own.
enum Refused {
    Error(AwsError),
    /// A proxy's HTML page (an injected fault).
    Html500,
}

/// A Service Quotas call (X-Amz-Target, JSON).
async fn service_quotas(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Response {
    let result = match caller(shared, headers) {
        Ok((op, who)) => {
            guarded(shared, op, &who, |st| {
                parse_input(body).and_then(|input| {
                    service_quotas::dispatch(st, &who, op, input, Timestamp::now())
                })
            })
            .await
        }
        Err(e) => Err(Refused::Error(e)),
    };
    json_answer(result)
}

/// An EC2 call (form body, XML answers): the same access checks, faults, rate limits and
/// counters as Service Quotas, in EC2's error codes.
async fn ec2_call(shared: &Shared, headers: &HeaderMap, form: &[(String, String)]) -> Response {
    let call = ec2::operation(form).and_then(|op| Ok((op, who(shared, headers)?)));
    let result = match call {
        Ok((op, who)) => {
            guarded(shared, op, &who, |st| match op {
                Operation::DescribeRegions => ec2_regions::describe_regions(&st.regions, form),
                _ => ec2::describe_instance_types(&st.instance_types, &who.region, form),
            })
            .await
        }
        Err(e) => Err(Refused::Error(e)),
    };
    match result {
        Ok(body) => ec2::xml(StatusCode::OK, body),
        Err(Refused::Error(e)) => ec2::error_response(&ec2::ec2_error(e)),
        Err(Refused::Html500) => fault::html_500(),
    }
}

/// Runs one call of `op` by `who`: an injected fault first (a stall waits outside the lock,
/// then answers), then the rate limiter, then `answer`; every outcome is counted.
async fn guarded<T>(
    shared: &Shared,
    op: Operation,
    who: &service_quotas::Caller,
    answer: impl FnOnce(&mut AwsState) -> Result<T, AwsError>,
) -> Result<T, Refused> {
    let injected = {
        let mut st = lock(shared);
        let injected = fault::take(&mut st.faults, &who.account, &who.region, op);
        if let Some(code) = injected.as_ref().and_then(Injected::code) {
            st.counters
                .record(&who.account, &who.region, op, Some(code));
        }
        injected
    };
    match injected {
        Some(Injected::Refuse(e)) => return Err(Refused::Error(e)),
        Some(Injected::Html500) => return Err(Refused::Html500),
        Some(Injected::Stall(d)) => tokio::time::sleep(d).await,
        None => {}
    }
    let mut st = lock(shared);
    let result = if !st
        .limiter
        .admit(&who.account, &who.region, op, Instant::now())
    {
        Err(throttled(op))
    } else {
        answer(&mut st)
    };
    let code = result.as_ref().err().map(|e| e.code);
    st.counters.record(&who.account, &who.region, op, code);
    tracing::debug!(%op, account = %who.account, region = %who.region, error = ?code, "sim: aws call");
    result.map_err(Refused::Error)
}

/// Service Quotas' throttle, EC2's or CloudWatch's.
fn throttled(op: Operation) -> AwsError {
    match op.iam_prefix() {
        "ec2" => ec2::ec2_error(AwsError::throttled()),
        "cloudwatch" => AwsError::new("Throttling", "Rate exceeded"),
        _ => AwsError::throttled(),
    }
}

/// The operation and who calls it, from the target header and the SigV4 credential scope.
fn caller(
    shared: &Shared,
    headers: &HeaderMap,
) -> Result<(Operation, service_quotas::Caller), AwsError> {
    let target = header_str(headers, "x-amz-target").unwrap_or_default();
    let op = target
        .strip_prefix(TARGET_PREFIX)
        .and_then(|name| Operation::ALL.into_iter().find(|op| op.name() == name))
        .ok_or_else(|| {
            AwsError::new(
                "UnknownOperationException",
                format!("The simulator does not implement `{target}`."),
            )
        })?;
    Ok((op, who(shared, headers)?))
}

/// The caller's account (from its access key: assumed-role sessions, then the scenario's keys)
/// and region (from the SigV4 credential scope).
fn who(shared: &Shared, headers: &HeaderMap) -> Result<service_quotas::Caller, AwsError> {
    let (access_key, region) = credential_scope(header_str(headers, "authorization"))?;
    let st = lock(shared);
    let Some(account) = st.account_for_key(&access_key).map(String::from) else {
        return Err(AwsError::new(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ));
    };
    Ok(service_quotas::Caller { account, region })
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// (access key id, region) from a SigV4 `Authorization` header.
fn credential_scope(auth: Option<&str>) -> Result<(String, String), AwsError> {
    let auth = auth.ok_or_else(|| {
        AwsError::new(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        )
    })?;
    let scope = auth
        .split("Credential=")
        .nth(1)
        .and_then(|rest| rest.split([',', ' ']).next())
        .unwrap_or_default();
    match scope.split('/').collect::<Vec<_>>()[..] {
        [key, _date, region, _service, "aws4_request"] if !key.is_empty() && !region.is_empty() => {
            Ok((key.to_string(), region.to_string()))
        }
        _ => Err(AwsError::new(
            "IncompleteSignatureException",
            "Authorization header requires a SigV4 Credential=<key>/<date>/<region>/<service>/aws4_request.",
        )),
    }
}

fn parse_input(body: &[u8]) -> Result<Input, AwsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Input::default());
    }
    serde_json::from_slice(body).map_err(|e| AwsError::new("SerializationException", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_key_and_region_from_the_credential_scope() {
        let h = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/eu-west-1/servicequotas/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature=abc";
        assert_eq!(
            credential_scope(Some(h)).unwrap(),
            ("AKIDEXAMPLE".to_string(), "eu-west-1".to_string())
        );
        assert_eq!(
            credential_scope(None).unwrap_err().code,
            "MissingAuthenticationTokenException"
        );
        assert_eq!(
            credential_scope(Some("Bearer x")).unwrap_err().code,
            "IncompleteSignatureException"
        );
    }
}
