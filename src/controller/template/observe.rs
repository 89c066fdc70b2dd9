//! Reads the template once per pass: the account's provider, the association and every entry.

use std::sync::Arc;

use crate::{
    api::CloudAccount,
    cloud::{QuotaProvider, TemplateEntry},
    controller::context::Context,
};

pub struct Seen {
    pub provider: Arc<dyn QuotaProvider>,
    pub associated: bool,
    pub entries: Vec<TemplateEntry>,
}

/// What the template holds, or what stopped the read (AWS's answer, with the call it refused).
pub async fn observe(account: &CloudAccount, ctx: &Context) -> Result<Seen, String> {
    let provider = ctx
        .providers
        .provider(account)
        .await
        .map_err(|e| format!("the account cannot be reached: {e}"))?;
    let template = provider
        .template()
        .ok_or("this cloud has no quota request template")?;
    let associated = template.associated().await.map_err(|e| {
        format!(
            "GetAssociationForServiceQuotaTemplate: {e}{}",
            hint(&e.code)
        )
    })?;
    let entries = template.entries().await.map_err(|e| {
        format!(
            "ListServiceQuotaIncreaseRequestsInTemplate: {e}{}",
            hint(&e.code)
        )
    })?;
    Ok(Seen {
        provider,
        associated,
        entries,
    })
}

/// What to do about the answers that are the organization's setup, not a passing failure.
fn hint(code: &str) -> &'static str {
    match code {
        "AccessDeniedException" | "DependencyAccessDeniedException" => {
            " (grant the operator's role the servicequotas template actions and \
             organizations:DescribeOrganization: deploy/iam/README.md)"
        }
        "NoAvailableOrganizationException" => {
            " (spec.aws.quotaTemplate is for an AWS Organizations management account; this \
             account is in no organization)"
        }
        "AWSServiceAccessNotEnabledException" => {
            " (enable trusted access for Service Quotas in AWS Organizations)"
        }
        "OrganizationNotInAllFeaturesModeException" => {
            " (the organization must have all features enabled)"
        }
        _ => "",
    }
}
