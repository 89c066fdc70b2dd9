//! Kubernetes Events on transitions, so `kubectl describe` tells the story.

use kube::{
    Resource,
    runtime::events::{Event, EventType, Recorder},
};

use super::decide::outcome::Verdict;
use crate::{
    api::{QuotaRequirement, RequestPhase, TargetState, TargetStatus, reasons},
    cloud::Target,
};

/// An event to publish, decided while reconciling.
#[derive(Clone, Debug, PartialEq)]
pub struct Note {
    pub warning: bool,
    pub reason: &'static str,
    pub message: String,
}

/// Events for targets whose state changed since the status the object carried.
pub fn transitions(old: &[TargetStatus], new: &[TargetStatus]) -> Vec<Note> {
    new.iter()
        .filter_map(|t| {
            let before = old.iter().find(|o| o.region == t.region).map(|o| o.state);
            if before == Some(t.state) {
                return None;
            }
            let (warning, reason) = match (before, t.state) {
                // A region that is fine the first time it is seen tells nobody anything, and
                // kube-runtime's recorder scans its whole event cache on every publish: a fleet
                // of healthy objects at start-up made that quadratic (found with perf).
                (None, TargetState::Satisfied) => return None,
                (Some(TargetState::Requested), TargetState::Satisfied) => {
                    (false, reasons::APPROVED)
                }
                (_, TargetState::Requested) => return None, // told by RequestFiled/RequestAdopted
                (_, TargetState::Error) => (true, reasons::CLOUD_ERROR),
                (_, s @ (TargetState::Satisfied | TargetState::Queued)) => (false, s.as_str()),
                (_, s) => (true, s.as_str()),
            };
            let message = format!("{}: {}", t.region, t.message.as_deref().unwrap_or_default());
            Some(Note {
                warning,
                reason,
                message,
            })
        })
        .collect()
}

/// RequestFiled for a new request; RequestAdopted when the target now follows a request that
/// someone else opened.
pub fn filed_or_adopted(target: &Target, before: Option<&str>, verdict: &Verdict) -> Option<Note> {
    let adopted = || {
        let t = verdict.request.as_ref()?;
        let follows = matches!(verdict.state, TargetState::Requested | TargetState::Queued);
        (follows && !t.filed_by_me && before != Some(t.view.id.as_str())).then_some(&t.view)
    };
    let (reason, view) = match &verdict.filed {
        Some((_, Some(v))) => (reasons::REQUEST_FILED, v),
        Some((_, None)) => return None,
        None => (reasons::REQUEST_ADOPTED, adopted()?),
    };
    let by = view
        .origin
        .map(|o| format!(", made by {}", o.as_str()))
        .unwrap_or_default();
    Some(Note {
        warning: false,
        reason,
        message: format!(
            "{}: request {} for {} ({}{by})",
            target.region, view.id, view.requested_value, view.status
        ),
    })
}

/// A warning for each region whose usage crossed the threshold since the status the object
/// carried (once per crossing, not once per reconcile).
pub fn near_limit(old: &[TargetStatus], new: &[TargetStatus], threshold: f64) -> Vec<Note> {
    let was_near = super::status::near(old, threshold);
    super::status::near(new, threshold)
        .into_iter()
        .filter(|(t, _)| !was_near.iter().any(|(o, _)| o.region == t.region))
        .map(|(t, used)| Note {
            warning: true,
            reason: reasons::UTILIZATION_HIGH,
            message: format!(
                "{}: {used} % of the quota's {} is used (threshold {threshold} %){}",
                t.region,
                t.current_value.map_or("?".into(), crate::usage::number),
                t.usage
                    .as_ref()
                    .and_then(|u| u.forecast.as_deref())
                    .map(|f| format!("; {f}"))
                    .unwrap_or_default()
            ),
        })
        .collect()
}

/// An event for each AWS message in a request's support case that the status the object
/// carried did not show yet: once per message, since the status keeps its time.
pub fn case_messages(old: &[TargetStatus], new: &[TargetStatus]) -> Vec<Note> {
    new.iter()
        .filter_map(|t| {
            let request = t.request.as_ref()?;
            let case = request.case.as_deref()?;
            let before = (old.iter().find(|o| o.region == t.region))
                .and_then(|o| o.request.as_ref())
                .filter(|r| r.id == request.id)
                .and_then(|r| r.case.as_deref());
            if !super::case_view::new_aws_message(before, case) {
                return None;
            }
            let waits = if case.awaiting_customer {
                "; AWS waits for your answer"
            } else {
                ""
            };
            Some(Note {
                warning: case.awaiting_customer,
                reason: reasons::SUPPORT_CASE_MESSAGE,
                message: format!(
                    "{}: AWS wrote in support case {} of request {}: {}{waits}",
                    t.region,
                    case.display_id.as_deref().unwrap_or("?"),
                    request.id,
                    case.latest_aws_message.as_deref().unwrap_or_default()
                ),
            })
        })
        .collect()
}

/// How long each request that closed in this reconcile was open (filing to close), from the
/// cloud's own times.
pub fn closed_requests(old: &[TargetStatus], new: &[TargetStatus]) -> Vec<std::time::Duration> {
    new.iter()
        .filter_map(|t| {
            let now = t.request.as_ref()?;
            let before = old
                .iter()
                .find(|o| o.region == t.region)?
                .request
                .as_ref()?;
            let was_open = before
                .phase
                .is_none_or(|p| matches!(p, RequestPhase::Open | RequestPhase::Unknown));
            let is_closed = now
                .phase
                .is_some_and(|p| !matches!(p, RequestPhase::Open | RequestPhase::Unknown));
            if before.id != now.id || !was_open || !is_closed {
                return None;
            }
            let (from, to) = (now.submitted_at.as_ref()?.0, now.updated_at.as_ref()?.0);
            to.duration_since(from).try_into().ok()
        })
        .collect()
}

pub async fn publish(recorder: &Recorder, obj: &QuotaRequirement, notes: &[Note]) {
    let reference = obj.object_ref(&());
    for note in notes {
        let event = Event {
            type_: if note.warning {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: note.reason.into(),
            note: Some(truncate(&note.message, 1024)),
            action: "Reconcile".into(),
            secondary: None,
        };
        if let Err(e) = recorder.publish(&event, &reference).await {
            tracing::warn!(error = %e, reason = note.reason, "could not publish event");
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_region_crossing_the_threshold_warns_once() {
        let t = |percent: f64| TargetStatus {
            region: "us-east-1".into(),
            current_value: Some(640.0),
            desired_value: Some(100),
            driven_by: None,
            state: TargetState::Satisfied,
            request: None,
            capacity: None,
            usage: Some(Box::new(crate::api::UsageStatus {
                utilization_percent: Some(percent),
                forecast: Some("the trend reaches 640 in about 3 days".into()),
                ..Default::default()
            })),
            headroom: None,
            message: None,
        };
        let notes = near_limit(&[t(70.0)], &[t(85.0)], 80.0);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].warning);
        assert_eq!(notes[0].reason, "UtilizationHigh");
        assert!(
            notes[0].message.contains("85 % of the quota's 640"),
            "{}",
            notes[0].message
        );
        assert!(notes[0].message.contains("in about 3 days"));
        assert!(
            near_limit(&[t(85.0)], &[t(90.0)], 80.0).is_empty(),
            "still above: no new event"
        );
        assert!(near_limit(&[t(85.0)], &[t(70.0)], 80.0).is_empty());
    }

    use super::*;

    fn t(region: &str, state: TargetState) -> TargetStatus {
        TargetStatus {
            region: region.into(),
            current_value: None,
            desired_value: None,
            capacity: None,
            driven_by: None,
            state,
            request: None,
            usage: None,
            headroom: None,
            message: Some("m".into()),
        }
    }

    #[test]
    fn only_changed_targets_make_events() {
        let old = [
            t("a", TargetState::Requested),
            t("b", TargetState::Satisfied),
        ];
        let new = [
            t("a", TargetState::Satisfied),
            t("b", TargetState::Satisfied),
        ];
        let notes = transitions(&old, &new);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].reason, "Approved");
        assert!(transitions(&new, &new).is_empty());
    }

    #[test]
    fn a_region_satisfied_when_first_seen_makes_no_event() {
        assert!(transitions(&[], &[t("a", TargetState::Satisfied)]).is_empty());
        let first_denied = transitions(&[], &[t("a", TargetState::Denied)]);
        assert_eq!(first_denied[0].reason, "Denied");
        let back = transitions(
            &[t("a", TargetState::Error)],
            &[t("a", TargetState::Satisfied)],
        );
        assert_eq!(back[0].reason, "Satisfied");
    }

    #[test]
    fn denials_are_warnings() {
        let notes = transitions(
            &[t("a", TargetState::Requested)],
            &[t("a", TargetState::Denied)],
        );
        assert_eq!(notes[0].reason, "Denied");
        assert!(notes[0].warning);
    }
}
