//! One region of one QuotaRequirement, step by step: `observe` reads it once,
//! `decide::drive::run` plans (asking [`Cluster`] for the reads it needs, which `observe` makes,
//! and for the filing, which `act` makes once `decide::consent` allows it), and `report` turns
//! the verdict into the region's status.

use super::{
    act, case,
    decide::{
        Ask, Observed, consent,
        drive::{self, Outside},
        outcome::{self, Filed},
    },
    object,
    observe::{self, Seen},
    region::Region,
    report::{self, TargetResult},
};
use crate::{
    api::{TargetState, TargetStatus},
    cloud::CloudError,
};

/// One region: observe, decide (reading and filing as the decision asks), report.
pub async fn reconcile_target(r: &Region<'_>) -> TargetResult {
    let mut status = draft(r);
    let seen = match observe::observe(r, &mut status).await {
        Ok(seen) => seen,
        Err((verdict, quota_id)) => return report::stopped(status, verdict, quota_id),
    };
    let mut observed = seen.observed.clone();
    let mut cluster = Cluster {
        r,
        seen: &seen,
        filing_lock: None,
    };
    match drive::run(&mut observed, &mut cluster).await {
        Ok(verdict) => {
            tracing::debug!(object = %observed.need.me, region = %r.target.region, ?verdict, "decided");
            let case = case::follow(r, &verdict).await;
            let mut result = report::region(r, status, &seen, &observed, verdict);
            report::with_case(&mut result.status, case);
            result
        }
        // A read or a step before filing failed: nothing was decided.
        Err(e) => report::undecided(status, &seen, outcome::failed(&e)),
    }
}

/// The region's status before it is read: what the last status said, in Error until the
/// verdict (or what stopped the region) says.
fn draft(r: &Region<'_>) -> TargetStatus {
    let prev = object::previous(r.obj, &r.target.region);
    TargetStatus {
        region: r.target.region.clone(),
        current_value: prev.and_then(|t| t.current_value),
        desired_value: r.obj.spec.desired_value,
        driven_by: None,
        state: TargetState::Error,
        request: prev.and_then(|t| t.request.clone()),
        capacity: prev.and_then(|t| t.capacity.clone()),
        usage: None,
        // What headroom asked stays while the region cannot be read: it never lowers.
        headroom: prev.and_then(|t| t.headroom.clone()),
        message: None,
    }
}

/// What the decision may ask of the cluster and the cloud: the reads (observe's) and the
/// filing (act's).
struct Cluster<'a> {
    r: &'a Region<'a>,
    seen: &'a Seen,
    /// Taken before the history read and held to the end of the filing.
    filing_lock: Option<tokio::sync::MutexGuard<'a, ()>>,
}

impl Outside for Cluster<'_> {
    async fn read(&mut self, ask: Ask, o: &mut Observed) -> Result<(), CloudError> {
        let (r, seen) = (self.r, self.seen);
        match ask {
            Ask::History => {
                self.filing_lock = Some(act::lock(&seen.entry).await);
                observe::history(r, seen, o).await
            }
            Ask::Peers => observe::peers_afresh(r, seen, o).await,
        }
    }

    async fn file(&mut self, _: &Observed, value: i64) -> Result<Filed, CloudError> {
        let (r, view) = (self.r, &self.seen.view);
        let fresh = observe::consent(r, view, value).await?;
        let consent =
            consent::judge(fresh, &view.id, view.value, value).map_err(outcome::no_consent)?;
        let answer = act::file(r, self.seen, &consent, value).await?;
        Ok(Filed::Answered(answer))
    }
}
