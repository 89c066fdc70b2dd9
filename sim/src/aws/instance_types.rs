//! The EC2 instance types DescribeInstanceTypes knows: a built-in table of real types (vCPUs,
//! cores, threads and memory as AWS publishes them), plus the scenario's `ec2:` section, which
//! adds or overrides types and withdraws some from regions. The catalog is the same in every
//! account; only the region decides what is offered. A leaf: the scenario, the model and EC2's
//! responses use it, it uses none of them.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::invalid::ScenarioError;

/// One instance type as DescribeInstanceTypes describes it (the fields the simulator serves).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InstanceTypeDef {
    pub instance_type: String,
    #[serde(rename = "vCpus")]
    pub v_cpus: u32,
    pub cores: u32,
    pub threads_per_core: u32,
    #[serde(rename = "memoryMiB")]
    pub memory_mib: u64,
    #[serde(default = "yes")]
    pub current_generation: bool,
    /// `on-demand`, `spot`, `capacity-block`.
    #[serde(default = "on_demand_and_spot")]
    pub usage_classes: Vec<String>,
}

fn yes() -> bool {
    true
}

fn on_demand_and_spot() -> Vec<String> {
    vec!["on-demand".into(), "spot".into()]
}

/// The `aws.ec2` section of a scenario.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Ec2Scenario {
    /// Types to add to the built-in catalog, or built-in types to redefine.
    pub instance_types: Vec<InstanceTypeDef>,
    /// Region -> types not offered there (DescribeInstanceTypes answers InvalidInstanceType for
    /// them in that region only). Every other type is offered in every region.
    pub not_offered: BTreeMap<String, Vec<String>>,
}

const USAGE_CLASSES: [&str; 3] = ["on-demand", "spot", "capacity-block"];

// Usage classes of the table.
const OD_SPOT: &[&str] = &["on-demand", "spot"];
const OD_SPOT_CB: &[&str] = &["capacity-block", "on-demand", "spot"];
const OD: &[&str] = &["on-demand"];

/// (type, default vCPUs, cores, threads per core, memory MiB, current generation, usage
/// classes). Checked against moto's catalog (scraped from AWS) by sim/tests/ec2_moto.rs;
/// p3.2xlarge, p3.8xlarge, f1.2xlarge and dl1.24xlarge are retired types moto no longer
/// carries, taken from AWS's published specifications (8/32/8/96 vCPUs; 61, 244, 122 and
/// 768 GiB).
type Row = (
    &'static str,
    u32,
    u32,
    u32,
    u64,
    bool,
    &'static [&'static str],
);
const BUILT_IN: &[Row] = &[
    ("m5.large", 2, 1, 2, 8192, false, OD_SPOT),
    ("m5.xlarge", 4, 2, 2, 16384, false, OD_SPOT),
    ("m5.2xlarge", 8, 4, 2, 32768, false, OD_SPOT),
    ("m5.4xlarge", 16, 8, 2, 65536, false, OD_SPOT),
    ("c6i.large", 2, 1, 2, 4096, true, OD_SPOT),
    ("c6i.xlarge", 4, 2, 2, 8192, true, OD_SPOT),
    ("c6i.2xlarge", 8, 4, 2, 16384, true, OD_SPOT),
    ("c6i.4xlarge", 16, 8, 2, 32768, true, OD_SPOT),
    ("c5.xlarge", 4, 2, 2, 8192, false, OD_SPOT),
    ("r6i.2xlarge", 8, 4, 2, 65536, false, OD_SPOT),
    ("t3.micro", 2, 1, 2, 1024, true, OD_SPOT),
    ("t3.large", 2, 1, 2, 8192, true, OD_SPOT),
    ("z1d.large", 2, 1, 2, 16384, true, OD_SPOT),
    ("i3.large", 2, 1, 2, 15616, true, OD_SPOT),
    ("d3.xlarge", 4, 2, 2, 32768, true, OD_SPOT),
    ("h1.2xlarge", 8, 4, 2, 32768, true, OD_SPOT),
    ("a1.large", 2, 2, 1, 4096, false, OD_SPOT),
    ("p3.2xlarge", 8, 4, 2, 62464, false, OD_SPOT),
    ("p3.8xlarge", 32, 16, 2, 249856, false, OD_SPOT),
    ("p4d.24xlarge", 96, 48, 2, 1179648, true, OD_SPOT_CB),
    ("p5.48xlarge", 192, 96, 2, 2097152, true, OD_SPOT_CB),
    ("g5.xlarge", 4, 2, 2, 16384, false, OD_SPOT),
    ("g4dn.xlarge", 4, 2, 2, 16384, true, OD_SPOT),
    ("vt1.3xlarge", 12, 6, 2, 24576, true, OD_SPOT),
    ("f1.2xlarge", 8, 4, 2, 124928, false, OD_SPOT),
    ("inf2.xlarge", 4, 2, 2, 16384, true, OD_SPOT),
    ("trn1.2xlarge", 8, 4, 2, 32768, true, OD_SPOT),
    ("dl1.24xlarge", 96, 48, 2, 786432, false, OD_SPOT),
    ("x2idn.16xlarge", 64, 32, 2, 1048576, true, OD_SPOT),
    ("hpc6a.48xlarge", 96, 96, 1, 393216, true, OD),
    ("u-6tb1.112xlarge", 448, 224, 2, 6291456, true, OD),
];

/// Every type the simulator knows, in catalog order, and where each is not offered.
#[derive(Clone, Debug)]
pub struct InstanceTypes {
    types: Vec<InstanceTypeDef>,
    not_offered: BTreeMap<String, Vec<String>>,
}

impl InstanceTypes {
    pub fn built_in() -> Self {
        let types = BUILT_IN
            .iter()
            .map(
                |&(name, v_cpus, cores, threads, mib, current, classes)| InstanceTypeDef {
                    instance_type: name.into(),
                    v_cpus,
                    cores,
                    threads_per_core: threads,
                    memory_mib: mib,
                    current_generation: current,
                    usage_classes: classes.iter().map(|c| c.to_string()).collect(),
                },
            )
            .collect();
        Self {
            types,
            not_offered: BTreeMap::new(),
        }
    }

    pub fn for_scenario(s: &Ec2Scenario) -> Self {
        let mut cat = Self::built_in();
        for def in &s.instance_types {
            match cat
                .types
                .iter_mut()
                .find(|t| t.instance_type == def.instance_type)
            {
                Some(t) => *t = def.clone(),
                None => cat.types.push(def.clone()),
            }
        }
        cat.not_offered = s.not_offered.clone();
        cat
    }

    /// The type, whether or not it is offered anywhere.
    pub fn get(&self, name: &str) -> Option<&InstanceTypeDef> {
        self.types.iter().find(|t| t.instance_type == name)
    }

    pub fn offered_in(&self, name: &str, region: &str) -> bool {
        self.not_offered
            .get(region)
            .is_none_or(|gone| !gone.iter().any(|t| t == name))
    }

    /// Every type, offered in `region` or not, in catalog order.
    pub fn all(&self) -> &[InstanceTypeDef] {
        &self.types
    }
}

impl Ec2Scenario {
    /// Checks what serde cannot; `at` is this section's path (`aws.ec2`).
    pub fn validate(&self, at: &str) -> Result<(), ScenarioError> {
        for (i, t) in self.instance_types.iter().enumerate() {
            let field = |name: &str| format!("{at}.instanceTypes[{i}].{name}");
            if t.instance_type.is_empty() || t.instance_type.contains([' ', ',', '[', ']']) {
                let msg = "must be a type name such as m5.large";
                return Err(ScenarioError::new(field("instanceType"), msg));
            }
            if t.v_cpus == 0 || t.cores * t.threads_per_core != t.v_cpus {
                let msg = format!(
                    "{} vCPUs must be cores ({}) x threadsPerCore ({})",
                    t.v_cpus, t.cores, t.threads_per_core
                );
                return Err(ScenarioError::new(field("vCpus"), msg));
            }
            if let Some(bad) =
                (t.usage_classes.iter()).find(|c| !USAGE_CLASSES.contains(&c.as_str()))
            {
                let msg = format!("`{bad}`: expected one of {}", USAGE_CLASSES.join(", "));
                return Err(ScenarioError::new(field("usageClasses"), msg));
            }
        }
        let cat = InstanceTypes::for_scenario(self);
        for (region, types) in &self.not_offered {
            for (i, t) in types.iter().enumerate() {
                if cat.get(t).is_none() {
                    let msg = format!("`{t}` is not in the catalog (add it under instanceTypes)");
                    return Err(ScenarioError::new(
                        format!("{at}.notOffered.{region}[{i}]"),
                        msg,
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_vcpus_are_cores_times_threads() {
        for t in InstanceTypes::built_in().all() {
            assert_eq!(
                t.v_cpus,
                t.cores * t.threads_per_core,
                "{}",
                t.instance_type
            );
        }
    }

    #[test]
    fn scenario_adds_redefines_and_withdraws() {
        let s: Ec2Scenario = serde_yaml::from_str(
            "instanceTypes:\n\
             - {instanceType: m7i.large, vCpus: 2, cores: 1, threadsPerCore: 2, memoryMiB: 8192}\n\
             - {instanceType: m5.large, vCpus: 4, cores: 2, threadsPerCore: 2, memoryMiB: 8192}\n\
             notOffered: {eu-west-3: [p5.48xlarge]}\n",
        )
        .unwrap();
        s.validate("aws.ec2").unwrap();
        let cat = InstanceTypes::for_scenario(&s);
        assert_eq!(
            cat.get("m7i.large").unwrap().usage_classes,
            ["on-demand", "spot"]
        );
        assert_eq!(cat.get("m5.large").unwrap().v_cpus, 4);
        assert!(!cat.offered_in("p5.48xlarge", "eu-west-3"));
        assert!(cat.offered_in("p5.48xlarge", "us-east-1"));
    }

    #[test]
    fn validation_names_the_field() {
        let s: Ec2Scenario = serde_yaml::from_str("notOffered: {us-east-1: [m5.huge]}\n").unwrap();
        assert_eq!(
            s.validate("aws.ec2").unwrap_err().field,
            "aws.ec2.notOffered.us-east-1[0]"
        );
        let s: Ec2Scenario = serde_yaml::from_str(
            "instanceTypes: [{instanceType: x.large, vCpus: 3, cores: 1, threadsPerCore: 2, memoryMiB: 1}]\n",
        )
        .unwrap();
        assert_eq!(
            s.validate("aws.ec2").unwrap_err().field,
            "aws.ec2.instanceTypes[0].vCpus"
        );
    }
}
