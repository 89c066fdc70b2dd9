//! Answers a real endpoint gives when something between the client and Service Quotas, or the
//! caller's IAM policy, gets in the way: AccessDeniedException from a least-privilege policy,
//! an HTTP 500 with an HTML page from a proxy (no AWS error code at all), a call that stalls.
//! Injected from the scenario (`faults:`) or the control handle, matched like throttles.

use std::time::Duration;

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};

use super::{error::AwsError, operation::Operation};
use crate::delay::Delay;

/// What the matching calls get instead of (or before) their answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Fault {
    /// HTTP 400 `AccessDeniedException` (EC2: HTTP 403 `UnauthorizedOperation`), as IAM answers a
    /// caller whose policy lacks the action.
    AccessDenied,
    /// HTTP 500 with an HTML body and no `__type` or `x-amzn-ErrorType`: a proxy's error page.
    Html500,
    /// The answer comes only after `delay` (default 60s): a stalled connection.
    Stall,
}

/// A fault for the next `count` matching calls (every matching call when `count` is absent).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FaultInjection {
    pub operation: String,
    pub fault: Fault,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// How long a `stall` holds the answer (a time, e.g. `30s`; polls and manual make no sense).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Delay>,
}

const DEFAULT_STALL: Duration = Duration::from_secs(60);

impl FaultInjection {
    /// Checks the operation name and the delay; the error names the field at fault
    /// (`operation` or `delay`) and what is wrong with it.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        self.operation
            .parse::<Operation>()
            .map_err(|m| ("operation", m))?;
        match (self.fault, self.delay) {
            (_, None) | (Fault::Stall, Some(Delay::After(_))) => Ok(()),
            (Fault::Stall, Some(_)) => Err((
                "delay",
                "a stall lasts a time (e.g. `30s`), not polls or manual".into(),
            )),
            (_, Some(_)) => Err(("delay", "only a `stall` fault takes a delay".into())),
        }
    }

    fn matches(&self, account: &str, region: &str, op: Operation) -> bool {
        self.count != Some(0)
            && self.operation == op.name()
            && self.account.as_deref().is_none_or(|a| a == account)
            && self.region.as_deref().is_none_or(|r| r == region)
    }

    fn stall(&self) -> Duration {
        match self.delay {
            Some(Delay::After(d)) => d,
            _ => DEFAULT_STALL,
        }
    }
}

/// What the HTTP layer does with one call.
#[derive(Clone, Debug, PartialEq)]
pub enum Injected {
    Refuse(AwsError),
    Html500,
    Stall(Duration),
}

impl Injected {
    /// The code the call counters record (None for a stall, which still answers normally).
    pub fn code(&self) -> Option<&'static str> {
        match self {
            Injected::Refuse(e) => Some(e.code),
            Injected::Html500 => Some("HTTP 500"),
            Injected::Stall(_) => None,
        }
    }
}

/// The first injection matching the call, spending one of its `count`.
pub fn take(
    faults: &mut [FaultInjection],
    account: &str,
    region: &str,
    op: Operation,
) -> Option<Injected> {
    let f = faults.iter_mut().find(|f| f.matches(account, region, op))?;
    if let Some(n) = &mut f.count {
        *n -= 1;
    }
    Some(match f.fault {
        Fault::AccessDenied => Injected::Refuse(access_denied(account, op)),
        Fault::Html500 => Injected::Html500,
        Fault::Stall => Injected::Stall(f.stall()),
    })
}

/// IAM's refusal of an action the caller's policy lacks: Service Quotas' AccessDeniedException,
/// EC2's UnauthorizedOperation (HTTP 403 on EC2's query protocol) or CloudWatch's AccessDenied
/// (HTTP 403).
fn access_denied(account: &str, op: Operation) -> AwsError {
    let (code, prefix) = match op.iam_prefix() {
        "ec2" => (
            "UnauthorizedOperation",
            "You are not authorized to perform this operation. ",
        ),
        // CloudWatch's awsQuery code, which its JSON and CBOR errors carry too.
        "cloudwatch" => ("AccessDenied", ""),
        _ => ("AccessDeniedException", ""),
    };
    let action = format!("{}:{op}", op.iam_prefix());
    AwsError::new(
        code,
        format!(
            "{prefix}User: arn:aws:iam::{account}:user/quota-operator is not authorized to \
             perform: {action} because no identity-based policy allows the {action} action"
        ),
    )
}

/// A load balancer's error page: nothing in it says which AWS error this is.
pub fn html_500() -> Response {
    let body = "<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n\
                <center><h1>500 Internal Server Error</h1></center>\r\n<hr><center>awselb/2.0</center>\r\n\
                </body>\r\n</html>\r\n";
    let mut resp = (StatusCode::INTERNAL_SERVER_ERROR, body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn injection(fault: Fault, count: Option<u32>) -> FaultInjection {
        FaultInjection {
            operation: "ListServiceQuotas".into(),
            fault,
            count,
            account: None,
            region: Some("us-east-1".into()),
            delay: None,
        }
    }

    #[test]
    fn counted_faults_run_out_and_others_last() {
        let op = Operation::ListServiceQuotas;
        let mut faults = vec![injection(Fault::Html500, Some(1))];
        assert_eq!(
            take(&mut faults, "a", "us-east-1", op),
            Some(Injected::Html500)
        );
        assert_eq!(take(&mut faults, "a", "us-east-1", op), None);
        let mut faults = vec![injection(Fault::AccessDenied, None)];
        for _ in 0..3 {
            let got = take(&mut faults, "a", "us-east-1", op).unwrap();
            assert_eq!(got.code(), Some("AccessDeniedException"));
        }
        assert_eq!(
            take(&mut faults, "a", "eu-west-1", op),
            None,
            "other region"
        );
        let other = Operation::GetServiceQuota;
        assert_eq!(take(&mut faults, "a", "us-east-1", other), None);
    }

    #[test]
    fn only_a_stall_takes_a_time() {
        let mut stall = injection(Fault::Stall, None);
        stall.delay = Some(Delay::millis(10));
        stall.validate().unwrap();
        stall.delay = Some(Delay::Manual);
        assert_eq!(stall.validate().unwrap_err().0, "delay");
        let mut denied = injection(Fault::AccessDenied, None);
        denied.delay = Some(Delay::millis(10));
        assert_eq!(denied.validate().unwrap_err().0, "delay");
        denied.delay = None;
        denied.operation = "Nope".into();
        assert_eq!(denied.validate().unwrap_err().0, "operation");
    }
}
