//! Plan: given one target's observed state, decide what to do. Pure: no clients, no clock of its
//! own, so every rule is unit-tested here.

use jiff::{SignedDuration, Timestamp};

use crate::{
    api::TargetState,
    cloud::{Phase, RequestView},
};

/// How long an approved request may take to show in the quota's value before it is no longer
/// trusted to be on its way.
const APPROVAL_APPLY_GRACE: SignedDuration = SignedDuration::from_hours(1);

/// A request this object recorded in its status, as the cloud reports it now.
#[derive(Clone, Debug, PartialEq)]
pub struct Tracked {
    pub view: RequestView,
    /// The object's generation when the request closed without a full grant.
    pub closed_at_generation: Option<i64>,
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
    pub allow_decrease: bool,
    /// A guardrail that forbids this object's value.
    pub blocked: Option<String>,
    /// The last request recorded in this object's status.
    pub own_request: Option<&'a Tracked>,
    /// An open request for the quota known to this process (filed or adopted by any object).
    pub open_request: Option<&'a RequestView>,
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
    /// Ask the cloud for `value` (after looking for an open request to adopt).
    File { value: i64 },
}

fn hold(state: TargetState, message: String, request: Option<Tracked>) -> Plan {
    Plan::Hold {
        state,
        message,
        request,
    }
}

pub fn plan(input: &PlanInput<'_>) -> Plan {
    let current = input.current;
    let own = input.own_value as f64;
    let kept = input.own_request.cloned();

    if input.allow_decrease && input.is_driver && current > input.effective as f64 {
        if input.open_request.is_none() && input.own_request.is_none_or(|t| !t.view.phase.is_open())
        {
            return Plan::File {
                value: input.effective,
            };
        }
    } else if current >= own {
        let message = if input.effective > input.own_value && !input.is_driver {
            format!("current value {current} meets this object's {own}")
        } else {
            format!(
                "current value {current} meets the desired {}",
                input.effective
            )
        };
        return hold(TargetState::Satisfied, message, kept);
    }

    if !input.adjustable {
        return hold(
            TargetState::NotAdjustable,
            format!("the quota cannot be raised (current value {current}, desired {own})"),
            kept,
        );
    }

    if let Some(tracked) = input.own_request
        && matches!(tracked.view.phase, Phase::Denied | Phase::PartiallyGranted)
    {
        let stamped = tracked.closed_at_generation.unwrap_or(input.generation);
        if stamped >= input.generation {
            let state = if tracked.view.phase == Phase::Denied {
                TargetState::Denied
            } else {
                TargetState::PartiallyGranted
            };
            let message = closed_message(&tracked.view);
            let request = Tracked {
                view: tracked.view.clone(),
                closed_at_generation: Some(stamped),
            };
            return hold(state, message, Some(request));
        }
    }

    if let Some(reason) = &input.blocked {
        return hold(TargetState::Blocked, reason.clone(), kept);
    }

    let open = input
        .own_request
        .filter(|t| t.view.phase.is_open())
        .map(|t| &t.view)
        .or(input.open_request);
    if let Some(view) = open {
        let tracked = Tracked {
            view: view.clone(),
            closed_at_generation: None,
        };
        if view.requested_value >= input.effective as f64 {
            let message = format!(
                "request {} for {} is {}",
                view.id, view.requested_value, view.status
            );
            return hold(TargetState::Requested, message, Some(tracked));
        }
        let message = format!(
            "open request {} for {} must close before {} can be requested",
            view.id, view.requested_value, input.effective
        );
        return hold(TargetState::Queued, message, Some(tracked));
    }

    if let Some(tracked) = input.own_request
        && tracked.view.phase == Phase::Approved
        && tracked.view.requested_value >= input.effective as f64
        && tracked
            .view
            .updated_at
            .is_some_and(|at| input.now.duration_since(at) < APPROVAL_APPLY_GRACE)
    {
        let message = format!(
            "request {} was approved; waiting for the new value to apply",
            tracked.view.id
        );
        return hold(TargetState::Requested, message, kept);
    }

    Plan::File {
        value: input.effective,
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
