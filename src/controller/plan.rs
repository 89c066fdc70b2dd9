//! Plan: given one target's observed state, decide what to do. Pure: no clients, no clock of its
//! own, so every rule is unit-tested here. This is the one place that decides what a request
//! means for an object: whether it is followed, waited for, taken as a refusal, or filed anew.

use jiff::{SignedDuration, Timestamp};

use super::{refusals, resolve};
use crate::{
    api::{Guardrails, TargetState},
    cloud::{Phase, RequestView, UNLIMITED, meets},
};

/// How long an approved request may take to show in the quota's value before it is no longer
/// trusted to be on its way.
const APPROVAL_APPLY_GRACE: SignedDuration = SignedDuration::from_hours(1);

/// How much earlier than the recorded intent the cloud's clock may date the request it made.
const CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);

/// A request this object recorded in its status, as the cloud reports it now.
#[derive(Clone, Debug, PartialEq)]
pub struct Tracked {
    pub view: RequestView,
    /// The object's generation when the request closed without a full grant.
    pub closed_at_generation: Option<i64>,
    /// This object filed it (rather than adopting one filed by someone else).
    pub filed_by_me: bool,
}

/// What the cloud's request history says of the quota, read (under the quota's filing lock)
/// only when a request might be filed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    pub open: Option<RequestView>,
    pub latest: Option<RequestView>,
    /// Every request for the quota that closed without a full grant, whoever made it.
    pub refusals: Vec<RequestView>,
}

impl History {
    /// The history as the cloud lists the quota's requests: the newest open one, the latest, and
    /// every refusal.
    pub fn of(requests: Vec<RequestView>) -> Self {
        let refusals = requests
            .iter()
            .filter(|r| r.phase.is_refusal())
            .cloned()
            .collect();
        let open = requests
            .iter()
            .filter(|r| r.phase.is_open())
            .max_by_key(|r| r.submitted_at)
            .cloned();
        let latest = requests.into_iter().max_by_key(|r| r.submitted_at);
        Self {
            open,
            latest,
            refusals,
        }
    }

    /// The refusals read, when the history was read.
    pub fn refusals(history: Option<&Self>) -> &[RequestView] {
        history.map_or(&[], |h| h.refusals.as_slice())
    }
}

/// A filing this object began: recorded before the cloud was called, so that after a crash the
/// request it made is known to be this object's.
#[derive(Clone, Debug, PartialEq)]
pub struct Intent {
    pub value: i64,
    pub at: Timestamp,
    /// The object's generation when it decided to file.
    pub generation: i64,
}

#[derive(Clone, Debug)]
pub struct PlanInput<'a> {
    pub now: Timestamp,
    pub generation: i64,
    pub current: f64,
    pub adjustable: bool,
    pub own_value: i64,
    /// The largest value among the objects that may ask for this quota.
    pub effective: i64,
    pub is_driver: bool,
    /// When this object's need (its current generation) was declared.
    pub since: Timestamp,
    /// When the need that drives the effective value was declared (`since` when this object
    /// drives).
    pub driver_since: Timestamp,
    /// How long a refused quota waits before it is asked again (the CloudAccount's).
    pub cooldown: SignedDuration,
    /// The spec asks to lower the quota when it is above the need.
    pub allow_decrease: bool,
    /// The lowest value the CloudAccount lets this quota be lowered to; None: never lowered.
    pub decrease_floor: Option<i64>,
    /// A guardrail that forbids this object's value.
    pub blocked: Option<String>,
    /// The CloudAccount's guardrails, which judge the value that is filed too.
    pub guardrails: Option<&'a Guardrails>,
    /// The quota's code or id, as the guardrails name it.
    pub quota_id: &'a str,
    /// The last request recorded in this object's status, if it is still for this quota.
    pub own_request: Option<&'a Tracked>,
    /// An open request for the quota known to this process (filed or adopted by any object).
    pub open_request: Option<&'a RequestView>,
    /// The cloud's history, once read.
    pub history: Option<&'a History>,
    /// A filing this object recorded and may not have seen through.
    pub intent: Option<&'a Intent>,
    /// The id of an open request this object filed in this process (its status may not show
    /// it yet).
    pub filed_here: Option<&'a str>,
    /// A request for exactly this object's need, made since the object exists, that another
    /// object on the quota recorded (the combined request, when this object never recorded it).
    pub peer_request: Option<&'a Tracked>,
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
    /// A request may be needed: read the cloud's history (under the filing lock) and plan again.
    ReadHistory,
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

/// Whether a request that closed without a full grant settles this object's need at its current
/// generation: it asked for no more than the object needs, and the spec has not changed since.
/// A refused combined request for more than the object needs leaves the object free to ask for
/// its own need, once: that request, if refused too, settles it.
pub fn settles(t: &Tracked, own_value: i64, generation: i64) -> bool {
    matches!(t.view.phase, Phase::Denied | Phase::PartiallyGranted)
        && t.closed_at_generation.unwrap_or(generation) >= generation
        && t.view.requested_value <= own_value as f64
}

pub fn plan(input: &PlanInput<'_>) -> Plan {
    let current = input.current;
    let own = input.own_value as f64;
    let kept = input.own_request.cloned();
    let claimed = claimed(input);
    let via_peer = via_peer(input);
    let own_request = claimed.as_ref().or(input.own_request).or(via_peer.as_ref());

    let decrease = input.allow_decrease
        && input.decrease_floor.is_some()
        && input.is_driver
        && current != UNLIMITED
        && current > input.effective as f64;
    if !decrease && meets(current, own) {
        return hold(TargetState::Satisfied, satisfied_message(input), kept);
    }

    if !input.adjustable {
        return hold(
            TargetState::NotAdjustable,
            format!("the quota cannot be raised (current value {current}, desired {own})"),
            kept,
        );
    }

    if let Some(t) = own_request
        && settles(t, input.own_value, input.generation)
    {
        let request = Tracked {
            closed_at_generation: Some(t.closed_at_generation.unwrap_or(input.generation)),
            ..t.clone()
        };
        return refused(request);
    }
    // A refusal in the cloud's history of no more than this need, made since the need was
    // declared, settles it whoever filed it: the same value is never asked for again.
    if let Some(r) = via_history(input, own_request) {
        return refused(r);
    }

    if let Some(reason) = &input.blocked {
        return hold(TargetState::Blocked, reason.clone(), kept);
    }
    if let Some(reason) = decrease.then(|| below_floor(input)).flatten() {
        return hold(TargetState::Blocked, reason, kept);
    }

    if let Some(held) = follow(input, own_request, decrease) {
        return held;
    }

    if input.history.is_none() {
        return Plan::ReadHistory;
    }
    // The guardrails judge what is filed, whoever's need it is.
    if let Some(reason) =
        resolve::guardrail_violation(input.guardrails, input.quota_id, input.effective, current)
    {
        return hold(TargetState::Blocked, reason, kept);
    }
    if let Some(wait) = wait(input, own_request, kept.clone()) {
        return wait;
    }
    Plan::File {
        value: input.effective,
    }
}

/// Nothing of its own on record: the refusal of a request for exactly its need, recorded by the
/// object that drove it, is its refusal too, whether that object's status or the cloud's
/// history says so first.
fn via_peer(input: &PlanInput<'_>) -> Option<Tracked> {
    let p = input.peer_request.filter(|_| input.own_request.is_none())?;
    let view = input
        .history
        .and_then(|h| h.latest.as_ref())
        .filter(|l| l.id == p.view.id)
        .unwrap_or(&p.view);
    view.phase.is_refusal().then(|| Tracked {
        view: view.clone(),
        closed_at_generation: Some(input.generation),
        filed_by_me: false,
    })
}

/// The refusal in the cloud's history that settles this object's need, unless a request of its
/// own on record is newer (its own answer then decides).
fn via_history(input: &PlanInput<'_>, own_request: Option<&Tracked>) -> Option<Tracked> {
    let refusals = History::refusals(input.history);
    let r = refusals::settling(refusals, input.own_value, input.since)?;
    let newer_own = own_request.is_some_and(|t| {
        t.view.id == r.id
            || t.view
                .submitted_at
                .zip(r.submitted_at)
                .is_some_and(|(a, b)| a > b)
    });
    (!newer_own).then(|| Tracked {
        view: r.clone(),
        closed_at_generation: Some(input.generation),
        filed_by_me: false,
    })
}

fn refused(request: Tracked) -> Plan {
    let state = if request.view.phase == Phase::Denied {
        TargetState::Denied
    } else {
        TargetState::PartiallyGranted
    };
    hold(state, closed_message(&request.view), Some(request))
}

fn satisfied_message(input: &PlanInput<'_>) -> String {
    let current = input.current;
    let mut message = if input.effective > input.own_value && !input.is_driver {
        format!(
            "current value {} meets this object's {}",
            shown(current),
            input.own_value
        )
    } else {
        format!(
            "current value {} meets the desired {}",
            shown(current),
            input.effective
        )
    };
    if input.allow_decrease
        && input.decrease_floor.is_none()
        && current != UNLIMITED
        && current > input.effective as f64
    {
        message.push_str(&format!(
            "; not lowered: the CloudAccount does not consent to lowering {} (spec.guardrails.decrease.minValues)",
            input.quota_id
        ));
    }
    message
}

/// A decrease below the lowest value the CloudAccount allows.
fn below_floor(input: &PlanInput<'_>) -> Option<String> {
    let floor = input.decrease_floor?;
    (input.effective < floor).then(|| {
        format!(
            "lowering to {} is below the account's spec.guardrails.decrease.minValues[{}] = {floor}",
            input.effective, input.quota_id
        )
    })
}

/// An open request to follow or queue behind, or an approved one on its way.
fn follow(input: &PlanInput<'_>, own_request: Option<&Tracked>, decrease: bool) -> Option<Plan> {
    let filed_by_me = |view: &RequestView| {
        own_request.is_some_and(|t| t.view.id == view.id && t.filed_by_me)
            || input.filed_here == Some(view.id.as_str())
    };
    let open = own_request
        .filter(|t| t.view.phase.is_open())
        .map(|t| &t.view)
        .or(input.open_request)
        .or(input.history.and_then(|h| h.open.as_ref()));
    if let Some(view) = open {
        let tracked = Tracked {
            view: view.clone(),
            closed_at_generation: None,
            filed_by_me: filed_by_me(view),
        };
        if decrease || view.requested_value >= input.effective as f64 {
            let message = format!(
                "request {} for {} is {}",
                view.id, view.requested_value, view.status
            );
            return Some(hold(TargetState::Requested, message, Some(tracked)));
        }
        let message = format!(
            "open request {} for {} must close before {} can be requested",
            view.id, view.requested_value, input.effective
        );
        return Some(hold(TargetState::Queued, message, Some(tracked)));
    }

    // An approved request for enough is on its way, whoever filed it (one approved while the
    // operator was down included): wait for the value rather than ask again.
    let view = own_request
        .map(|t| &t.view)
        .into_iter()
        .chain(input.history.and_then(|h| h.latest.as_ref()))
        .find(|v| {
            v.phase == Phase::Approved
                && v.requested_value >= input.effective as f64
                && v.updated_at
                    .is_some_and(|at| input.now.duration_since(at) < APPROVAL_APPLY_GRACE)
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

/// The quota was refused since the driving need was declared, less than a cooldown ago: it is
/// asked again once the cooldown is over, for the largest need below every refused value.
fn wait(
    input: &PlanInput<'_>,
    own_request: Option<&Tracked>,
    kept: Option<Tracked>,
) -> Option<Plan> {
    let known = own_request
        .map(|t| &t.view)
        .into_iter()
        .chain(input.peer_request.map(|t| &t.view));
    let all = History::refusals(input.history).iter().chain(known);
    let c = refusals::cooling(all, input.driver_since, input.cooldown, input.now)?;
    let message = format!(
        "request {} for {} was {}; the quota is asked again at most once per {:#}: at {}, for {}",
        c.after.id,
        c.after.requested_value,
        c.after.status,
        input.cooldown,
        c.until.round(jiff::Unit::Second).unwrap_or(c.until),
        input.effective
    );
    Some(Plan::Wait {
        until: c.until,
        message,
        request: kept,
    })
}

/// The request in the cloud's history that this object's recorded intent made, if the history
/// has one: same value, made no earlier than the intent (give or take clock skew).
fn claimed(input: &PlanInput<'_>) -> Option<Tracked> {
    let intent = input.intent?;
    let latest = input.history?.latest.as_ref()?;
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
fn shown(value: f64) -> String {
    if value == UNLIMITED {
        "unlimited (-1)".into()
    } else {
        value.to_string()
    }
}

pub fn closed_message(view: &RequestView) -> String {
    let mut message = match view.granted_value {
        Some(granted) if view.phase == Phase::PartiallyGranted => format!(
            "request {} granted {granted} of {}",
            view.id, view.requested_value
        ),
        _ => format!(
            "request {} for {} was {}",
            view.id, view.requested_value, view.status
        ),
    };
    if let Some(reason) = &view.message {
        message.push_str(": ");
        message.push_str(reason);
    }
    message.push_str("; change the spec to ask again");
    message
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
