//! Usage in one region: `status.usage` for every object, and for one with `spec.headroom` the
//! value headroom asks for (`status.headroom`). The cloud is read once per (account, region)
//! and cache period whatever the number of objects; a usage the cloud does not report is
//! unknown, with its answer, and never read as 0.

use jiff::Timestamp;

use super::{object, region::Region, resolve};
use crate::{
    api::{TargetStatus, UsageSettings},
    cloud::QuotaView,
};

/// What usage adds to the region's need.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Usage {
    /// The value `spec.headroom` asks for.
    pub headroom: Option<i64>,
    /// Why headroom has no value (usage unknown, never read).
    pub missing: Option<String>,
}

/// Reads the region's usage into `status`, and what headroom asks for.
pub async fn observe(r: &Region<'_>, view: &QuotaView, status: &mut TargetStatus) -> Usage {
    let account_ref = r.obj.spec.account_ref.as_str();
    let fleet = || r.ctx.needs.services(account_ref, &r.target.region);
    let read = r.provider.usage(&r.target, &view.id, &fleet).await;
    let spec = r.obj.spec.headroom.as_ref();
    let old = object::previous(r.obj, &r.target.region);
    let previous = old.and_then(|t| t.headroom.as_deref());
    let cap = resolve::guardrail_cap(r.account.spec.guardrails.as_ref(), &view.id, view.value);
    let now = Timestamp::now();
    let seen = crate::usage::observe(&read, spec, view.value, previous, cap, now);
    let seen = crate::usage::settle(
        old.and_then(|t| t.usage.as_deref()),
        previous,
        seen,
        view.value,
        UsageSettings::threshold(r.account),
        now,
    );
    let unknown = seen.usage.unknown.clone();
    status.usage = Some(Box::new(seen.usage));
    status.headroom = seen.headroom.clone().map(Box::new);
    match (spec, seen.headroom) {
        (_, Some(h)) => Usage {
            headroom: Some(h.value),
            missing: None,
        },
        (None, None) => Usage::default(),
        (Some(_), None) => Usage {
            headroom: None,
            missing: Some(format!(
                "spec.headroom needs the quota's usage, which is unknown ({}); nothing is filed for headroom",
                unknown.unwrap_or_else(|| "not read yet".into())
            )),
        },
    }
}
