//! The scenario's words for usage and AWS's own reactions to it: where a quota's usage is
//! published (`usageMetric`), accounts opted in to Service Quotas Automatic Management
//! (`autoManagement`), and how quota utilisation reports come to be (`utilizationReport`).
//! Plain data, like the rest of the scenario.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{delay::Delay, usage::Span};

/// A CloudWatch metric that counts a quota's usage, as ServiceQuota.UsageMetric names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UsageMetric {
    #[serde(default = "aws_usage")]
    pub namespace: String,
    #[serde(default = "resource_count")]
    pub name: String,
    pub dimensions: BTreeMap<String, String>,
    #[serde(default = "maximum")]
    pub statistic: String,
}

fn aws_usage() -> String {
    "AWS/Usage".into()
}

fn resource_count() -> String {
    "ResourceCount".into()
}

fn maximum() -> String {
    "Maximum".into()
}

impl UsageMetric {
    /// `AWS/Usage` `ResourceCount` with AWS's four dimensions.
    pub fn resource_count(service: &str, resource: &str, class: &str) -> Self {
        let dimensions = [
            ("Service", service),
            ("Type", "Resource"),
            ("Resource", resource),
            ("Class", class),
        ];
        Self {
            namespace: aws_usage(),
            name: resource_count(),
            dimensions: dimensions
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            statistic: maximum(),
        }
    }
}

/// Service Quotas Automatic Management opt-in types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OptInType {
    /// Notifications only (AWS's first mode).
    NotifyOnly,
    /// AWS also files increases itself at 80 % and 95 % utilisation.
    NotifyAndAdjust,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OptInStatus {
    #[default]
    Enabled,
    Disabled,
}

/// One account's Automatic Management configuration (GetAutoManagementConfiguration).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AutoManagementSetting {
    pub account: String,
    pub opt_in_type: OptInType,
    #[serde(default)]
    pub opt_in_status: OptInStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_arn: Option<String>,
    /// Service code -> quota codes AWS leaves alone.
    #[serde(default)]
    pub exclusions: BTreeMap<String, Vec<String>>,
}

impl AutoManagementSetting {
    /// Whether AWS may file increases for this quota by itself.
    pub fn adjusts(&self, service: &str, code: &str) -> bool {
        self.opt_in_type == OptInType::NotifyAndAdjust
            && self.opt_in_status == OptInStatus::Enabled
            && !self
                .exclusions
                .get(service)
                .is_some_and(|codes| codes.iter().any(|c| c == code))
    }
}

/// What GetAutoManagementConfiguration answers for an account that never started Automatic
/// Management. AWS's reference does not say; `disabled` (the default) answers `OptInStatus:
/// DISABLED` and nothing else, `noSuchResource` answers NoSuchResourceException, as one
/// third-party client documents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NeverStarted {
    #[default]
    Disabled,
    NoSuchResource,
}

/// AWS files an increase by itself when usage reaches `threshold` percent of the value, for
/// accounts opted in with NotifyAndAdjust (off by default, so tests stay deterministic; the
/// admin `auto-adjust` route files one on demand either way).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct AutoAdjust {
    pub enabled: bool,
    pub threshold: f64,
    /// How far above the current value AWS asks, in percent.
    pub raise_by: f64,
}

impl Default for AutoAdjust {
    fn default() -> Self {
        Self {
            enabled: false,
            threshold: 80.0,
            raise_by: 20.0,
        }
    }
}

/// How a quota utilisation report comes to be: PENDING for `pendingFor`, IN_PROGRESS for
/// `inProgressFor`, then COMPLETED; gone `expiresAfter` its start (AWS: 15 minutes).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ReportSettings {
    pub pending_for: Delay,
    pub in_progress_for: Delay,
    pub expires_after: Span,
}

impl Default for ReportSettings {
    fn default() -> Self {
        Self {
            pending_for: Delay::millis(200),
            in_progress_for: Delay::millis(300),
            expires_after: Span(15 * 60),
        }
    }
}
