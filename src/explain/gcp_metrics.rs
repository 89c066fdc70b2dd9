//! Compute Engine quota metric names, as errors print them (`N2_CPUS`, `GPUS_ALL_REGIONS`), to
//! Cloud Quotas quota ids (`N2-CPUS-per-project-region`, `GPUS-ALL-REGIONS-per-project`).
//!
//! The general rule: `_` becomes `-`; a regional limit is `<NAME>-per-project-region`, a global
//! one `<NAME>-per-project` (the `ALL_REGIONS` metrics are global by name). A few ids do not
//! follow it; they are listed here. When Compute's error carries `quotaInfo.limitName`, that is
//! the id and no mapping is needed.

/// (metric, global) -> quota id where the general rule gives an id that does not exist: a
/// project-wide CPU or GPU count printed without its `ALL_REGIONS` suffix.
const EXCEPTIONS: &[(&str, bool, &str)] = &[
    ("CPUS", true, "CPUS-ALL-REGIONS-per-project"),
    ("GPUS", true, "GPUS-ALL-REGIONS-per-project"),
];

/// The quota id for `metric` (`CPUS`, `compute.googleapis.com/n2_cpus`); `global` when the error
/// said "globally" (or the metric is an ALL_REGIONS one).
pub fn quota_id(metric: &str, global: bool) -> String {
    let name = metric
        .rsplit('/')
        .next()
        .unwrap_or(metric)
        .to_ascii_uppercase();
    let global = global || name.ends_with("_ALL_REGIONS");
    if let Some((_, _, id)) = EXCEPTIONS
        .iter()
        .find(|(m, g, _)| *m == name && *g == global)
    {
        return (*id).to_string();
    }
    let base = name.replace('_', "-");
    if global {
        format!("{base}-per-project")
    } else {
        format!("{base}-per-project-region")
    }
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
