//! Compute Engine quota metric names, as errors print them (`N2_CPUS`, `GPUS_ALL_REGIONS`), to
//! Cloud Quotas quota ids (`N2-CPUS-per-project-region`, `GPUS-ALL-REGIONS-per-project`).
//!
//! The general rule (catalog.yaml `gcp:`): `_` becomes `-`; a regional limit is `<NAME>-per-project-region`, a global
//! one `<NAME>-per-project` (the `ALL_REGIONS` metrics are global by name). A few ids do not
//! follow it; the catalog lists them. When Compute's error carries `quotaInfo.limitName`, that is
//! the id and no mapping is needed.

use super::catalog::CATALOG;

/// The quota id for `metric` (`CPUS`, `compute.googleapis.com/n2_cpus`); `global` when the error
/// said "globally" (or the metric is an ALL_REGIONS one). The rule and its exceptions are the
/// catalog's (`gcp:` in catalog.yaml).
pub fn quota_id(metric: &str, global: bool) -> String {
    let rules = &CATALOG.gcp;
    let name = metric
        .rsplit('/')
        .next()
        .unwrap_or(metric)
        .to_ascii_uppercase();
    let global = global || is_global_metric(&name);
    if let Some(e) = rules
        .id_exceptions
        .iter()
        .find(|e| e.metric == name && e.global == global)
    {
        return e.id.clone();
    }
    let template = if global {
        &rules.global_id
    } else {
        &rules.regional_id
    };
    template.replace("{NAME}", &name.replace('_', "-"))
}

/// Whether the metric counts across all regions by its name (`GPUS_ALL_REGIONS`).
pub fn is_global_metric(metric: &str) -> bool {
    let suffix = &CATALOG.gcp.global_suffix;
    !suffix.is_empty() && metric.to_ascii_uppercase().ends_with(suffix.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_general_rule() {
        assert_eq!(quota_id("CPUS", false), "CPUS-per-project-region");
        assert_eq!(quota_id("N2_CPUS", false), "N2-CPUS-per-project-region");
        assert_eq!(
            quota_id("IN_USE_ADDRESSES", false),
            "IN-USE-ADDRESSES-per-project-region"
        );
        assert_eq!(
            quota_id("NVIDIA_L4_GPUS", false),
            "NVIDIA-L4-GPUS-per-project-region"
        );
        assert_eq!(
            quota_id("GPUS_ALL_REGIONS", true),
            "GPUS-ALL-REGIONS-per-project"
        );
        assert_eq!(
            quota_id("GPUS_ALL_REGIONS", false),
            "GPUS-ALL-REGIONS-per-project"
        );
        assert_eq!(quota_id("FIREWALLS", true), "FIREWALLS-per-project");
        assert_eq!(
            quota_id("compute.googleapis.com/n2_cpus", false),
            "N2-CPUS-per-project-region"
        );
    }

    #[test]
    fn exceptions_and_the_simulators_ids() {
        // The ids sim/src/gcp/catalog.rs serves (Google's own ids).
        assert_eq!(
            quota_id(
                "compute.googleapis.com/regional_concurrent_operations",
                false
            ),
            "REGIONAL-CONCURRENT-OPERATIONS-per-project-region"
        );
        assert_eq!(
            quota_id("compute.googleapis.com/global_concurrent_operations", true),
            "GLOBAL-CONCURRENT-OPERATIONS-per-project"
        );
        assert_eq!(
            quota_id("CPUS_ALL_REGIONS", true),
            "CPUS-ALL-REGIONS-per-project"
        );
        assert_eq!(quota_id("CPUS", true), "CPUS-ALL-REGIONS-per-project");
        assert_eq!(quota_id("GPUS", true), "GPUS-ALL-REGIONS-per-project");
    }
}
