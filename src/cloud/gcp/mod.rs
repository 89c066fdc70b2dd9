//! GCP Cloud Quotas through the official client: QuotaInfo for current values and eligibility,
//! one QuotaPreference per (project, quota, dimensions) with a stable id, upserted with PATCH
//! allowMissing and the etag. Application Default Credentials (Workload Identity) in real use;
//! anonymous against a plain-http endpoint such as the simulator.

mod convert;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use google_cloud_api_cloudquotas_v1::{
    client::CloudQuotas,
    model::{QuotaConfig, QuotaInfo, QuotaPreference, QuotaSafetyCheck},
};
use google_cloud_gax::error::rpc::Code;

use super::{
    CloudError, ErrorKind, FileContext, ProviderFactory, QuotaProvider, QuotaRef, QuotaView,
    RequestView, Target, per_account::PerAccount,
};
use crate::api::CloudAccount;

pub use convert::preference_id;

/// Operator-wide GCP settings (flags of `quota-operator run`).
#[derive(Clone, Debug)]
pub struct GcpSettings {
    /// Endpoint for every project without its own `spec.endpoint`.
    pub endpoint: Option<String>,
    /// How long a QuotaInfo is reused.
    pub cache_ttl: Duration,
}

impl Default for GcpSettings {
    fn default() -> Self {
        Self {
            endpoint: None,
            cache_ttl: Duration::from_secs(300),
        }
    }
}

pub struct GcpFactory {
    settings: GcpSettings,
    providers: PerAccount<GcpProvider>,
}

impl GcpFactory {
    pub fn new(settings: GcpSettings) -> Self {
        Self {
            settings,
            providers: PerAccount::default(),
        }
    }

    async fn build(&self, account: &CloudAccount) -> Result<GcpProvider, CloudError> {
        let gcp = account.spec.gcp.as_ref().ok_or_else(|| {
            CloudError::new(ErrorKind::Other, "NotAGcpAccount", "spec.gcp is not set")
        })?;
        let endpoint = account
            .spec
            .endpoint
            .clone()
            .or_else(|| self.settings.endpoint.clone());
        // A plain-http endpoint is a local simulator: no token to send, none to fetch.
        let credentials = if endpoint
            .as_deref()
            .is_some_and(|e| e.starts_with("http://"))
        {
            google_cloud_auth::credentials::anonymous::Builder::new().build()
        } else {
            google_cloud_auth::credentials::Builder::default()
                .build()
                .map_err(|e| {
                    CloudError::new(ErrorKind::AccessDenied, "CREDENTIALS", e.to_string())
                })?
        };
        let mut builder = CloudQuotas::builder().with_credentials(credentials);
        if let Some(endpoint) = &endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        let client = builder
            .build()
            .await
            .map_err(|e| CloudError::new(ErrorKind::Unavailable, "CLIENT", e.to_string()))?;
        Ok(GcpProvider {
            project: gcp.project.clone(),
            client,
            infos: Mutex::default(),
            ttl: self.settings.cache_ttl,
        })
    }
}

#[async_trait]
impl ProviderFactory for GcpFactory {
    async fn provider(&self, account: &CloudAccount) -> Result<Arc<dyn QuotaProvider>, CloudError> {
        let provider = self
            .providers
            .get_or_build(account, || self.build(account))
            .await?;
        Ok(provider)
    }
}

/// One GCP project.
pub struct GcpProvider {
    project: String,
    client: CloudQuotas,
    infos: Mutex<HashMap<String, (Instant, QuotaInfo)>>,
    ttl: Duration,
}

struct GcpTarget<'a> {
    service: &'a str,
    quota_id: &'a str,
    /// Every dimension, the region included unless the quota is global.
    dimensions: HashMap<String, String>,
    preference_id: String,
}

fn gcp_target(target: &Target) -> Result<GcpTarget<'_>, CloudError> {
    let QuotaRef::Gcp {
        service,
        quota_id,
        dimensions,
    } = &target.quota
    else {
        return Err(CloudError::new(
            ErrorKind::Other,
            "NotAGcpQuota",
            "an AWS quota cannot be read from a GCP project",
        ));
    };
    let mut all: HashMap<String, String> = dimensions.iter().cloned().collect();
    if target.region != "global" {
        all.insert("region".into(), target.region.clone());
    }
    Ok(GcpTarget {
        service,
        quota_id,
        dimensions: all,
        preference_id: convert::preference_id(quota_id, &target.region, dimensions),
    })
}

impl GcpProvider {
    fn info_name(&self, service: &str, quota_id: &str) -> String {
        format!(
            "projects/{}/locations/global/services/{service}/quotaInfos/{quota_id}",
            self.project
        )
    }

    fn preference_name(&self, id: &str) -> String {
        format!(
            "projects/{}/locations/global/quotaPreferences/{id}",
            self.project
        )
    }

    async fn info(&self, service: &str, quota_id: &str) -> Result<QuotaInfo, CloudError> {
        let name = self.info_name(service, quota_id);
        if let Some((at, info)) = self.infos.lock().expect("info cache").get(&name)
            && at.elapsed() < self.ttl
        {
            return Ok(info.clone());
        }
        let info = self
            .client
            .get_quota_info()
            .set_name(&name)
            .send()
            .await
            .map_err(convert::error)?;
        self.infos
            .lock()
            .expect("info cache")
            .insert(name, (Instant::now(), info.clone()));
        Ok(info)
    }

    fn forget(&self, service: &str, quota_id: &str) {
        self.infos
            .lock()
            .expect("info cache")
            .remove(&self.info_name(service, quota_id));
    }

    async fn get_preference(&self, name: &str) -> Result<Option<QuotaPreference>, CloudError> {
        match self
            .client
            .get_quota_preference()
            .set_name(name)
            .send()
            .await
        {
            Ok(p) => Ok(Some(p)),
            Err(e) if e.status().is_some_and(|s| s.code == Code::NotFound) => Ok(None),
            Err(e) => Err(convert::error(e)),
        }
    }

    async fn upsert(
        &self,
        t: &GcpTarget<'_>,
        value: i64,
        from: i64,
        context: &FileContext,
    ) -> Result<QuotaPreference, google_cloud_gax::error::Error> {
        let name = self.preference_name(&t.preference_id);
        let etag = match self
            .client
            .get_quota_preference()
            .set_name(&name)
            .send()
            .await
        {
            Ok(existing) => existing.etag,
            Err(e) if e.status().is_some_and(|s| s.code == Code::NotFound) => String::new(),
            Err(e) => return Err(e),
        };
        let config = QuotaConfig::new()
            .set_preferred_value(value)
            .set_annotations([(convert::FROM_ANNOTATION, from.to_string())]);
        let preference = QuotaPreference::new()
            .set_name(&name)
            .set_service(t.service)
            .set_quota_id(t.quota_id)
            .set_dimensions(t.dimensions.clone())
            .set_quota_config(config)
            .set_justification(context.justification.clone().unwrap_or_default())
            .set_contact_email(context.contact_email.clone().unwrap_or_default())
            .set_etag(etag);
        let mask = google_cloud_wkt::FieldMask::default().set_paths([
            "quota_config.preferred_value",
            "quota_config.annotations",
            "justification",
            "contact_email",
        ]);
        let checks = if value < from {
            vec![QuotaSafetyCheck::QuotaDecreasePercentageTooHigh]
        } else {
            vec![]
        };
        self.client
            .update_quota_preference()
            .set_quota_preference(preference)
            .set_update_mask(mask)
            .set_allow_missing(true)
            .set_ignore_safety_checks(checks)
            .send()
            .await
    }
}

#[async_trait]
impl QuotaProvider for GcpProvider {
    async fn quota(&self, target: &Target) -> Result<QuotaView, CloudError> {
        let t = gcp_target(target)?;
        let info = self.info(t.service, t.quota_id).await?;
        let value = convert::value_for(&info, &t.dimensions).ok_or_else(|| {
            CloudError::new(
                ErrorKind::NotFound,
                "NOT_FOUND",
                format!("{} has no value for {:?}", t.quota_id, t.dimensions),
            )
        })?;
        let eligible = info
            .quota_increase_eligibility
            .as_ref()
            .is_none_or(|e| e.is_eligible);
        Ok(QuotaView {
            id: t.quota_id.to_string(),
            name: info.quota_display_name.clone(),
            value: value as f64,
            adjustable: !info.is_fixed && eligible,
            global: false,
        })
    }

    async fn open_request(
        &self,
        target: &Target,
        _quota_id: &str,
    ) -> Result<Option<RequestView>, CloudError> {
        let t = gcp_target(target)?;
        if let Some(own) = self
            .get_preference(&self.preference_name(&t.preference_id))
            .await?
            && own.reconciling
        {
            return Ok(Some(convert::preference(&own)));
        }
        // One opened by someone else (console, gcloud) for the same quota and dimensions.
        let parent = format!("projects/{}/locations/global", self.project);
        let mut token = String::new();
        loop {
            let page = self
                .client
                .list_quota_preferences()
                .set_parent(&parent)
                .set_filter("reconciling=true")
                .set_page_token(&token)
                .send()
                .await
                .map_err(convert::error)?;
            if let Some(p) = page.quota_preferences.iter().find(|p| {
                p.service == t.service && p.quota_id == t.quota_id && p.dimensions == t.dimensions
            }) {
                return Ok(Some(convert::preference(p)));
            }
            if page.next_page_token.is_empty() {
                return Ok(None);
            }
            token = page.next_page_token;
        }
    }

    async fn latest_request(
        &self,
        target: &Target,
        _quota_id: &str,
    ) -> Result<Option<RequestView>, CloudError> {
        let t = gcp_target(target)?;
        let own = self
            .get_preference(&self.preference_name(&t.preference_id))
            .await?;
        Ok(own.as_ref().map(convert::preference))
    }

    async fn request(&self, target: &Target, id: &str) -> Result<RequestView, CloudError> {
        let t = gcp_target(target)?;
        let preference = self.get_preference(id).await?.ok_or_else(|| {
            CloudError::new(
                ErrorKind::NotFound,
                "NOT_FOUND",
                format!("{id} does not exist"),
            )
        })?;
        let view = convert::preference(&preference);
        if !view.phase.is_open() {
            self.forget(t.service, t.quota_id);
        }
        Ok(view)
    }

    async fn file(
        &self,
        target: &Target,
        _quota_id: &str,
        value: i64,
        context: &FileContext,
    ) -> Result<RequestView, CloudError> {
        let t = gcp_target(target)?;
        let from = self.quota(target).await?.value as i64;
        if value < from && !context.allow_decrease {
            return Err(CloudError::new(
                ErrorKind::InvalidArgument,
                "DECREASE_NOT_ALLOWED",
                format!(
                    "{value} is below the current {from}; set spec.allowDecrease to lower a quota"
                ),
            ));
        }
        let mut result = self.upsert(&t, value, from, context).await;
        // A stale etag (someone changed the preference between our read and write): read again once.
        if let Err(e) = &result
            && e.status().is_some_and(|s| s.code == Code::Aborted)
        {
            result = self.upsert(&t, value, from, context).await;
        }
        let preference = result.map_err(convert::error)?;
        self.forget(t.service, t.quota_id);
        tracing::info!(project = %self.project, quota = t.quota_id, value, "upserted quota preference");
        Ok(convert::preference(&preference))
    }
}
