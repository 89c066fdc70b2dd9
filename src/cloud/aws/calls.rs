//! Every Service Quotas call one account makes: one SDK client per region, each call through
//! the rate limiter, answers converted to the operator's types.

use std::{collections::HashMap, sync::Mutex};

use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_servicequotas::{
    Client,
    types::{OptInStatus, OptInType, RequestStatus},
};

use super::convert::{self, Entry};
use crate::cloud::permissions::aws as ops;
use crate::cloud::{
    boundary::{AutoAdjuster, CloudError, ErrorKind, Origin, RequestView},
    limiter::Limiter,
};

/// One account's clients and limiter.
pub struct Calls {
    pub account: String,
    /// Carries the timeouts; region, credentials and endpoint are set per client.
    pub base: SdkConfig,
    pub credentials: Option<SharedCredentialsProvider>,
    pub endpoint: Option<String>,
    clients: RegionClients<Client>,
    limiter: Limiter,
}

/// One SDK client per region, built on first use from the account's [`Calls::region_config`].
pub struct RegionClients<C>(Mutex<HashMap<String, C>>);

impl<C> Default for RegionClients<C> {
    fn default() -> Self {
        Self(Mutex::default())
    }
}

impl<C: Clone> RegionClients<C> {
    pub fn get(&self, calls: &Calls, region: &str, build: impl FnOnce(&SdkConfig) -> C) -> C {
        let mut clients = self.0.lock().expect("region clients");
        clients
            .entry(region.to_string())
            .or_insert_with(|| build(&calls.region_config(region)))
            .clone()
    }
}

impl Calls {
    pub fn new(
        account: String,
        base: SdkConfig,
        credentials: Option<SharedCredentialsProvider>,
        endpoint: Option<String>,
        limiter: Limiter,
    ) -> Self {
        Self {
            account,
            base,
            credentials,
            endpoint,
            clients: RegionClients::default(),
            limiter,
        }
    }

    /// The account's settings for a client in `region`: its timeouts, credentials and endpoint.
    pub fn region_config(&self, region: &str) -> SdkConfig {
        let mut config = self
            .base
            .to_builder()
            .region(Region::new(region.to_string()));
        if let Some(endpoint) = &self.endpoint {
            config = config.endpoint_url(endpoint);
        }
        // Set as is, not wrapped again: a wrapped provider is a new partition of the identity
        // cache, and every region's client would assume the role afresh.
        config.set_credentials_provider(self.credentials.clone());
        config.build()
    }

    fn client(&self, region: &str) -> Client {
        self.clients.get(self, region, Client::new)
    }

    /// A Service Quotas call, through the limiter.
    pub async fn call<T, F, Fut>(
        &self,
        region: &str,
        operation: &'static str,
        f: F,
    ) -> Result<T, CloudError>
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = Result<T, CloudError>>,
    {
        self.limited(region, operation, f(self.client(region)))
            .await
    }

    /// Any call of the account's (Service Quotas, EC2) through the one limiter, which learns
    /// from how AWS answered. `call` is not sent before the limiter allows it.
    pub async fn limited<T>(
        &self,
        region: &str,
        operation: &'static str,
        call: impl Future<Output = Result<T, CloudError>>,
    ) -> Result<T, CloudError> {
        self.limiter
            .run(("aws", &self.account, region), operation, call)
            .await
    }

    /// ListServiceQuotas, every page.
    pub async fn list_quotas(&self, region: &str, service: &str) -> Result<Vec<Entry>, CloudError> {
        all_pages(|token| async move {
            let page = self
                .call(region, ops::LIST_SERVICE_QUOTAS, |c| async move {
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
                page.quotas().iter().map(convert::quota).collect(),
                page.next_token().map(str::to_string),
            ))
        })
        .await
    }

    /// ListServices, every page: the service codes the account can name (for the nearest ones
    /// when a spec names one AWS does not have).
    pub async fn list_services(&self, region: &str) -> Result<Vec<String>, CloudError> {
        all_pages(|token| async move {
            let page = self
                .call(region, ops::LIST_SERVICES, |c| async move {
                    c.list_services()
                        .max_results(100)
                        .set_next_token(token)
                        .send()
                        .await
                        .map_err(convert::error)
                })
                .await?;
            let codes = (page.services().iter())
                .filter_map(|s| s.service_code().map(str::to_string))
                .collect();
            Ok((codes, page.next_token().map(str::to_string)))
        })
        .await
    }

    /// GetAutoManagementConfiguration: AWS's own automatic management of the account's quotas
    /// (asked in the account's home region: the setting is account-wide).
    pub async fn auto_management(&self, region: &str) -> Result<AutoAdjuster, CloudError> {
        let out = self
            .call(region, ops::AUTO_MANAGEMENT, |c| async move {
                c.get_auto_management_configuration()
                    .send()
                    .await
                    .map_err(convert::error)
            })
            .await?;
        let enabled = out.opt_in_status() == Some(&OptInStatus::Enabled);
        let kind = out.opt_in_type().map(|t| t.as_str().to_string());
        let setting = match (&kind, enabled) {
            (Some(kind), true) => kind.clone(),
            _ => "NotOptedIn".to_string(),
        };
        let mut details: Vec<String> = out
            .exclusion_list()
            .into_iter()
            .flatten()
            .flat_map(|(service, quotas)| {
                quotas
                    .iter()
                    .map(move |q| format!("excluded: {service}/{}", q.quota_code().unwrap_or("*")))
            })
            .collect();
        details.sort();
        Ok(AutoAdjuster {
            origin: Origin::AwsAutomaticManagement,
            adjusts: enabled && out.opt_in_type() == Some(&OptInType::NotifyAndAdjust),
            setting,
            details,
        })
    }

    /// ListAWSDefaultServiceQuotas, every page: names and default values.
    pub async fn list_defaults(
        &self,
        region: &str,
        service: &str,
    ) -> Result<Vec<Entry>, CloudError> {
        all_pages(|token| async move {
            let page = self
                .call(region, ops::LIST_DEFAULTS, |c| async move {
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
                page.quotas().iter().map(convert::quota).collect(),
                page.next_token().map(str::to_string),
            ))
        })
        .await
    }

    /// One quota: its applied value (GetServiceQuota), else its default
    /// (GetAWSDefaultServiceQuota) when AWS says none was ever applied.
    pub async fn read_one(
        &self,
        region: &str,
        service: &str,
        code: &str,
    ) -> Result<Entry, CloudError> {
        let applied = self
            .call(region, ops::GET_SERVICE_QUOTA, |c| async move {
                c.get_service_quota()
                    .service_code(service)
                    .quota_code(code)
                    .send()
                    .await
                    .map_err(convert::error)
            })
            .await;
        let quota = match applied {
            Ok(out) => out.quota().map(convert::quota),
            Err(e) if e.kind == ErrorKind::NotFound => self
                .call(region, ops::GET_DEFAULT, |c| async move {
                    c.get_aws_default_service_quota()
                        .service_code(service)
                        .quota_code(code)
                        .send()
                        .await
                        .map_err(convert::error)
                })
                .await?
                .quota()
                .map(convert::quota),
            Err(e) => return Err(e),
        };
        quota.ok_or_else(|| {
            CloudError::new(
                ErrorKind::NotFound,
                "NoSuchResourceException",
                format!("AWS answered no quota {code} in {service} ({region})"),
            )
        })
    }

    /// The quota's request history in a region, only requests in `status` when given.
    pub async fn history(
        &self,
        region: &str,
        service: &str,
        code: &str,
        status: Option<RequestStatus>,
    ) -> Result<Vec<RequestView>, CloudError> {
        let operation = ops::HISTORY;
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

    /// GetRequestedServiceQuotaChange.
    pub async fn request(&self, region: &str, id: &str) -> Result<RequestView, CloudError> {
        let out = self
            .call(region, ops::GET_REQUEST, |c| async move {
                c.get_requested_service_quota_change()
                    .request_id(id)
                    .send()
                    .await
                    .map_err(convert::error)
            })
            .await?;
        out.requested_quota().map(convert::request).ok_or_else(|| {
            CloudError::new(
                ErrorKind::NotFound,
                "NoSuchResourceException",
                format!("AWS answered no request {id}"),
            )
        })
    }

    /// RequestServiceQuotaIncrease; `support_case_allowed` false lets AWS open no case.
    pub async fn file(
        &self,
        region: &str,
        service: &str,
        code: &str,
        value: i64,
        support_case_allowed: bool,
    ) -> Result<RequestView, CloudError> {
        let out = self
            .call(region, ops::REQUEST_INCREASE, |c| async move {
                // Sent only when false, so a default filing is on the wire as before.
                c.request_service_quota_increase()
                    .service_code(service)
                    .quota_code(code)
                    .desired_value(value as f64)
                    .set_support_case_allowed((!support_case_allowed).then_some(false))
                    .send()
                    .await
                    .map_err(convert::error)
            })
            .await?;
        out.requested_quota().map(convert::request).ok_or_else(|| {
            CloudError::new(
                ErrorKind::Other,
                "EmptyResponse",
                "RequestServiceQuotaIncrease returned no request",
            )
        })
    }
}

/// Walks every page of a listing: `page(token)` answers one page's items and the next token.
pub(super) async fn all_pages<T, F, Fut>(mut page: F) -> Result<Vec<T>, CloudError>
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
