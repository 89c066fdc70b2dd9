//! What a CloudAccount marked `spec.aws.quotaTemplate` shows of its organization's Service
//! Quotas template: whether it is associated, and each entry the QuotaRequirements declare.

use serde::{Deserialize, Serialize};

/// AWS's limit on the entries of one quota request template (Service Quotas User Guide,
/// "Using Service Quotas request templates": up to 10 quota increase requests).
pub const TEMPLATE_ENTRY_LIMIT: usize = 10;

/// The organization's quota request template, as last read and written.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct TemplateStatus {
    /// Whether the template is associated with the organization (GetAssociationForServiceQuotaTemplate):
    /// false means new accounts do not get its entries. Absent when it could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associated: Option<bool>,
    /// What is wrong with the template as a whole (not associated, a call AWS refused), with
    /// what to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// One entry per (service, quota, region): those QuotaRequirements declare, and those in the
    /// template that none declares (`Unmanaged`, left alone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<TemplateEntryStatus>,
}

/// One quota increase request in the template.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TemplateEntryStatus {
    pub service_code: String,
    pub quota_code: String,
    pub region: String,
    /// The value new accounts start with: the largest need declared (or, for an `Unmanaged`
    /// entry, the value found in the template).
    pub value: i64,
    /// `InTemplate`, `Blocked` (did not fit in AWS's limit), `Error` (AWS refused the write)
    /// or `Unmanaged` (in the template, declared by no QuotaRequirement; never changed).
    pub state: String,
    /// The QuotaRequirement (`namespace/name`) whose need sets the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driven_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The entry states.
pub const IN_TEMPLATE: &str = "InTemplate";
pub const ENTRY_BLOCKED: &str = "Blocked";
pub const ENTRY_ERROR: &str = "Error";
pub const UNMANAGED: &str = "Unmanaged";

impl TemplateEntryStatus {
    /// The operator put it there (and may change or delete it).
    pub fn managed(&self) -> bool {
        self.state != UNMANAGED
    }

    pub fn key(&self) -> (&str, &str, &str) {
        (&self.service_code, &self.quota_code, &self.region)
    }
}
