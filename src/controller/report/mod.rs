//! Report: what the regions came to, written where people and tools read it, in one place.
//! Per region, the verdict becomes its status ([`region`]); per object, the regions' statuses
//! become conditions, metrics and events, the status is written, the settled filing intents are
//! cleared, and the next look is scheduled. Nothing here chooses a state: `decide` did.

use jiff::Timestamp;
use kube::runtime::controller::Action;

use super::{
    case_view,
    context::{Context, Error},
    decide::{Observed, outcome::Verdict},
    events::{self, Note},
    object,
    observe::Seen,
    record,
    region::Region,
    status,
    writes::Writes,
};
use crate::api::{CaseStatus, QuotaRequirement, QuotaRequirementStatus, TargetState, TargetStatus};

mod regions;

pub use regions::{Regions, TargetResult};

/// The region's status from the verdict: the state, message and request the decision chose,
/// the need as the aggregation added it up, and the usage observe read.
pub fn region(
    r: &Region<'_>,
    mut status: TargetStatus,
    seen: &Seen,
    o: &Observed,
    verdict: Verdict,
) -> TargetResult {
    let prev = object::previous(r.obj, &r.target.region);
    let before = prev.and_then(|t| t.request.as_ref()).map(|r| r.id.as_str());
    let note = events::filed_or_adopted(&r.target, before, &verdict);
    with_usage(&mut status, seen);
    status.desired_value = Some(o.need.effective);
    status.driven_by = Some(object::shown_name(&o.need.me, &o.need.driven_by));
    status.capacity = o.need.capacity.clone().map(Box::new);
    status.state = verdict.state;
    status.message = Some(verdict.message);
    if let Some(t) = &verdict.request {
        status.request = Some(Box::new(record::record(t, &seen.owner)));
    }
    TargetResult {
        status,
        note,
        quota_id: Some(seen.view.id.clone()),
        global: seen.view.global,
        scope: Some(seen.owner.scope.clone()),
        keep_intent: verdict.keep_intent,
        wake_at: verdict.wake_at,
    }
}

/// A region observe read but the decision could not judge (a read it asked for, or a step
/// before filing, failed): what was read, and why it stopped.
pub fn undecided(mut status: TargetStatus, seen: &Seen, verdict: Verdict) -> TargetResult {
    with_usage(&mut status, seen);
    stopped(status, verdict, Some(seen.view.id.clone()))
}

/// A region stopped before a decision: any recorded filing intent stays for a later reconcile
/// to judge.
pub fn stopped(
    mut status: TargetStatus,
    verdict: Verdict,
    quota_id: Option<String>,
) -> TargetResult {
    status.state = verdict.state;
    status.message = Some(verdict.message);
    TargetResult {
        status,
        note: None,
        quota_id,
        global: false,
        scope: None,
        keep_intent: verdict.keep_intent,
        wake_at: None,
    }
}

/// The request's support case, when it has one; while AWS waits for the customer, the
/// region's message says so (and starts with the reason the Ready condition carries).
pub fn with_case(status: &mut TargetStatus, case: Option<CaseStatus>) {
    let (Some(request), Some(case)) = (status.request.as_mut(), case) else {
        return;
    };
    if status.state == TargetState::Requested
        && let Some(message) = case_view::awaiting_message(&case)
    {
        status.message = Some(message);
    }
    request.case = Some(Box::new(case));
}

fn with_usage(status: &mut TargetStatus, seen: &Seen) {
    status.usage = Some(Box::new(seen.usage.shown.clone()));
    status.headroom = seen.usage.headroom_status.clone().map(Box::new);
}

/// Writes what the regions came to, and says when to look again.
pub async fn object(
    obj: &QuotaRequirement,
    ctx: &Context,
    writes: &Writes,
    since: Timestamp,
    regions: Regions,
) -> Result<Action, Error> {
    let key = object::key(obj);
    let status = status::build(
        obj,
        regions.quota.clone(),
        regions.targets.clone(),
        regions.blocker.as_ref(),
        since,
        regions.threshold,
    );
    measure(obj, &key, &regions, &status);
    let notes = notes(obj, &regions, &status);
    if writes.status(obj, &status).await? {
        tracing::info!(object = %key, summary = status.summary.as_deref().unwrap_or_default(), "status updated");
    }
    writes
        .clear_intents(&regions.settled_intents(&status))
        .await?;
    events::publish(&ctx.recorder, obj, &notes).await;
    if let Some(counter) = &ctx.reconciles {
        counter.record(&key);
    }
    let (after, retry) = regions.next_look(ctx, &key, &status);
    crate::metrics::scheduled(&key, after, retry);
    Ok(Action::requeue(after))
}

/// The metrics of the object's regions, and of the requests that closed since the last status.
fn measure(obj: &QuotaRequirement, key: &str, regions: &Regions, status: &QuotaRequirementStatus) {
    crate::metrics::targets(
        key,
        regions.account.as_deref(),
        status.quota.as_deref(),
        &status.targets,
        regions.threshold,
    );
    for closed in events::closed_requests(old_targets(obj), &status.targets) {
        crate::metrics::request_closed(closed);
    }
}

/// The events: a request filed or adopted, each region's state change, usage near the limit.
fn notes(obj: &QuotaRequirement, regions: &Regions, status: &QuotaRequirementStatus) -> Vec<Note> {
    let old = old_targets(obj);
    let mut notes = regions.notes.clone();
    notes.extend(events::transitions(old, &status.targets));
    notes.extend(events::near_limit(old, &status.targets, regions.threshold));
    notes.extend(events::case_messages(old, &status.targets));
    notes
}

fn old_targets(obj: &QuotaRequirement) -> &[TargetStatus] {
    obj.status
        .as_ref()
        .map(|s| s.targets.as_slice())
        .unwrap_or_default()
}
