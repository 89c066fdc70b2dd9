//! The `aws:` section of a scenario: accounts, quota values, limits, rates and how requests end.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    fault::FaultInjection,
    instance_types::Ec2Scenario,
    operation::Rate,
    status::RequestStatus,
    template_settings::TemplateSettings,
    usage_settings::{
        AutoAdjust, AutoManagementSetting, NeverStarted, ReportSettings, UsageMetric,
    },
};
use crate::{
    delay::Delay,
    invalid::{ScenarioError, check_account_id},
    schedule::{self, ScheduleRule},
    usage::Usage,
};

pub const DEFAULT_ACCOUNT: &str = "123456789012";

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct AwsScenario {
    /// Access key id -> 12-digit account id.
    pub accounts: BTreeMap<String, String>,
    /// The account of any access key not in `accounts` (unless `rejectUnknownKeys`).
    pub default_account: String,
    /// Answer unknown access keys with UnrecognizedClientException instead.
    pub reject_unknown_keys: bool,
    pub limits: OpenLimits,
    pub rates: Rates,
    /// Throttles to answer before the rate limiter is even asked.
    pub throttles: Vec<ThrottleInjection>,
    /// When set, global quotas answer only in this region (AWS: us-east-1), NoSuchResource
    /// elsewhere.
    pub global_quota_region: Option<String>,
    /// Regions EC2 DescribeRegions lists besides AWS's own and those named elsewhere in the
    /// scenario.
    pub regions: Vec<String>,
    pub quotas: Vec<QuotaSetting>,
    pub schedule: Schedule,
    /// Requests already open when the simulator starts, as if filed in the console.
    pub open_requests: Vec<SeedRequest>,
    /// Refusals, proxy errors and stalls answered instead of (or before) the real answer.
    pub faults: Vec<FaultInjection>,
    /// IAM roles STS AssumeRole knows; each belongs to the account in its ARN.
    pub roles: Vec<RoleSetting>,
    /// EC2 DescribeInstanceTypes: extra catalog entries and types not offered per region.
    pub ec2: Ec2Scenario,
    /// Accounts opted in to Service Quotas Automatic Management.
    pub auto_management: Vec<AutoManagementSetting>,
    /// GetAutoManagementConfiguration for an account not in `autoManagement`.
    pub auto_management_default: NeverStarted,
    /// AWS filing increases by itself when usage crosses a threshold (off by default).
    pub auto_adjust: AutoAdjust,
    /// StartQuotaUtilizationReport / GetQuotaUtilizationReport timing.
    pub utilization_report: ReportSettings,
    /// The Organizations quota request template of each (management) account.
    pub quota_template: TemplateSettings,
    /// Accounts without Business or Enterprise support: every Support API call answers
    /// SubscriptionRequiredException.
    pub no_support_plan: Vec<String>,
}

impl Default for AwsScenario {
    fn default() -> Self {
        Self {
            accounts: BTreeMap::new(),
            default_account: DEFAULT_ACCOUNT.into(),
            reject_unknown_keys: false,
            limits: OpenLimits::default(),
            rates: Rates::default(),
            throttles: Vec::new(),
            global_quota_region: None,
            regions: Vec::new(),
            quotas: Vec::new(),
            schedule: Schedule::default(),
            open_requests: Vec::new(),
            faults: Vec::new(),
            roles: Vec::new(),
            ec2: Ec2Scenario::default(),
            auto_management: Vec::new(),
            auto_management_default: NeverStarted::default(),
            auto_adjust: AutoAdjust::default(),
            utilization_report: ReportSettings::default(),
            quota_template: TemplateSettings::default(),
            no_support_plan: Vec::new(),
        }
    }
}

/// A role STS lets callers assume (any known caller may: trust policies are not modelled
/// beyond the external id).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RoleSetting {
    /// `arn:aws:iam::<account>:role/<name>`.
    pub arn: String,
    /// When set, AssumeRole must pass exactly this ExternalId.
    #[serde(default)]
    pub external_id: Option<String>,
    /// False: AssumeRole answers AccessDenied, as for a trust policy that leaves the caller out.
    #[serde(default = "yes")]
    pub assumable: bool,
}

fn yes() -> bool {
    true
}

impl RoleSetting {
    /// The account in the ARN (validated: `arn:aws:iam::<12 digits>:role/<name>`).
    pub fn account(&self) -> &str {
        self.arn.split(':').nth(4).unwrap_or_default()
    }

    /// The role's name, the part after `role/` (with any path).
    pub fn name(&self) -> &str {
        self.arn.split_once(":role/").map_or("", |(_, n)| n)
    }

    pub(super) fn validate(&self, field: &str) -> Result<(), ScenarioError> {
        let parts: Vec<&str> = self.arn.splitn(6, ':').collect();
        let ok = matches!(parts[..], ["arn", "aws", "iam", "", _, rest] if rest.len() > 5 && rest.starts_with("role/"));
        if !ok {
            let msg = format!("`{}` is not arn:aws:iam::<account>:role/<name>", self.arn);
            return Err(ScenarioError::new(format!("{field}.arn"), msg));
        }
        check_account_id(&format!("{field}.arn"), self.account())
    }
}

/// The codes AWS gives a quota whose value it could not fetch (botocore `ErrorCode`).
pub const ERROR_REASON_CODES: [&str; 4] = [
    "DEPENDENCY_ACCESS_DENIED_ERROR",
    "DEPENDENCY_THROTTLING_ERROR",
    "DEPENDENCY_SERVICE_ERROR",
    "SERVICE_QUOTA_NOT_AVAILABLE_ERROR",
];

/// A quota AWS answers with an `ErrorReason` and no `Value` (its value could not be fetched).
/// camelCase in the scenario like every other field, PascalCase on the wire.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(
    deny_unknown_fields,
    rename_all(serialize = "PascalCase", deserialize = "camelCase")
)]
pub struct ErrorReason {
    /// One of [`ERROR_REASON_CODES`].
    pub error_code: String,
    pub error_message: String,
}

/// AWS allows 2 open increase requests per region and 20 per account.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct OpenLimits {
    pub open_per_region: u32,
    pub open_per_account: u32,
}

impl Default for OpenLimits {
    fn default() -> Self {
        Self {
            open_per_region: 2,
            open_per_account: 20,
        }
    }
}

/// Per (account, region, operation) token buckets at AWS's documented rates.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Rates {
    pub enabled: bool,
    /// Multiplies every rate and burst (0.1 = ten times stricter than AWS).
    pub scale: f64,
    /// Operation name -> rate, replacing the documented one (before `scale`).
    pub overrides: BTreeMap<String, Rate>,
}

impl Default for Rates {
    fn default() -> Self {
        Self {
            enabled: true,
            scale: 1.0,
            overrides: BTreeMap::new(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ThrottleInjection {
    pub operation: String,
    /// How many calls to throttle.
    pub count: u32,
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    /// Throttle one matching call in every `every` (2: every other call, half of them) instead
    /// of each one, until `count` have been throttled: a throttling storm that still lets some
    /// calls through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u32>,
}

/// One quota's value (optionally in one account and/or region) and/or its definition.
/// Definition fields (name, default, unit, adjustable, global) hold everywhere, so they are
/// refused on an entry scoped to an account or region.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct QuotaSetting {
    pub service_code: String,
    pub quota_code: String,
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    /// The applied value; implies `applied: true`.
    #[serde(default)]
    pub value: Option<f64>,
    /// Whether an applied value exists (GetServiceQuota answers NoSuchResource when not).
    /// Defaults to true for adjustable quotas.
    #[serde(default)]
    pub applied: Option<bool>,
    #[serde(default)]
    pub quota_name: Option<String>,
    #[serde(default)]
    pub service_name: Option<String>,
    #[serde(default, rename = "default")]
    pub default_value: Option<f64>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub adjustable: Option<bool>,
    #[serde(default)]
    pub global: Option<bool>,
    /// The quota applies to each resource of this type (e.g. `AWS::OpenSearchService::Domain`),
    /// not to the account: answered with QuotaAppliedAtLevel RESOURCE and a QuotaContext.
    #[serde(default)]
    pub resource_type: Option<String>,
    /// AWS could not fetch the value: GetServiceQuota and ListServiceQuotas answer the quota
    /// with this ErrorReason (`{ErrorCode, ErrorMessage}`) and no Value.
    #[serde(default)]
    pub error_reason: Option<ErrorReason>,
    /// What is in use over time (CloudWatch AWS/Usage, utilisation reports); none: AWS
    /// publishes no usage for the quota here.
    #[serde(default)]
    pub usage: Option<Usage>,
    /// Where the usage is published (ServiceQuota.UsageMetric); built-in vCPU quotas have
    /// AWS's, others get `{Service: <code>, Type: Resource, Resource: <quota code>, Class: None}`.
    #[serde(default)]
    pub usage_metric: Option<UsageMetric>,
}

impl QuotaSetting {
    pub fn defines_something(&self) -> bool {
        self.quota_name.is_some()
            || self.service_name.is_some()
            || self.default_value.is_some()
            || self.unit.is_some()
            || self.adjustable.is_some()
            || self.global.is_some()
            || self.resource_type.is_some()
            || self.usage_metric.is_some()
    }
}

pub type Schedule = schedule::Schedule<Rule>;

/// How requests for matching quotas end. Without `caseOpenedAfter` no support case is opened
/// and the request goes from PENDING to its outcome `closeAfter` after filing; with it, the
/// request is CASE_OPENED (and gets a CaseId) after `caseOpenedAfter`, then reaches its outcome
/// `closeAfter` later. A request filed with SupportCaseAllowed=false ends NOT_APPROVED where a
/// case would have opened.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rule {
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub service_code: Option<String>,
    #[serde(default)]
    pub quota_code: Option<String>,
    #[serde(default)]
    pub outcome: Outcome,
    #[serde(default)]
    pub case_opened_after: Option<Delay>,
    #[serde(default = "immediate")]
    pub close_after: Delay,
    /// Why it ended; AWS's wire shape has no such field, so it shows only under /_sim.
    #[serde(default)]
    pub message: Option<String>,
    /// What AWS asks in the support case once it opens (the case then waits for the customer).
    #[serde(default)]
    pub question: Option<String>,
}

fn immediate() -> Delay {
    Delay::IMMEDIATE
}

impl ScheduleRule for Rule {
    /// A support case after 1s, approved 2s later.
    fn usual() -> Self {
        Rule {
            case_opened_after: Some(Delay::millis(1_000)),
            close_after: Delay::millis(2_000),
            ..Rule::default()
        }
    }

    fn manual(mut self) -> Self {
        self.case_opened_after = self.case_opened_after.map(|_| Delay::Manual);
        self.close_after = Delay::Manual;
        self
    }
}

impl Rule {
    pub fn matches(&self, account: &str, region: &str, service: &str, code: &str) -> bool {
        let ok = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        ok(&self.account, account)
            && ok(&self.region, region)
            && ok(&self.service_code, service)
            && ok(&self.quota_code, code)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    #[default]
    Approve,
    Deny,
    NotApproved,
    CaseClosed,
    InvalidRequest,
    /// Never closes by itself (until an admin call).
    StayOpen,
}

impl Outcome {
    pub fn final_status(self) -> Option<RequestStatus> {
        match self {
            Outcome::Approve => Some(RequestStatus::Approved),
            Outcome::Deny => Some(RequestStatus::Denied),
            Outcome::NotApproved => Some(RequestStatus::NotApproved),
            Outcome::CaseClosed => Some(RequestStatus::CaseClosed),
            Outcome::InvalidRequest => Some(RequestStatus::InvalidRequest),
            Outcome::StayOpen => None,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SeedRequest {
    /// Defaults to `defaultAccount`.
    #[serde(default)]
    pub account: Option<String>,
    pub region: String,
    pub service_code: String,
    pub quota_code: String,
    pub desired_value: f64,
    /// PENDING (default) or CASE_OPENED.
    #[serde(default)]
    pub status: Option<RequestStatus>,
}

impl AwsScenario {
    /// The account an access key belongs to; None when unknown keys are refused.
    pub fn account_for_key(&self, access_key: &str) -> Option<&str> {
        match self.accounts.get(access_key) {
            Some(id) => Some(id),
            None if self.reject_unknown_keys => None,
            None => Some(&self.default_account),
        }
    }

    /// The rule deciding a request's fate (after `schedule.manual`).
    pub fn rule_for(&self, account: &str, region: &str, service: &str, code: &str) -> Rule {
        self.schedule
            .rule_for(|r| r.matches(account, region, service, code))
    }
}
