//! The QuotaInfo definitions the simulator knows: a built-in set of Compute Engine quotas (with
//! their real ids, metrics and dimensions) plus what a scenario adds or overrides, and the
//! regions a `region` dimension may name.

use serde::Serialize;

use crate::gcp::{
    scenario::{GcpScenario, QuotaInfoDef},
    vocab::{COMPUTE, Dims, IneligibilityReason, UNLIMITED},
};

/// One quota as QuotaInfo describes it (values live in the state, per project and dimensions).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaDef {
    pub service: String,
    pub quota_id: String,
    pub metric: String,
    pub dimensions: Vec<String>,
    pub default_value: i64,
    pub quota_display_name: String,
    pub metric_display_name: String,
    pub metric_unit: String,
    pub is_fixed: bool,
    pub is_concurrent: bool,
    pub is_precise: bool,
    /// A rate quota's window (`minute`, `day`); None for an allocation quota. Rate quotas
    /// publish usage as `quota/rate/net_usage`, allocation ones as `quota/allocation/usage`.
    pub refresh_interval: Option<String>,
    /// None: increases may be requested.
    pub ineligible: Option<IneligibilityReason>,
}

impl QuotaDef {
    fn new(quota_id: &str, metric: &str, dimensions: &[&str], default_value: i64) -> Self {
        let unit = if dimensions.contains(&"region") {
            "1/{project}/{region}"
        } else {
            "1/{project}"
        };
        Self {
            service: COMPUTE.into(),
            quota_id: quota_id.into(),
            metric: format!("{COMPUTE}/{metric}"),
            dimensions: dimensions.iter().map(|d| d.to_string()).collect(),
            default_value,
            quota_display_name: quota_id.replace('-', " "),
            metric_display_name: metric.replace('_', " "),
            metric_unit: unit.into(),
            is_fixed: false,
            is_concurrent: false,
            is_precise: true,
            refresh_interval: None,
            ineligible: None,
        }
    }

    pub fn regional(&self) -> bool {
        self.dimensions.iter().any(|d| d == "region")
    }
}

/// Compute Engine quotas the operator and the tests use. The fixed, the ineligible and the
/// unlimited one stand in for the real kinds (system limits, quotas a new project may not raise,
/// quotas QuotaInfo reports as -1); their values are not Google's.
fn built_in_quotas() -> Vec<QuotaDef> {
    vec![
        QuotaDef {
            quota_display_name: "CPUs per project per region".into(),
            metric_display_name: "CPUs".into(),
            ..QuotaDef::new("CPUS-per-project-region", "cpus", &["region"], 24)
        },
        QuotaDef {
            quota_display_name: "CPUs (all regions) per project".into(),
            metric_display_name: "CPUs (all regions)".into(),
            ineligible: Some(IneligibilityReason::NotEnoughUsageHistory),
            ..QuotaDef::new("CPUS-ALL-REGIONS-per-project", "cpus_all_regions", &[], 32)
        },
        // Series with a CPU quota of their own (N1, E2 and the shared-core types count against
        // CPUS); defaults are those of a new project.
        series_cpus("N2", 24),
        series_cpus("N2D", 24),
        series_cpus("C2", 24),
        series_cpus("C2D", 24),
        series_cpus("C3", 24),
        series_cpus("T2D", 24),
        series_cpus("M1", 0),
        series_cpus("A2", 0),
        series_cpus("G2", 0),
        QuotaDef {
            quota_display_name: "NVIDIA L4 GPUs per project per region".into(),
            metric_display_name: "NVIDIA L4 GPUs".into(),
            ..QuotaDef::new(
                "NVIDIA-L4-GPUS-per-project-region",
                "nvidia_l4_gpus",
                &["region"],
                1,
            )
        },
        QuotaDef {
            quota_display_name: "GPUs per GPU family per project per region".into(),
            metric_display_name: "GPUs per GPU family".into(),
            ..QuotaDef::new(
                "GPUS-PER-GPU-FAMILY-per-project-region",
                "gpus_per_gpu_family",
                &["region", "gpu_family"],
                0,
            )
        },
        QuotaDef {
            quota_display_name: "Global concurrent operations per project".into(),
            metric_display_name: "Global concurrent operations".into(),
            is_concurrent: true,
            ..QuotaDef::new(
                "GLOBAL-CONCURRENT-OPERATIONS-per-project",
                "global_concurrent_operations",
                &[],
                500,
            )
        },
        QuotaDef {
            quota_display_name: "Regional concurrent operations per project per region".into(),
            metric_display_name: "Regional concurrent operations".into(),
            is_concurrent: true,
            ..QuotaDef::new(
                "REGIONAL-CONCURRENT-OPERATIONS-per-project-region",
                "regional_concurrent_operations",
                &["region"],
                500,
            )
        },
        QuotaDef {
            quota_display_name: "Resource policies per project per region".into(),
            metric_display_name: "Resource policies".into(),
            ..QuotaDef::new(
                "RESOURCE-POLICIES-per-project-region",
                "resource_policies",
                &["region"],
                UNLIMITED,
            )
        },
        QuotaDef {
            quota_display_name: "Instances per VPC network".into(),
            metric_display_name: "Instances per VPC network".into(),
            is_fixed: true,
            ineligible: Some(IneligibilityReason::NotSupported),
            ..QuotaDef::new(
                "INSTANCES-PER-VPC-NETWORK-per-project",
                "instances_per_vpc_network",
                &[],
                15_000,
            )
        },
    ]
}

/// `<SERIES>-CPUS-per-project-region` (metric `compute.googleapis.com/<series>_cpus`).
fn series_cpus(series: &str, default: i64) -> QuotaDef {
    let id = format!("{series}-CPUS-per-project-region");
    let metric = format!("{}_cpus", series.to_ascii_lowercase());
    QuotaDef {
        quota_display_name: format!("{series} CPUs per project per region"),
        metric_display_name: format!("{series} CPUs"),
        ..QuotaDef::new(&id, &metric, &["region"], default)
    }
}

/// Regions a `region` dimension may name (a scenario's `regions` adds more).
pub const REGIONS: &[&str] = &[
    "africa-south1",
    "asia-east1",
    "asia-east2",
    "asia-northeast1",
    "asia-northeast2",
    "asia-northeast3",
    "asia-south1",
    "asia-south2",
    "asia-southeast1",
    "asia-southeast2",
    "australia-southeast1",
    "australia-southeast2",
    "europe-central2",
    "europe-north1",
    "europe-southwest1",
    "europe-west1",
    "europe-west2",
    "europe-west3",
    "europe-west4",
    "europe-west6",
    "europe-west8",
    "europe-west9",
    "me-central1",
    "me-west1",
    "northamerica-northeast1",
    "northamerica-northeast2",
    "southamerica-east1",
    "southamerica-west1",
    "us-central1",
    "us-east1",
    "us-east4",
    "us-east5",
    "us-south1",
    "us-west1",
    "us-west2",
    "us-west3",
    "us-west4",
];

#[derive(Clone, Debug)]
pub struct Catalog {
    quotas: Vec<QuotaDef>,
    pub regions: Vec<String>,
}

impl Catalog {
    pub fn built_in() -> Self {
        Self {
            quotas: built_in_quotas(),
            regions: REGIONS.iter().map(|r| r.to_string()).collect(),
        }
    }

    /// The built-in catalog with the scenario's definitions applied; entries that are neither
    /// built in nor complete are skipped (validation reports them).
    pub fn for_scenario(s: &GcpScenario) -> Self {
        let mut catalog = Self::built_in();
        catalog.regions.extend(s.regions.iter().cloned());
        for def in &s.quota_infos {
            match catalog
                .quotas
                .iter_mut()
                .find(|q| q.service == def.service && q.quota_id == def.quota_id)
            {
                Some(existing) => def.apply_to(existing),
                None => {
                    if let Some(new) = def.to_new() {
                        catalog.quotas.push(new);
                    }
                }
            }
        }
        catalog
    }

    pub fn get(&self, service: &str, quota_id: &str) -> Option<&QuotaDef> {
        self.quotas
            .iter()
            .find(|q| q.service == service && q.quota_id == quota_id)
    }

    pub fn has_service(&self, service: &str) -> bool {
        self.quotas.iter().any(|q| q.service == service)
    }

    /// The service's quotas, ordered by id as the API lists them.
    pub fn of_service(&self, service: &str) -> Vec<&QuotaDef> {
        let mut quotas: Vec<_> = self
            .quotas
            .iter()
            .filter(|q| q.service == service)
            .collect();
        quotas.sort_by(|a, b| a.quota_id.cmp(&b.quota_id));
        quotas
    }

    /// Checks dimensions against a quota: only its own dimension names, a known region, and
    /// never `user` or `resource` (Cloud Quotas refuses those). Err: (dimension, message).
    pub fn check_dims(&self, def: &QuotaDef, dims: &Dims) -> Result<(), (String, String)> {
        for (key, value) in dims {
            if !def.dimensions.contains(key) {
                let known = if def.dimensions.is_empty() {
                    "it has no dimensions".to_string()
                } else {
                    format!("its dimensions are {}", def.dimensions.join(", "))
                };
                let msg = format!(
                    "`{key}` is not a dimension of {}/{}: {known}",
                    def.service, def.quota_id
                );
                return Err((key.clone(), msg));
            }
            if value.is_empty() {
                return Err((key.clone(), format!("dimension `{key}` has an empty value")));
            }
            if key == "region" && !self.regions.contains(value) {
                let msg = format!("`{value}` is not a known region");
                return Err((key.clone(), msg));
            }
        }
        Ok(())
    }
}

impl QuotaInfoDef {
    fn apply_to(&self, q: &mut QuotaDef) {
        if let Some(m) = &self.metric {
            q.metric.clone_from(m);
        }
        if let Some(d) = &self.dimensions {
            q.dimensions.clone_from(d);
        }
        if let Some(v) = self.default_value {
            q.default_value = v;
        }
        if let Some(n) = &self.display_name {
            q.quota_display_name.clone_from(n);
        }
        if let Some(u) = &self.unit {
            q.metric_unit.clone_from(u);
        }
        if let Some(f) = self.fixed {
            q.is_fixed = f;
        }
        if let Some(c) = self.concurrent {
            q.is_concurrent = c;
        }
        if self.refresh_interval.is_some() {
            q.refresh_interval.clone_from(&self.refresh_interval);
        }
        match (self.eligible, self.ineligibility_reason) {
            (Some(true), _) => q.ineligible = None,
            (_, Some(reason)) => q.ineligible = Some(reason),
            (Some(false), None) => q.ineligible = Some(IneligibilityReason::Other),
            (None, None) => {}
        }
    }

    /// A whole new definition; None when `metric` or `default` is missing.
    pub fn to_new(&self) -> Option<QuotaDef> {
        let metric = self.metric.as_ref()?;
        let mut q = QuotaDef {
            service: self.service.clone(),
            quota_id: self.quota_id.clone(),
            metric: metric.clone(),
            dimensions: Vec::new(),
            default_value: self.default_value?,
            quota_display_name: self.quota_id.replace('-', " "),
            metric_display_name: metric.rsplit('/').next().unwrap_or(metric).into(),
            metric_unit: String::new(),
            is_fixed: false,
            is_concurrent: false,
            is_precise: true,
            refresh_interval: None,
            ineligible: None,
        };
        self.apply_to(&mut q);
        if self.unit.is_none() {
            q.metric_unit = if q.regional() {
                "1/{project}/{region}"
            } else {
                "1/{project}"
            }
            .into();
        }
        Some(q)
    }
}
