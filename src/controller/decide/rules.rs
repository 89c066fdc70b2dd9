//! The rules `plan` applies, one function each.

use jiff::SignedDuration;

use super::{
    refusals,
    requests::{self, History, Tracked},
    types::{Observed, Plan, hold},
};
use crate::{
    api::TargetState,
    cloud::{Phase, RequestView, UNLIMITED},
};

/// How long an approved request may take to show in the quota's value before it is no longer
/// trusted to be on its way.
const APPROVAL_APPLY_GRACE: SignedDuration = SignedDuration::from_hours(1);

/// How much earlier than the recorded intent the cloud's clock may date the request it made.
const CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);

/// Nothing of its own on record: the refusal of a request for exactly its need, recorded by the
/// object that drove it, is its refusal too, whether that object's status or the cloud's
/// history says so first.
pub(super) fn via_peer(o: &Observed) -> Option<Tracked> {
    let p = o
        .need
        .peer_request
        .as_ref()
        .filter(|_| o.own_request.is_none())?;
    let view = o
        .history
        .as_ref()
        .and_then(|h| h.latest.as_ref())
        .filter(|l| l.id == p.view.id)
        .unwrap_or(&p.view);
    requests::counts(view).then(|| Tracked {
        view: view.clone(),
        closed_at_generation: Some(o.generation),
        filed_by_me: false,
    })
}

/// The refusal in the cloud's history that settles this object's need, unless a request of its
/// own on record is newer (its own answer then decides).
pub(super) fn via_history(o: &Observed, own_request: Option<&Tracked>) -> Option<Tracked> {
    let refusals = History::refusals(o.history.as_ref());
    let r = refusals::settling(refusals, o.need.own, o.since)?;
    let newer_own = own_request.is_some_and(|t| {
        t.view.id == r.id
            || t.view
                .submitted_at
                .zip(r.submitted_at)
                .is_some_and(|(a, b)| a > b)
    });
    (!newer_own).then(|| Tracked {
        view: r.clone(),
        closed_at_generation: Some(o.generation),
        filed_by_me: false,
    })
}

pub(super) fn satisfied_message(o: &Observed) -> String {
    let current = o.current;
    let mut message = if o.need.effective > o.need.own && !o.need.is_driver {
        format!(
            "current value {} meets this object's {}",
            shown(current),
            o.need.own
        )
    } else {
        format!(
            "current value {} meets the desired {}",
            shown(current),
            o.need.effective
        )
    };
    if o.allow_decrease
        && o.decrease_floor.is_none()
        && current != UNLIMITED
        && current > o.need.effective as f64
    {
        message.push_str(&format!(
            "; not lowered: the CloudAccount does not consent to lowering {} (spec.guardrails.decrease.minValues)",
            o.quota_id
        ));
    }
    message
}

/// A decrease below the lowest value the CloudAccount allows.
pub(super) fn below_floor(o: &Observed) -> Option<String> {
    let floor = o.decrease_floor?;
    (o.need.effective < floor).then(|| {
        format!(
            "lowering to {} is below the account's spec.guardrails.decrease.minValues[{}] = {floor}",
            o.need.effective, o.quota_id
        )
    })
}

/// An open request to follow or queue behind, or an approved one on its way.
pub(super) fn follow(o: &Observed, own_request: Option<&Tracked>, decrease: bool) -> Option<Plan> {
    let filed_by_me = |view: &RequestView| {
        own_request.is_some_and(|t| t.view.id == view.id && t.filed_by_me)
            || o.filed_here.as_deref() == Some(view.id.as_str())
    };
    let open = own_request
        .filter(|t| t.view.phase.is_open())
        .map(|t| &t.view)
        .or(o.open_request.as_ref())
        .or(o.history.as_ref().and_then(|h| h.open.as_ref()));
    if let Some(view) = open {
        let tracked = Tracked {
            view: view.clone(),
            closed_at_generation: None,
            filed_by_me: filed_by_me(view),
        };
        if decrease || view.requested_value >= o.need.effective as f64 {
            let message = format!(
                "request {} for {} is {}",
                view.id, view.requested_value, view.status
            );
            return Some(hold(TargetState::Requested, message, Some(tracked)));
        }
        let message = format!(
            "open request {} for {} must close before {} can be requested",
            view.id, view.requested_value, o.need.effective
        );
        return Some(hold(TargetState::Queued, message, Some(tracked)));
    }

    // An approved request for enough is on its way, whoever filed it (one approved while the
    // operator was down included): wait for the value rather than ask again.
    let view = own_request
        .map(|t| &t.view)
        .into_iter()
        .chain(o.history.as_ref().and_then(|h| h.latest.as_ref()))
        .find(|v| {
            v.phase == Phase::Approved
                && v.requested_value >= o.need.effective as f64
                && v.updated_at
                    .is_some_and(|at| o.now.duration_since(at) < APPROVAL_APPLY_GRACE)
        })?;
    let message = format!(
        "request {} was approved; waiting for the new value to apply",
        view.id
    );
    let request = Tracked {
        view: view.clone(),
        closed_at_generation: None,
        filed_by_me: filed_by_me(view),
    };
    Some(hold(TargetState::Requested, message, Some(request)))
}

/// The quota was refused less than a cooldown ago: it is asked again once the cooldown is over,
/// for the largest need below every refused value, whichever need (old or new) asks.
pub(super) fn wait(
    o: &Observed,
    own_request: Option<&Tracked>,
    kept: Option<Tracked>,
) -> Option<Plan> {
    let known = own_request
        .map(|t| &t.view)
        .into_iter()
        .chain(o.need.peer_request.as_ref().map(|t| &t.view));
    let all = History::refusals(o.history.as_ref()).iter().chain(known);
    let c = refusals::cooling(all, o.cooldown, o.now)?;
    let message = format!(
        "request {} for {} was {}; the quota is asked again at most once per {:#}: at {}, for {}",
        c.after.id,
        c.after.requested_value,
        c.after.status,
        o.cooldown,
        c.until.round(jiff::Unit::Second).unwrap_or(c.until),
        o.need.effective
    );
    Some(Plan::Wait {
        until: c.until,
        message,
        request: kept,
    })
}

/// The request in the cloud's history that this object's recorded intent made, if the history
/// has one: same value, made no earlier than the intent (give or take clock skew).
pub(super) fn claimed(o: &Observed) -> Option<Tracked> {
    let intent = o.intent.as_ref()?;
    let latest = o.history.as_ref()?.latest.as_ref()?;
    let made_after = latest
        .submitted_at
        .is_some_and(|at| at >= intent.at - CLOCK_SKEW);
    (made_after && latest.requested_value == intent.value as f64).then(|| Tracked {
        view: latest.clone(),
        // Read only for a refusal (see `settles`).
        closed_at_generation: Some(intent.generation),
        filed_by_me: true,
    })
}

/// -1 is how the clouds say "no limit".
pub(super) fn shown(value: f64) -> String {
    if value == UNLIMITED {
        "unlimited (-1)".into()
    } else {
        value.to_string()
    }
}
