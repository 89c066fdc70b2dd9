//! GCP Cloud Quotas through the official client: QuotaInfo for current values and eligibility,
//! and the one QuotaPreference per (project, quota, dimensions) as desired state: the existing
//! one, whoever made it, updated with its etag, or the operator's own under a stable id.
//! Application Default Credentials (Workload Identity) in real use, sent only to Google's
//! endpoints or ones the operator's flags allow; anonymous against a plain-http endpoint such as
//! the simulator.

mod agent;
mod convert;
mod endpoint;
mod ids;
mod machine_types;
mod marks;
mod mistakes;
mod preferences;
mod project_regions;
mod usage;

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use google_cloud_api_cloudquotas_v1::{
    client::{CloudQuotas, QuotaAdjusterSettingsManager},
    model::{QuotaInfo, quota_adjuster_settings::Enablement},
};

use self::{
    machine_types::MachineTypes,
    mistakes::QuotaIds,
    preferences::{Preferences, Wanted, Write},
    project_regions::ProjectRegions,
    usage::Usage,
};
use super::{
    boundary::{
        AutoAdjuster, CloudError, ErrorKind, FileContext, FleetServices, Origin, ProviderFactory,
        QuotaProvider, QuotaRef, QuotaView, RequestView, Target, UNLIMITED, UsageView,
    },
    per_account::PerAccount,
    regions,
};
use crate::api::CloudAccount;

pub use endpoint::FLAG as ALLOWED_ENDPOINT_FLAG;
pub use ids::{MAX_ID, preference_id};

/// Operator-wide GCP settings (flags of `quota-operator run`).
#[derive(Clone, Debug)]
pub struct GcpSettings {
    /// Endpoint for every project without its own `spec.endpoint`; a CloudAccount may name it
    /// too.
    pub endpoint: Option<String>,
    /// Further endpoints a CloudAccount's `spec.endpoint` may name (`--allowed-gcp-endpoint`): a
    /// Private Service Connect or proxy endpoint the admin trusts with the operator's
    /// credentials. Google's own `https://*.googleapis.com` endpoints need no entry.
    pub allowed_endpoints: Vec<String>,
    /// How long a QuotaInfo is reused, and how long a quota the project lacks or a machine
    /// type a region does not offer is remembered before it is asked about again.
    pub cache_ttl: Duration,
}

impl Default for GcpSettings {
    fn default() -> Self {
        Self {
            endpoint: None,
            allowed_endpoints: Vec::new(),
            cache_ttl: Duration::from_secs(300),
        }
    }
}

/// Builds one [`GcpProvider`] per CloudAccount, after checking where its credentials would go.
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
        if let Some(named) = &account.spec.endpoint {
            endpoint::check(
                named,
                self.settings.endpoint.as_deref(),
                &self.settings.allowed_endpoints,
            )?;
        }
        let endpoint = account
            .spec
            .endpoint
            .clone()
            .or_else(|| self.settings.endpoint.clone());
        let credentials = agent::named(credentials(endpoint.as_deref())?);
        let Clients {
            client,
            adjuster,
            monitoring,
            machine_types,
            regions,
        } = Clients::new(credentials, endpoint.as_deref()).await?;
        Ok(GcpProvider {
            project: gcp.project.clone(),
            client: client.clone(),
            ids: QuotaIds::new(client.clone(), gcp.project.clone(), self.settings.cache_ttl),
            preferences: Preferences {
                client,
                project: gcp.project.clone(),
            },
            infos: Mutex::default(),
            ttl: self.settings.cache_ttl,
            usage: Usage::new(monitoring, gcp.project.clone(), self.settings.cache_ttl),
            adjuster,
            machine_types: MachineTypes::new(
                machine_types,
                gcp.project.clone(),
                self.settings.cache_ttl,
            ),
            regions: ProjectRegions::new(regions, gcp.project.clone(), self.settings.cache_ttl),
        })
    }
}

/// The Google API clients of one account, all sending `credentials` to `endpoint` (or to
/// Google's own endpoints).
struct Clients {
    client: CloudQuotas,
    adjuster: QuotaAdjusterSettingsManager,
    monitoring: google_cloud_monitoring_v3::client::MetricService,
    machine_types: google_cloud_compute_v1::client::MachineTypes,
    regions: google_cloud_compute_v1::client::Regions,
}

impl Clients {
    async fn new(
        credentials: google_cloud_auth::credentials::Credentials,
        endpoint: Option<&str>,
    ) -> Result<Self, CloudError> {
        let mut builder = CloudQuotas::builder().with_credentials(credentials.clone());
        if let Some(endpoint) = endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        let client = builder
            .build()
            .await
            .map_err(|e| CloudError::new(ErrorKind::Unavailable, "CLIENT", e.to_string()))?;
        let client_error = |e: google_cloud_gax::client_builder::Error| {
            CloudError::new(ErrorKind::Unavailable, "CLIENT", e.to_string())
        };
        let mut builder =
            QuotaAdjusterSettingsManager::builder().with_credentials(credentials.clone());
        if let Some(endpoint) = endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        let adjuster = builder.build().await.map_err(client_error)?;
        // Compute and Monitoring have their own Google endpoints; a simulator or proxy serves
        // every API.
        let other = endpoint.and_then(endpoint::non_google);
        let mut builder = google_cloud_monitoring_v3::client::MetricService::builder()
            .with_credentials(credentials.clone());
        if let Some(endpoint) = other {
            builder = builder.with_endpoint(endpoint);
        }
        let monitoring = builder.build().await.map_err(client_error)?;
        let mut builder = google_cloud_compute_v1::client::MachineTypes::builder()
            .with_credentials(credentials.clone());
        if let Some(endpoint) = other {
            builder = builder.with_endpoint(endpoint);
        }
        let machine_types = builder.build().await.map_err(client_error)?;
        let mut builder =
            google_cloud_compute_v1::client::Regions::builder().with_credentials(credentials);
        if let Some(endpoint) = other {
            builder = builder.with_endpoint(endpoint);
        }
        let regions = builder.build().await.map_err(client_error)?;
        Ok(Self {
            client,
            adjuster,
            monitoring,
            machine_types,
            regions,
        })
    }
}

/// The credentials the clients send: none to a plain-http endpoint (a local simulator: no
/// token to send, none to fetch), else Application Default Credentials.
fn credentials(
    endpoint: Option<&str>,
) -> Result<google_cloud_auth::credentials::Credentials, CloudError> {
    if endpoint.is_some_and(|e| e.starts_with("http://")) {
        return Ok(google_cloud_auth::credentials::anonymous::Builder::new().build());
    }
    google_cloud_auth::credentials::Builder::default()
        .build()
        .map_err(|e| {
            CloudError::new(
                ErrorKind::Credentials,
                crate::api::reasons::CREDENTIALS_FAILED,
                format!(
                    "no Google credentials found: the operator tried Application Default \
                     Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's user \
                     credentials, the GKE metadata server); annotate its ServiceAccount \
                     with iam.gke.io/gcp-service-account or grant roles to its Workload \
                     Identity principal ({e})"
                ),
            )
        })
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

/// A QuotaInfo as read, or the project's answer that it has no such quota.
type InfoRead = Result<QuotaInfo, CloudError>;

/// One GCP project.
pub struct GcpProvider {
    project: String,
    client: CloudQuotas,
    preferences: Preferences,
    /// QuotaInfos read, and quotas the project does not have (a capacity on the general CPU
    /// quota asks whether each machine series has its own), for `ttl`.
    infos: Mutex<HashMap<String, (Instant, InfoRead)>>,
    /// The quota ids of services a spec named a missing quota of, for the hint.
    ids: QuotaIds,
    ttl: Duration,
    machine_types: MachineTypes,
    /// The regions the project has, asked once in a while (a miss or a failed listing again
    /// after the cache TTL).
    regions: ProjectRegions,
    usage: Usage,
    adjuster: QuotaAdjusterSettingsManager,
}

/// What the target asks for, once its region is known to be one (or `global`): nothing is
/// cached or sent for a region that is not.
fn wanted(target: &Target) -> Result<Wanted<'_>, CloudError> {
    regions::check_gcp(&target.region)?;
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
    Ok(Wanted {
        service,
        quota_id,
        dimensions: all,
        own_id: ids::preference_id(service, quota_id, &target.region, dimensions),
    })
}

/// A quota that has a `region` dimension, named with `global`: its value there is only the
/// default for every region without one of its own, and a preference with no region would set
/// them all. One quota has one name: its regions, each in `spec.regions`.
fn per_region_named_global(target: &Target, info: &QuotaInfo) -> Result<(), CloudError> {
    let regional = info.dimensions.iter().any(|d| d == "region");
    if target.region != "global" || !regional {
        return Ok(());
    }
    Err(CloudError::new(
        ErrorKind::SpecMismatch,
        "PerRegionQuota",
        format!(
            "{} is a per-region quota (its dimensions: {}): name its regions in spec.regions, such \
             as us-central1, not global (a preference without a region would set every region \
             that has no value of its own)",
            info.quota_id,
            info.dimensions.join(", ")
        ),
    ))
}

/// Whether writing `value` would lower a quota now at `current`; -1 (unlimited) is above every
/// value, so any limit lowers it.
fn lowers(current: i64, value: i64) -> bool {
    let unlimited = UNLIMITED as i64;
    match (current == unlimited, value == unlimited) {
        (_, true) => false,
        (true, false) => true,
        (false, false) => value < current,
    }
}

fn shown(value: i64) -> String {
    if value == UNLIMITED as i64 {
        "-1 (unlimited)".into()
    } else {
        value.to_string()
    }
}

impl GcpProvider {
    fn info_name(&self, service: &str, quota_id: &str) -> String {
        format!(
            "projects/{}/locations/global/services/{service}/quotaInfos/{quota_id}",
            self.project
        )
    }

    async fn info(&self, service: &str, quota_id: &str) -> Result<QuotaInfo, CloudError> {
        let name = self.info_name(service, quota_id);
        if let Some((at, info)) = self.infos.lock().expect("info cache").get(&name)
            && at.elapsed() < self.ttl
        {
            return info.clone();
        }
        let info = self
            .client
            .get_quota_info()
            .set_name(&name)
            .send()
            .await
            .map_err(convert::error);
        crate::metrics::cloud_result("gcp", "GetQuotaInfo", &info);
        let keep = match &info {
            Ok(_) => true,
            Err(e) => e.kind == ErrorKind::NotFound,
        };
        if keep {
            let mut infos = self.infos.lock().expect("info cache");
            // Quota ids named once (a bogus one from a deleted object) do not stay forever.
            infos.retain(|_, (at, _)| at.elapsed() < self.ttl);
            infos.insert(name, (Instant::now(), info.clone()));
        }
        info
    }

    fn forget(&self, service: &str, quota_id: &str) {
        self.infos
            .lock()
            .expect("info cache")
            .remove(&self.info_name(service, quota_id));
    }
}

#[async_trait]
impl QuotaProvider for GcpProvider {
    /// The value in force, as QuotaInfo reports it: -1 when the quota has no limit. Only in a
    /// region the project has (or `global`): every other call for a target follows a quota read,
    /// so nothing is read, written or reported for a region it does not.
    async fn quota(&self, target: &Target) -> Result<QuotaView, CloudError> {
        let w = wanted(target)?;
        self.regions.check(&target.region).await?;
        let info = match self.info(w.service, w.quota_id).await {
            Err(e) if e.kind == ErrorKind::NotFound => {
                return Err(self.ids.refusal(w.service, w.quota_id, &e).await);
            }
            info => info?,
        };
        per_region_named_global(target, &info)?;
        let value = convert::value_for(&info, &w.dimensions).ok_or_else(|| {
            CloudError::new(
                ErrorKind::NotFound,
                "NOT_FOUND",
                format!("{} has no value for {:?}", w.quota_id, w.dimensions),
            )
        })?;
        let eligible = info
            .quota_increase_eligibility
            .as_ref()
            .is_none_or(|e| e.is_eligible);
        Ok(QuotaView {
            id: w.quota_id.to_string(),
            name: info.quota_display_name.clone(),
            value: value as f64,
            adjustable: !info.is_fixed && eligible,
            global: false,
        })
    }

    /// Monitoring's usage of the quota's metric in the target's location: allocation usage, or
    /// for a rate quota the net usage per its refresh interval.
    /// Monitoring is read per (project, metric), whatever the services: the fleet adds nothing.
    async fn usage(
        &self,
        target: &Target,
        _quota_id: &str,
        _fleet: FleetServices<'_>,
    ) -> Result<UsageView, CloudError> {
        let w = wanted(target)?;
        let info = self.info(w.service, w.quota_id).await?;
        let kind = usage::Kind::of(&info.refresh_interval).ok_or_else(|| {
            CloudError::new(
                ErrorKind::NotFound,
                "RateQuota",
                format!(
                    "{} is a rate quota per {}: Monitoring's per-minute net usage does not add up \
                     to that interval",
                    w.quota_id, info.refresh_interval
                ),
            )
        })?;
        self.usage
            .read(kind, w.service, &info.metric, &target.region)
            .await
    }

    /// The project's Quota Adjuster setting.
    async fn auto_adjuster(&self) -> Result<AutoAdjuster, CloudError> {
        let name = format!(
            "projects/{}/locations/global/quotaAdjusterSettings",
            self.project
        );
        let read = self
            .adjuster
            .get_quota_adjuster_settings()
            .set_name(&name)
            .send()
            .await
            .map_err(convert::error);
        crate::metrics::cloud_result("gcp", "GetQuotaAdjusterSettings", &read);
        let s = read?;
        let setting = s.enablement.name().unwrap_or("ENABLEMENT_UNSPECIFIED");
        let details = match (s.inherited, s.inherited_from.is_empty()) {
            (true, false) => vec![format!("inherited from {}", s.inherited_from)],
            (true, true) => vec!["inherited".to_string()],
            _ => vec![],
        };
        Ok(AutoAdjuster {
            origin: Origin::GcpQuotaAdjuster,
            setting: if s.inherited {
                "INHERITED".into()
            } else {
                setting.into()
            },
            adjusts: s.enablement == Enablement::Enabled,
            details,
        })
    }

    /// The preference for the quota, if it is reconciling, whoever made it and under any id.
    async fn open_request(
        &self,
        target: &Target,
        _quota_id: &str,
    ) -> Result<Option<RequestView>, CloudError> {
        let w = wanted(target)?;
        let found = self.preferences.find(&w).await?;
        Ok(found
            .filter(|p| p.reconciling)
            .map(|p| convert::preference(&p, &w.own_id)))
    }

    /// The preference for the quota in any state; its submitted time is when the operator last
    /// wrote it (else its updateTime), so a refusal of the operator's write is recognised after a
    /// crash even on a preference made long before.
    async fn latest_request(
        &self,
        target: &Target,
        _quota_id: &str,
    ) -> Result<Option<RequestView>, CloudError> {
        let w = wanted(target)?;
        let found = self.preferences.find(&w).await?;
        Ok(found.map(|p| convert::preference(&p, &w.own_id)))
    }

    async fn request(&self, target: &Target, id: &str) -> Result<RequestView, CloudError> {
        let w = wanted(target)?;
        let preference = self.preferences.get(id).await?.ok_or_else(|| {
            CloudError::new(
                ErrorKind::NotFound,
                "NOT_FOUND",
                format!("{id} does not exist"),
            )
        })?;
        let view = convert::preference(&preference, &w.own_id);
        if !view.phase.is_open() {
            self.forget(w.service, w.quota_id);
        }
        Ok(view)
    }

    /// Writes `value` into the quota's one preference. The value in force is read afresh first,
    /// past the cache: a decrease the spec does not allow is refused here, before anything is
    /// sent, even when the quota was raised elsewhere since the last read.
    async fn file(
        &self,
        target: &Target,
        _quota_id: &str,
        value: i64,
        context: &FileContext,
    ) -> Result<RequestView, CloudError> {
        let w = wanted(target)?;
        self.forget(w.service, w.quota_id);
        let from = self.quota(target).await?.value as i64;
        let lowers = lowers(from, value);
        if lowers && !context.allow_decrease {
            return Err(CloudError::new(
                ErrorKind::InvalidArgument,
                "DECREASE_NOT_ALLOWED",
                format!(
                    "{} is below the current {}; lowering a quota needs spec.allowDecrease and the CloudAccount's consent (spec.guardrails.decrease.minValues)",
                    shown(value),
                    shown(from)
                ),
            ));
        }
        let write = Write {
            value,
            from,
            lowers,
            context,
        };
        let preference = self.preferences.write(&w, &write).await;
        self.forget(w.service, w.quota_id);
        let preference = preference?;
        let view = convert::preference(&preference, &w.own_id);
        tracing::info!(
            project = %self.project, quota = w.quota_id, value, preference = %view.id,
            "wrote quota preference"
        );
        Ok(view)
    }

    async fn vcpus(
        &self,
        region: &str,
        types: &[String],
    ) -> Result<BTreeMap<String, u32>, CloudError> {
        regions::check_gcp(region)?;
        self.machine_types.vcpus(region, types).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlimited_is_above_every_value() {
        assert!(lowers(100, 99));
        assert!(!lowers(100, 100) && !lowers(100, 101));
        assert!(
            lowers(-1, 1_000_000),
            "a limit on an unlimited quota lowers it"
        );
        assert!(!lowers(-1, -1) && !lowers(100, -1));
    }
}
