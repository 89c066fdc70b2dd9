//! `plan --live --nodepools`: what can fail when Karpenter scales out. Each NodePool of the
//! files, the EC2 vCPU quotas it can launch into; and for every quota a QuotaRequirement of the
//! files reaches through `spec.capacity[].nodePools` (its account, each region), the current
//! value and the NodePools whose limits can exceed it, alone or together.

use std::{collections::HashMap, sync::Arc};

use kube::ResourceExt;
use serde::Serialize;

use super::live::{self, World};
use crate::{
    api::QuotaRequirement,
    capacity::nodepools::{self, NodePool},
    cloud::{CloudError, ProviderFactory, QuotaProvider, QuotaRef, Target},
};

/// The NodePool report.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodePoolReport {
    pub pools: Vec<PoolRow>,
    pub quotas: Vec<QuotaRow>,
}

/// One NodePool: its limit and where it can launch.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolRow {
    pub name: String,
    /// `spec.limits.cpu` in vCPUs; absent when it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits_cpu: Option<i64>,
    /// Its requirements as read (`spot, categories c/m/r`).
    pub launches: String,
    /// The vCPU quotas it can launch into, `ec2/L-34B43A08 (Standard Spot)`.
    pub quotas: Vec<String>,
    /// Why it cannot be counted (no CPU limit, requirements that cannot be mapped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// One quota in one account and region that NodePools draw on.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaRow {
    /// The CloudAccount it was read through.
    pub account: String,
    pub region: String,
    /// `ec2/L-34B43A08`.
    pub quota: String,
    /// `Standard Spot`.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<f64>,
    /// The NodePools that can launch into it, `batch (2000)`.
    pub node_pools: Vec<String>,
    /// Their limits added up (what Karpenter may launch into it at once).
    pub total: i64,
    /// The NodePools whose limit alone is above the current value.
    pub exceeded_by: Vec<String>,
    /// Whether all of them together are above it.
    pub together_exceed: bool,
    /// Why the value could not be read, in the cloud's words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The report for `pools`, with the quotas the files' QuotaRequirements reach read live.
pub async fn report(
    pools: &[Arc<NodePool>],
    requirements: &[QuotaRequirement],
    world: &World<'_>,
    factory: &dyn ProviderFactory,
) -> NodePoolReport {
    let rows = pools.iter().map(|p| pool_row(p)).collect();
    let mut quotas = vec![];
    let mut providers: HashMap<String, Result<Arc<dyn QuotaProvider>, CloudError>> = HashMap::new();
    for place in places(pools, requirements, world) {
        let provider = match providers.get(&place.account) {
            Some(p) => p.clone(),
            None => {
                let p = factory.provider(place.cloud_account).await;
                providers.insert(place.account.clone(), p.clone());
                p
            }
        };
        quotas.push(quota_row(place, provider).await);
    }
    NodePoolReport {
        pools: rows,
        quotas,
    }
}

fn pool_row(pool: &NodePool) -> PoolRow {
    let name = pool.name_any();
    let limit = nodepools::cpu_limit(pool);
    let (launches, quotas, mut problem) = match nodepools::reach(pool) {
        Ok(reach) => {
            let quotas = reach
                .quotas()
                .into_iter()
                .map(|(code, g, m)| format!("ec2/{code} ({})", nodepools::quota_label(g, m)))
                .collect();
            (reach.described, quotas, None)
        }
        Err(e) => (
            "-".to_string(),
            vec![],
            Some(format!(
                "its requirements cannot be mapped to EC2 vCPU quotas: {e}"
            )),
        ),
    };
    let limits_cpu = match limit {
        Ok(v) => v,
        Err(e) => {
            problem.get_or_insert(e);
            None
        }
    };
    if limits_cpu.is_none() && problem.is_none() {
        problem = Some("no spec.limits.cpu: Karpenter may launch without bound".into());
    }
    PoolRow {
        name,
        limits_cpu,
        launches,
        quotas,
        problem,
    }
}

/// One quota in one account and region, with the NodePools that can launch into it.
struct Place<'a> {
    account: String,
    cloud_account: &'a crate::api::CloudAccount,
    region: String,
    code: &'static str,
    name: String,
    pools: Vec<(String, Option<i64>)>,
}

/// Every quota the files' QuotaRequirements reach through their NodePools, once per account
/// and region, in the order first reached.
fn places<'a>(
    pools: &[Arc<NodePool>],
    requirements: &[QuotaRequirement],
    world: &World<'a>,
) -> Vec<Place<'a>> {
    let mut out: Vec<Place<'a>> = vec![];
    for qr in requirements {
        let selectors: Vec<_> = qr
            .spec
            .capacity
            .iter()
            .flatten()
            .filter_map(|c| c.node_pools.as_ref())
            .collect();
        let Ok(account) = live::account_for(qr, world) else {
            continue;
        };
        let picked: Vec<&NodePool> = selectors
            .iter()
            .flat_map(|s| nodepools::select(s, pools).0)
            .collect();
        for region in &qr.spec.regions {
            for pool in &picked {
                add(&mut out, account, region, pool);
            }
        }
    }
    out
}

fn add<'a>(
    out: &mut Vec<Place<'a>>,
    account: &'a crate::api::CloudAccount,
    region: &str,
    pool: &NodePool,
) {
    let Ok(reach) = nodepools::reach(pool) else {
        return;
    };
    let limit = nodepools::cpu_limit(pool).ok().flatten();
    for (code, group, market) in reach.quotas() {
        let same = |p: &&mut Place<'a>| {
            p.account == account.name_any() && p.region == region && p.code == code
        };
        let place = match out.iter_mut().find(same) {
            Some(p) => p,
            None => {
                out.push(Place {
                    account: account.name_any(),
                    cloud_account: account,
                    region: region.to_string(),
                    code,
                    name: nodepools::quota_label(group, market),
                    pools: vec![],
                });
                out.last_mut().expect("just pushed")
            }
        };
        if !place.pools.iter().any(|(n, _)| *n == pool.name_any()) {
            place.pools.push((pool.name_any(), limit));
        }
    }
}

async fn quota_row(
    place: Place<'_>,
    provider: Result<Arc<dyn QuotaProvider>, CloudError>,
) -> QuotaRow {
    let target = Target {
        quota: QuotaRef::Aws {
            service_code: "ec2".into(),
            quota_code: Some(place.code.into()),
            quota_name: None,
        },
        region: place.region.clone(),
    };
    let read = match provider {
        Ok(p) => p.quota(&target).await.map(|v| v.value),
        Err(e) => Err(e),
    };
    let (current, error) = match read {
        Ok(v) => (Some(v), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let total: i64 = place.pools.iter().filter_map(|(_, l)| *l).sum();
    let above = |v: i64| current.is_some_and(|c| v as f64 > c);
    // A NodePool without a limit can exceed any value.
    let exceeded_by = place
        .pools
        .iter()
        .filter(|(_, l)| l.is_none_or(above))
        .map(|(n, _)| n.clone())
        .collect();
    QuotaRow {
        account: place.account,
        region: place.region,
        quota: format!("ec2/{}", place.code),
        name: place.name,
        current,
        node_pools: place
            .pools
            .iter()
            .map(|(n, l)| match l {
                Some(l) => format!("{n} ({l})"),
                None => format!("{n} (no limit)"),
            })
            .collect(),
        total,
        together_exceed: above(total) || place.pools.iter().any(|(_, l)| l.is_none()),
        exceeded_by,
        error,
    }
}
