//! `plan --live --nodepools`: what can fail when Karpenter scales out. Each NodePool of the
//! files, the EC2 vCPU quotas it can launch into; and for every quota a QuotaRequirement of the
//! files reaches through `spec.capacity[].nodePools` (its account, each region), the current
//! value and the NodePools whose limits can exceed it, alone or together.

use std::{collections::HashMap, sync::Arc};

use super::{
    live::{self, World},
    report::{NodePoolReport, PoolRow, QuotaRow},
};
use crate::{
    api::QuotaRequirement,
    capacity::nodepools::{self, NodePool},
    cloud::{CloudError, ProviderFactory, QuotaProvider, QuotaRef, Target},
};
use kube::ResourceExt;

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
