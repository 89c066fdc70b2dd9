//! Simulated EC2 DescribeInstanceTypes on EC2's query protocol: `POST /` with a form body
//! (`Action=DescribeInstanceTypes&Version=2016-11-15&InstanceType.1=m5.2xlarge&...`), XML
//! answers in the `http://ec2.amazonaws.com/doc/2016-11-15/` namespace, and errors as EC2's
//! `<Response><Errors><Error>...</Errors><RequestID>` document. Served beside Service Quotas and
//! STS on the same address; the caller's account comes from the access key and the region from
//! the credential scope, like every other call (the catalog is the same in every account).

use std::sync::atomic::{AtomicU64, Ordering};

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::aws::{
    error::AwsError,
    instance_types::{InstanceTypeDef, InstanceTypes},
    operation::Operation,
    xml::escape,
};
use crate::paging;

pub const VERSION: &str = "2016-11-15";
pub const NS: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";
/// EC2's page size when MaxResults is absent, and the most it allows.
const MAX_PAGE: usize = 100;

/// A form body's `Action` and whether it is an EC2 call (an EC2 action, or EC2's API version).
/// Anything else with an `Action` is STS's.
pub fn is_ec2(form: &[(String, String)]) -> bool {
    let param = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    param("Version") == Some(VERSION)
        || param("Action").is_some_and(|a| Operation::EC2.iter().any(|op| op.name() == a))
}

/// The EC2 action of a form, or InvalidAction for one the simulator does not serve.
pub fn operation(form: &[(String, String)]) -> Result<Operation, AwsError> {
    let action = form
        .iter()
        .find(|(k, _)| k == "Action")
        .map_or("", |(_, v)| v.as_str());
    Operation::EC2
        .into_iter()
        .find(|op| op.name() == action)
        .ok_or_else(|| {
            AwsError::new(
                "InvalidAction",
                format!("The action {action} is not valid for this web service."),
            )
        })
}

/// EC2's answer to a request with `DryRun`: the caller may, and nothing is done.
pub(super) fn dry_run(asked: bool) -> Result<(), AwsError> {
    if asked {
        return Err(AwsError::new(
            "DryRunOperation",
            "Request would have succeeded, but DryRun flag is set.",
        ));
    }
    Ok(())
}

/// DescribeInstanceTypes in `region`: the XML body of the answer.
pub fn describe_instance_types(
    cat: &InstanceTypes,
    region: &str,
    form: &[(String, String)],
) -> Result<String, AwsError> {
    let req = Request::parse(form)?;
    dry_run(req.dry_run)?;
    let offered =
        |t: &InstanceTypeDef| req.unsupported_too || cat.offered_in(&t.instance_type, region);
    let unknown: Vec<&str> = (req.types.iter())
        .filter(|name| !cat.get(name).is_some_and(offered))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(AwsError::new(
            "InvalidInstanceType",
            format!(
                "The following supplied instance types do not exist: [{}]",
                unknown.join(", ")
            ),
        ));
    }
    let matching: Vec<&InstanceTypeDef> = (cat.all().iter())
        .filter(|t| offered(t))
        .filter(|t| req.types.is_empty() || req.types.contains(&t.instance_type))
        .filter(|t| {
            req.name_patterns
                .iter()
                .all(|ps| ps.iter().any(|p| glob(p, &t.instance_type)))
        })
        .collect();
    let query = format!(
        "DescribeInstanceTypes/{region}/{:?}/{:?}/{}",
        req.types, req.name_patterns, req.unsupported_too
    );
    let (page, next) =
        paging::page(&matching, &req.next_token, req.max_results, &query).map_err(|_| {
            AwsError::new(
                "InvalidPaginationToken",
                "The specified pagination token is not valid or is expired.",
            )
        })?;
    let items: String = page.iter().map(|t| item(t)).collect();
    let next = next.map_or(String::new(), |t| format!("  <nextToken>{t}</nextToken>\n"));
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <DescribeInstanceTypesResponse xmlns=\"{NS}\">\n  <requestId>{}</requestId>\n  \
         <instanceTypeSet>\n{items}  </instanceTypeSet>\n{next}</DescribeInstanceTypesResponse>\n",
        request_id()
    ))
}

/// What a DescribeInstanceTypes form asks for.
#[derive(Debug, Default)]
struct Request {
    types: Vec<String>,
    /// One list of patterns per `instance-type` filter; a type must match one of each.
    name_patterns: Vec<Vec<String>>,
    max_results: usize,
    next_token: String,
    unsupported_too: bool,
    dry_run: bool,
}

impl Request {
    fn parse(form: &[(String, String)]) -> Result<Self, AwsError> {
        let invalid = |m: String| AwsError::new("InvalidParameterValue", m);
        let mut req = Request {
            max_results: MAX_PAGE,
            ..Request::default()
        };
        // `InstanceType.N` in the order of N, as the SDKs number them.
        let mut numbered: Vec<(u32, String)> = Vec::new();
        let mut filters: std::collections::BTreeMap<u32, (String, Vec<String>)> =
            Default::default();
        for (k, v) in form {
            let flag = || v.eq_ignore_ascii_case("true");
            match k.split('.').collect::<Vec<_>>()[..] {
                ["InstanceType", n] => numbered.push((n.parse().unwrap_or(0), v.clone())),
                ["Filter", n, "Name"] => {
                    filters.entry(n.parse().unwrap_or(0)).or_default().0 = v.clone()
                }
                ["Filter", n, "Value", _] => filters
                    .entry(n.parse().unwrap_or(0))
                    .or_default()
                    .1
                    .push(v.clone()),
                ["MaxResults"] => {
                    req.max_results = v
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (5..=MAX_PAGE).contains(n))
                        .ok_or_else(|| {
                            invalid(format!(
                                "Value ( {v} ) for parameter maxResults is invalid. Expecting a \
                                 value between 5 and {MAX_PAGE}."
                            ))
                        })?
                }
                ["NextToken"] => req.next_token = v.clone(),
                ["IncludeUnsupportedInRegion"] => req.unsupported_too = flag(),
                ["DryRun"] => req.dry_run = flag(),
                _ => {}
            }
        }
        numbered.sort_by_key(|(n, _)| *n);
        for (_, t) in numbered {
            if !req.types.contains(&t) {
                req.types.push(t);
            }
        }
        for (name, values) in filters.into_values() {
            if name != "instance-type" {
                return Err(invalid(format!(
                    "The filter '{name}' is invalid (the simulator filters on instance-type only)"
                )));
            }
            req.name_patterns.push(values);
        }
        Ok(req)
    }
}

/// EC2 filter values: `*` matches any run of characters, `?` one character.
fn glob(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

fn item(t: &InstanceTypeDef) -> String {
    let classes: String = (t.usage_classes.iter())
        .map(|c| format!("<item>{}</item>", escape(c)))
        .collect();
    format!(
        "    <item>\n      <instanceType>{}</instanceType>\n      \
         <currentGeneration>{}</currentGeneration>\n      \
         <supportedUsageClasses>{classes}</supportedUsageClasses>\n      \
         <vCpuInfo><defaultVCpus>{}</defaultVCpus><defaultCores>{}</defaultCores>\
         <defaultThreadsPerCore>{}</defaultThreadsPerCore></vCpuInfo>\n      \
         <memoryInfo><sizeInMiB>{}</sizeInMiB></memoryInfo>\n    </item>\n",
        escape(&t.instance_type),
        t.current_generation,
        t.v_cpus,
        t.cores,
        t.threads_per_core,
        t.memory_mib
    )
}

/// EC2's HTTP status for an error code (client errors are 400 unless EC2 says otherwise).
fn status(code: &str) -> StatusCode {
    match code {
        "AuthFailure" | "MissingAuthenticationToken" => StatusCode::UNAUTHORIZED,
        "UnauthorizedOperation" => StatusCode::FORBIDDEN,
        "DryRunOperation" => StatusCode::PRECONDITION_FAILED,
        "RequestLimitExceeded" | "Unavailable" => StatusCode::SERVICE_UNAVAILABLE,
        "InternalError" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// An error as EC2 sends it: no namespace, `Errors/Error`, and `RequestID` (capital ID).
pub fn error_response(e: &AwsError) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code>\
         <Message>{}</Message></Error></Errors><RequestID>{}</RequestID></Response>",
        e.code,
        escape(&e.message),
        request_id()
    );
    xml(status(e.code), body)
}

/// The errors EC2 gives where Service Quotas' awsJson codes do not apply.
pub fn ec2_error(e: AwsError) -> AwsError {
    let code = match e.code {
        "UnrecognizedClientException" => "AuthFailure",
        "MissingAuthenticationTokenException" => "MissingAuthenticationToken",
        "IncompleteSignatureException" => "IncompleteSignature",
        "TooManyRequestsException" => "RequestLimitExceeded",
        other => other,
    };
    let message = match code {
        "AuthFailure" => "AWS was not able to validate the provided access credentials".into(),
        "RequestLimitExceeded" => "Request limit exceeded.".into(),
        _ => e.message,
    };
    AwsError::new(code, message)
}

pub fn xml(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml;charset=UTF-8"),
    );
    resp
}

/// A UUID-shaped id; a counter keeps runs reproducible.
pub fn request_id() -> String {
    static IDS: AtomicU64 = AtomicU64::new(1);
    let n = IDS.fetch_add(1, Ordering::Relaxed);
    format!("ec2e0000-0000-4000-8000-{n:012x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        let base = [("Action", "DescribeInstanceTypes"), ("Version", VERSION)];
        (base.iter().chain(pairs))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn named_types_come_back_with_their_vcpus() {
        let cat = InstanceTypes::built_in();
        let f = form(&[
            ("InstanceType.1", "m5.2xlarge"),
            ("InstanceType.2", "c6i.4xlarge"),
        ]);
        let xml = describe_instance_types(&cat, "us-east-1", &f).unwrap();
        assert!(
            xml.contains("<instanceType>m5.2xlarge</instanceType>"),
            "{xml}"
        );
        assert!(xml.contains("<defaultVCpus>16</defaultVCpus>"), "{xml}");
        assert_eq!(xml.matches("<instanceType>").count(), 2);
    }

    #[test]
    fn unknown_types_are_named_in_one_error() {
        let cat = InstanceTypes::built_in();
        let f = form(&[
            ("InstanceType.1", "m5.huge"),
            ("InstanceType.2", "m5.large"),
            ("InstanceType.3", "x.y"),
        ]);
        let e = describe_instance_types(&cat, "us-east-1", &f).unwrap_err();
        assert_eq!(e.code, "InvalidInstanceType");
        assert_eq!(
            e.message,
            "The following supplied instance types do not exist: [m5.huge, x.y]"
        );
    }

    #[test]
    fn filters_and_pages() {
        let cat = InstanceTypes::built_in();
        let f = form(&[
            ("Filter.1.Name", "instance-type"),
            ("Filter.1.Value.1", "m5.*"),
            ("MaxResults", "5"),
        ]);
        let xml = describe_instance_types(&cat, "us-east-1", &f).unwrap();
        assert_eq!(xml.matches("<instanceType>m5.").count(), 4, "{xml}");
        assert!(!xml.contains("<nextToken>"));
        let f = form(&[("MaxResults", "5")]);
        let xml = describe_instance_types(&cat, "us-east-1", &f).unwrap();
        assert!(xml.contains("<nextToken>"));
        let f = form(&[("MaxResults", "3")]);
        let e = describe_instance_types(&cat, "us-east-1", &f).unwrap_err();
        assert_eq!(e.code, "InvalidParameterValue");
        let f = form(&[
            ("Filter.1.Name", "vcpu-info.default-vcpus"),
            ("Filter.1.Value.1", "8"),
        ]);
        assert_eq!(
            describe_instance_types(&cat, "us-east-1", &f)
                .unwrap_err()
                .code,
            "InvalidParameterValue"
        );
    }

    #[test]
    fn globs() {
        assert!(glob("m5.*", "m5.large"));
        assert!(glob("*.2xlarge", "c6i.2xlarge"));
        assert!(glob("t3.?icro", "t3.micro"));
        assert!(!glob("m5.*", "m5d.large"));
    }
}
