//! The cloud boundary's items: the trait every cloud implements, and the plain types that
//! cross it. The facade `cloud/mod.rs` re-exports them (`crate::cloud::CloudError`); the
//! cloud's own modules, and `metrics` which the providers call, import them from here, since
//! one reaching back to the facade that declares it would close an import circle
//! (`tools/import-cycles`).

use std::{collections::BTreeMap, fmt, sync::Arc};

use async_trait::async_trait;
use jiff::Timestamp;

use super::case::CaseView;
use crate::api::{CloudAccount, QuotaRequirementSpec};

/// Which quota, as the spec names it (a name may still need resolving to a code).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum QuotaRef {
    Aws {
        service_code: String,
        quota_code: Option<String>,
        quota_name: Option<String>,
    },
    Gcp {
        service: String,
        quota_id: String,
        dimensions: Vec<(String, String)>,
    },
}

impl QuotaRef {
    pub fn from_spec(spec: &QuotaRequirementSpec) -> Option<Self> {
        match (&spec.aws, &spec.gcp) {
            (Some(aws), None) => Some(Self::Aws {
                service_code: aws.service_code.clone(),
                quota_code: aws.quota_code.clone(),
                quota_name: aws.quota_name.clone(),
            }),
            (None, Some(gcp)) => Some(Self::Gcp {
                service: gcp.service.clone(),
                quota_id: gcp.quota_id.clone(),
                dimensions: gcp.dimensions.clone().into_iter().collect(),
            }),
            _ => None,
        }
    }

    pub fn service(&self) -> &str {
        match self {
            Self::Aws { service_code, .. } => service_code,
            Self::Gcp { service, .. } => service,
        }
    }

    /// The code or id when the spec gives one directly.
    pub fn direct_id(&self) -> Option<&str> {
        match self {
            Self::Aws { quota_code, .. } => quota_code.as_deref(),
            Self::Gcp { quota_id, .. } => Some(quota_id),
        }
    }
}

/// One quota in one region.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    pub quota: QuotaRef,
    pub region: String,
}

/// What the cloud says of a quota right now.
#[derive(Clone, Debug, PartialEq)]
pub struct QuotaView {
    /// The resolved quota code (AWS) or quota id (GCP).
    pub id: String,
    pub name: String,
    /// The applied value, or the default when none was ever applied. [`UNLIMITED`] (-1) means
    /// the quota has no limit: every need is met.
    pub value: f64,
    pub adjustable: bool,
    /// The same quota in every region (AWS GlobalQuota): reconciled once, not per region.
    pub global: bool,
}

/// What both clouds answer for a quota without a limit, as a current and as a granted value.
pub const UNLIMITED: f64 = -1.0;

/// Whether a quota value (current or granted) meets `need`: an unlimited value meets every need.
pub fn meets(value: f64, need: f64) -> bool {
    value == UNLIMITED || value >= need
}

/// How far a request has come, in the operator's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// PENDING, CASE_OPENED, GCP reconciling.
    Open,
    /// Granted in full.
    Approved,
    /// DENIED, NOT_APPROVED, CASE_CLOSED, INVALID_REQUEST, GCP refusal.
    Denied,
    /// Granted less than asked (GCP).
    PartiallyGranted,
    /// A status word the operator does not know: never taken as success, followed like an open one.
    Unknown,
}

impl Phase {
    /// Maps an AWS Service Quotas request status word.
    pub fn from_aws_status(status: &str) -> Self {
        match status {
            "PENDING" | "CASE_OPENED" => Self::Open,
            "APPROVED" => Self::Approved,
            "DENIED" | "NOT_APPROVED" | "CASE_CLOSED" | "INVALID_REQUEST" => Self::Denied,
            _ => Self::Unknown,
        }
    }

    pub fn is_open(self) -> bool {
        matches!(self, Self::Open | Self::Unknown)
    }

    /// Closed without a full grant.
    pub fn is_refusal(self) -> bool {
        matches!(self, Self::Denied | Self::PartiallyGranted)
    }
}

/// The services the objects of one (account, region) name, asked for only when a usage read
/// needs them (a period's first read), since gathering them walks the fleet's needs.
pub type FleetServices<'a> = &'a (dyn Fn() -> Vec<String> + Send + Sync);

/// For a caller that reads one quota and knows no fleet (`plan --live`, `explain --live`).
pub fn no_fleet() -> Vec<String> {
    Vec::new()
}

/// How much of a quota is used, as the cloud reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct UsageView {
    /// The samples, oldest first, over the lookback the provider reads (a week): the peak and
    /// the trend are taken from those inside the asked window.
    pub points: Vec<(Timestamp, f64)>,
    /// Where they come from, e.g. `CloudWatch AWS/Usage ResourceCount, Maximum per hour`.
    pub source: String,
    pub read_at: Timestamp,
}

/// Who made a request, when it was not a person or this operator: the clouds' own
/// auto-adjusters, whose refusals do not settle a declared need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// AWS Service Quotas automatic management (`RequestType: AutomaticManagement`).
    AwsAutomaticManagement,
    /// Google's Quota Adjuster (`requestOrigin: AUTO_ADJUSTER`).
    GcpQuotaAdjuster,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwsAutomaticManagement => "AWS automatic management",
            Self::GcpQuotaAdjuster => "GCP Quota Adjuster",
        }
    }

    /// As status records it.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::AwsAutomaticManagement, Self::GcpQuotaAdjuster]
            .into_iter()
            .find(|o| o.as_str() == text)
    }
}

/// An increase request (AWS) or QuotaPreference (GCP).
#[derive(Clone, Debug, PartialEq)]
pub struct RequestView {
    pub id: String,
    pub case_id: Option<String>,
    /// The cloud's own status word, shown to users as is.
    pub status: String,
    pub phase: Phase,
    pub requested_value: f64,
    pub granted_value: Option<f64>,
    pub submitted_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
    /// The cloud's explanation, when it gives one (GCP stateDetail, a denial reason).
    pub message: Option<String>,
    /// Made by the cloud's own auto-adjuster.
    pub origin: Option<Origin>,
    /// The justification the cloud recorded with the request (GCP's preference carries one;
    /// AWS's request does not).
    pub justification: Option<String>,
}

/// What went wrong talking to a cloud, classified for the planner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// An open request already exists for this quota (adopt it).
    AlreadyOpen,
    /// Too many open requests in the region or account (queue).
    LimitExceeded,
    /// Rate limited (back off).
    Throttled,
    /// Unknown quota, service or request.
    NotFound,
    /// The cloud refused the arguments (e.g. a value not above the current one).
    InvalidArgument,
    /// Credentials or permissions.
    AccessDenied,
    /// The credentials reach another account than the CloudAccount names (STS says who we are).
    AccountMismatch,
    /// The operator has no credentials to send (none configured, or the provider chain found
    /// none): no call reaches the cloud. It stalls every object of the account, since waiting
    /// will not fix it, and is tried again at the slow pace of a resync, since an admin may
    /// add them (an instance profile, a fixed Pod Identity agent) without restarting it.
    Credentials,
    /// The quota cannot be changed.
    NotAdjustable,
    /// 5xx, network, timeouts.
    Unavailable,
    /// The spec names something the cloud does not have in that shape (a region it does not
    /// serve, a per-region quota named without its region): nothing changes until the spec
    /// does, so it is terminal (`Blocked`), never retried. A quota code, quota name or service
    /// the cloud does not have is one too (`QuotaNotFound`, `ServiceNotFound`, with the nearest
    /// names the cloud lists).
    SpecMismatch,
    Other,
}

/// A cloud error, carrying the cloud's own code and message (never credentials).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CloudError {
    pub kind: ErrorKind,
    pub code: String,
    pub message: String,
}

impl CloudError {
    /// The cloud has no such quota: its own NotFound, or the operator's refusal of a spec
    /// naming one (`QuotaNotFound`, which carries the nearest names).
    pub fn is_no_such_quota(&self) -> bool {
        self.kind == ErrorKind::NotFound || self.code == crate::api::reasons::QUOTA_NOT_FOUND
    }

    pub fn new(kind: ErrorKind, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind,
            code: code.into(),
            message: message.into(),
        }
    }
}

/// What goes with a request besides the value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FileContext {
    pub justification: Option<String>,
    pub contact_email: Option<String>,
    /// The spec asks for, and the CloudAccount consents to, lowering the quota (GCP); providers
    /// refuse a decrease otherwise.
    pub allow_decrease: bool,
    /// The CloudAccount lets a decrease skip Google's safety check on large decreases.
    pub ignore_safety_checks: bool,
    /// The CloudAccount says AWS may not open a support case (an account without a support
    /// plan): the request is filed with `SupportCaseAllowed=false`. GCP has no such setting.
    pub no_support_case: bool,
}

/// One cloud account or project, reached with its own credentials.
#[async_trait]
pub trait QuotaProvider: Send + Sync {
    /// The quota's current value and properties; resolves a quota name to its code.
    async fn quota(&self, target: &Target) -> Result<QuotaView, CloudError>;

    /// An open request for the quota in the cloud's history (one opened by anyone), if any.
    async fn open_request(
        &self,
        target: &Target,
        quota_id: &str,
    ) -> Result<Option<RequestView>, CloudError>;

    /// The most recent request for the quota, whatever its status: how a denial that happened
    /// while no status recorded the request is still found.
    async fn latest_request(
        &self,
        target: &Target,
        quota_id: &str,
    ) -> Result<Option<RequestView>, CloudError>;

    /// The quota's requests in the cloud's history, whatever their status and whoever made them:
    /// how a refusal of a request filed by another object, a replica or a run that crashed is
    /// still found. Default: the latest request only (a cloud that keeps one per quota).
    async fn recent_requests(
        &self,
        target: &Target,
        quota_id: &str,
    ) -> Result<Vec<RequestView>, CloudError> {
        Ok(self
            .latest_request(target, quota_id)
            .await?
            .into_iter()
            .collect())
    }

    /// A request by id, as the cloud reports it now.
    async fn request(&self, target: &Target, id: &str) -> Result<RequestView, CloudError>;

    /// Files an increase (or, where the cloud allows it, a decrease) to `value`.
    async fn file(
        &self,
        target: &Target,
        quota_id: &str,
        value: i64,
        context: &FileContext,
    ) -> Result<RequestView, CloudError>;

    /// The quota's usage over the last week, read for every quota of the (account, region) at
    /// once and shared for the cache period. `fleet` names the services every object of the
    /// (account, region) asks for, so that a period's first read covers them all, not only
    /// those some reconcile already listed. A quota the cloud reports no usage for is an error
    /// that says so: unknown usage is never 0.
    async fn usage(
        &self,
        target: &Target,
        quota_id: &str,
        fleet: FleetServices<'_>,
    ) -> Result<UsageView, CloudError> {
        let _ = (target, quota_id, fleet);
        Err(CloudError::new(
            ErrorKind::NotFound,
            "NoUsage",
            "this provider reads no usage",
        ))
    }

    /// The cloud's own auto-adjuster setting for this account or project.
    async fn auto_adjuster(&self) -> Result<AutoAdjuster, CloudError> {
        Err(CloudError::new(
            ErrorKind::NotFound,
            "NotSupported",
            "this provider reads no auto-adjuster setting",
        ))
    }

    /// The Organizations quota request template, where the cloud has one (AWS).
    fn template(&self) -> Option<&dyn QuotaTemplate> {
        None
    }

    /// The support case `id` a request opened (AWS Support), as the cloud reports it now.
    async fn case(&self, id: &str) -> Result<CaseView, CloudError> {
        let _ = id;
        Err(CloudError::new(
            ErrorKind::NotFound,
            "NotSupported",
            "this provider reads no support cases",
        ))
    }

    /// Adds `body` to support case `id` (its `CaseView::id`) as the customer's message.
    async fn reply_to_case(&self, id: &str, body: &str) -> Result<(), CloudError> {
        let _ = (id, body);
        Err(CloudError::new(
            ErrorKind::NotFound,
            "NotSupported",
            "this provider answers no support cases",
        ))
    }

    /// vCPUs of each instance type (AWS EC2) or machine type (GCP Compute) in `region`, from
    /// the cloud's own catalog. A type the region does not offer is an error naming it.
    async fn vcpus(
        &self,
        region: &str,
        types: &[String],
    ) -> Result<BTreeMap<String, u32>, CloudError> {
        let _ = (region, types);
        Err(CloudError::new(
            ErrorKind::Other,
            "NotSupported",
            "this provider has no instance type catalog",
        ))
    }
}

/// One quota increase request in an organization's quota request template.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateEntry {
    pub service_code: String,
    pub quota_code: String,
    pub region: String,
    pub value: f64,
}

/// An organization's quota request template (AWS Service Quotas, from the management account).
#[async_trait]
pub trait QuotaTemplate: Send + Sync {
    /// Whether the template is associated with the organization.
    async fn associated(&self) -> Result<bool, CloudError>;
    /// Every entry, all services and regions.
    async fn entries(&self) -> Result<Vec<TemplateEntry>, CloudError>;
    /// Adds the entry, or changes its value.
    async fn put(&self, entry: &TemplateEntry) -> Result<(), CloudError>;
    async fn delete(&self, service: &str, quota: &str, region: &str) -> Result<(), CloudError>;
}

/// The cloud's own auto-adjuster for an account, as the cloud reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct AutoAdjuster {
    pub origin: Origin,
    /// The cloud's word for the setting (NotifyAndAdjust, ENABLED, ...).
    pub setting: String,
    /// It raises quotas on its own.
    pub adjusts: bool,
    /// Exclusions (AWS) or where the setting comes from (GCP).
    pub details: Vec<String>,
}

/// Builds (and may cache) the provider for a CloudAccount.
#[async_trait]
pub trait ProviderFactory: Send + Sync {
    async fn provider(&self, account: &CloudAccount) -> Result<Arc<dyn QuotaProvider>, CloudError>;
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quota = self.quota.direct_id().unwrap_or("(by name)");
        write!(f, "{}/{} in {}", self.quota.service(), quota, self.region)
    }
}
