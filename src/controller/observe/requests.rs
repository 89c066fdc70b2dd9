//! The requests a region follows: the one this object's status records and any other open one
//! this process knows for the quota, as the cloud reports them now, and the region's slots as
//! they leave them.

use kube::ResourceExt;

use super::super::{decide::requests::Tracked, ledger::KeyEntry, object, record, region::Region};
use crate::{
    api::{RequestOwner, TargetStatus},
    cloud::{CloudError, ErrorKind, RequestView},
};

/// This object's recorded request, followed in the cloud while open.
pub struct Own {
    pub tracked: Tracked,
    /// It was open when recorded and is closed now.
    pub just_closed: bool,
}

/// The request status records, if it is still for this quota in this account, as the cloud
/// reports it now.
pub async fn own_request(
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
pub fn turn(r: &Region<'_>) -> Option<String> {
    r.account.spec.aws.as_ref()?;
    let namespace = r.obj.namespace().unwrap_or_default();
    let (account, region) = (r.account.cloud_id(), r.target.region.as_str());
    r.ctx
        .turns
        .of(account, region, &namespace)
        .must_wait(region)
}

/// Any other open request this process knows of for the quota, as the cloud reports it now.
pub async fn follow_open(
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
