//! Karpenter NodePools as capacity: a NodePool's `spec.limits.cpu` is what Karpenter may launch,
//! and its requirements say where (`karpenter.sh/capacity-type` for the market; the instance
//! category, family, generation or type for the EC2 family groups). A NodePool counts its whole
//! limit toward every vCPU quota it can launch into: Karpenter may put all of it in any one of
//! them (and with Spot and On-Demand both allowed, in either market).
//!
//! Karpenter v1 has no default capacity type: a NodePool without the requirement may launch Spot,
//! On-Demand and reserved capacity (`getCapacityType` in karpenter-provider-aws tries reserved,
//! then Spot, then On-Demand). Reserved capacity (capacity reservations) counts against the
//! On-Demand quota.

use std::{collections::BTreeMap, sync::Arc};

use kube::{CustomResource, ResourceExt};
use serde::{Deserialize, Serialize};

use super::families::{self, FamilyGroup, Market};
use crate::api::NodePoolSelector;

pub use super::requirements::{
    CAPACITY_TYPE, CATEGORY, FAMILY, GENERATION, INSTANCE_TYPE, Requirement,
};

/// The fields of a Karpenter `karpenter.sh/v1` NodePool the operator reads; the rest is ignored.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "karpenter.sh",
    version = "v1",
    kind = "NodePool",
    schema = "disabled"
)]
pub struct NodePoolSpec {
    #[serde(default)]
    pub template: Template,
    /// `cpu` is read; absent means no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Template {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<TemplateMeta>,
    #[serde(default)]
    pub spec: TemplateSpec,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct TemplateMeta {
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct TemplateSpec {
    #[serde(default)]
    pub requirements: Vec<Requirement>,
}

/// Why there are no NodePools when the operator runs without them.
pub const OFF: &str = "the operator does not read Karpenter NodePools: install the chart with \
                       karpenter.nodePools=true (quota-operator run --karpenter-nodepools)";

/// The NodePools capacity can name: the cluster's, or why there are none to read.
#[derive(Clone, Debug)]
pub enum NodePools {
    Known(Vec<Arc<NodePool>>),
    /// Why NodePools cannot be read (the feature is off, the CRD is not installed).
    Unavailable(String),
}

impl Default for NodePools {
    fn default() -> Self {
        Self::off()
    }
}

impl NodePools {
    /// The operator was started without NodePools.
    pub fn off() -> Self {
        Self::Unavailable(OFF.into())
    }
}

/// The NodePools `selector` picks, by name (in the order named) then by label; a name no
/// NodePool has is returned as missing.
pub fn select<'a>(
    selector: &NodePoolSelector,
    pools: &'a [Arc<NodePool>],
) -> (Vec<&'a NodePool>, Vec<String>) {
    let mut picked: Vec<&NodePool> = vec![];
    let mut missing = vec![];
    for name in &selector.names {
        match pools.iter().find(|p| &p.name_any() == name) {
            Some(p) => picked.push(p),
            None => missing.push(name.clone()),
        }
    }
    if let Some(labels) = &selector.selector {
        let mut by_label: Vec<&NodePool> = pools
            .iter()
            .map(Arc::as_ref)
            .filter(|p| crate::api::selector::matches(labels, p.labels()))
            .filter(|p| !picked.iter().any(|q| q.name_any() == p.name_any()))
            .collect();
        by_label.sort_by_key(|p| p.name_any());
        picked.extend(by_label);
    }
    (picked, missing)
}

/// Whether `selector` picks `pool`: by name or by label.
pub fn selects(selector: &NodePoolSelector, pool: &NodePool) -> bool {
    selector.names.contains(&pool.name_any())
        || selector
            .selector
            .as_ref()
            .is_some_and(|s| crate::api::selector::matches(s, pool.labels()))
}

/// `spec.limits.cpu` in whole vCPUs (rounded up); None when there is no CPU limit.
pub fn cpu_limit(pool: &NodePool) -> Result<Option<i64>, String> {
    let Some(value) = pool.spec.limits.as_ref().and_then(|l| l.get("cpu")) else {
        return Ok(None);
    };
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        other => return Err(format!("spec.limits.cpu is {other}, not a quantity")),
    };
    super::quantity::vcpus(&text)
        .map(Some)
        .ok_or_else(|| format!("spec.limits.cpu {text} is not a CPU quantity"))
}

/// Where a NodePool can launch: its markets and EC2 family groups, and its requirements as a
/// person reads them (`spot, categories c/m/r`).
#[derive(Clone, Debug, PartialEq)]
pub struct Reach {
    pub markets: Vec<Market>,
    pub groups: Vec<FamilyGroup>,
    pub described: String,
}

impl Reach {
    /// Whether the NodePool can launch into the quota `code` counts.
    pub fn counts_on(&self, code: &str) -> bool {
        self.markets
            .iter()
            .any(|m| self.groups.iter().any(|g| g.code(*m) == Some(code)))
    }

    /// Every vCPU quota code it can launch into, with the group and market, in table order.
    pub fn quotas(&self) -> Vec<(&'static str, FamilyGroup, Market)> {
        let mut out: Vec<(&'static str, FamilyGroup, Market)> = vec![];
        for g in families::GROUPS {
            for m in [Market::OnDemand, Market::Spot] {
                let Some(code) = g.code(m) else { continue };
                if self.markets.contains(&m)
                    && self.groups.contains(g)
                    && !out.iter().any(|(c, _, _)| *c == code)
                {
                    out.push((code, *g, m));
                }
            }
        }
        out
    }
}

/// Where `pool` can launch, or why its requirements cannot be mapped to EC2 vCPU quotas.
pub fn reach(pool: &NodePool) -> Result<Reach, String> {
    let requirements = requirements(pool);
    let markets = super::requirements::markets(&requirements)?;
    let groups = super::requirements::groups(&requirements)?;
    let mut described = vec![markets_label(&markets).to_string()];
    described.extend(super::requirements::describe(&requirements));
    Ok(Reach {
        markets,
        groups,
        described: described.join(", "),
    })
}

/// The requirements Karpenter applies: the template's, and its labels as `In [value]`.
fn requirements(pool: &NodePool) -> Vec<Requirement> {
    let mut all = pool.spec.template.spec.requirements.clone();
    if let Some(meta) = &pool.spec.template.metadata {
        for (key, value) in &meta.labels {
            all.push(Requirement {
                key: key.clone(),
                operator: "In".into(),
                values: vec![value.clone()],
            });
        }
    }
    all
}

fn markets_label(markets: &[Market]) -> &'static str {
    match (
        markets.contains(&Market::Spot),
        markets.contains(&Market::OnDemand),
    ) {
        (true, true) => "spot and on-demand",
        (true, false) => "spot",
        _ => "on-demand",
    }
}

/// A quota as the arithmetic names it: `Standard Spot`, `G and VT On-Demand`.
pub fn quota_label(group: FamilyGroup, market: Market) -> String {
    let short = group.name.split(" (").next().unwrap_or(group.name);
    format!("{short} {}", market.label())
}

/// One NodePool entry's vCPUs on the quota `code` (of `group`, `market`): each selected NodePool
/// that can launch into it counts its whole `limits.cpu`. Its terms for the arithmetic, and the
/// sum. A NodePool that reaches the quota without a CPU limit, or whose requirements cannot be
/// mapped, is the spec's error, naming it.
pub fn entry(
    selector: &NodePoolSelector,
    pools: &[Arc<NodePool>],
    (code, group, market): (&str, FamilyGroup, Market),
) -> Result<(Vec<String>, i64), String> {
    let (picked, missing) = select(selector, pools);
    let on = quota_label(group, market);
    let mut terms = vec![];
    let mut sum = 0;
    for pool in picked {
        let name = pool.name_any();
        let reach = reach(pool).map_err(|e| {
            format!("NodePool {name}: its requirements cannot be mapped to EC2 vCPU quotas: {e}")
        })?;
        if !reach.counts_on(code) {
            continue;
        }
        let limit = cpu_limit(pool)
            .map_err(|e| format!("NodePool {name}: {e}"))?
            .ok_or_else(|| {
                format!(
                    "NodePool {name} has no spec.limits.cpu: Karpenter may launch any number of \
                     vCPUs into {on} ({code}), which no quota holds; give it a CPU limit"
                )
            })?;
        sum += limit;
        terms.push(format!(
            "NodePool {name}: limits.cpu {limit}, {} -> {on} {limit}",
            reach.described
        ));
    }
    for name in missing {
        terms.push(format!("NodePool {name}: not found -> 0"));
    }
    if terms.is_empty() {
        terms.push(format!("no selected NodePool launches into {on} -> 0"));
    }
    Ok((terms, sum))
}

#[cfg(test)]
#[path = "nodepools_tests.rs"]
mod tests;
