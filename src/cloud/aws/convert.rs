//! From the SDK's types to the operator's: errors by AWS error code, requests by status word.

use aws_sdk_servicequotas::{error::ProvideErrorMetadata, types::RequestedServiceQuotaChange};
use aws_smithy_types::DateTime;
use jiff::Timestamp;

use crate::cloud::{CloudError, ErrorKind, Phase, RequestView};

/// Classifies an SDK error by the code AWS sent; transport failures count as unavailable.
pub fn error<E: ProvideErrorMetadata + std::fmt::Debug>(
    err: aws_sdk_servicequotas::error::SdkError<E>,
) -> CloudError {
    use aws_sdk_servicequotas::error::SdkError;
    let (code, message) = match &err {
        SdkError::ServiceError(e) => (
            e.err().code().unwrap_or("Unknown").to_string(),
            e.err().message().unwrap_or_default().to_string(),
        ),
        SdkError::TimeoutError(_) => ("Timeout".into(), "the call timed out".into()),
        SdkError::DispatchFailure(e) => (
            "DispatchFailure".into(),
            format!("{:?}", e.as_connector_error()),
        ),
        other => ("Unknown".into(), other.to_string()),
    };
    CloudError::new(kind(&code, &message), code, message)
}

pub fn kind(code: &str, message: &str) -> ErrorKind {
    match code {
        "ResourceAlreadyExistsException" => ErrorKind::AlreadyOpen,
        "QuotaExceededException" => ErrorKind::LimitExceeded,
        "TooManyRequestsException" | "ThrottlingException" => ErrorKind::Throttled,
        "NoSuchResourceException" => ErrorKind::NotFound,
        "IllegalArgumentException" if message.to_ascii_lowercase().contains("not adjustable") => {
            ErrorKind::NotAdjustable
        }
        "IllegalArgumentException" | "InvalidResourceStateException" => ErrorKind::InvalidArgument,
        "AccessDeniedException"
        | "DependencyAccessDeniedException"
        | "AWSServiceAccessNotEnabledException"
        | "NoAvailableOrganizationException"
        | "UnrecognizedClientException"
        | "ExpiredTokenException" => ErrorKind::AccessDenied,
        "ServiceException" | "Timeout" | "DispatchFailure" => ErrorKind::Unavailable,
        _ => ErrorKind::Other,
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
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_servicequotas::types::RequestStatus;

    use super::*;

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
