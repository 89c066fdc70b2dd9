//! What the decision reads (`Observed`, with the aggregated `Need`) and what it answers (`Plan`).

use jiff::{SignedDuration, Timestamp};

use super::requests::{History, Intent, Tracked};
use crate::{
    api::{CapacityStatus, Guardrails, TargetState},
    cloud::RequestView,
    controller::aggregate::Effective,
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
    /// `spec.headroom` has no value because usage is unknown: why.
    pub usage_missing: Option<String>,
    /// This namespace holds a slot of the region while others wait for one: why it waits.
    pub turn: Option<String>,
    /// The CloudAccount files with `SupportCaseAllowed=false`: its name, which a refusal
    /// names as the reason AWS could not open a case.
    pub no_support_case: Option<String>,
}

impl Observed {
    /// A region as first read: no request, intent or history known yet, no cooldown, nothing to
    /// lower. Callers set what they observed beyond that.
    pub fn new(
        now: Timestamp,
        current: f64,
        quota_id: String,
        since: Timestamp,
        need: Need,
    ) -> Self {
        Self {
            now,
            generation: 1,
            current,
            adjustable: true,
            quota_id,
            since,
            need,
            cooldown: SignedDuration::ZERO,
            allow_decrease: false,
            decrease_floor: None,
            guardrails: None,
            own_request: None,
            open_request: None,
            intent: None,
            filed_here: None,
            history: None,
            peers_fresh: false,
            usage_missing: None,
            turn: None,
            no_support_case: None,
        }
    }

    /// With the account's guardrails and the spec's wish to lower, as the decision reads them.
    pub fn governed(mut self, guardrails: Option<&Guardrails>, allow_decrease: bool) -> Self {
        self.cooldown = Guardrails::refusal_cooldown(guardrails);
        self.decrease_floor = Guardrails::decrease_floor(guardrails, &self.quota_id);
        self.allow_decrease = allow_decrease;
        self.guardrails = guardrails.cloned();
        self
    }
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

pub(super) fn hold(state: TargetState, message: String, request: Option<Tracked>) -> Plan {
    Plan::Hold {
        state,
        message,
        request,
    }
}
