//! Usage in one region: `status.usage` for every object, and for one with `spec.headroom` the
//! value headroom asks for (`status.headroom`). The cloud is read once per (account, region)
//! and cache period whatever the number of objects; a usage the cloud does not report is
//! unknown, with its answer, and never read as 0. What an object's headroom asks is computed by
//! one function, [`observed`], for the object itself and for every other object on the quota
//! (`peers::headroom`), from the same reading: one team's headroom is every team's need.

use jiff::Timestamp;

use super::{decide::guardrails, object, region::Region};
use crate::{
    api::{CloudAccount, HeadroomStatus, QuotaRequirement, UsageSettings, UsageStatus},
    cloud::{CloudError, QuotaView, UsageView},
    usage::Observation,
};

/// What usage adds to the region's need.
#[derive(Clone, Debug)]
pub struct Usage {
    /// The value `spec.headroom` asks for.
    pub headroom: Option<i64>,
    /// Why headroom has no value (usage unknown, never read).
    pub missing: Option<String>,
    /// The cloud's reading, which the other objects' headroom is computed from.
    pub read: Result<UsageView, CloudError>,
    /// What status shows of the usage, and of what headroom asks.
    pub shown: UsageStatus,
    pub headroom_status: Option<HeadroomStatus>,
}

/// What `obj`'s usage and headroom come to in `region` from the cloud's `read`: its previous
/// headroom (never lowered), the account's bounds (cap and pace), at `now`.
pub fn observed(
    obj: &QuotaRequirement,
    region: &str,
    account: &CloudAccount,
    view: &QuotaView,
    read: &Result<UsageView, CloudError>,
    now: Timestamp,
) -> Observation {
    let previous = object::previous(obj, region).and_then(|t| t.headroom.as_deref());
    let bounds =
        guardrails::headroom_bounds(account.spec.guardrails.as_ref(), &view.id, view.value);
    let spec = obj.spec.headroom.as_ref();
    crate::usage::observation(read, spec, view.value, previous, &bounds, now)
}

/// What `obj`'s `spec.headroom` asks in `region` from a `reading` of the quota's usage over the
/// headroom's window, by the same function `observed` uses (`usage::headroom`): for the other
/// objects on a quota, whose reading over a window is made once for all of them.
pub fn asked_by(
    obj: &QuotaRequirement,
    region: &str,
    account: &CloudAccount,
    view: &QuotaView,
    reading: Option<&crate::usage::Reading>,
    now: Timestamp,
) -> Option<i64> {
    let h = obj.spec.headroom.as_ref()?;
    let previous = object::previous(obj, region).and_then(|t| t.headroom.as_deref());
    let bounds =
        guardrails::headroom_bounds(account.spec.guardrails.as_ref(), &view.id, view.value);
    crate::usage::headroom(h, reading, previous, view.value, &bounds, now).map(|h| h.value)
}

/// Reads the region's usage: what status shows of it, and what headroom asks for.
pub async fn read(r: &Region<'_>, view: &QuotaView) -> Usage {
    let account_ref = r.obj.spec.account_ref.as_str();
    let fleet = || r.ctx.needs.services(account_ref, &r.target.region);
    let read = r.provider.usage(&r.target, &view.id, &fleet).await;
    let old = object::previous(r.obj, &r.target.region);
    let now = Timestamp::now();
    let seen = observed(r.obj, &r.target.region, r.account, view, &read, now);
    let seen = crate::usage::settle(
        old.and_then(|t| t.usage.as_deref()),
        old.and_then(|t| t.headroom.as_deref()),
        seen,
        view.value,
        UsageSettings::threshold(r.account),
        now,
    );
    let missing = match (r.obj.spec.headroom.as_ref(), &seen.headroom) {
        (Some(_), None) => Some(format!(
            "spec.headroom needs the quota's usage, which is unknown ({}); nothing is filed for headroom",
            seen.usage.unknown.as_deref().unwrap_or("not read yet")
        )),
        _ => None,
    };
    Usage {
        headroom: seen.headroom.as_ref().map(|h| h.value),
        missing,
        read,
        shown: seen.usage,
        headroom_status: seen.headroom,
    }
}
