//! Every reason the operator writes, in conditions and in events: part of the API (alerts,
//! `kubectl wait` scripts and Argo CD health checks match on them), so they are named once here
//! and nowhere else. A region's state names itself (`TargetState::as_str`) where a condition or
//! event is about one state.

// QuotaRequirement conditions.
pub const ALL_SATISFIED: &str = "AllSatisfied";
pub const REQUEST_OPEN: &str = "RequestOpen";
pub const QUEUED: &str = "Queued";
pub const PENDING: &str = "Pending";
pub const CLOUD_ERROR: &str = "CloudError";
/// An open AWS request whose support case waits for an answer from the customer; the region's
/// message starts with it.
pub const AWAITING_CUSTOMER_REPLY: &str = "AwaitingCustomerReply";
// NearLimit (and its warning event).
pub const UTILIZATION_HIGH: &str = "UtilizationHigh";
pub const USAGE_UNKNOWN: &str = "UsageUnknown";

// A spec that names what the cloud does not have: terminal (`Stalled`), with the nearest names
// the cloud lists. The region's message starts with the reason (`QuotaNotFound: ...`).
pub const QUOTA_NOT_FOUND: &str = "QuotaNotFound";
pub const SERVICE_NOT_FOUND: &str = "ServiceNotFound";

/// The reason a Blocked region's message starts with, when it names one: how a Stalled condition
/// says `QuotaNotFound` or `CredentialsFailed` rather than only `Blocked`.
pub fn named_in(message: &str) -> Option<&'static str> {
    [QUOTA_NOT_FOUND, SERVICE_NOT_FOUND, CREDENTIALS_FAILED]
        .into_iter()
        .find(|r| {
            message
                .strip_prefix(r)
                .is_some_and(|rest| rest.starts_with(": "))
        })
}

// Why a whole QuotaRequirement stops (conditions and status.summary).
pub const INVALID_SPEC: &str = "InvalidSpec";
pub const ACCOUNT_NOT_FOUND: &str = "AccountNotFound";
pub const ACCOUNT_NOT_ALLOWED: &str = "AccountNotAllowed";
pub const ACCOUNT_MISMATCH: &str = "AccountMismatch";
pub const ACCOUNT_INVALID: &str = "AccountInvalid";
pub const ACCOUNT_ACCESS_DENIED: &str = "AccountAccessDenied";

// CloudAccount conditions.
pub const VERIFIED: &str = "Verified";
pub const CREDENTIALS_LOADED: &str = "CredentialsLoaded";
pub const CREDENTIALS_FAILED: &str = "CredentialsFailed";
pub const NOT_STALLED: &str = "NotStalled";

// Events on a QuotaRequirement.
pub const REQUEST_FILED: &str = "RequestFiled";
pub const REQUEST_ADOPTED: &str = "RequestAdopted";
pub const APPROVED: &str = "Approved";
/// AWS wrote a new message in a request's support case (once per message).
pub const SUPPORT_CASE_MESSAGE: &str = "SupportCaseMessage";
