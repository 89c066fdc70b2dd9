//! AWS Service Quotas through the official SDK: the default credential chain (IRSA, EKS Pod
//! Identity, environment) with AssumeRole per CloudAccount, the account verified with STS, an
//! endpoint override only where the operator's settings allow it, timeouts on every call, a
//! shared quota cache and a client-side rate limiter.

mod account_regions;
mod cache;
mod calls;
mod cases;
mod convert;
mod credentials;
mod identity;
mod instance_types;
mod mistakes;
pub(super) mod rates;
mod read;
mod report;
mod settings;
mod template;
mod usage;

use std::{collections::BTreeMap, sync::Arc};

use async_trait::async_trait;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_servicequotas::types::RequestStatus;

use self::{
    account_regions::AccountRegions, cache::QuotaCache, calls::Calls, cases::Cases, identity::Sts,
    instance_types::InstanceTypes, usage::Usage,
};
use super::{
    boundary::{
        AutoAdjuster, CloudError, ErrorKind, FileContext, FleetServices, ProviderFactory,
        QuotaProvider, QuotaRef, QuotaView, RequestView, Target, UsageView,
    },
    case::CaseView,
    limiter::Limiter,
    per_account::PerAccount,
    permissions, regions,
};
use crate::api::CloudAccount;

pub use convert::UsageMetric;
pub use rates::{SUPPORT_CASE_RATE, allowed_rate, documented_rate};
pub use settings::AwsSettings;
pub use usage::cloudwatch_usage;

/// Builds one provider per CloudAccount (rebuilt when the account's spec changes).
pub struct AwsFactory {
    base: SdkConfig,
    settings: AwsSettings,
    providers: PerAccount<AwsProvider>,
}

impl AwsFactory {
    /// Loads the default credential chain and region from the environment.
    pub async fn from_env(settings: AwsSettings) -> Self {
        let base = aws_config::defaults(BehaviorVersion::latest()).load().await;
        Self::new(base, settings)
    }

    /// Fixed credentials and a home region, for a simulator or a local run; nothing is read from
    /// the environment's credential chain.
    pub async fn with_static_credentials(
        access_key_id: &str,
        secret_access_key: &str,
        region: &str,
        settings: AwsSettings,
    ) -> Self {
        let credentials = aws_credential_types::Credentials::new(
            access_key_id,
            secret_access_key,
            None,
            None,
            "quota-operator-static",
        );
        let base = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .credentials_provider(credentials)
            .load()
            .await;
        Self::new(base, settings)
    }

    /// `base` gains the settings' timeouts and the operator's name (the SDK's app name, in
    /// CloudTrail's user agent), so every client built from it (Service Quotas, STS, the
    /// AssumeRole provider's) has them.
    pub fn new(base: SdkConfig, settings: AwsSettings) -> Self {
        let name = permissions::Client::current().name();
        let base = base
            .into_builder()
            .timeout_config(settings.timeout_config())
            .app_name(aws_config::AppName::new(name).expect("a valid app name"))
            .build();
        Self {
            base,
            settings,
            providers: PerAccount::default(),
        }
    }

    /// Why the operator's own credentials cannot be used, if they cannot (asked at start).
    pub fn credentials_missing(&self) -> impl Future<Output = Option<String>> + Send + 'static {
        credentials::missing(self.base.clone())
    }

    /// The endpoint is checked first (nothing is sent to one not allowed), then the role is
    /// assumed and the account verified with STS.
    async fn build(&self, account: &CloudAccount) -> Result<AwsProvider, CloudError> {
        let aws = account.spec.aws.as_ref().ok_or_else(|| {
            CloudError::new(ErrorKind::Other, "NotAnAwsAccount", "spec.aws is not set")
        })?;
        let endpoint = self
            .settings
            .endpoint_for(account.spec.endpoint.as_deref())?;
        let sts = Sts {
            base: &self.base,
            endpoint: endpoint.as_deref(),
        };
        let role = aws.role_arn.as_deref();
        let credentials = match role {
            Some(role) => Some(sts.assume(role, aws.external_id.as_deref()).await?),
            None => None,
        };
        sts.verify(credentials.as_ref(), &aws.account_id, role)
            .await?;
        let credentials = credentials.or_else(|| self.base.credentials_provider());
        Ok(AwsProvider {
            regions: AccountRegions::new(&aws.account_id, self.settings.cache_ttl),
            calls: Calls::new(
                aws.account_id.clone(),
                self.base.clone(),
                credentials,
                endpoint,
                Limiter::new(rates::allowed_rate, self.settings.rate_scale),
            ),
            cache: QuotaCache::new(self.settings.cache_ttl),
            instance_types: InstanceTypes::new(self.settings.cache_ttl),
            usage: Usage::new(self.settings.cache_ttl),
            cases: Cases::default(),
            home_region: self
                .base
                .region()
                .map_or_else(|| "us-east-1".to_string(), |r| r.to_string()),
        })
    }
}

#[async_trait]
impl ProviderFactory for AwsFactory {
    async fn provider(&self, account: &CloudAccount) -> Result<Arc<dyn QuotaProvider>, CloudError> {
        let provider = self
            .providers
            .get_or_build(account, || self.build(account))
            .await?;
        Ok(provider)
    }
}

/// One AWS account.
pub struct AwsProvider {
    calls: Calls,
    cache: QuotaCache,
    instance_types: InstanceTypes,
    usage: Usage,
    /// Support cases of increase requests (and whether the Support API refuses this account).
    cases: Cases,
    /// The regions the account has, asked once in a while (a miss or a failed listing again
    /// after the cache TTL).
    regions: AccountRegions,
    /// Where account-wide settings are read (the operator's own region).
    home_region: String,
}

/// The target's service, code and name, once its region is known to be one: nothing is built,
/// cached or sent for a region that is not.
fn aws_ref(target: &Target) -> Result<(&str, Option<&str>, Option<&str>), CloudError> {
    regions::check_aws(&target.region)?;
    match &target.quota {
        QuotaRef::Aws {
            service_code,
            quota_code,
            quota_name,
        } => Ok((service_code, quota_code.as_deref(), quota_name.as_deref())),
        QuotaRef::Gcp { .. } => Err(CloudError::new(
            ErrorKind::Other,
            "NotAnAwsQuota",
            "a GCP quota cannot be read from an AWS account",
        )),
    }
}

#[async_trait]
impl QuotaProvider for AwsProvider {
    /// Only in a region the account has: every other call for a target follows a quota read,
    /// so nothing is read, filed or reported for a region it does not.
    async fn quota(&self, target: &Target) -> Result<QuotaView, CloudError> {
        let (service, code, name) = aws_ref(target)?;
        self.regions
            .check(&self.calls, &self.home_region, &target.region)
            .await?;
        read::quota(
            &self.calls,
            &self.cache,
            &target.region,
            service,
            code,
            name,
        )
        .await
    }

    async fn open_request(
        &self,
        target: &Target,
        quota_id: &str,
    ) -> Result<Option<RequestView>, CloudError> {
        let (service, _, _) = aws_ref(target)?;
        let region = target.region.as_str();
        let mut open = self
            .calls
            .history(region, service, quota_id, Some(RequestStatus::CaseOpened))
            .await?;
        open.extend(
            self.calls
                .history(region, service, quota_id, Some(RequestStatus::Pending))
                .await?,
        );
        Ok(open.into_iter().max_by_key(|r| r.submitted_at))
    }

    async fn latest_request(
        &self,
        target: &Target,
        quota_id: &str,
    ) -> Result<Option<RequestView>, CloudError> {
        let (service, _, _) = aws_ref(target)?;
        let all = self
            .calls
            .history(&target.region, service, quota_id, None)
            .await?;
        Ok(all.into_iter().max_by_key(|r| r.submitted_at))
    }

    /// Every request in the quota's history (one paginated call, as for the latest).
    async fn recent_requests(
        &self,
        target: &Target,
        quota_id: &str,
    ) -> Result<Vec<RequestView>, CloudError> {
        let (service, _, _) = aws_ref(target)?;
        self.calls
            .history(&target.region, service, quota_id, None)
            .await
    }

    async fn request(&self, target: &Target, id: &str) -> Result<RequestView, CloudError> {
        let (service, _, _) = aws_ref(target)?;
        let region = target.region.as_str();
        let view = self.calls.request(region, id).await?;
        if !view.phase.is_open() {
            // The value may have moved: read it afresh next time.
            self.cache.invalidate(region, service).await;
        }
        Ok(view)
    }

    async fn file(
        &self,
        target: &Target,
        quota_id: &str,
        value: i64,
        context: &FileContext,
    ) -> Result<RequestView, CloudError> {
        let (service, _, _) = aws_ref(target)?;
        let region = target.region.as_str();
        let cases = !context.no_support_case;
        let filed = self
            .calls
            .file(region, service, quota_id, value, cases)
            .await?;
        tracing::info!(account = %self.calls.account, region, service, quota = quota_id, value, support_case_allowed = cases, "filed quota increase");
        Ok(filed)
    }

    async fn usage(
        &self,
        target: &Target,
        quota_id: &str,
        fleet: FleetServices<'_>,
    ) -> Result<UsageView, CloudError> {
        let (service, _, _) = aws_ref(target)?;
        let asked = usage::Asked {
            region: &target.region,
            service,
            code: quota_id,
        };
        self.usage
            .read(&self.calls, &self.cache, asked, fleet)
            .await
    }

    async fn case(&self, id: &str) -> Result<CaseView, CloudError> {
        self.cases.read(&self.calls, id).await
    }

    async fn reply_to_case(&self, id: &str, body: &str) -> Result<(), CloudError> {
        self.cases.reply(&self.calls, id, body).await?;
        tracing::info!(account = %self.calls.account, case = id, "answered support case");
        Ok(())
    }

    async fn auto_adjuster(&self) -> Result<AutoAdjuster, CloudError> {
        self.calls.auto_management(&self.home_region).await
    }

    fn template(&self) -> Option<&dyn super::boundary::QuotaTemplate> {
        Some(&self.calls)
    }

    async fn vcpus(
        &self,
        region: &str,
        types: &[String],
    ) -> Result<BTreeMap<String, u32>, CloudError> {
        regions::check_aws(region)?;
        self.instance_types.vcpus(&self.calls, region, types).await
    }
}
