//! Observe: every read of one region. [`observe`] reads it once into an [`Observed`]: the
//! quota's value and this object's capacity share, the request its status records (followed in
//! the cloud while open), any other open request this process knows for the quota, the filing
//! intent, the usage, and the needs of every object on the quota added up (`need`). The reads
//! the decision asks for later (`more`: the cloud's history, the other objects afresh, and the
//! consent a filing needs) are made here too. A read that fails ends the region with its
//! verdict; nothing here decides what a value means.

use jiff::Timestamp;
use kube::ResourceExt;

mod more;
mod need;
mod requests;
mod seen;

pub use more::{consent, history, peers_afresh};
pub use seen::{Seen, on_quota};

use super::{
    decide::{
        Need, Observed,
        outcome::{self, Verdict},
        requests::Tracked,
    },
    ledger::{KeyEntry, QuotaKey},
    peers, record,
    region::Region,
    usage,
};
use crate::{
    api::{RequestOwner, TargetStatus},
    capacity::{self, ShareError},
    cloud::{CloudError, QuotaView, RequestView, is_not_a_region},
};

/// Why a region ends in observe: the verdict (a read failed, or the spec cannot be met as
/// written) and the quota's id when it was read.
pub type Stop = (Verdict, Option<String>);

/// Reads the region, once. `status` gets the value read, and loses a recorded request that no
/// longer belongs to the object or that the cloud no longer knows.
pub async fn observe(r: &Region<'_>, status: &mut TargetStatus) -> Result<Seen, Stop> {
    let view = r.provider.quota(&r.target).await.map_err(|e| {
        forget_value_of_no_region(status, &e);
        (outcome::failed(&e), None)
    })?;
    status.current_value = Some(view.value);
    let id = Some(view.id.clone());
    let pools = r.ctx.nodepools();
    let own_share =
        match capacity::share(&r.obj.spec, r.provider, &r.target.region, &view.id, &pools).await {
            Ok(share) => share,
            Err(ShareError::Cloud(e)) => return Err((outcome::failed(&e), id)),
            Err(ShareError::Spec(message)) => return Err((outcome::refused_spec(message), id)),
        };
    let (view, requests) = follow(r, view, status)
        .await
        .map_err(|e| (outcome::failed(&e), id))?;
    let usage = usage::read(r, &view).await;
    let mut observed = observed(r, &view, requests.own, requests.open, &requests.owner);
    observed.usage_missing = usage.missing.clone();
    let shares = peers::shares(&on_quota(r, &view, &[]), r.provider, &pools, own_share).await;
    let mut seen = Seen {
        view,
        usage,
        owner: requests.owner,
        entry: requests.entry,
        shares,
        observed,
    };
    seen.observed.need = need::need(r, &seen, &[], seen.observed.own_request.as_ref());
    Ok(seen)
}

/// The requests the region follows, and where they are kept.
struct Followed {
    owner: RequestOwner,
    entry: std::sync::Arc<KeyEntry>,
    own: Option<Tracked>,
    open: Option<RequestView>,
}

/// Follows this object's recorded request and any other open one for the quota; a request that
/// closed just now may have changed the value read, so it is read again (a terminal state,
/// which is not polled again, shows the value the cloud settled on).
async fn follow(
    r: &Region<'_>,
    mut view: QuotaView,
    status: &mut TargetStatus,
) -> Result<(QuotaView, Followed), CloudError> {
    let owner = peers::owner(r.obj, r.account, &r.target, &view);
    let entry = r.ctx.ledger.entry(&quota_key(r, &owner));
    let own = requests::own_request(r, &owner, &entry, status).await?;
    let open = requests::follow_open(r, &entry, own.as_ref()).await?;
    if own.as_ref().is_some_and(|t| t.just_closed) {
        view = r.provider.quota(&r.target).await?;
        status.current_value = Some(view.value);
    }
    let own = own.map(|t| t.tracked);
    Ok((
        view,
        Followed {
            owner,
            entry,
            own,
            open,
        },
    ))
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
        turn: requests::turn(r),
        no_support_case: r
            .account
            .spec
            .aws
            .as_ref()
            .filter(|a| !a.cases_allowed())
            .map(|_| r.account.name_any()),
        ..fresh.governed(guardrails, r.obj.spec.allow_decrease)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{api::TargetState, cloud::ErrorKind};

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
