//! From the SDK's types to the operator's: errors by AWS error code (or, when an answer carries
//! none, by HTTP status and the start of its body), quotas with the cases that must not read
//! as a value, requests by status word.

use aws_sdk_servicequotas::{
    config::http::HttpResponse,
    error::{ProvideErrorMetadata, SdkError},
    types::{
        AppliedLevelEnum, QuotaContextScope, RequestType, RequestedServiceQuotaChange, ServiceQuota,
    },
};
use aws_smithy_types::DateTime;
use jiff::Timestamp;

use super::credentials;
use crate::cloud::boundary::{CloudError, ErrorKind, Origin, Phase, QuotaView, RequestView};

/// How much of an answer's body goes into a message.
const BODY_START: usize = 200;

/// Classifies an SDK error (Service Quotas or STS) by the code AWS sent. An answer without one
/// (a proxy's HTML page) is named by its HTTP status and the start of its body; transport
/// failures and timeouts count as unavailable; credentials that could not be loaded are
/// `CredentialsFailed`. The message is never empty, and never a debug dump.
pub fn error<E>(err: SdkError<E, HttpResponse>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    error_ref(&err)
}

/// [`error`] for an error only lent (e.g. the source of a credentials error).
pub fn error_ref<E>(err: &SdkError<E, HttpResponse>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    // Credentials that could not be loaded fail the call before it is sent, as a dispatch
    // failure: named as what they are, not as the network.
    if let Some(e) = credentials::classify(err) {
        return e;
    }
    let (code, message) = match err {
        SdkError::ServiceError(e) => match e.err().code() {
            Some(code) => {
                let message = match e.err().message() {
                    Some(m) if !m.trim().is_empty() => m.to_string(),
                    _ => format!(
                        "AWS answered {code} (HTTP {}) with no message",
                        e.raw().status().as_u16()
                    ),
                };
                (code.to_string(), message)
            }
            None => http_answer(e.raw()),
        },
        SdkError::ResponseError(e) => http_answer(e.raw()),
        SdkError::TimeoutError(_) => (
            "Timeout".into(),
            format!("no answer in time: {}", credentials::chain(err)),
        ),
        SdkError::DispatchFailure(_) => ("DispatchFailure".into(), credentials::chain(err)),
        _ => ("Unknown".into(), credentials::chain(err)),
    };
    CloudError::new(kind(&code, &message), code, message)
}

/// `HTTP <status>` and the start of the body, whitespace collapsed.
fn http_answer(raw: &HttpResponse) -> (String, String) {
    let status = raw.status().as_u16();
    let body = raw.body().bytes().unwrap_or_default();
    (format!("HTTP {status}"), body_start(body))
}

fn body_start(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if words.is_empty() {
        return "empty body".into();
    }
    match words.char_indices().nth(BODY_START) {
        Some((cut, _)) => format!("{}…", &words[..cut]),
        None => words,
    }
}

/// A quota as listed or read, with what makes it unusable as a current value.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub view: QuotaView,
    pub problem: Option<CloudError>,
    /// The CloudWatch metric AWS counts the quota's usage in, when it names one.
    pub usage_metric: Option<UsageMetric>,
}

/// A quota's `UsageMetric`: the CloudWatch metric and the statistic AWS recommends.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UsageMetric {
    pub namespace: String,
    pub name: String,
    /// Sorted by name, so the same metric reads the same.
    pub dimensions: Vec<(String, String)>,
    pub statistic: String,
}

impl UsageMetric {
    fn of(m: &aws_sdk_servicequotas::types::MetricInfo) -> Option<Self> {
        let mut dimensions: Vec<(String, String)> = m
            .metric_dimensions()
            .map(|d| d.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        dimensions.sort();
        Some(Self {
            namespace: m.metric_namespace()?.to_string(),
            name: m.metric_name()?.to_string(),
            dimensions,
            statistic: m
                .metric_statistic_recommendation()
                .unwrap_or("Maximum")
                .to_string(),
        })
    }
}

impl Entry {
    pub fn result(&self) -> Result<QuotaView, CloudError> {
        match &self.problem {
            None => Ok(self.view.clone()),
            Some(e) => Err(e.clone()),
        }
    }

    /// A problem that may pass (AWS could not fetch the value this time): worth a fresh read
    /// rather than a cached answer.
    pub fn may_pass(&self) -> bool {
        self.problem
            .as_ref()
            .is_some_and(|e| e.kind != ErrorKind::NotAdjustable)
    }
}

/// A quota from the SDK. A resource-level quota, or one AWS answered with an ErrorReason or no
/// value, carries a problem instead of passing for a value (a missing value must never read
/// as 0).
pub fn quota(q: &ServiceQuota) -> Entry {
    let view = QuotaView {
        id: q.quota_code().unwrap_or_default().to_string(),
        name: q.quota_name().unwrap_or_default().to_string(),
        value: q.value().unwrap_or_default(),
        adjustable: q.adjustable(),
        global: q.global_quota(),
    };
    let which = format!(
        "{}/{} ({:?})",
        q.service_code().unwrap_or("?"),
        view.id,
        view.name
    );
    let context = q.quota_context();
    let per_resource = q.quota_applied_at_level() == Some(&AppliedLevelEnum::Resource)
        || context.and_then(|c| c.context_scope()) == Some(&QuotaContextScope::Resource);
    let problem = if per_resource {
        let scope = context
            .and_then(|c| c.context_scope_type())
            .unwrap_or("a resource type AWS did not name");
        let id = context.and_then(|c| c.context_id()).unwrap_or("none");
        Some(CloudError::new(
            ErrorKind::NotAdjustable,
            "ResourceLevelQuota",
            format!(
                "{which} applies per resource ({scope}, ContextId {id}), not per account; \
                 quota-operator files account-level increases only: raise it per resource in \
                 Service Quotas"
            ),
        ))
    } else if q.value().is_some() {
        None
    } else if let Some(reason) = q.error_reason() {
        let code = reason.error_code().map_or("ErrorReason", |c| c.as_str());
        let message = reason.error_message().unwrap_or("no ErrorMessage given");
        Some(CloudError::new(
            match code {
                "DEPENDENCY_ACCESS_DENIED_ERROR" => ErrorKind::AccessDenied,
                "DEPENDENCY_THROTTLING_ERROR" => ErrorKind::Throttled,
                "DEPENDENCY_SERVICE_ERROR" => ErrorKind::Unavailable,
                _ => ErrorKind::Other,
            },
            code,
            format!("AWS gave no value for {which}: ErrorReason {code}: {message}"),
        ))
    } else {
        Some(CloudError::new(
            ErrorKind::Other,
            "NoValue",
            format!("AWS answered {which} with neither a Value nor an ErrorReason"),
        ))
    };
    Entry {
        view,
        problem,
        usage_metric: q.usage_metric().and_then(UsageMetric::of),
    }
}

pub fn kind(code: &str, message: &str) -> ErrorKind {
    match code {
        "ResourceAlreadyExistsException" => ErrorKind::AlreadyOpen,
        "QuotaExceededException" => ErrorKind::LimitExceeded,
        "TooManyRequestsException" | "ThrottlingException" => ErrorKind::Throttled,
        "NoSuchResourceException" | "CaseIdNotFound" => ErrorKind::NotFound,
        "IllegalArgumentException" if message.to_ascii_lowercase().contains("not adjustable") => {
            ErrorKind::NotAdjustable
        }
        "IllegalArgumentException" | "InvalidResourceStateException" => ErrorKind::InvalidArgument,
        // EC2 DescribeInstanceTypes: a type the region does not offer.
        "InvalidInstanceType" | "InvalidParameterValue" => ErrorKind::InvalidArgument,
        // EC2's throttling code.
        "RequestLimitExceeded" => ErrorKind::Throttled,
        "AccessDeniedException"
        | "DependencyAccessDeniedException"
        | "AWSServiceAccessNotEnabledException"
        | "NoAvailableOrganizationException"
        | "OrganizationNotInAllFeaturesModeException"
        | "TemplatesNotAvailableInRegionException"
        | "UnrecognizedClientException"
        | "ExpiredTokenException"
        // STS (awsQuery) codes.
        | "AccessDenied"
        | "UnauthorizedOperation"
        | "AuthFailure"
        | "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "RegionDisabledException"
        // AWS Support, for an account without Business or Enterprise support.
        | "SubscriptionRequiredException" => ErrorKind::AccessDenied,
        "ServiceException" | "Timeout" | "DispatchFailure" | "InternalError" | "Unavailable" => {
            ErrorKind::Unavailable
        }
        code => match code.strip_prefix("HTTP ").and_then(|s| s.parse::<u16>().ok()) {
            Some(403) => ErrorKind::AccessDenied,
            Some(429) => ErrorKind::Throttled,
            Some(500..) => ErrorKind::Unavailable,
            _ => ErrorKind::Other,
        },
    }
}

fn timestamp(t: Option<&DateTime>) -> Option<Timestamp> {
    t.and_then(|t| Timestamp::from_second(t.secs()).ok())
}

pub fn request(r: &RequestedServiceQuotaChange) -> RequestView {
    let status = r
        .status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_default();
    RequestView {
        id: r.id().unwrap_or_default().to_string(),
        case_id: r.case_id().filter(|c| !c.is_empty()).map(str::to_string),
        phase: Phase::from_aws_status(&status),
        status,
        requested_value: r.desired_value().unwrap_or_default(),
        granted_value: None,
        submitted_at: timestamp(r.created()),
        updated_at: timestamp(r.last_updated()),
        message: None,
        origin: (r.request_type() == Some(&RequestType::AutomaticManagement))
            .then_some(Origin::AwsAutomaticManagement),
        justification: None,
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_servicequotas::types::RequestStatus;

    use super::*;

    #[tokio::test]
    async fn a_call_without_credentials_says_so_in_one_sentence() {
        let client = aws_sdk_servicequotas::Client::new(&credentials::without_credentials());
        let err = client.list_services().send().await.unwrap_err();
        let e = error(err);
        assert_eq!(
            (e.kind, e.code.as_str()),
            (ErrorKind::Credentials, "CredentialsFailed")
        );
        assert_eq!(e.message, credentials::NONE_FOUND);
        for dump in ["DispatchFailure", "ConnectorError", "{"] {
            assert!(!e.to_string().contains(dump), "{e}");
        }
    }

    #[test]
    fn error_codes_map_to_what_the_planner_acts_on() {
        assert_eq!(
            kind("ResourceAlreadyExistsException", ""),
            ErrorKind::AlreadyOpen
        );
        assert_eq!(kind("QuotaExceededException", ""), ErrorKind::LimitExceeded);
        assert_eq!(kind("TooManyRequestsException", ""), ErrorKind::Throttled);
        assert_eq!(
            kind("IllegalArgumentException", "The quota is not adjustable"),
            ErrorKind::NotAdjustable
        );
        assert_eq!(
            kind("IllegalArgumentException", "value must be greater"),
            ErrorKind::InvalidArgument
        );
        assert_eq!(kind("AccessDeniedException", ""), ErrorKind::AccessDenied);
        assert_eq!(kind("SomethingNew", ""), ErrorKind::Other);
        assert_eq!(kind("HTTP 502", ""), ErrorKind::Unavailable);
        assert_eq!(kind("HTTP 403", ""), ErrorKind::AccessDenied);
        assert_eq!(kind("HTTP 404", ""), ErrorKind::Other);
        assert_eq!(kind("AccessDenied", ""), ErrorKind::AccessDenied);
    }

    #[test]
    fn a_body_start_is_short_single_spaced_and_never_empty() {
        assert_eq!(body_start(b""), "empty body");
        assert_eq!(body_start(b" \r\n "), "empty body");
        assert_eq!(
            body_start(b"<html>\r\n  <head><title>502</title>\n"),
            "<html> <head><title>502</title>"
        );
        let long = "x".repeat(500);
        let cut = body_start(long.as_bytes());
        assert_eq!(
            cut.chars().count(),
            BODY_START + 1,
            "200 chars and an ellipsis"
        );
    }

    #[test]
    fn a_missing_value_is_an_error_never_zero() {
        use aws_sdk_servicequotas::types::{ErrorCode, ErrorReason, QuotaContextInfo};
        let failed = ServiceQuota::builder()
            .service_code("ec2")
            .quota_code("L-0263D0A3")
            .error_reason(
                ErrorReason::builder()
                    .error_code(ErrorCode::DependencyServiceError)
                    .error_message("EC2 did not answer")
                    .build(),
            )
            .build();
        let e = quota(&failed).result().unwrap_err();
        assert_eq!(
            (e.kind, e.code.as_str()),
            (ErrorKind::Unavailable, "DEPENDENCY_SERVICE_ERROR")
        );
        assert!(e.message.contains("EC2 did not answer"), "{e}");
        let bare = ServiceQuota::builder().quota_code("L-1").build();
        assert_eq!(quota(&bare).result().unwrap_err().code, "NoValue");
        let per_domain = ServiceQuota::builder()
            .quota_code("L-2")
            .value(10.0)
            .quota_context(
                QuotaContextInfo::builder()
                    .context_scope(QuotaContextScope::Resource)
                    .context_scope_type("AWS::OpenSearchService::Domain")
                    .context_id("*")
                    .build(),
            )
            .build();
        let e = quota(&per_domain).result().unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotAdjustable);
        assert!(e.message.contains("AWS::OpenSearchService::Domain"), "{e}");
        assert!(!quota(&per_domain).may_pass());
    }

    #[test]
    fn unknown_status_is_kept_and_never_success() {
        let r = RequestedServiceQuotaChange::builder()
            .id("r1")
            .status(RequestStatus::from("SOMETHING_NEW"))
            .desired_value(10.0)
            .build();
        let v = request(&r);
        assert_eq!(v.status, "SOMETHING_NEW");
        assert_eq!(v.phase, Phase::Unknown);
        assert!(v.phase.is_open());
    }
}
