//! Capacity: a need given as what must run (EC2 instances, GCP machines, Fargate tasks) instead
//! of a number. Each type's vCPUs come from the cloud's own catalog in the region (never a table
//! of ours), each type is checked against the quota the spec names, and the shares of several
//! objects on one quota add up (they run at the same time). Karpenter NodePools are capacity
//! too (`nodepools`): their CPU limits, on the quotas they can launch into.

pub mod check;
pub mod families;
pub mod nodepools;
pub mod quantity;
mod requirements;

use std::collections::BTreeMap;

use self::{check::GcpCpus, nodepools::NodePools};
use crate::{
    api::{CapacityItem, QuotaRequirementSpec},
    cloud::{CloudError, ErrorKind, QuotaProvider, QuotaRef, Target},
};

/// One object's capacity in the quota's unit, in one region.
#[derive(Clone, Debug, PartialEq)]
pub struct Share {
    pub value: i64,
    /// `200 x m5.2xlarge (8 vCPU) + 50 x c6i.4xlarge (16 vCPU) = 2400 vCPU`.
    pub arithmetic: String,
}

/// Why a share could not be computed.
#[derive(Clone, Debug, PartialEq)]
pub enum ShareError {
    /// The spec cannot be met as written: a type on another quota, or one the cloud does not
    /// offer in the region. Nothing changes until the spec does.
    Spec(String),
    /// The cloud could not be read; retried.
    Cloud(CloudError),
}

impl std::fmt::Display for ShareError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Spec(m) => f.write_str(m),
            Self::Cloud(e) => write!(f, "{e}"),
        }
    }
}

/// The spec's capacity in `region`, on the quota resolved to `quota_id`, with the NodePools
/// its `nodePools` entries select from; None when the spec gives a `desiredValue` instead.
pub async fn share(
    spec: &QuotaRequirementSpec,
    provider: &dyn QuotaProvider,
    region: &str,
    quota_id: &str,
    pools: &NodePools,
) -> Result<Option<Share>, ShareError> {
    let Some(items) = spec.capacity.as_deref() else {
        return Ok(None);
    };
    let service = match (&spec.aws, &spec.gcp) {
        (Some(aws), _) => aws.service_code.as_str(),
        (_, Some(gcp)) => gcp.service.as_str(),
        _ => return Err(ShareError::Spec("spec names no cloud".into())),
    };
    check_items(items, service, quota_id, provider, region).await?;
    let named: Vec<String> = items
        .iter()
        .filter_map(|i| i.instance_type.clone().or_else(|| i.machine_type.clone()))
        .collect();
    let vcpus = if named.is_empty() {
        BTreeMap::new()
    } else {
        provider
            .vcpus(region, &named)
            .await
            .map_err(|e| match e.kind {
                ErrorKind::InvalidArgument | ErrorKind::NotFound => ShareError::Spec(format!(
                    "the {region} catalog does not know a type in spec.capacity: {e}"
                )),
                _ => ShareError::Cloud(e),
            })?
    };
    let mut terms = terms(items, &vcpus)?;
    terms.extend(pool_terms(items, service, quota_id, pools)?);
    Ok(Some(total(terms, spec.headroom_percent.unwrap_or(0))))
}

/// The terms of the `nodePools` entries on the quota: each selected NodePool's CPU limit.
fn pool_terms(
    items: &[CapacityItem],
    service: &str,
    quota_id: &str,
    pools: &NodePools,
) -> Result<Vec<(String, f64)>, ShareError> {
    let mut out = vec![];
    for selector in items.iter().filter_map(|i| i.node_pools.as_ref()) {
        let (group, market) =
            check::vcpu_quota("NodePools", service, quota_id).map_err(ShareError::Spec)?;
        let known = match pools {
            NodePools::Known(known) => known,
            NodePools::Unavailable(why) => {
                return Err(ShareError::Spec(format!(
                    "spec.capacity names NodePools, but {why}"
                )));
            }
        };
        let (lines, sum) = nodepools::entry(selector, known, (quota_id, group, market))
            .map_err(ShareError::Spec)?;
        out.push((lines.join(" + "), sum as f64));
    }
    Ok(out)
}

/// Every item is checked before the cloud is asked anything about types.
async fn check_items(
    items: &[CapacityItem],
    service: &str,
    quota_id: &str,
    provider: &dyn QuotaProvider,
    region: &str,
) -> Result<(), ShareError> {
    for item in items {
        if let Some(t) = &item.instance_type {
            check::instance_type(t, service, quota_id).map_err(ShareError::Spec)?;
        } else if item.vcpu.is_some() {
            check::fargate(service, quota_id).map_err(ShareError::Spec)?;
        } else if let Some(m) = &item.machine_type {
            match check::gcp_quota(service, quota_id).map_err(ShareError::Spec)? {
                GcpCpus::AllRegions => {}
                GcpCpus::Series(series) => {
                    check::machine_on_series(m, &series).map_err(ShareError::Spec)?
                }
                GcpCpus::General => general_cpus(m, provider, region).await?,
            }
        }
    }
    Ok(())
}

/// A machine counts against the general CPU quota only when its series has no quota of its own
/// in the project: asked of the Cloud Quotas API rather than assumed, since Google adds series.
async fn general_cpus(
    machine_type: &str,
    provider: &dyn QuotaProvider,
    region: &str,
) -> Result<(), ShareError> {
    let own = check::series_quota_id(&check::series(machine_type));
    let target = Target {
        quota: QuotaRef::Gcp {
            service: check::GCP_COMPUTE.into(),
            quota_id: own.clone(),
            dimensions: vec![],
        },
        region: region.to_string(),
    };
    match provider.quota(&target).await {
        Ok(_) => Err(ShareError::Spec(format!(
            "{machine_type} counts against its series' own quota {own}, not {}",
            check::GCP_GENERAL_CPUS
        ))),
        Err(e) if e.is_no_such_quota() => Ok(()),
        Err(e) => Err(ShareError::Cloud(e)),
    }
}

/// The arithmetic, from vCPUs per type (`nodePools` entries are not counted here).
pub fn compute(
    items: &[CapacityItem],
    vcpus: &BTreeMap<String, u32>,
    headroom_percent: i32,
) -> Result<Share, ShareError> {
    Ok(total(terms(items, vcpus)?, headroom_percent))
}

/// Each counted entry as `200 x m5.2xlarge (8 vCPU)` and its vCPUs.
fn terms(
    items: &[CapacityItem],
    vcpus: &BTreeMap<String, u32>,
) -> Result<Vec<(String, f64)>, ShareError> {
    let mut terms = Vec::with_capacity(items.len());
    for item in items.iter().filter(|i| i.node_pools.is_none()) {
        let (label, each) = match (&item.instance_type, &item.machine_type, item.vcpu) {
            (Some(t), _, _) | (None, Some(t), _) => {
                let each = vcpus.get(t).copied().ok_or_else(|| {
                    ShareError::Spec(format!("the catalog gave no vCPUs for {t}"))
                })?;
                (t.clone(), f64::from(each))
            }
            (None, None, Some(v)) => ("Fargate task".to_string(), v),
            (None, None, None) => {
                return Err(ShareError::Spec(
                    "a spec.capacity entry names no instanceType, machineType, vcpu or nodePools"
                        .into(),
                ));
            }
        };
        terms.push((
            format!("{} x {label} ({} vCPU)", item.count, number(each)),
            item.count as f64 * each,
        ));
    }
    Ok(terms)
}

/// The terms added up, with headroom.
fn total(terms: Vec<(String, f64)>, headroom_percent: i32) -> Share {
    let sum: f64 = terms.iter().map(|(_, v)| v).sum();
    let shown: Vec<String> = terms.into_iter().map(|(t, _)| t).collect();
    let raw = sum.ceil();
    let mut arithmetic = format!("{} = {} vCPU", shown.join(" + "), number(raw));
    let value = if headroom_percent > 0 {
        let with = (sum * (100.0 + f64::from(headroom_percent)) / 100.0).ceil();
        arithmetic.push_str(&format!(
            ", +{headroom_percent}% headroom = {} vCPU",
            number(with)
        ));
        with
    } else {
        raw
    };
    Share {
        value: value as i64,
        arithmetic,
    }
}

/// 8, 0.25: no trailing `.0`.
fn number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ec2(t: &str, count: i64) -> CapacityItem {
        CapacityItem {
            instance_type: Some(t.into()),
            machine_type: None,
            vcpu: None,
            node_pools: None,
            count,
        }
    }

    fn catalog() -> BTreeMap<String, u32> {
        [("m5.2xlarge", 8), ("c6i.4xlarge", 16)]
            .into_iter()
            .map(|(t, v)| (t.to_string(), v))
            .collect()
    }

    #[test]
    fn counts_times_vcpus_add_up() {
        let share = compute(
            &[ec2("m5.2xlarge", 200), ec2("c6i.4xlarge", 50)],
            &catalog(),
            0,
        )
        .unwrap();
        assert_eq!(share.value, 2400);
        assert_eq!(
            share.arithmetic,
            "200 x m5.2xlarge (8 vCPU) + 50 x c6i.4xlarge (16 vCPU) = 2400 vCPU"
        );
    }

    #[test]
    fn headroom_rounds_up() {
        let share = compute(&[ec2("m5.2xlarge", 3)], &catalog(), 10).unwrap();
        // 24 * 1.1 = 26.4
        assert_eq!(share.value, 27);
        assert_eq!(
            share.arithmetic,
            "3 x m5.2xlarge (8 vCPU) = 24 vCPU, +10% headroom = 27 vCPU"
        );
    }

    #[test]
    fn fargate_task_sizes_round_up_to_whole_vcpus() {
        let task = |vcpu: f64, count: i64| CapacityItem {
            instance_type: None,
            machine_type: None,
            vcpu: Some(vcpu),
            node_pools: None,
            count,
        };
        let share = compute(&[task(0.25, 10), task(2.0, 3)], &BTreeMap::new(), 0).unwrap();
        assert_eq!(share.value, 9); // 2.5 + 6 = 8.5 -> 9
        assert_eq!(
            share.arithmetic,
            "10 x Fargate task (0.25 vCPU) + 3 x Fargate task (2 vCPU) = 9 vCPU"
        );
    }

    #[test]
    fn a_type_missing_from_the_catalog_is_a_spec_error() {
        let e = compute(&[ec2("m5.huge", 1)], &catalog(), 0).unwrap_err();
        assert_eq!(
            e,
            ShareError::Spec("the catalog gave no vCPUs for m5.huge".into())
        );
    }
}
