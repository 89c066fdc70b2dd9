//! The Organizations quota request template, from the management account: the four Service
//! Quotas calls, made in the one region AWS serves templates from.

use async_trait::async_trait;

use super::{
    calls::{Calls, all_pages},
    convert,
};
use crate::cloud::{
    boundary::{CloudError, QuotaTemplate, TemplateEntry},
    permissions::aws as ops,
};

/// AWS serves the template API in US East (N. Virginia) only; elsewhere it answers
/// TemplatesNotAvailableInRegionException. The entries themselves name any region.
pub const TEMPLATE_REGION: &str = "us-east-1";

#[async_trait]
impl QuotaTemplate for Calls {
    /// ASSOCIATED, or not: a template not in use answers ServiceQuotaTemplateNotInUseException
    /// on some accounts and DISASSOCIATED on others, both "not associated".
    async fn associated(&self) -> Result<bool, CloudError> {
        let out = self
            .call(TEMPLATE_REGION, ops::TEMPLATE_ASSOCIATION, |c| async move {
                c.get_association_for_service_quota_template()
                    .send()
                    .await
                    .map_err(convert::error)
            })
            .await;
        match out {
            Ok(out) => Ok(out
                .service_quota_template_association_status()
                .is_some_and(|s| s.as_str() == "ASSOCIATED")),
            Err(e) if e.code == "ServiceQuotaTemplateNotInUseException" => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn entries(&self) -> Result<Vec<TemplateEntry>, CloudError> {
        all_pages(|token| async move {
            let page = self
                .call(TEMPLATE_REGION, ops::TEMPLATE_LIST, |c| async move {
                    c.list_service_quota_increase_requests_in_template()
                        .max_results(100)
                        .set_next_token(token)
                        .send()
                        .await
                        .map_err(convert::error)
                })
                .await?;
            let entries = (page
                .service_quota_increase_request_in_template_list()
                .iter())
            .map(|e| TemplateEntry {
                service_code: e.service_code().unwrap_or_default().to_string(),
                quota_code: e.quota_code().unwrap_or_default().to_string(),
                region: e.aws_region().unwrap_or_default().to_string(),
                value: e.desired_value().unwrap_or_default(),
            })
            .collect();
            Ok((entries, page.next_token().map(str::to_string)))
        })
        .await
    }

    async fn put(&self, entry: &TemplateEntry) -> Result<(), CloudError> {
        self.call(TEMPLATE_REGION, ops::TEMPLATE_PUT, |c| async move {
            c.put_service_quota_increase_request_into_template()
                .service_code(&entry.service_code)
                .quota_code(&entry.quota_code)
                .aws_region(&entry.region)
                .desired_value(entry.value)
                .send()
                .await
                .map_err(convert::error)
        })
        .await?;
        tracing::info!(account = %self.account, service = %entry.service_code, quota = %entry.quota_code, region = %entry.region, value = entry.value, "put quota template entry");
        Ok(())
    }

    async fn delete(&self, service: &str, quota: &str, region: &str) -> Result<(), CloudError> {
        self.call(TEMPLATE_REGION, ops::TEMPLATE_DELETE, |c| async move {
            c.delete_service_quota_increase_request_from_template()
                .service_code(service)
                .quota_code(quota)
                .aws_region(region)
                .send()
                .await
                .map_err(convert::error)
        })
        .await?;
        tracing::info!(account = %self.account, service, quota, region, "deleted quota template entry");
        Ok(())
    }
}
