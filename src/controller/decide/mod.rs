//! Decide: the one place that turns what was observed of a region into its state and the next
//! action. The pipeline of one region is
//!
//! 1. `observe` gathers one [`Observed`]: the quota's value, this object's recorded request and
//!    filing intent, what this process filed and follows, and the needs of every object on the
//!    quota added up (`aggregate`, `peers`);
//! 2. [`drive::run`] asks [`plan`] what to do; a plan may ask for one more read (the cloud's
//!    history of the quota under its filing lock, then the other objects as the API server has
//!    them), which the caller's [`drive::Outside`] adds to the `Observed`, and is asked again;
//! 3. a filing is made by `act` (the intent recorded first), and [`outcome::after_filing`] says
//!    what its answer means;
//! 4. `target` turns the [`outcome::Verdict`] into the region's status, which `status`, `events`
//!    and `metrics` only read.
//!
//! Pure: no clients and no clock of its own, so every rule is unit-tested in `tests.rs`, through
//! the same loop (`drive::run`) that the controller and `plan --live` use.

pub mod drive;
pub mod outcome;
mod rules;

use jiff::{SignedDuration, Timestamp};

use super::{
    aggregate::Effective,
    requests::{History, Intent, Tracked},
};
use crate::{
    api::{CapacityStatus, Guardrails, TargetState},
    cloud::{RequestView, UNLIMITED, meets},
};

/// The needs on the quota as the aggregation adds them up for this object.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Need {
    /// `namespace/name` of this object.
    pub me: String,
    /// This object's own need (its `desiredValue`, or every capacity on the quota at once).
    pub own: i64,
    /// The largest value among the objects that may ask for this quota.
    pub effective: i64,
    /// The object whose need is `effective`.
    pub driven_by: String,
    pub is_driver: bool,
    /// When the need that drives the effective value was declared (`since` when this object
    /// drives).
    pub driver_since: Timestamp,
    /// A guardrail that forbids this object's value.
    pub blocked: Option<String>,
    /// A request for exactly this object's need, made since the object exists, that another
    /// object on the quota recorded (the combined request, when this object never recorded it).
    pub peer_request: Option<Tracked>,
    /// The capacity arithmetic status shows, for a capacity object.
    pub capacity: Option<CapacityStatus>,
}

impl Need {
    /// This object's need of `own`, beside the effective value the aggregation found.
    pub fn new(me: String, own: i64, effective: Effective) -> Self {
        Self {
            is_driver: effective.driven_by == me,
            me,
            own,
            effective: effective.value,
            driven_by: effective.driven_by,
            driver_since: effective.since,
            ..Self::default()
        }
    }
}

/// One region of one object, as observed: everything the decision reads.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    pub now: Timestamp,
    pub generation: i64,
    pub current: f64,
    pub adjustable: bool,
    /// The quota's code or id, as the guardrails name it.
    pub quota_id: String,
    /// When this object's need (its current generation) was declared.
    pub since: Timestamp,
    pub need: Need,
    /// How long a refused quota waits before it is asked again (the CloudAccount's).
    pub cooldown: SignedDuration,
    /// The spec asks to lower the quota when it is above the need.
    pub allow_decrease: bool,
    /// The lowest value the CloudAccount lets this quota be lowered to; None: never lowered.
    pub decrease_floor: Option<i64>,
    /// The CloudAccount's guardrails, which judge the value that is filed too.
    pub guardrails: Option<Guardrails>,
    /// The last request recorded in this object's status, if it is still for this quota.
    pub own_request: Option<Tracked>,
    /// An open request for the quota known to this process (filed or adopted by any object).
    pub open_request: Option<RequestView>,
    /// A filing this object recorded and may not have seen through.
    pub intent: Option<Intent>,
    /// The id of an open request this object filed in this process (its status may not show
    /// it yet).
    pub filed_here: Option<String>,
    /// The cloud's history, once read.
    pub history: Option<History>,
    /// The other objects were read from the API server (not the cache) for a filing.
    pub peers_fresh: bool,
}

/// A read the decision needs before it can go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ask {
    /// The cloud's history of the quota, under the quota's filing lock.
    History,
    /// The other objects on the quota as the API server has them: a lagging cache must not
    /// hide a refusal that is this object's too.
    Peers,
}

/// What to do for one target. Short-lived (one reconcile step), so its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// Nothing to ask of the cloud: record the state (and the request shown, if any).
    Hold {
        state: TargetState,
        message: String,
        request: Option<Tracked>,
    },
    /// Read more, and plan again.
    Read(Ask),
    /// A request is needed, but the quota was refused lately: nothing is asked before `until`.
    Wait {
        until: Timestamp,
        message: String,
        request: Option<Tracked>,
    },
    /// Ask the cloud for `value`.
    File { value: i64 },
}

fn hold(state: TargetState, message: String, request: Option<Tracked>) -> Plan {
    Plan::Hold {
        state,
        message,
        request,
    }
}

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
        && super::refusals::settles(t, o.need.own, o.generation)
    {
        let request = Tracked {
            closed_at_generation: Some(t.closed_at_generation.unwrap_or(o.generation)),
            ..t.clone()
        };
        return refused(request);
    }
    // A refusal in the cloud's history of no more than this need, made since the need was
    // declared, settles it whoever filed it: the same value is never asked for again.
    if let Some(r) = rules::via_history(o, own_request) {
        return refused(r);
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

    if o.history.is_none() {
        return Plan::Read(Ask::History);
    }
    // The guardrails judge what is filed, whoever's need it is.
    if let Some(reason) = super::resolve::guardrail_violation(
        o.guardrails.as_ref(),
        &o.quota_id,
        o.need.effective,
        current,
    ) {
        return hold(TargetState::Blocked, reason, kept);
    }
    if let Some(wait) = rules::wait(o, own_request, kept) {
        return wait;
    }
    if !o.peers_fresh && o.need.peer_request.is_none() {
        return Plan::Read(Ask::Peers);
    }
    Plan::File {
        value: o.need.effective,
    }
}

fn refused(request: Tracked) -> Plan {
    let state = if request.view.phase == crate::cloud::Phase::Denied {
        TargetState::Denied
    } else {
        TargetState::PartiallyGranted
    };
    hold(state, outcome::closed_message(&request.view), Some(request))
}

#[cfg(test)]
mod tests;
