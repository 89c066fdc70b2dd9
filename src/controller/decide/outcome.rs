//! What a plan, a filing's answer, or a cloud error comes to: the region's state, its message
//! and the request status shows. Every state a region can be in is chosen here (or by `plan`).

use jiff::Timestamp;

use super::{
    requests::Tracked,
    types::{Observed, Plan},
};
use crate::{
    api::{TargetState, reasons},
    cloud::{CloudError, ErrorKind, Phase, RequestView},
};

/// What a filing came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Filed {
    /// The cloud's answer to the call.
    Answered(Result<RequestView, CloudError>),
    /// Nothing is filed where the loop runs (`plan --live`).
    Dry,
}

/// One region's decision, once no more is asked.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub state: TargetState,
    pub message: String,
    /// The request status shows (the last one on record when nothing newer is).
    pub request: Option<Tracked>,
    /// When the region must be looked at again although nothing else changes (the end of a
    /// refusal's cooldown).
    pub wake_at: Option<Timestamp>,
    /// The value a filing asked for (or, for a dry run, would), and the request the cloud made
    /// (None when it made none, or when nothing was filed).
    pub filed: Option<(i64, Option<RequestView>)>,
    /// The recorded filing intent must stay: the cloud may have made the request although the
    /// call failed (a timeout, a 5xx after it was accepted), and it is claimed once the history
    /// shows it.
    pub keep_intent: bool,
}

impl Verdict {
    fn new(state: TargetState, message: String, request: Option<Tracked>, o: &Observed) -> Self {
        Self {
            state,
            message,
            request: request.or_else(|| o.own_request.clone()),
            wake_at: None,
            filed: None,
            keep_intent: false,
        }
    }

    /// A region that stopped before a decision (a read failed, or the spec cannot be met as
    /// written): it shows no new request, and any recorded filing intent stays for a later
    /// reconcile to judge.
    fn stopped(state: TargetState, message: String) -> Self {
        Self {
            state,
            message,
            request: None,
            wake_at: None,
            filed: None,
            keep_intent: true,
        }
    }

    /// The same state and message, decided: with the request on record, and no intent kept.
    fn decided(self, o: &Observed) -> Self {
        Self::new(self.state, self.message, None, o)
    }
}

/// The verdict of a plan that asks nothing more of the cloud (Hold or Wait).
pub fn settled(plan: Plan, o: &Observed) -> Verdict {
    match plan {
        Plan::Hold {
            state,
            message,
            request,
        } => Verdict::new(state, message, request, o),
        Plan::Wait {
            until,
            message,
            request,
        } => Verdict {
            wake_at: Some(until),
            ..Verdict::new(TargetState::Queued, message, request, o)
        },
        Plan::Read(ask) => failed(&CloudError::new(
            ErrorKind::Other,
            "Internal",
            format!("the planner asked for {ask:?} twice"),
        ))
        .decided(o),
        Plan::File { value } => Verdict {
            filed: Some((value, None)),
            ..Verdict::new(
                TargetState::Queued,
                format!("current value {} is below {value}", o.current),
                None,
                o,
            )
        },
    }
}

/// What filing `value` came to.
pub fn after_filing(value: i64, filed: Filed, o: &Observed) -> Verdict {
    let e = match filed {
        Filed::Dry => return settled(Plan::File { value }, o),
        Filed::Answered(Ok(view)) => {
            let message = format!("filed request {} for {}", view.id, view.requested_value);
            let request = Tracked {
                view: view.clone(),
                closed_at_generation: None,
                filed_by_me: true,
            };
            return Verdict {
                filed: Some((value, Some(view))),
                ..Verdict::new(TargetState::Requested, message, Some(request), o)
            };
        }
        Filed::Answered(Err(e)) => e,
    };
    let held_back = matches!(
        e.kind,
        // AlreadyOpen: someone opened one since the history was read; it is adopted next time.
        ErrorKind::LimitExceeded | ErrorKind::Throttled | ErrorKind::AlreadyOpen
    );
    let verdict = if held_back {
        let message = format!("the cloud holds the request back: {e}");
        Verdict::new(TargetState::Queued, message, None, o)
    } else {
        Verdict {
            keep_intent: matches!(e.kind, ErrorKind::Unavailable | ErrorKind::Other),
            ..failed(&e).decided(o)
        }
    };
    Verdict {
        filed: Some((value, None)),
        ..verdict
    }
}

/// A cloud call failed: retried (Error), unless the cloud says the quota cannot be raised, the
/// spec names what the cloud does not have (terminal until the spec changes), or the operator
/// has no credentials (terminal until an admin adds them; looked at again each resync).
pub fn failed(e: &CloudError) -> Verdict {
    let state = match e.kind {
        ErrorKind::NotAdjustable => TargetState::NotAdjustable,
        ErrorKind::SpecMismatch | ErrorKind::Credentials => TargetState::Blocked,
        _ => TargetState::Error,
    };
    Verdict::stopped(state, e.to_string())
}

/// The spec cannot be met as written (a capacity type on another quota, or one the region does
/// not offer): nothing is asked of the cloud until the spec changes.
pub fn refused_spec(message: String) -> Verdict {
    Verdict::stopped(TargetState::Blocked, message)
}

/// Why a whole object stops before any region is looked at.
#[derive(Clone, Debug, PartialEq)]
pub struct Blocker {
    pub reason: &'static str,
    pub message: String,
    /// Tried again with backoff (the cloud failed) rather than waiting for a change.
    pub retry: bool,
}

impl Blocker {
    pub fn until_changed(reason: &'static str, message: String) -> Self {
        Self {
            reason,
            message,
            retry: false,
        }
    }

    /// The state every region shows.
    pub fn state(&self) -> TargetState {
        if self.retry {
            TargetState::Error
        } else {
            TargetState::Blocked
        }
    }

    /// The account's provider could not be made.
    pub fn provider_failed(account_ref: &str, e: &CloudError) -> Self {
        let failure = AccountFailure::of(e);
        if !failure.terminal {
            return Self {
                reason: failure.reason,
                message: e.to_string(),
                retry: true,
            };
        }
        let message = match e.kind {
            ErrorKind::Credentials => format!("CloudAccount {account_ref}: {}", e.message),
            ErrorKind::AccessDenied => format!("CloudAccount {account_ref}: {e}"),
            _ => e.to_string(),
        };
        Self::until_changed(failure.reason, message)
    }
}

/// Why an account cannot be used, as the CloudAccount's `Ready` and every object on it say: the
/// one mapping from a failure to reach an account to a reason.
pub struct AccountFailure {
    pub reason: &'static str,
    /// Nothing changes until an admin does (the account is looked at again each resync);
    /// anything else is tried again with backoff.
    pub terminal: bool,
}

impl AccountFailure {
    pub fn of(e: &CloudError) -> Self {
        let (reason, terminal) = match e.kind {
            // The account itself is wrong (credentials reach another account, an endpoint the
            // operator may not send credentials to): nothing will change until the account does.
            ErrorKind::AccountMismatch => (reasons::ACCOUNT_MISMATCH, true),
            ErrorKind::InvalidArgument => (reasons::ACCOUNT_INVALID, true),
            // No credentials at all: waiting does not bring them, an admin does.
            ErrorKind::Credentials => (reasons::CREDENTIALS_FAILED, true),
            // The account's role cannot be assumed (a trust policy, an external id): an admin
            // must act.
            ErrorKind::AccessDenied => (reasons::ACCOUNT_ACCESS_DENIED, true),
            _ => (reasons::CLOUD_ERROR, false),
        };
        Self { reason, terminal }
    }
}

/// A Kubernetes read or write that must come before filing failed: nothing was filed, and the
/// region is tried again (Error).
pub fn not_filed(what: &str, why: impl std::fmt::Display) -> CloudError {
    CloudError::new(
        ErrorKind::Unavailable,
        "KubeApi",
        format!("could not {what} before filing, so nothing was filed: {why}"),
    )
}

/// The account or object changed since the cache was read, so the filing has no consent now:
/// nothing was filed, and the region is judged again from the newer copy.
pub fn no_consent(why: String) -> CloudError {
    CloudError::new(
        ErrorKind::Unavailable,
        "AccountChanged",
        format!("not filed: {why}"),
    )
}

/// What a closed request says. `no_case_account`: the CloudAccount that files with
/// `SupportCaseAllowed=false`, whose NOT_APPROVED is AWS declining to open a case.
pub fn closed_message(view: &RequestView, no_case_account: Option<&str>) -> String {
    if let Some(account) = no_case_account.filter(|_| view.status == "NOT_APPROVED") {
        return format!(
            "request {} for {} was not approved: a support case was not allowed \
             (spec.aws.supportCaseAllowed is false on CloudAccount {account}); AWS approves \
             only what it can automatically: ask for less, or allow support cases, and change \
             the spec to ask again",
            view.id, view.requested_value
        );
    }
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
#[path = "outcome_tests.rs"]
mod tests;
