//! The Compute Engine machine types the simulator knows (guest CPUs and memory as Google
//! publishes them), the zones of each region, and the scenario's `compute:` section, which adds
//! or redefines types and withdraws some from regions or zones. Every project sees the same
//! catalog. A leaf: the scenario, the model and Compute's responses use it, it uses none of
//! them.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::invalid::ScenarioError;

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MachineTypeDef {
    pub name: String,
    pub guest_cpus: u32,
    pub memory_mb: u64,
    /// A shared-core type (e2-micro, e2-small, e2-medium, f1-micro, g1-small).
    #[serde(default)]
    pub is_shared_cpu: bool,
    /// Defaults to "<n> vCPUs, <m> GB RAM".
    #[serde(default)]
    pub description: Option<String>,
    /// Bundled accelerators: (guestAcceleratorType, guestAcceleratorCount).
    #[serde(default)]
    pub accelerators: Vec<Accelerator>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Accelerator {
    pub guest_accelerator_type: String,
    pub guest_accelerator_count: u32,
}

/// The `gcp.compute` section of a scenario.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ComputeScenario {
    /// Machine types to add to the built-in catalog, or built-in ones to redefine.
    pub machine_types: Vec<MachineTypeDef>,
    /// Region or zone -> machine types not offered there (a region withdraws them from each of
    /// its zones). Every other type is offered in every zone.
    pub not_offered: BTreeMap<String, Vec<String>>,
}

/// (name, guestCpus, memoryMb, isSharedCpu, description, accelerator).
type Row = (
    &'static str,
    u32,
    u64,
    bool,
    &'static str,
    Option<(&'static str, u32)>,
);
const BUILT_IN: &[Row] = &[
    ("n2-standard-2", 2, 8192, false, "2 vCPUs, 8 GB RAM", None),
    ("n2-standard-4", 4, 16384, false, "4 vCPUs, 16 GB RAM", None),
    ("n2-standard-8", 8, 32768, false, "8 vCPUs, 32 GB RAM", None),
    (
        "n2-standard-16",
        16,
        65536,
        false,
        "16 vCPUs, 64 GB RAM",
        None,
    ),
    (
        "n2d-standard-4",
        4,
        16384,
        false,
        "4 vCPUs, 16 GB RAM",
        None,
    ),
    (
        "n2d-standard-8",
        8,
        32768,
        false,
        "8 vCPUs, 32 GB RAM",
        None,
    ),
    (
        "e2-medium",
        2,
        4096,
        true,
        "Efficient Instance, 2 vCPU(s), 4 GB RAM",
        None,
    ),
    (
        "e2-standard-4",
        4,
        16384,
        false,
        "Efficient Instance, 4 vCPUs, 16 GB RAM",
        None,
    ),
    ("n1-standard-4", 4, 15360, false, "4 vCPUs, 15 GB RAM", None),
    (
        "c2-standard-8",
        8,
        32768,
        false,
        "Compute Optimized: 8 vCPUs, 32 GB RAM",
        None,
    ),
    (
        "c2d-standard-8",
        8,
        32768,
        false,
        "Compute Optimized: 8 vCPUs, 32 GB RAM",
        None,
    ),
    ("c3-standard-8", 8, 32768, false, "8 vCPUs, 32 GB RAM", None),
    (
        "t2d-standard-4",
        4,
        16384,
        false,
        "4 vCPUs, 16 GB RAM",
        None,
    ),
    (
        "m1-megamem-96",
        96,
        1468006,
        false,
        "96 vCPUs, 1.4 TB RAM",
        None,
    ),
    (
        "a2-highgpu-1g",
        12,
        87040,
        false,
        "Accelerator Optimized: 1 NVIDIA Tesla A100 GPU, 12 vCPUs, 85GB RAM",
        Some(("nvidia-tesla-a100", 1)),
    ),
    (
        "g2-standard-4",
        4,
        16384,
        false,
        "4 vCPUs, 16 GB RAM, 1 NVIDIA L4 GPU",
        Some(("nvidia-l4", 1)),
    ),
];

/// The zone letters of a region, as Google names them.
pub fn zones_of(region: &str) -> Vec<String> {
    let letters: &[&str] = match region {
        "us-east1" | "europe-west1" => &["b", "c", "d"],
        "us-central1" => &["a", "b", "c", "f"],
        _ => &["a", "b", "c"],
    };
    letters.iter().map(|l| format!("{region}-{l}")).collect()
}

/// The region of a zone (`us-central1-a` -> `us-central1`).
pub fn region_of(zone: &str) -> &str {
    zone.rsplit_once('-').map_or(zone, |(r, _)| r)
}

#[derive(Clone, Debug)]
pub struct MachineTypes {
    types: Vec<MachineTypeDef>,
    not_offered: BTreeMap<String, Vec<String>>,
}

impl MachineTypes {
    pub fn built_in() -> Self {
        let types = BUILT_IN
            .iter()
            .map(
                |&(name, cpus, mb, shared, description, acc)| MachineTypeDef {
                    name: name.into(),
                    guest_cpus: cpus,
                    memory_mb: mb,
                    is_shared_cpu: shared,
                    description: Some(description.into()),
                    accelerators: acc
                        .map(|(t, n)| Accelerator {
                            guest_accelerator_type: t.into(),
                            guest_accelerator_count: n,
                        })
                        .into_iter()
                        .collect(),
                },
            )
            .collect();
        Self {
            types,
            not_offered: BTreeMap::new(),
        }
    }

    pub fn for_scenario(s: &ComputeScenario) -> Self {
        let mut cat = Self::built_in();
        for def in &s.machine_types {
            match cat.types.iter_mut().find(|t| t.name == def.name) {
                Some(t) => *t = def.clone(),
                None => cat.types.push(def.clone()),
            }
        }
        cat.not_offered = s.not_offered.clone();
        cat
    }

    pub fn get(&self, name: &str) -> Option<&MachineTypeDef> {
        self.types.iter().find(|t| t.name == name)
    }

    pub fn all(&self) -> &[MachineTypeDef] {
        &self.types
    }

    /// Whether `name` is offered in `zone` (neither the zone nor its region withdraws it).
    pub fn offered_in(&self, name: &str, zone: &str) -> bool {
        [zone, region_of(zone)].iter().all(|scope| {
            self.not_offered
                .get(*scope)
                .is_none_or(|gone| !gone.iter().any(|t| t == name))
        })
    }
}

impl ComputeScenario {
    /// Checks what serde cannot; `at` is this section's path (`gcp.compute`), `regions` every
    /// region the scenario knows.
    pub fn validate(&self, at: &str, regions: &[String]) -> Result<(), ScenarioError> {
        for (i, t) in self.machine_types.iter().enumerate() {
            let field = |name: &str| format!("{at}.machineTypes[{i}].{name}");
            if t.name.is_empty() || t.name.contains(['/', ' ', '"']) {
                let msg = "must be a machine type name such as n2-standard-8";
                return Err(ScenarioError::new(field("name"), msg));
            }
            if t.guest_cpus == 0 {
                return Err(ScenarioError::new(field("guestCpus"), "must be at least 1"));
            }
        }
        let cat = MachineTypes::for_scenario(self);
        for (scope, types) in &self.not_offered {
            let known = regions.iter().any(|r| r == scope)
                || regions.iter().any(|r| zones_of(r).contains(scope));
            if !known {
                let msg = format!("`{scope}` is neither a known region nor one of its zones");
                return Err(ScenarioError::new(format!("{at}.notOffered.{scope}"), msg));
            }
            if let Some((i, t)) = types.iter().enumerate().find(|(_, t)| cat.get(t).is_none()) {
                let msg = format!("`{t}` is not in the catalog (add it under machineTypes)");
                return Err(ScenarioError::new(
                    format!("{at}.notOffered.{scope}[{i}]"),
                    msg,
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_follow_googles_letters() {
        assert_eq!(
            zones_of("us-east1"),
            ["us-east1-b", "us-east1-c", "us-east1-d"]
        );
        assert_eq!(zones_of("us-central1").len(), 4);
        assert_eq!(zones_of("europe-west4")[0], "europe-west4-a");
        assert_eq!(region_of("us-central1-f"), "us-central1");
    }

    #[test]
    fn regions_and_zones_withdraw_types() {
        let s: ComputeScenario = serde_yaml::from_str(
            "notOffered: {us-central1-f: [c3-standard-8], europe-west4: [a2-highgpu-1g]}\n",
        )
        .unwrap();
        let regions = vec!["us-central1".to_string(), "europe-west4".to_string()];
        s.validate("gcp.compute", &regions).unwrap();
        let cat = MachineTypes::for_scenario(&s);
        assert!(!cat.offered_in("c3-standard-8", "us-central1-f"));
        assert!(cat.offered_in("c3-standard-8", "us-central1-a"));
        assert!(!cat.offered_in("a2-highgpu-1g", "europe-west4-b"));
        let bad: ComputeScenario =
            serde_yaml::from_str("notOffered: {mars-1: [e2-medium]}\n").unwrap();
        assert_eq!(
            bad.validate("gcp.compute", &regions).unwrap_err().field,
            "gcp.compute.notOffered.mars-1"
        );
    }
}
