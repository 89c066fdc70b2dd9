//! Status: turn the targets' outcomes into conditions and a summary (written by `writes`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::api::{
    QuotaRequirement, QuotaRequirementStatus, TargetState, TargetStatus,
    conditions::{
        self, Desired, READY, REASON_ALL_SATISFIED, REASON_CLOUD_ERROR, REASON_IDLE,
        REASON_NOT_STALLED, REASON_QUEUED, REASON_REQUEST_OPEN, RECONCILING, SATISFIED, STALLED,
    },
};

/// A reason the whole object cannot proceed (account missing, not allowed, ...).
#[derive(Clone, Debug, PartialEq)]
pub struct Blocker {
    pub reason: &'static str,
    pub message: String,
}

/// The status the object should have, given its targets (or a blocker that stops them all).
pub fn build(
    obj: &QuotaRequirement,
    quota: Option<String>,
    targets: Vec<TargetStatus>,
    blocker: Option<&Blocker>,
    since: jiff::Timestamp,
) -> QuotaRequirementStatus {
    let old = obj.status.clone().unwrap_or_default();
    let generation = obj.metadata.generation;
    let desired = desired_conditions(&targets, blocker);
    let now = time(jiff::Timestamp::now());
    let summary = match blocker {
        Some(b) if targets.iter().all(|t| t.state == TargetState::Blocked) => b.reason.to_string(),
        _ => summary(&targets),
    };
    QuotaRequirementStatus {
        observed_generation: generation,
        conditions: conditions::merge(&old.conditions, desired, generation, &now),
        quota: quota.or(old.quota),
        summary: Some(summary),
        targets,
        filings: old.filings,
        generation_observed_at: Some(time(since)),
    }
}

/// A timestamp as the API server keeps it (whole seconds), so a status read back compares equal
/// to the one written and no patch is sent for nothing.
pub fn time(t: jiff::Timestamp) -> Time {
    Time(jiff::Timestamp::from_second(t.as_second()).unwrap_or(t))
}

/// One word when every target agrees, else how many are satisfied.
pub fn summary(targets: &[TargetStatus]) -> String {
    let Some(first) = targets.first() else {
        return "Pending".into();
    };
    if targets.iter().all(|t| t.state == first.state) {
        return first.state.as_str().into();
    }
    let satisfied = targets
        .iter()
        .filter(|t| t.state == TargetState::Satisfied)
        .count();
    format!("{satisfied}/{} satisfied", targets.len())
}

fn desired_conditions(targets: &[TargetStatus], blocker: Option<&Blocker>) -> Vec<Desired> {
    let describe = |states: &[TargetState]| {
        targets
            .iter()
            .filter(|t| states.contains(&t.state))
            .map(|t| {
                format!(
                    "{}: {}",
                    t.region,
                    t.message.as_deref().unwrap_or(t.state.as_str())
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let condition = |type_, status, reason: &str, message: String| Desired {
        type_,
        status,
        reason: reason.into(),
        message,
    };
    let has = |s: TargetState| targets.iter().any(|t| t.state == s);
    let all_satisfied =
        !targets.is_empty() && targets.iter().all(|t| t.state == TargetState::Satisfied);

    // The most telling state names the reason: a terminal outcome outranks work in flight.
    let terminal = [
        TargetState::Denied,
        TargetState::PartiallyGranted,
        TargetState::NotAdjustable,
        TargetState::Blocked,
    ];
    let working = [
        TargetState::Error,
        TargetState::Requested,
        TargetState::Queued,
    ];
    let stalled_by = match blocker {
        Some(b) if !targets.iter().any(|t| t.state == TargetState::Error) => {
            Some((b.reason.to_string(), b.message.clone()))
        }
        _ => terminal
            .iter()
            .find(|s| has(**s))
            .map(|s| (s.as_str().to_string(), describe(&terminal))),
    };
    let reconciling_by = match (&stalled_by, blocker) {
        (Some(_), _) => None,
        (None, Some(b)) => Some((b.reason.to_string(), b.message.clone())),
        (None, None) if has(TargetState::Error) => Some((
            REASON_CLOUD_ERROR.to_string(),
            describe(&[TargetState::Error]),
        )),
        (None, None) if has(TargetState::Requested) => {
            Some((REASON_REQUEST_OPEN.to_string(), describe(&working)))
        }
        (None, None) if has(TargetState::Queued) => {
            Some((REASON_QUEUED.to_string(), describe(&working)))
        }
        _ => None,
    };

    let (ready, satisfied) = if all_satisfied {
        let message = describe(&[TargetState::Satisfied]);
        (
            condition(READY, true, REASON_ALL_SATISFIED, message.clone()),
            condition(SATISFIED, true, REASON_ALL_SATISFIED, message),
        )
    } else {
        let (reason, message) = stalled_by
            .clone()
            .or_else(|| reconciling_by.clone())
            .unwrap_or_else(|| ("Pending".into(), "not yet observed".into()));
        (
            condition(READY, false, &reason, message.clone()),
            condition(SATISFIED, false, &reason, message),
        )
    };
    let reconciling = match reconciling_by {
        Some((reason, message)) => condition(RECONCILING, true, &reason, message),
        None => condition(
            RECONCILING,
            false,
            REASON_IDLE,
            "no request open or queued".into(),
        ),
    };
    let stalled = match stalled_by {
        Some((reason, message)) => condition(STALLED, true, &reason, message),
        None => condition(
            STALLED,
            false,
            REASON_NOT_STALLED,
            "nothing waits for a spec or account change".into(),
        ),
    };
    // Stalled before Reconciling: kstatus reads the first of the two that is true, and they are
    // never both true.
    vec![ready, satisfied, stalled, reconciling]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(region: &str, state: TargetState) -> TargetStatus {
        TargetStatus {
            region: region.into(),
            current_value: Some(1.0),
            desired_value: Some(2),
            capacity: None,
            driven_by: None,
            state,
            request: None,
            message: Some(format!("{state:?} here")),
        }
    }

    /// (Ready, Reconciling, Stalled) and the reason of Ready.
    fn verdict(states: &[TargetState], blocker: Option<&Blocker>) -> (bool, bool, bool, String) {
        let targets: Vec<_> = states
            .iter()
            .enumerate()
            .map(|(i, s)| target(&format!("r{i}"), *s))
            .collect();
        let c = desired_conditions(&targets, blocker);
        let get = |t: &str| c.iter().find(|d| d.type_ == t).unwrap();
        (
            get(READY).status,
            get(RECONCILING).status,
            get(STALLED).status,
            get(READY).reason.clone(),
        )
    }

    #[test]
    fn ready_only_when_every_region_is_satisfied() {
        use TargetState::*;
        assert_eq!(
            verdict(&[Satisfied, Satisfied], None),
            (true, false, false, "AllSatisfied".into())
        );
        assert!(!verdict(&[Satisfied, Requested], None).0);
        assert!(!verdict(&[], None).0);
    }

    #[test]
    fn open_queued_and_failing_regions_are_reconciling() {
        use TargetState::*;
        assert_eq!(
            verdict(&[Requested], None),
            (false, true, false, "RequestOpen".into())
        );
        assert_eq!(
            verdict(&[Queued], None),
            (false, true, false, "Queued".into())
        );
        assert_eq!(
            verdict(&[Satisfied, Error], None),
            (false, true, false, "CloudError".into())
        );
    }

    #[test]
    fn terminal_states_stall_and_outrank_work_in_flight() {
        use TargetState::*;
        for state in [Denied, PartiallyGranted, NotAdjustable, Blocked] {
            let (ready, reconciling, stalled, reason) =
                verdict(&[Satisfied, state, Requested], None);
            assert!(!ready && !reconciling && stalled, "{state:?}");
            assert_eq!(reason, state.as_str());
        }
    }

    #[test]
    fn an_account_problem_stalls_unless_it_is_being_retried() {
        let blocker = Blocker {
            reason: "AccountMismatch",
            message: "STS says 222".into(),
        };
        assert_eq!(
            verdict(&[TargetState::Blocked], Some(&blocker)),
            (false, false, true, "AccountMismatch".into())
        );
        let retried = Blocker {
            reason: "CloudError",
            message: "STS unavailable".into(),
        };
        assert_eq!(
            verdict(&[TargetState::Error], Some(&retried)),
            (false, true, false, "CloudError".into())
        );
    }
}
