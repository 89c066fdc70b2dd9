//! The `gcp:` section of a scenario: which projects exist, quota definitions and values, how
//! increase requests end, injected faults, and preferences already open when the simulator starts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    error::Code,
    machine_types::ComputeScenario,
    vocab::{COMPUTE, Dims, IneligibilityReason, Origin},
};
use crate::{
    delay::Delay,
    schedule::{self, ScheduleRule},
    usage::Usage,
};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct GcpScenario {
    /// When non-empty only these projects exist; any other answers PERMISSION_DENIED, as Google
    /// does for a project the caller cannot see. Empty: every project exists.
    pub projects: Vec<String>,
    /// Regions a `region` dimension may name besides the built-in list.
    pub regions: Vec<String>,
    /// Quota definitions: new quotas, or fields overriding a built-in one.
    pub quota_infos: Vec<QuotaInfoDef>,
    /// Quota values and usage, per project (or every project) and dimensions.
    pub values: Vec<ValueSetting>,
    pub schedule: Schedule,
    /// Errors to answer before a call is even looked at.
    pub faults: Vec<Fault>,
    /// Preferences already reconciling at start, as if made in the console.
    pub preferences: Vec<SeedPreference>,
    /// Compute Engine machine types: extra catalog entries and types not offered per region
    /// or zone.
    pub compute: ComputeScenario,
    /// QuotaAdjusterSettings per project (a project not listed inherits `default`, disabled).
    pub adjuster: Vec<AdjusterSetting>,
}

/// Whether the Quota Adjuster runs for a project: set on it (ENABLED, DISABLED) or inherited
/// (INHERITED: from `inheritedFrom`, default `default`, whose value is `ancestorEnablement`,
/// default DISABLED).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AdjusterSetting {
    pub project: String,
    pub enablement: Enablement,
    #[serde(default)]
    pub inherited_from: Option<String>,
    #[serde(default = "disabled")]
    pub ancestor_enablement: Enablement,
}

fn disabled() -> Enablement {
    Enablement::Disabled
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Enablement {
    Enabled,
    Disabled,
    Inherited,
}

fn compute() -> String {
    COMPUTE.into()
}

/// A quota definition. For a quota the simulator does not know, `metric` and `default` are
/// required; for a built-in one every field is an override.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct QuotaInfoDef {
    #[serde(default = "compute")]
    pub service: String,
    pub quota_id: String,
    #[serde(default)]
    pub metric: Option<String>,
    #[serde(default)]
    pub dimensions: Option<Vec<String>>,
    #[serde(default, rename = "default")]
    pub default_value: Option<i64>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub fixed: Option<bool>,
    #[serde(default)]
    pub concurrent: Option<bool>,
    #[serde(default)]
    pub eligible: Option<bool>,
    #[serde(default)]
    pub ineligibility_reason: Option<IneligibilityReason>,
    /// Makes it a rate quota with this window (`minute`, `day`): its usage is published as
    /// `quota/rate/net_usage` (per-minute counts) instead of `quota/allocation/usage`.
    #[serde(default)]
    pub refresh_interval: Option<String>,
}

/// A quota value and/or usage. Without `project` it holds in every project (a project's own
/// entry wins); without `region`/`dimensions` it is the quota's default entry in that project.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ValueSetting {
    #[serde(default = "compute")]
    pub service: String,
    pub quota_id: String,
    #[serde(default)]
    pub project: Option<String>,
    /// Shorthand for `dimensions: {region: ...}`.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub dimensions: Dims,
    #[serde(default)]
    pub value: Option<i64>,
    /// What is in use: a number, or a shape over time (`{shape: growth, start: 60, perDay:
    /// 4}`, see `usage`), published by Cloud Monitoring; decreases below it need
    /// QUOTA_DECREASE_BELOW_USAGE.
    #[serde(default)]
    pub usage: Option<Usage>,
}

pub type Schedule = schedule::Schedule<Rule>;

/// How matching increase requests end, `after` their filing: granted in full, in part
/// (`grantedValue`, else `grantFraction` of the way from the old value, default half), refused,
/// or never by themselves (`stay`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rule {
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub quota_id: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub outcome: Outcome,
    #[serde(default)]
    pub after: Delay,
    #[serde(default)]
    pub grant_fraction: Option<f64>,
    #[serde(default)]
    pub granted_value: Option<i64>,
    /// quotaConfig.stateDetail once it ends (a default message for partial and refused).
    #[serde(default)]
    pub state_detail: Option<String>,
}

impl ScheduleRule for Rule {
    /// Granted in full after 2s.
    fn usual() -> Self {
        Rule {
            after: Delay::millis(2_000),
            ..Rule::default()
        }
    }

    fn manual(mut self) -> Self {
        self.after = Delay::Manual;
        self
    }
}

impl Rule {
    pub fn matches(&self, project: &str, service: &str, quota_id: &str, dims: &Dims) -> bool {
        let ok = |want: &Option<String>, have: Option<&str>| {
            want.as_deref().is_none_or(|w| Some(w) == have)
        };
        ok(&self.project, Some(project))
            && ok(&self.service, Some(service))
            && ok(&self.quota_id, Some(quota_id))
            && ok(&self.region, dims.get("region").map(String::as_str))
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    #[default]
    Grant,
    Partial,
    Refuse,
    /// Stays reconciling until an admin call.
    Stay,
}

/// The next `count` calls of `method` (in `project`, if set) answer `code` (default
/// RESOURCE_EXHAUSTED, HTTP 429).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Fault {
    pub method: String,
    pub count: u32,
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default = "exhausted")]
    pub code: Code,
    #[serde(default)]
    pub message: Option<String>,
}

fn exhausted() -> Code {
    Code::ResourceExhausted
}

/// A reconciling increase made outside the API under test (the console, the Quota Adjuster,
/// gcloud, Terraform, a colleague).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SeedPreference {
    pub project: String,
    pub id: String,
    #[serde(default = "compute")]
    pub service: String,
    pub quota_id: String,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub dimensions: Dims,
    pub preferred_value: i64,
    #[serde(default)]
    pub justification: Option<String>,
    #[serde(default)]
    pub contact_email: Option<String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Who made it: CLOUD_CONSOLE (the default), AUTO_ADJUSTER (Google's Quota Adjuster) or
    /// ORIGIN_UNSPECIFIED (gcloud, Terraform, another API client).
    #[serde(default)]
    pub origin: Origin,
}

/// `dimensions` plus the `region` shorthand; Err when they disagree.
pub fn merge_region(region: Option<&str>, dims: &Dims) -> Result<Dims, String> {
    let mut all = dims.clone();
    if let Some(r) = region {
        match all.insert("region".into(), r.into()) {
            Some(other) if other != r => {
                return Err(format!(
                    "region `{r}` disagrees with dimensions.region `{other}`"
                ));
            }
            _ => {}
        }
    }
    Ok(all)
}

impl GcpScenario {
    /// Whether a project exists for the simulated API.
    pub fn project_exists(&self, project: &str) -> bool {
        self.projects.is_empty() || self.projects.iter().any(|p| p == project)
    }

    /// The rule deciding how an increase ends (after `schedule.manual`).
    pub fn rule_for(&self, project: &str, service: &str, quota_id: &str, dims: &Dims) -> Rule {
        self.schedule
            .rule_for(|r| r.matches(project, service, quota_id, dims))
    }
}
