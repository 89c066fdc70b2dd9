//! Whether what `spec.capacity` lists counts against the quota the spec names: an instance
//! type's family group and market (EC2), a Fargate task (Fargate's vCPU quotas), a machine
//! series (GCP). A mismatch is the spec's error, and its message names the type and the quota
//! it does count against.

use super::families::{self, Market};

/// Fargate's vCPU quotas (service `fargate`): On-Demand and Spot.
pub const FARGATE_VCPU_QUOTAS: &[(&str, &str)] = &[
    ("L-3032A538", "Fargate On-Demand vCPU resource count"),
    ("L-36FBB829", "Fargate Spot vCPU resource count"),
];

/// The general regional CPU quota: machine series without a quota of their own count here.
pub const GCP_GENERAL_CPUS: &str = "CPUS-per-project-region";
/// Every vCPU in every region counts here, whatever the series.
pub const GCP_ALL_REGIONS_CPUS: &str = "CPUS-ALL-REGIONS-per-project";
pub const GCP_COMPUTE: &str = "compute.googleapis.com";

/// Every EC2 vCPU quota code, with the group and market it counts.
fn ec2_vcpu_quota(code: &str) -> Option<(families::FamilyGroup, Market)> {
    families::GROUPS.iter().find_map(|g| {
        if g.on_demand == code {
            Some((*g, Market::OnDemand))
        } else if g.spot == Some(code) {
            Some((*g, Market::Spot))
        } else {
            None
        }
    })
}

/// The EC2 vCPU quota `service`/`quota`: its group and market; `what` names what the spec lists.
pub fn vcpu_quota(
    what: &str,
    service: &str,
    quota: &str,
) -> Result<(families::FamilyGroup, Market), String> {
    (service == "ec2").then(|| ec2_vcpu_quota(quota)).flatten().ok_or_else(|| format!(
        "spec.capacity lists {what}, which count EC2 vCPUs, but {service}/{quota} is not an EC2 vCPU quota (e.g. ec2/L-34B43A08 for Spot or ec2/L-1216C47A for On-Demand instances of the standard families)"
    ))
}

/// An EC2 instance type on the quota `service`/`quota`.
pub fn instance_type(instance_type: &str, service: &str, quota: &str) -> Result<(), String> {
    let (named, market) = vcpu_quota("instance types", service, quota)?;
    let Some(group) = families::family_of(instance_type) else {
        return Err(format!(
            "{instance_type} belongs to no EC2 family group with a vCPU quota (a Mac or unknown family)"
        ));
    };
    if group.code(market) == Some(quota) {
        return Ok(());
    }
    let counts = match group.code(market) {
        Some(code) => format!("{} {} quota {code}", group.name, market.label()),
        None => format!(
            "no {} quota: {} instances run only On-Demand ({})",
            market.label(),
            group.name,
            group.on_demand
        ),
    };
    Err(format!(
        "{instance_type} is a {} instance: its vCPUs count against the {counts}, not {quota} ({} {})",
        group.name,
        named.name,
        market.label()
    ))
}

/// A Fargate task size on the quota `service`/`quota`.
pub fn fargate(service: &str, quota: &str) -> Result<(), String> {
    if service == "fargate" && FARGATE_VCPU_QUOTAS.iter().any(|(code, _)| *code == quota) {
        return Ok(());
    }
    Err(format!(
        "spec.capacity lists vcpu (Fargate tasks), which count against fargate/L-3032A538 (On-Demand) or fargate/L-36FBB829 (Spot), not {service}/{quota}"
    ))
}

/// What a GCP quota counts of machines, when it counts vCPUs at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GcpCpus {
    /// `CPUS-ALL-REGIONS-per-project`: every series.
    AllRegions,
    /// `CPUS-per-project-region`: the series without a quota of their own.
    General,
    /// `<SERIES>-CPUS-per-project-region`: that series only.
    Series(String),
}

pub fn gcp_quota(service: &str, quota_id: &str) -> Result<GcpCpus, String> {
    let not_cpus = || {
        format!(
            "spec.capacity lists machine types, which count vCPUs, but {service}/{quota_id} is not a Compute CPU quota (e.g. N2-CPUS-per-project-region or {GCP_GENERAL_CPUS})"
        )
    };
    if service != GCP_COMPUTE {
        return Err(not_cpus());
    }
    match quota_id {
        GCP_ALL_REGIONS_CPUS => Ok(GcpCpus::AllRegions),
        GCP_GENERAL_CPUS => Ok(GcpCpus::General),
        id => id
            .strip_suffix("-CPUS-per-project-region")
            .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()))
            .map(|s| GcpCpus::Series(s.to_ascii_lowercase()))
            .ok_or_else(not_cpus),
    }
}

/// The series of a machine type: `n2` of `n2-standard-8`.
pub fn series(machine_type: &str) -> String {
    machine_type
        .split('-')
        .next()
        .unwrap_or(machine_type)
        .to_ascii_lowercase()
}

/// The quota id of a series' own CPU quota, where it has one.
pub fn series_quota_id(series: &str) -> String {
    format!("{}-CPUS-per-project-region", series.to_ascii_uppercase())
}

/// A machine type on a series quota: the series must be that one.
pub fn machine_on_series(machine_type: &str, quota_series: &str) -> Result<(), String> {
    let own = series(machine_type);
    if own == quota_series {
        return Ok(());
    }
    Err(format!(
        "{machine_type} is in the {} series: its vCPUs count against {} (or {GCP_GENERAL_CPUS} when the series has no quota of its own), not {}",
        own.to_ascii_uppercase(),
        series_quota_id(&own),
        series_quota_id(quota_series)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_types_on_their_own_quota_pass() {
        assert_eq!(instance_type("m5.2xlarge", "ec2", "L-34B43A08"), Ok(()));
        assert_eq!(instance_type("c6i.4xlarge", "ec2", "L-1216C47A"), Ok(()));
        assert_eq!(instance_type("p5.48xlarge", "ec2", "L-C4BD4855"), Ok(()));
        assert_eq!(instance_type("p3.2xlarge", "ec2", "L-7212CCBC"), Ok(()));
        assert_eq!(instance_type("hpc6a.48xlarge", "ec2", "L-F7808C92"), Ok(()));
    }

    #[test]
    fn a_type_on_another_family_quota_is_refused_naming_both() {
        let e = instance_type("p3.2xlarge", "ec2", "L-34B43A08").unwrap_err();
        assert!(e.contains("p3.2xlarge is a P instance"), "{e}");
        assert!(e.contains("P Spot quota L-7212CCBC"), "{e}");
        assert!(e.contains("not L-34B43A08 (Standard"), "{e}");
        // The right family on the other market's code.
        let e = instance_type("m5.large", "ec2", "L-1216C47A");
        assert_eq!(e, Ok(()));
        let e = instance_type("m5.large", "ec2", "L-88CF9481").unwrap_err();
        assert!(
            e.contains("Standard (A, C, D, H, I, M, R, T, Z) Spot quota L-34B43A08"),
            "{e}"
        );
        // A group without Spot on a Spot quota.
        let e = instance_type("hpc6a.48xlarge", "ec2", "L-34B43A08").unwrap_err();
        assert!(e.contains("no Spot quota"), "{e}");
    }

    #[test]
    fn instance_types_need_an_ec2_vcpu_quota() {
        let e = instance_type("m5.large", "ec2", "L-0263D0A3").unwrap_err();
        assert!(e.contains("ec2/L-0263D0A3 is not an EC2 vCPU quota"), "{e}");
        let e = instance_type("m5.large", "fargate", "L-3032A538").unwrap_err();
        assert!(e.contains("not an EC2 vCPU quota"), "{e}");
        let e = instance_type("mac1.metal", "ec2", "L-1216C47A").unwrap_err();
        assert!(
            e.contains("mac1.metal belongs to no EC2 family group"),
            "{e}"
        );
    }

    #[test]
    fn fargate_tasks_count_on_fargate_vcpu_quotas_only() {
        assert_eq!(fargate("fargate", "L-3032A538"), Ok(()));
        assert_eq!(fargate("fargate", "L-36FBB829"), Ok(()));
        assert!(
            fargate("ec2", "L-34B43A08")
                .unwrap_err()
                .contains("not ec2/L-34B43A08")
        );
        assert!(fargate("fargate", "L-790AF391").is_err());
    }

    #[test]
    fn gcp_cpu_quotas_and_series() {
        let compute = GCP_COMPUTE;
        assert_eq!(
            gcp_quota(compute, "N2-CPUS-per-project-region"),
            Ok(GcpCpus::Series("n2".into()))
        );
        assert_eq!(
            gcp_quota(compute, "CPUS-per-project-region"),
            Ok(GcpCpus::General)
        );
        assert_eq!(
            gcp_quota(compute, "CPUS-ALL-REGIONS-per-project"),
            Ok(GcpCpus::AllRegions)
        );
        for bad in [
            "GPUS-per-project-region",
            "-CPUS-per-project-region",
            "N2-CPUS",
        ] {
            assert!(gcp_quota(compute, bad).is_err(), "{bad}");
        }
        assert!(gcp_quota("run.googleapis.com", "CPUS-per-project-region").is_err());
        assert_eq!(series("n2-standard-8"), "n2");
        assert_eq!(series("t2d-standard-4"), "t2d");
        assert_eq!(series_quota_id("n2d"), "N2D-CPUS-per-project-region");
        assert_eq!(machine_on_series("n2-standard-8", "n2"), Ok(()));
        let e = machine_on_series("c3-standard-8", "n2").unwrap_err();
        assert!(
            e.contains("c3-standard-8 is in the C3 series")
                && e.contains("C3-CPUS-per-project-region")
                && e.contains("not N2-CPUS-per-project-region"),
            "{e}"
        );
    }
}
