//! What observe keeps of a region beside the decision's `Observed`, for the reads the decision
//! asks for later.

use super::super::{decide::Observed, ledger::KeyEntry, peers, region::Region, usage::Usage};
use crate::{
    api::RequestOwner,
    cloud::{QuotaView, RequestView},
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
