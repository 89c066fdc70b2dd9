//! The rules in the order they apply: the first that holds decides.

use super::{
    guardrails, outcome, refusals,
    requests::Tracked,
    rules,
    types::{Ask, Observed, Plan, hold},
};
use crate::{
    api::TargetState,
    cloud::{Phase, UNLIMITED, meets},
};

pub fn plan(o: &Observed) -> Plan {
    let current = o.current;
    let own = o.need.own as f64;
    let kept = o.own_request.clone();
    let claimed = rules::claimed(o);
    let via_peer = rules::via_peer(o);
    let own_request = claimed
        .as_ref()
        .or(o.own_request.as_ref())
        .or(via_peer.as_ref());

    let decrease = o.allow_decrease
        && o.decrease_floor.is_some()
        && o.need.is_driver
        && current != UNLIMITED
        && current > o.need.effective as f64;
    // Headroom alone, with no usage to add it to: no number, so not Satisfied by a missing one.
    if let Some(why) = o.usage_missing.as_ref().filter(|_| o.need.own == 0) {
        return hold(TargetState::Error, why.clone(), kept);
    }
    if !decrease && meets(current, own) {
        return hold(TargetState::Satisfied, rules::satisfied_message(o), kept);
    }

    if !o.adjustable {
        return hold(
            TargetState::NotAdjustable,
            format!("the quota cannot be raised (current value {current}, desired {own})"),
            kept,
        );
    }

    if let Some(t) = own_request
        && refusals::settles(t, o.need.own, o.generation)
    {
        let request = Tracked {
            closed_at_generation: Some(t.closed_at_generation.unwrap_or(o.generation)),
            ..t.clone()
        };
        return refused(o, request);
    }
    // A refusal in the cloud's history of no more than this need, made since the need was
    // declared, settles it whoever filed it: the same value is never asked for again.
    if let Some(r) = rules::via_history(o, own_request) {
        return refused(o, r);
    }

    if let Some(reason) = &o.need.blocked {
        return hold(TargetState::Blocked, reason.clone(), kept);
    }
    if let Some(reason) = decrease.then(|| rules::below_floor(o)).flatten() {
        return hold(TargetState::Blocked, reason, kept);
    }

    if let Some(held) = rules::follow(o, own_request, decrease) {
        return held;
    }
    before_filing(o, own_request, kept)
}

/// Nothing holds the region but what may stand between a need and its filing: the cloud's
/// history, the guardrails, a refusal's cooldown or another request, the region's turns, and
/// the other objects read afresh.
fn before_filing(o: &Observed, own_request: Option<&Tracked>, kept: Option<Tracked>) -> Plan {
    let current = o.current;
    if o.history.is_none() {
        return Plan::Read(Ask::History);
    }
    // The guardrails judge what is filed, whoever's need it is.
    if let Some(reason) = guardrails::violation(
        o.guardrails.as_ref(),
        &o.quota_id,
        o.need.effective,
        current,
    ) {
        return hold(TargetState::Blocked, reason, kept);
    }
    if let Some(wait) = rules::wait(o, own_request, kept.clone()) {
        return wait;
    }
    // Other namespaces wait for a slot of the region this namespace already holds one of.
    if let Some(why) = &o.turn {
        return hold(TargetState::Queued, why.clone(), kept);
    }
    if !o.peers_fresh && o.need.peer_request.is_none() {
        return Plan::Read(Ask::Peers);
    }
    Plan::File {
        value: o.need.effective,
    }
}

fn refused(o: &Observed, request: Tracked) -> Plan {
    let state = if request.view.phase == Phase::Denied {
        TargetState::Denied
    } else {
        TargetState::PartiallyGranted
    };
    let message = outcome::closed_message(&request.view, o.no_support_case.as_deref());
    hold(state, message, Some(request))
}
