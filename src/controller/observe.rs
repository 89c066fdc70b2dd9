//! Observe: one region's [`Observed`], read once. The quota's value and this object's capacity
//! share, the request its status records (followed in the cloud while open), any other open
//! request this process knows for the quota, the filing intent, and the needs of every object on
//! the quota added up. A read that fails ends the region here, with the reason in status.

use jiff::Timestamp;
use kube::ResourceExt;

use super::{
    aggregate::{self, Contribution},
    decide::{Need, Observed, outcome},
    ledger::{KeyEntry, QuotaKey},
    object, peers, record, refusals,
    region::{Region, TargetResult},
    requests::Tracked,
    resolve,
    usage::{self, Usage},
};
use crate::{
    api::{RequestOwner, TargetStatus},
    capacity::{self, ShareError},
    cloud::{CloudError, ErrorKind, QuotaView, RequestView, is_not_a_region},
};

/// What one region's reconcile read, beside the decision's `Observed`: what the reads the
/// decision may still ask for need again.
pub struct Seen {
    pub view: QuotaView,
    /// What usage adds to the need (headroom).
    pub usage: Usage,
    pub owner: RequestOwner,
    pub entry: std::sync::Arc<KeyEntry>,
    pub shares: peers::Shares,
    pub observed: Observed,
}

/// Where this object stands on the quota, with the refusals the cloud's history holds.
pub fn on_quota<'a>(
    r: &'a Region<'_>,
    view: &'a QuotaView,
    refusals: &'a [RequestView],
) -> peers::OnQuota<'a> {
    peers::OnQuota {
        ctx: r.ctx,
        obj: r.obj,
        account: r.account,
        target: &r.target,
        view,
        refusals,
    }
}

type Stop = Box<TargetResult>;

/// Reads the region. `status` gets the value read, and loses a recorded request that no
/// longer belongs to the object or that the cloud no longer knows.
pub async fn observe(r: &Region<'_>, status: &mut TargetStatus) -> Result<Seen, Stop> {
    let stop = |status: &TargetStatus, e: &CloudError, id: Option<&str>| {
        let id = id.map(str::to_string);
        Box::new(TargetResult::stopped(
            status.clone(),
            outcome::failed(e),
            id,
        ))
    };
    let mut view = r.provider.quota(&r.target).await.map_err(|e| {
        forget_value_of_no_region(status, &e);
        stop(status, &e, None)
    })?;
    status.current_value = Some(view.value);
    let id = view.id.clone();
    let own_share = match capacity::share(&r.obj.spec, r.provider, &r.target.region, &id).await {
        Ok(share) => share,
        Err(ShareError::Cloud(e)) => return Err(stop(status, &e, Some(&id))),
        Err(ShareError::Spec(message)) => {
            let refused = outcome::refused_spec(message);
            return Err(Box::new(TargetResult::stopped(
                status.clone(),
                refused,
                Some(id),
            )));
        }
    };
    let owner = peers::owner(r.obj, r.account, &r.target, &view);
    let entry = r.ctx.ledger.entry(&quota_key(r, &owner));
    let own = own_request(r, &owner, &entry, status)
        .await
        .map_err(|e| stop(status, &e, Some(&id)))?;
    let open = follow_open(r, &entry, own.as_ref())
        .await
        .map_err(|e| stop(status, &e, Some(&id)))?;
    // A request that closed just now may have changed the value read above: read it again, so a
    // terminal state (which is not polled again) shows the value the cloud settled on.
    if own.as_ref().is_some_and(|t| t.just_closed) {
        view = r
            .provider
            .quota(&r.target)
            .await
            .map_err(|e| stop(status, &e, Some(&id)))?;
        status.current_value = Some(view.value);
    }
    let usage = usage::observe(r, &view, status).await;
    let mut observed = observed(r, &view, own.map(|t| t.tracked), open, &owner);
    observed.usage_missing = usage.missing.clone();
    let on_quota = on_quota(r, &view, &[]);
    let shares = peers::shares(&on_quota, r.provider, own_share).await;
    let mut seen = Seen {
        view,
        usage,
        owner,
        entry,
        shares,
        observed,
    };
    let need = need(r, &seen, &[], seen.observed.own_request.as_ref());
    seen.observed.need = need;
    Ok(seen)
}

/// A region the cloud says it does not have has no value: one carried from an earlier read
/// (made before regions were checked against the account's list) leaves status. Metric series
/// come only from regions with a value (`metrics::targets`), so the region makes none either:
/// a spec string the cloud refused never becomes a label.
fn forget_value_of_no_region(status: &mut TargetStatus, e: &CloudError) {
    if is_not_a_region(e) {
        status.current_value = None;
    }
}

/// This object's recorded request, followed in the cloud while open.
struct Own {
    tracked: Tracked,
    /// It was open when recorded and is closed now.
    just_closed: bool,
}

/// The request status records, if it is still for this quota in this account, as the cloud
/// reports it now.
async fn own_request(
    r: &Region<'_>,
    owner: &RequestOwner,
    entry: &KeyEntry,
    status: &mut TargetStatus,
) -> Result<Option<Own>, CloudError> {
    let prev = object::previous(r.obj, &r.target.region);
    let recorded = prev
        .and_then(|t| t.request.as_ref())
        .and_then(|t| record::tracked(t, owner));
    let Some(t) = recorded else {
        status.request = None;
        return Ok(None);
    };
    if !t.view.phase.is_open() {
        return Ok(Some(Own {
            tracked: t,
            just_closed: false,
        }));
    }
    let cloud_id = r.account.cloud_id();
    match r
        .ctx
        .ledger
        .refresh(cloud_id, r.provider, &r.target, &t.view.id)
        .await
    {
        Ok(view) => {
            entry.record(&view);
            let just_closed = !view.phase.is_open();
            take_turn(r, &view);
            Ok(Some(Own {
                tracked: Tracked { view, ..t },
                just_closed,
            }))
        }
        // The cloud no longer knows it: the history decides what happened.
        Err(e) if e.kind == ErrorKind::NotFound => {
            status.request = None;
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The region's slots as this object's open (or just closed) request leaves them.
fn take_turn(r: &Region<'_>, view: &RequestView) {
    let (account, region) = (r.account.cloud_id(), r.target.region.as_str());
    if view.phase.is_open() {
        let namespace = r.obj.namespace().unwrap_or_default();
        r.ctx.turns.holds(account, region, &namespace, &view.id);
    } else {
        r.ctx.turns.released(account, region, &view.id);
    }
}

/// Why this object must let other namespaces file first in its region, if it must (AWS's
/// open-request slots; a GCP preference takes none).
fn turn(r: &Region<'_>) -> Option<String> {
    r.account.spec.aws.as_ref()?;
    let namespace = r.obj.namespace().unwrap_or_default();
    let (account, region) = (r.account.cloud_id(), r.target.region.as_str());
    r.ctx
        .turns
        .of(account, region, &namespace)
        .must_wait(region)
}

pub fn quota_key(r: &Region<'_>, owner: &RequestOwner) -> QuotaKey {
    QuotaKey {
        account: r.account.cloud_id().to_string(),
        service: owner.service.clone(),
        quota: owner.quota.clone(),
        scope: owner.scope.clone(),
    }
}

/// The region as the decision reads it, before the needs are added up.
fn observed(
    r: &Region<'_>,
    view: &QuotaView,
    own_request: Option<Tracked>,
    open: Option<RequestView>,
    owner: &RequestOwner,
) -> Observed {
    let guardrails = r.account.spec.guardrails.as_ref();
    let uid = r.obj.uid().unwrap_or_default();
    let filed_here = open
        .as_ref()
        .map(|v| v.id.clone())
        .filter(|id| r.ctx.ledger.filer(r.account.cloud_id(), id).as_deref() == Some(uid.as_str()));
    let intent = r
        .obj
        .status
        .as_ref()
        .and_then(|s| s.filings.get(&owner.scope))
        .and_then(|f| record::intent(f, owner));
    let fresh = Observed::new(
        Timestamp::now(),
        view.value,
        view.id.clone(),
        r.since,
        Need::default(),
    );
    Observed {
        generation: r.obj.metadata.generation.unwrap_or_default(),
        adjustable: view.adjustable,
        own_request,
        open_request: open,
        intent,
        filed_here,
        turn: turn(r),
        ..fresh.governed(guardrails, r.obj.spec.allow_decrease)
    }
}

/// This object's need and the other objects' on the quota, added up as the rules say, with the
/// refusals the cloud's history holds (none before it is read).
pub fn need(
    r: &Region<'_>,
    seen: &Seen,
    refusals: &[RequestView],
    own_request: Option<&Tracked>,
) -> Need {
    let q = on_quota(r, &seen.view, refusals);
    let me = object::key(q.obj);
    let capacity = seen.shares.judge(&q, r.since);
    // A capacity object needs every capacity on the quota at once; a desiredValue is a floor.
    let floor = match capacity.own {
        Some(_) => capacity.total(),
        None => q.obj.spec.desired_value.unwrap_or_default(),
    };
    let value = aggregate::own_value(floor, seen.usage.headroom);
    let guardrails = q.account.spec.guardrails.as_ref();
    let blocked = capacity
        .own_left
        .clone()
        .or_else(|| resolve::guardrail_violation(guardrails, &q.view.id, value, q.view.value));
    let generation = q.obj.metadata.generation.unwrap_or_default();
    let settled = own_request.is_some_and(|t| refusals::settles(t, value, generation))
        || refusals::settling(q.refusals, value, r.since).is_some();
    let own = Contribution {
        object: me.clone(),
        value,
        eligible: blocked.is_none() && !settled,
        since: r.since,
    };
    let floors = peers::floors(&q, value);
    let mut others = floors.best;
    others.extend(capacity.others_ask());
    others.extend(peers::headroom(&q, &seen.usage.read, Timestamp::now()));
    Need {
        blocked,
        peer_request: floors.request.or(capacity.request.clone()),
        capacity: capacity.status(&me),
        ..Need::new(me, value, aggregate::effective(&own, &others))
    }
}

/// Any other open request this process knows of for the quota, as the cloud reports it now.
async fn follow_open(
    r: &Region<'_>,
    entry: &KeyEntry,
    own: Option<&Own>,
) -> Result<Option<RequestView>, CloudError> {
    let Some(open) = entry.open() else {
        return Ok(None);
    };
    let own = own.map(|o| &o.tracked);
    if own.is_some_and(|t| t.view.id == open.id) {
        return Ok(Some(open).filter(|_| own.is_some_and(|t| t.view.phase.is_open())));
    }
    let cloud_id = r.account.cloud_id();
    match r
        .ctx
        .ledger
        .refresh(cloud_id, r.provider, &r.target, &open.id)
        .await
    {
        Ok(view) => {
            entry.record(&view);
            Ok(Some(view).filter(|v| v.phase.is_open()))
        }
        Err(e) if e.kind == ErrorKind::NotFound => {
            entry.forget(&open.id);
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::TargetState;

    fn carrying(value: f64) -> TargetStatus {
        TargetStatus {
            region: "us-east-9".into(),
            current_value: Some(value),
            desired_value: Some(10),
            driven_by: None,
            state: TargetState::Error,
            request: None,
            capacity: None,
            usage: None,
            headroom: None,
            message: None,
        }
    }

    #[test]
    fn only_a_region_that_is_not_one_loses_its_carried_value() {
        let mut status = carrying(5.0);
        let down = CloudError::new(ErrorKind::Unavailable, "HTTP 503", "later");
        forget_value_of_no_region(&mut status, &down);
        assert_eq!(
            status.current_value,
            Some(5.0),
            "a cloud that is down keeps it"
        );
        let no_region = CloudError::new(ErrorKind::SpecMismatch, "UnknownRegion", "no");
        forget_value_of_no_region(&mut status, &no_region);
        assert_eq!(status.current_value, None);
    }
}
