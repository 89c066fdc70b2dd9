//! The other objects on a quota: the largest `desiredValue` that may push it up, the capacity
//! that adds up with this object's, and a request one of them recorded for exactly this
//! object's need. Also how a request for the quota is owned, which both sides compare.

use std::sync::Arc;

use kube::{Api, ResourceExt, runtime::reflector::ObjectRef};

use super::{
    Context, aggregate::Contribution, needs, object, plan, plan::Tracked, record, resolve,
};
use crate::{
    api::{CapacityStatus, CloudAccount, FiledBy, QuotaRequirement, RequestOwner},
    capacity::{self, Share},
    cloud::{QuotaProvider, QuotaRef, QuotaView, Target},
};

/// The request as it would be recorded now: this quota, filed by this object at its generation.
pub fn owner(
    obj: &QuotaRequirement,
    account: &CloudAccount,
    target: &Target,
    view: &QuotaView,
) -> RequestOwner {
    RequestOwner {
        account_ref: obj.spec.account_ref.clone(),
        account: account.cloud_id().to_string(),
        service: target.quota.service().to_string(),
        quota: view.id.clone(),
        scope: scope(target, view),
        filed_by: Some(FiledBy {
            uid: obj.uid().unwrap_or_default(),
            generation: obj.metadata.generation.unwrap_or_default(),
        }),
    }
}

/// Where one value of the quota applies: a region (or everywhere), narrowed by GCP dimensions.
pub fn scope(target: &Target, view: &QuotaView) -> String {
    let mut scope = if view.global {
        "global".to_string()
    } else {
        target.region.clone()
    };
    if let QuotaRef::Gcp { dimensions, .. } = &target.quota {
        for (k, v) in dimensions {
            scope.push_str(&format!("/{k}={v}"));
        }
    }
    scope
}

/// What the other objects on the quota say: the largest need that may push it up, and a request
/// one of them recorded for exactly this object's need.
pub struct Peers {
    pub best: Vec<Contribution>,
    pub request: Option<Tracked>,
}

/// The largest need of another object that may push this quota up: found through the needs
/// index (largest first), so only objects that could drive the quota are looked at. On the way
/// it notes a request another object recorded for exactly this object's need, made since this
/// object exists: if that combined request, which this object never recorded (it was not
/// reconciled, or the operator stopped), is refused, the refusal is this object's too.
pub fn floors(
    ctx: &Context,
    obj: &QuotaRequirement,
    account: &CloudAccount,
    target: &Target,
    view: &QuotaView,
    need: i64,
) -> Peers {
    let keys = keys(obj, target, view);
    let me = object::key(obj);
    let created = obj.metadata.creation_timestamp.as_ref().map(|t| t.0);
    let mut request = None;
    let mut eligible = |name: &str| {
        let Some((o, allowed)) = peer(ctx, name, account) else {
            return false;
        };
        let recorded = recorded(ctx, &o, account, target, view);
        if request.is_none() {
            request = recorded.clone().filter(|r| same_need(r, need, created));
        }
        let floor = o.spec.desired_value.unwrap_or_default();
        let settled = recorded
            .is_some_and(|t| plan::settles(&t, floor, o.metadata.generation.unwrap_or_default()));
        !settled
            && allowed
            && resolve::guardrail_violation(
                account.spec.guardrails.as_ref(),
                &view.id,
                floor,
                view.value,
            )
            .is_none()
    };
    let best = ctx
        .needs
        .best_other(&keys, &me, &mut eligible)
        .map(|(value, object)| Contribution {
            object,
            value,
            eligible: true,
        })
        .into_iter()
        .collect();
    Peers { best, request }
}

/// Where the needs index files this object's quota in this target.
fn keys(obj: &QuotaRequirement, target: &Target, view: &QuotaView) -> Vec<needs::NeedKey> {
    needs::lookup_keys(
        &obj.spec.account_ref,
        &target.quota,
        &target.region,
        &view.id,
        &view.name,
        view.global,
    )
}

/// Another object by `namespace/name`, and whether its namespace may use the account.
fn peer(
    ctx: &Context,
    name: &str,
    account: &CloudAccount,
) -> Option<(Arc<QuotaRequirement>, bool)> {
    let (namespace, n) = name.split_once('/')?;
    let o = ctx.requirements.get(&ObjectRef::new(n).within(namespace))?;
    let labels = ctx
        .namespaces
        .get(&ObjectRef::new(namespace))
        .map(|ns| ns.labels().clone());
    let allowed =
        resolve::check_account(&o.spec, namespace, labels.as_ref(), Some(account)).is_ok();
    Some((o, allowed))
}

/// A request for exactly `need`, made since this object exists, that another object on the quota
/// records, read from the API server rather than the cache. Asked only when this object is about
/// to file (rarely): a copy of another object that the watch has not brought up to date (after
/// an API server restart) must not hide a refusal that is this object's too.
pub async fn fresh_request(
    ctx: &Context,
    obj: &QuotaRequirement,
    account: &CloudAccount,
    target: &Target,
    view: &QuotaView,
    need: i64,
) -> kube::Result<Option<Tracked>> {
    let created = obj.metadata.creation_timestamp.as_ref().map(|t| t.0);
    let others = ctx
        .needs
        .others(&keys(obj, target, view), &object::key(obj));
    for name in others {
        let Some((namespace, n)) = name.split_once('/') else {
            continue;
        };
        let api: Api<QuotaRequirement> = Api::namespaced(ctx.client.clone(), namespace);
        let Some(o) = api.get_opt(n).await? else {
            continue;
        };
        let request =
            recorded(ctx, &o, account, target, view).filter(|r| same_need(r, need, created));
        if request.is_some() {
            return Ok(request);
        }
    }
    Ok(None)
}

/// A request for exactly `need`, made since the object was created.
fn same_need(r: &Tracked, need: i64, created: Option<jiff::Timestamp>) -> bool {
    r.view.requested_value == need as f64
        && r.view
            .submitted_at
            .zip(created)
            .is_some_and(|(at, born)| at >= born)
}

/// The request another object's status records for the quota, as freshly as this process knows
/// it (its status may not show a refusal yet).
fn recorded(
    ctx: &Context,
    o: &QuotaRequirement,
    account: &CloudAccount,
    target: &Target,
    view: &QuotaView,
) -> Option<Tracked> {
    let region = if view.global {
        o.spec
            .regions
            .first()
            .map(String::as_str)
            .unwrap_or_default()
    } else {
        target.region.as_str()
    };
    let owner = owner(o, account, target, view);
    let mut tracked = object::previous(o, region)
        .and_then(|t| t.request.as_ref())
        .and_then(|r| record::tracked(r, &owner))?;
    if let Some(fresh) = ctx.ledger.cached(account.cloud_id(), &tracked.view.id) {
        tracked.view = fresh;
    }
    Some(tracked)
}

/// The capacity on the quota: this object's share and every other allowed object's.
pub struct Capacity {
    /// This object's share; None when it gives a `desiredValue`.
    pub own: Option<Share>,
    /// Other objects' shares: (`namespace/name`, value, settled by a refusal at its generation).
    pub others: Vec<(String, i64, bool)>,
    /// A request another capacity object recorded for exactly this object's total.
    pub request: Option<Tracked>,
}

impl Capacity {
    /// Every share added up, refused ones included: what a capacity object needs the quota to be
    /// (its workloads run beside the others').
    pub fn total(&self) -> i64 {
        self.own.as_ref().map_or(0, |s| s.value)
            + self.others.iter().map(|(_, v, _)| v).sum::<i64>()
    }

    /// What the other objects' capacity asks of the quota: the shares not settled by a refusal
    /// (a refused share is not asked for again by someone else), named by the first of them.
    pub fn others_ask(&self) -> Option<Contribution> {
        let open: Vec<_> = self
            .others
            .iter()
            .filter(|(_, _, settled)| !settled)
            .collect();
        let first = open.first()?;
        Some(Contribution {
            object: first.0.clone(),
            value: open.iter().map(|(_, v, _)| v).sum(),
            eligible: true,
        })
    }

    pub fn status(&self) -> Option<CapacityStatus> {
        let own = self.own.as_ref()?;
        Some(CapacityStatus {
            share: own.value,
            total: self.total(),
            arithmetic: own.arithmetic.clone(),
            others: self
                .others
                .iter()
                .map(|(name, value, settled)| {
                    let refused = if *settled { " (refused)" } else { "" };
                    format!("{name}: {value}{refused}")
                })
                .collect(),
        })
    }
}

/// The other objects that give a `capacity` on this quota, with their shares in this region
/// (from the same cached catalog, so every object computes the same total). An object whose
/// share cannot be computed shows that in its own status and counts for nothing here.
pub async fn capacity(
    ctx: &Context,
    obj: &QuotaRequirement,
    account: &CloudAccount,
    provider: &dyn QuotaProvider,
    target: &Target,
    view: &QuotaView,
    own: Option<Share>,
) -> Capacity {
    let keys = keys(obj, target, view);
    let me = object::key(obj);
    let mut found = Vec::new();
    for name in ctx.needs.capacity_others(&keys, &me) {
        let Some((o, true)) = peer(ctx, &name, account) else {
            continue;
        };
        match capacity::share(&o.spec, provider, &target.region, &view.id).await {
            Ok(Some(share)) => {
                let recorded = recorded(ctx, &o, account, target, view);
                found.push((name, share.value, o, recorded));
            }
            Ok(None) => {}
            Err(e) => tracing::debug!(object = %name, error = %e, "capacity share not counted"),
        }
    }
    let mut result = Capacity {
        own,
        others: vec![],
        request: None,
    };
    let total = result.own.as_ref().map_or(0, |s| s.value)
        + found.iter().map(|(_, v, _, _)| v).sum::<i64>();
    let created = obj.metadata.creation_timestamp.as_ref().map(|t| t.0);
    for (name, value, o, recorded) in found {
        let settled = recorded
            .as_ref()
            .is_some_and(|t| plan::settles(t, total, o.metadata.generation.unwrap_or_default()));
        if result.request.is_none() && result.own.is_some() {
            result.request = recorded.filter(|r| same_need(r, total, created));
        }
        result.others.push((name, value, settled));
    }
    result
}
