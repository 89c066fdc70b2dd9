//! AWS Service Quotas through the official SDK: the default credential chain (IRSA, EKS Pod
//! Identity, environment) with AssumeRole per CloudAccount, an endpoint override, a shared quota
//! cache and a client-side rate limiter.

mod cache;
mod convert;
mod limiter;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_servicequotas::{Client, types::RequestStatus};

use self::{
    cache::{QuotaCache, ServiceQuotas},
    limiter::Limiter,
};
use super::{
    CloudError, ErrorKind, FileContext, ProviderFactory, QuotaProvider, QuotaRef, QuotaView,
    RequestView, Target, per_account::PerAccount,
};
use crate::api::CloudAccount;

pub use limiter::documented_rate;

/// Operator-wide AWS settings (flags of `quota-operator run`).
#[derive(Clone, Debug)]
pub struct AwsSettings {
    /// Endpoint for every account without its own `spec.endpoint`.
    pub endpoint: Option<String>,
    /// How long listed quota values are reused.
    pub cache_ttl: Duration,
    /// Fraction of AWS's documented API rates the operator allows itself; below 1 leaves room
    /// for network jitter and other clients of the account.
    pub rate_scale: f64,
}

impl Default for AwsSettings {
    fn default() -> Self {
        Self {
            endpoint: None,
            cache_ttl: Duration::from_secs(300),
            rate_scale: 0.8,
        }
    }
}

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

    pub fn new(base: SdkConfig, settings: AwsSettings) -> Self {
        Self {
            base,
            settings,
            providers: PerAccount::default(),
        }
    }

    async fn build(&self, account: &CloudAccount) -> Result<AwsProvider, CloudError> {
        let aws = account.spec.aws.as_ref().ok_or_else(|| {
            CloudError::new(ErrorKind::Other, "NotAnAwsAccount", "spec.aws is not set")
        })?;
        let credentials = match &aws.role_arn {
            Some(role) => {
                let mut assume = aws_config::sts::AssumeRoleProvider::builder(role)
                    .session_name("quota-operator")
                    .configure(&self.base);
                if let Some(external_id) = &aws.external_id {
                    assume = assume.external_id(external_id);
                }
                Some(SharedCredentialsProvider::new(assume.build().await))
            }
            None => self.base.credentials_provider(),
        };
        let endpoint = account
            .spec
            .endpoint
            .clone()
            .or_else(|| self.settings.endpoint.clone());
        Ok(AwsProvider {
            account: aws.account_id.clone(),
            base: self.base.clone(),
            credentials,
            endpoint,
            clients: Mutex::default(),
            cache: QuotaCache::new(self.settings.cache_ttl),
            limiter: Limiter::new(self.settings.rate_scale),
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
    account: String,
    base: SdkConfig,
    credentials: Option<SharedCredentialsProvider>,
    endpoint: Option<String>,
    clients: Mutex<HashMap<String, Client>>,
    cache: QuotaCache,
    limiter: Limiter,
}

fn aws_ref(target: &Target) -> Result<(&str, Option<&str>, Option<&str>), CloudError> {
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

fn view(q: &aws_sdk_servicequotas::types::ServiceQuota) -> QuotaView {
    QuotaView {
        id: q.quota_code().unwrap_or_default().to_string(),
        name: q.quota_name().unwrap_or_default().to_string(),
        value: q.value().unwrap_or_default(),
        adjustable: q.adjustable(),
        global: q.global_quota(),
    }
}

impl AwsProvider {
    fn client(&self, region: &str) -> Client {
        let mut clients = self.clients.lock().expect("clients lock");
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let mut config = aws_sdk_servicequotas::config::Builder::from(&self.base)
                    .region(Region::new(region.to_string()));
                if let Some(endpoint) = &self.endpoint {
                    config = config.endpoint_url(endpoint);
                }
                if let Some(credentials) = &self.credentials {
                    config = config.credentials_provider(credentials.clone());
                }
                Client::from_conf(config.build())
            })
            .clone()
    }

    /// Every call goes through the limiter, and tells it how AWS answered.
    async fn call<T, F, Fut>(
        &self,
        region: &str,
        operation: &'static str,
        f: F,
    ) -> Result<T, CloudError>
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = Result<T, CloudError>>,
    {
        self.limiter.acquire(&self.account, region, operation).await;
        let result = f(self.client(region)).await;
        match &result {
            Err(e) if e.kind == ErrorKind::Throttled => {
                self.limiter.throttled(&self.account, region, operation);
                tracing::info!(account = %self.account, region, operation, "throttled by AWS; slowing down");
            }
            Ok(_) => self.limiter.succeeded(&self.account, region, operation),
            Err(_) => {}
        }
        result
    }

    async fn list_quotas(&self, region: &str, service: &str) -> Result<ServiceQuotas, CloudError> {
        let quotas = all_pages(|token| async move {
            let page = self
                .call(region, "ListServiceQuotas", |c| async move {
                    c.list_service_quotas()
                        .service_code(service)
                        .max_results(100)
                        .set_next_token(token)
                        .send()
                        .await
                        .map_err(convert::error)
                })
                .await?;
            Ok((
                page.quotas().iter().map(view).collect(),
                page.next_token().map(str::to_string),
            ))
        })
        .await?;
        let by_code = quotas.into_iter().map(|q| (q.id.clone(), q)).collect();
        Ok(ServiceQuotas { by_code })
    }

    async fn list_defaults(
        &self,
        region: &str,
        service: &str,
    ) -> Result<Vec<QuotaView>, CloudError> {
        all_pages(|token| async move {
            let page = self
                .call(region, "ListAWSDefaultServiceQuotas", |c| async move {
                    c.list_aws_default_service_quotas()
                        .service_code(service)
                        .max_results(100)
                        .set_next_token(token)
                        .send()
                        .await
                        .map_err(convert::error)
                })
                .await?;
            Ok((
                page.quotas().iter().map(view).collect(),
                page.next_token().map(str::to_string),
            ))
        })
        .await
    }

    /// A quota ListServiceQuotas did not list: its applied value, else its default.
    async fn read_one(
        &self,
        region: &str,
        service: &str,
        code: &str,
    ) -> Result<QuotaView, CloudError> {
        let applied = self
            .call(region, "GetServiceQuota", |c| async move {
                c.get_service_quota()
                    .service_code(service)
                    .quota_code(code)
                    .send()
                    .await
                    .map_err(convert::error)
            })
            .await;
        let quota = match applied {
            Ok(out) => out.quota().map(view),
            Err(e) if e.kind == ErrorKind::NotFound => self
                .call(region, "GetAWSDefaultServiceQuota", |c| async move {
                    c.get_aws_default_service_quota()
                        .service_code(service)
                        .quota_code(code)
                        .send()
                        .await
                        .map_err(convert::error)
                })
                .await?
                .quota()
                .map(view),
            Err(e) => return Err(e),
        };
        quota.ok_or_else(|| {
            CloudError::new(
                ErrorKind::NotFound,
                "NoSuchResourceException",
                format!("no quota {code} in {service}"),
            )
        })
    }

    /// The quota's request history in a region, only requests in `status` when given.
    async fn history(
        &self,
        region: &str,
        service: &str,
        code: &str,
        status: Option<RequestStatus>,
    ) -> Result<Vec<RequestView>, CloudError> {
        let operation = "ListRequestedServiceQuotaChangeHistoryByQuota";
        all_pages(|token| {
            let status = status.clone();
            async move {
                let page = self
                    .call(region, operation, |c| async move {
                        c.list_requested_service_quota_change_history_by_quota()
                            .service_code(service)
                            .quota_code(code)
                            .set_status(status)
                            .set_next_token(token)
                            .send()
                            .await
                            .map_err(convert::error)
                    })
                    .await?;
                let requests = page
                    .requested_quotas()
                    .iter()
                    .map(convert::request)
                    .collect();
                Ok((requests, page.next_token().map(str::to_string)))
            }
        })
        .await
    }
}

/// Walks every page of a listing: `page(token)` answers one page's items and the next token.
async fn all_pages<T, F, Fut>(mut page: F) -> Result<Vec<T>, CloudError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), CloudError>>,
{
    let mut items = vec![];
    let mut token = None;
    loop {
        let (batch, next) = page(token).await?;
        items.extend(batch);
        match next {
            Some(next) => token = Some(next),
            None => return Ok(items),
        }
    }
}

#[async_trait]
impl QuotaProvider for AwsProvider {
    async fn quota(&self, target: &Target) -> Result<QuotaView, CloudError> {
        let (service, code, name) = aws_ref(target)?;
        let region = target.region.as_str();
        let listed = self
            .cache
            .get(region, service, || self.list_quotas(region, service))
            .await?;
        if let Some(found) = listed.find(code, name) {
            return Ok(found.clone());
        }
        let found = match (code, name) {
            (Some(code), _) => self.read_one(region, service, code).await?,
            (None, Some(name)) => self
                .list_defaults(region, service)
                .await?
                .into_iter()
                .find(|q| q.name == name)
                .ok_or_else(|| {
                    CloudError::new(
                        ErrorKind::NotFound,
                        "NoSuchResourceException",
                        format!("service {service} has no quota named {name:?} in {region}"),
                    )
                })?,
            (None, None) => {
                return Err(CloudError::new(
                    ErrorKind::Other,
                    "InvalidSpec",
                    "no quota code or name",
                ));
            }
        };
        self.cache.add(region, service, found.clone()).await;
        Ok(found)
    }

    async fn open_request(
        &self,
        target: &Target,
        quota_id: &str,
    ) -> Result<Option<RequestView>, CloudError> {
        let (service, _, _) = aws_ref(target)?;
        let region = target.region.as_str();
        let mut open = self
            .history(region, service, quota_id, Some(RequestStatus::CaseOpened))
            .await?;
        open.extend(
            self.history(region, service, quota_id, Some(RequestStatus::Pending))
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
            .history(&target.region, service, quota_id, None)
            .await?;
        Ok(all.into_iter().max_by_key(|r| r.submitted_at))
    }

    async fn request(&self, target: &Target, id: &str) -> Result<RequestView, CloudError> {
        let region = target.region.as_str();
        let out = self
            .call(region, "GetRequestedServiceQuotaChange", |c| async move {
                c.get_requested_service_quota_change()
                    .request_id(id)
                    .send()
                    .await
                    .map_err(convert::error)
            })
            .await?;
        let view = out.requested_quota().map(convert::request).ok_or_else(|| {
            CloudError::new(
                ErrorKind::NotFound,
                "NoSuchResourceException",
                format!("request {id} not found"),
            )
        })?;
        if !view.phase.is_open() {
            // The value may have moved: read it afresh next time.
            let (service, _, _) = aws_ref(target)?;
            self.cache.invalidate(region, service).await;
        }
        Ok(view)
    }

    async fn file(
        &self,
        target: &Target,
        quota_id: &str,
        value: i64,
        _context: &FileContext,
    ) -> Result<RequestView, CloudError> {
        let (service, _, _) = aws_ref(target)?;
        let region = target.region.as_str();
        let out = self
            .call(region, "RequestServiceQuotaIncrease", |c| async move {
                c.request_service_quota_increase()
                    .service_code(service)
                    .quota_code(quota_id)
                    .desired_value(value as f64)
                    .send()
                    .await
                    .map_err(convert::error)
            })
            .await?;
        tracing::info!(account = %self.account, region, service, quota = quota_id, value, "filed quota increase");
        out.requested_quota().map(convert::request).ok_or_else(|| {
            CloudError::new(
                ErrorKind::Other,
                "EmptyResponse",
                "RequestServiceQuotaIncrease returned no request",
            )
        })
    }
}
