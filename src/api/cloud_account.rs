use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::shared::Condition;

/// An AWS account or GCP project that QuotaRequirements may raise quotas in, how to reach it, and
/// which namespaces may use it. Created by platform admins; it is the security boundary.
// The derive's repeated printcolumn(type_ = ...) entries trip this lint; they are distinct columns.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "quota-operator.dev",
    version = "v1alpha1",
    kind = "CloudAccount",
    status = "CloudAccountStatus",
    category = "quotas",
    doc = "An AWS account or GCP project that QuotaRequirements may raise quotas in.",
    printcolumn(
        name = "AWS Account",
        type_ = "string",
        json_path = ".spec.aws.accountId"
    ),
    printcolumn(
        name = "GCP Project",
        type_ = "string",
        json_path = ".spec.gcp.project"
    ),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].reason"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    printcolumn(
        name = "Message",
        type_ = "string",
        priority = 1,
        description = "Why Ready is what it is (-o wide)",
        json_path = ".status.conditions[?(@.type==\"Ready\")].message"
    )
)]
#[x_kube(validation = Rule::new("has(self.aws) != has(self.gcp)").message("exactly one of spec.aws or spec.gcp must be set").reason(Reason::FieldValueInvalid))]
#[x_kube(validation = Rule::new("!has(self.aws) || !has(self.aws.quotaTemplate) || !self.aws.quotaTemplate || !has(self.guardrails) || !has(self.guardrails.maxIncreaseFactor)").message("spec.guardrails.maxIncreaseFactor does not apply to a quota template (spec.aws.quotaTemplate): a template entry has no current value to raise from; bound it with maxValues").field_path(".guardrails.maxIncreaseFactor"))]
#[x_kube(validation = Rule::new("!has(self.aws) || !has(self.aws.quotaTemplate) || !self.aws.quotaTemplate || !has(self.usage)").message("spec.usage does not apply to a quota template (spec.aws.quotaTemplate): accounts not yet created have no usage").field_path(".usage"))]
#[serde(rename_all = "camelCase")]
pub struct CloudAccountSpec {
    /// The AWS account. Exactly one of `aws` and `gcp` must be set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<AwsAccount>,
    /// The GCP project. Exactly one of `aws` and `gcp` must be set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcp: Option<GcpAccount>,
    /// Namespaces whose QuotaRequirements may use this account. Absent: no namespace may; `{}`:
    /// every namespace may.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    /// Limits on what may be requested in this account, whatever a QuotaRequirement asks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrails: Option<Guardrails>,
    /// How usage is read and judged in this account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageSettings>,
    /// API endpoint override (a simulator, a VPC endpoint), e.g. `http://127.0.0.1:4566`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.matches('^https?://[^ ]+$')").message("spec.endpoint must be an http:// or https:// URL"))]
    #[schemars(length(max = 512))]
    pub endpoint: Option<String>,
}

/// How to reach one AWS account.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(validation = Rule::new("!has(self.roleArn) || self.roleArn.split(':')[4] == self.accountId").message("spec.aws.roleArn must be a role in spec.aws.accountId (the ARN's account field differs)").field_path(".roleArn"))]
#[serde(rename_all = "camelCase")]
pub struct AwsAccount {
    /// The 12-digit AWS account id, as a string (e.g. "123456789012").
    #[x_kube(validation = Rule::new("self.matches('^[0-9]{12}$')").message("spec.aws.accountId must be a 12-digit AWS account id"))]
    #[schemars(length(max = 12))]
    pub account_id: String,
    /// IAM role to assume for this account (AssumeRole on top of the operator's own credentials).
    /// Absent: the operator's own credentials (IRSA, EKS Pod Identity, environment) are used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.matches('^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$')").message("spec.aws.roleArn must be an IAM role ARN such as arn:aws:iam::123456789012:role/quota-operator"))]
    #[schemars(length(max = 2048))]
    pub role_arn: Option<String>,
    /// External id passed to AssumeRole, when the role's trust policy requires one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = 1224))]
    pub external_id: Option<String>,
    /// Whether AWS may open a support case for an increase it cannot approve by itself (each
    /// request's `SupportCaseAllowed`). Set it to false for an account without a support plan:
    /// AWS then approves only what it can automatically, and marks the rest NOT_APPROVED, which
    /// a QuotaRequirement shows as Denied saying that a support case was not allowed.
    /// Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_case_allowed: Option<bool>,
    /// This is the AWS Organizations management account, and QuotaRequirements aimed at this
    /// CloudAccount declare what NEW accounts of the organization start with: the operator
    /// keeps the Service Quotas quota request template equal to them (one entry per quota and
    /// region, the largest need of all objects on it) and never files increase requests here.
    /// It does not associate the template with the organization (an organization-wide switch:
    /// `aws service-quotas associate-service-quota-template`); `status.template` says whether
    /// it is. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota_template: Option<bool>,
}

impl AwsAccount {
    /// `quotaTemplate: true`: the account's quota requirements go into the template.
    pub fn is_template(&self) -> bool {
        self.quota_template == Some(true)
    }

    /// `supportCaseAllowed` as filed: true unless the account says false.
    pub fn cases_allowed(&self) -> bool {
        self.support_case_allowed != Some(false)
    }
}

/// How to reach one GCP project.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GcpAccount {
    /// The GCP project id (e.g. "my-project").
    #[x_kube(validation = Rule::new("self.matches('^[a-z][a-z0-9-]{4,28}[a-z0-9]$')").message("spec.gcp.project must be a GCP project id (6-30 lowercase letters, digits and hyphens)"))]
    #[schemars(length(max = 30))]
    pub project: String,
    /// Email Google contacts about quota increase requests. Required: Cloud Quotas refuses an
    /// increase without one.
    #[x_kube(validation = Rule::new("self.matches('^[^@ ]+@[^@ ]+$')").message("spec.gcp.contactEmail must be an email address"))]
    #[schemars(length(min = 3, max = 254))]
    pub contact_email: String,
}

/// Limits an admin sets on what may be requested in an account.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Guardrails {
    /// The largest factor by which one request may raise a quota over its current value (e.g. 4:
    /// at most four times the current value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 1.0").message("spec.guardrails.maxIncreaseFactor must be at least 1"))]
    pub max_increase_factor: Option<f64>,
    /// The largest value that may be requested, by quota code (AWS) or quota id (GCP). They
    /// bound the value that is filed: several objects' needs added up or taken together can
    /// never carry a request past them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub max_values: BTreeMap<String, i64>,
    /// After the cloud refuses an increase of a quota (denied, case closed, partially granted),
    /// the quota is asked again no sooner than this, for the largest need below every refused
    /// value. It holds for every need on the quota, also one declared after the refusal (a new
    /// object, a spec change): that one is not settled by the refusal, but waits too.
    /// Written as a sum of whole days, hours, minutes and seconds: `24h`, `1h30m`, `0s`.
    /// Default `24h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.matches('^([0-9]{1,6}[dhms])+$')").message("spec.guardrails.refusalCooldown must be a duration such as 24h, 1h30m or 0s"))]
    #[schemars(length(max = 32))]
    pub refusal_cooldown: Option<String>,
    /// The least time between two raises by `spec.headroom` on any quota of this account,
    /// whatever cooldown a team's spec asks: `maxIncreaseFactor` bounds each raise, this bounds
    /// their pace. Written like `refusalCooldown`. Default `1h`; `0s` lets each spec decide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.matches('^([0-9]{1,6}[dhms])+$')").message("spec.guardrails.headroomMinCooldown must be a duration such as 1h, 30m or 0s"))]
    #[schemars(length(max = 32))]
    pub headroom_min_cooldown: Option<String>,
    /// Consent to lower quotas (GCP; `allowDecrease` on a QuotaRequirement asks for it). Absent:
    /// no quota in this account is ever lowered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decrease: Option<DecreasePolicy>,
}

/// Which quotas may be lowered, and how far.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct DecreasePolicy {
    /// The quotas that may be lowered, by quota id, each with the lowest value it may be
    /// lowered to. A quota not listed is never lowered.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub min_values: BTreeMap<String, i64>,
    /// Ask Google to skip its safety check on large decreases
    /// (`QUOTA_DECREASE_PERCENTAGE_TOO_HIGH`, a decrease of more than 10 % below usage). Default
    /// false: Google refuses such a decrease and the object shows its answer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_safety_checks: bool,
}

/// Usage in one account.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct UsageSettings {
    /// Utilisation, in percent of the quota's value, at which a QuotaRequirement's `NearLimit`
    /// condition turns True and a warning event is published. Default 80.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub threshold_percent: Option<i32>,
}

/// The utilisation threshold when a CloudAccount sets none.
pub const DEFAULT_UTILIZATION_THRESHOLD: f64 = 80.0;

impl UsageSettings {
    pub fn threshold(account: &CloudAccount) -> f64 {
        account
            .spec
            .usage
            .as_ref()
            .and_then(|u| u.threshold_percent)
            .map_or(DEFAULT_UTILIZATION_THRESHOLD, f64::from)
    }
}

/// The refusal cooldown when a CloudAccount sets none.
pub const DEFAULT_REFUSAL_COOLDOWN: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);
/// The least time between headroom raises when the account says nothing.
pub const DEFAULT_HEADROOM_MIN_COOLDOWN: jiff::SignedDuration = jiff::SignedDuration::from_hours(1);

impl Guardrails {
    /// `refusalCooldown` as a duration; the default when absent. A value the schema admits
    /// always parses; one that does not (an older schema) falls back to the default.
    pub fn refusal_cooldown(guardrails: Option<&Self>) -> jiff::SignedDuration {
        guardrails
            .and_then(|g| g.refusal_cooldown.as_deref())
            .and_then(parse_duration)
            .unwrap_or(DEFAULT_REFUSAL_COOLDOWN)
    }

    /// `headroomMinCooldown` as a duration; the default when absent (or, from an older schema,
    /// unreadable).
    pub fn headroom_min_cooldown(guardrails: Option<&Self>) -> jiff::SignedDuration {
        guardrails
            .and_then(|g| g.headroom_min_cooldown.as_deref())
            .and_then(parse_duration)
            .unwrap_or(DEFAULT_HEADROOM_MIN_COOLDOWN)
    }

    /// The lowest value `quota_id` may be lowered to, when the account consents to lowering it.
    pub fn decrease_floor(guardrails: Option<&Self>, quota_id: &str) -> Option<i64> {
        guardrails?
            .decrease
            .as_ref()?
            .min_values
            .get(quota_id)
            .copied()
    }
}

/// `24h`, `1h30m`, `2d`, `0s`: whole units added up, as `refusalCooldown` is written.
pub fn parse_duration(text: &str) -> Option<jiff::SignedDuration> {
    let mut total = jiff::SignedDuration::ZERO;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: i64 = digits.parse().ok()?;
        digits.clear();
        let unit = match c {
            'd' => jiff::SignedDuration::from_hours(24),
            'h' => jiff::SignedDuration::from_hours(1),
            'm' => jiff::SignedDuration::from_mins(1),
            's' => jiff::SignedDuration::from_secs(1),
            _ => return None,
        };
        total = total.checked_add(unit.checked_mul(i32::try_from(n).ok()?)?)?;
    }
    (digits.is_empty() && !text.is_empty()).then_some(total)
}

/// What the operator last saw of the account.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CloudAccountStatus {
    /// The metadata.generation this status was computed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`: the credentials load and (AWS) STS confirms they act in spec.aws.accountId; its
    /// message is the last error otherwise. `Stalled`: the account is wrong (another account,
    /// an endpoint the operator may not use) and nothing changes until its spec does, or the
    /// operator has no credentials for its cloud (`CredentialsFailed`, what to configure in the
    /// message; looked at again each resync).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition>")]
    pub conditions: Vec<Condition>,
    /// The cloud's own auto-adjuster for this account or project, as the cloud reports it:
    /// AWS Service Quotas automatic management, or Google's Quota Adjuster. Requests it makes
    /// are adopted, never duplicated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_adjuster: Option<AutoAdjusterStatus>,
    /// For `spec.aws.quotaTemplate`: the organization's quota request template, whether it is
    /// associated with the organization, and each entry with its state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<super::template::TemplateStatus>,
}

/// The cloud's own auto-adjuster, as last read.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct AutoAdjusterStatus {
    /// `AWS automatic management` or `GCP Quota Adjuster`.
    pub name: String,
    /// AWS: `NotifyOnly`, `NotifyAndAdjust` or `NotOptedIn`; GCP: `ENABLED`, `DISABLED` or
    /// `INHERITED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setting: Option<String>,
    /// Whether it raises quotas on its own (AWS NotifyAndAdjust, GCP enabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjusts: Option<bool>,
    /// Quotas it leaves alone (AWS exclusions, `service/quota`), or where the setting is
    /// inherited from (GCP).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    /// When it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<Time>,
    /// Why the setting is unknown: the cloud's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
}

impl CloudAccount {
    /// The AWS account id or GCP project: what requests are filed in.
    pub fn is_template(&self) -> bool {
        self.spec.aws.as_ref().is_some_and(AwsAccount::is_template)
    }

    pub fn cloud_id(&self) -> &str {
        match (&self.spec.aws, &self.spec.gcp) {
            (Some(aws), _) => &aws.account_id,
            (None, Some(gcp)) => &gcp.project,
            (None, None) => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_add_up_their_units_and_anything_else_is_refused() {
        let h = jiff::SignedDuration::from_hours;
        assert_eq!(parse_duration("24h"), Some(h(24)));
        assert_eq!(parse_duration("1d2h"), Some(h(26)));
        assert_eq!(
            parse_duration("1h30m"),
            Some(jiff::SignedDuration::from_mins(90))
        );
        assert_eq!(parse_duration("0s"), Some(jiff::SignedDuration::ZERO));
        for bad in ["", "24", "h", "1w", "-1h", "1.5h", "1h 30m"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_cooldown_defaults_to_a_day_and_decreases_need_a_listed_quota() {
        assert_eq!(Guardrails::refusal_cooldown(None), DEFAULT_REFUSAL_COOLDOWN);
        let g = Guardrails {
            refusal_cooldown: Some("30m".into()),
            decrease: Some(DecreasePolicy {
                min_values: [("CPUS".to_string(), 64)].into(),
                ignore_safety_checks: false,
            }),
            ..Default::default()
        };
        assert_eq!(
            Guardrails::refusal_cooldown(Some(&g)),
            jiff::SignedDuration::from_mins(30)
        );
        assert_eq!(Guardrails::decrease_floor(Some(&g), "CPUS"), Some(64));
        assert_eq!(Guardrails::decrease_floor(Some(&g), "GPUS"), None);
        assert_eq!(Guardrails::decrease_floor(None, "CPUS"), None);
    }
}
