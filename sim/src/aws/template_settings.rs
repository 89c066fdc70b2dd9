//! The scenario's `quotaTemplate:` section: the Organizations quota request template each
//! account (as a management account) has. Every account is an associated management account
//! unless listed otherwise.

use serde::Deserialize;

/// AWS's limit on the entries of one template.
pub const DEFAULT_TEMPLATE_LIMIT: usize = 10;

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct TemplateSettings {
    /// Accounts whose template is not associated with their organization.
    pub disassociated: Vec<String>,
    /// Accounts in no organization: every template call answers
    /// NoAvailableOrganizationException.
    pub no_organization: Vec<String>,
    /// The most entries one template holds (AWS: 10).
    pub limit: usize,
    /// The region the template API answers in (AWS: us-east-1);
    /// TemplatesNotAvailableInRegionException elsewhere.
    pub region: String,
    /// Entries already in a template when the simulator starts, as if made in the console.
    pub entries: Vec<TemplateSeed>,
}

impl Default for TemplateSettings {
    fn default() -> Self {
        Self {
            disassociated: Vec::new(),
            no_organization: Vec::new(),
            limit: DEFAULT_TEMPLATE_LIMIT,
            region: "us-east-1".into(),
            entries: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TemplateSeed {
    /// The management account (default: the scenario's default account).
    #[serde(default)]
    pub account: Option<String>,
    pub service_code: String,
    pub quota_code: String,
    pub aws_region: String,
    pub desired_value: f64,
}
