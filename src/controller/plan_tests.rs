use jiff::{SignedDuration, Timestamp};

use super::*;

fn request(id: &str, status: &str, value: f64) -> RequestView {
    RequestView {
        id: id.into(),
        case_id: None,
        status: status.into(),
        phase: Phase::from_aws_status(status),
        requested_value: value,
        granted_value: None,
        submitted_at: None,
        updated_at: Some(Timestamp::now()),
        message: Some("cloud says so".into()),
    }
}

fn tracked(view: RequestView, closed_at: Option<i64>) -> Tracked {
    Tracked {
        view,
        closed_at_generation: closed_at,
    }
}

fn input<'a>(current: f64, own: i64) -> PlanInput<'a> {
    PlanInput {
        now: Timestamp::now(),
        generation: 1,
        current,
        adjustable: true,
        own_value: own,
        effective: own,
        is_driver: true,
        allow_decrease: false,
        blocked: None,
        own_request: None,
        open_request: None,
    }
}

fn state(plan: &Plan) -> Option<TargetState> {
    match plan {
        Plan::Hold { state, .. } => Some(*state),
        Plan::File { .. } => None,
    }
}

#[test]
fn current_value_that_meets_the_need_is_satisfied_without_filing() {
    assert_eq!(
        state(&plan(&input(2000.0, 2000))),
        Some(TargetState::Satisfied)
    );
    assert_eq!(
        state(&plan(&input(5000.0, 2000))),
        Some(TargetState::Satisfied)
    );
}

#[test]
fn a_shortfall_files_the_effective_value() {
    let mut i = input(640.0, 1000);
    i.effective = 2000;
    i.is_driver = false;
    assert_eq!(plan(&i), Plan::File { value: 2000 });
}

#[test]
fn non_adjustable_quota_is_never_filed() {
    let mut i = input(10.0, 100);
    i.adjustable = false;
    assert_eq!(state(&plan(&i)), Some(TargetState::NotAdjustable));
}

#[test]
fn an_open_request_is_followed_not_refiled() {
    let own = tracked(request("r1", "CASE_OPENED", 2000.0), None);
    let mut i = input(640.0, 2000);
    i.own_request = Some(&own);
    assert_eq!(state(&plan(&i)), Some(TargetState::Requested));
}

#[test]
fn an_open_request_known_to_the_process_is_adopted() {
    let open = request("r1", "PENDING", 2000.0);
    let mut i = input(640.0, 2000);
    i.open_request = Some(&open);
    let Plan::Hold { state, request, .. } = plan(&i) else {
        panic!("must not file")
    };
    assert_eq!(state, TargetState::Requested);
    assert_eq!(request.unwrap().view.id, "r1");
}

#[test]
fn an_open_request_below_the_need_queues_the_larger_one() {
    let open = request("r1", "PENDING", 1000.0);
    let mut i = input(640.0, 2000);
    i.open_request = Some(&open);
    assert_eq!(state(&plan(&i)), Some(TargetState::Queued));
}

#[test]
fn an_unknown_status_word_is_followed_never_taken_as_success() {
    let own = tracked(request("r1", "SOMETHING_NEW", 2000.0), None);
    assert_eq!(own.view.phase, Phase::Unknown);
    let mut i = input(640.0, 2000);
    i.own_request = Some(&own);
    assert_eq!(state(&plan(&i)), Some(TargetState::Requested));
}

#[test]
fn denied_request_is_stamped_and_not_refiled_until_the_spec_changes() {
    let denied = tracked(request("r1", "DENIED", 2000.0), None);
    let mut i = input(640.0, 2000);
    i.own_request = Some(&denied);
    let Plan::Hold {
        state,
        request,
        message,
    } = plan(&i)
    else {
        panic!("must not file")
    };
    assert_eq!(state, TargetState::Denied);
    assert!(message.contains("cloud says so"), "{message}");
    let stamped = request.unwrap();
    assert_eq!(stamped.closed_at_generation, Some(1));

    // The same generation later: still denied.
    let mut again = input(640.0, 2000);
    again.own_request = Some(&stamped);
    assert_eq!(state_of(&again), Some(TargetState::Denied));

    // A new generation: ask again.
    let mut changed = input(640.0, 2500);
    changed.generation = 2;
    changed.own_request = Some(&stamped);
    assert_eq!(plan(&changed), Plan::File { value: 2500 });
}

fn state_of(i: &PlanInput<'_>) -> Option<TargetState> {
    state(&plan(i))
}

#[test]
fn every_closing_status_counts_as_a_denial() {
    for status in ["DENIED", "NOT_APPROVED", "CASE_CLOSED", "INVALID_REQUEST"] {
        let own = tracked(request("r1", status, 2000.0), None);
        let mut i = input(640.0, 2000);
        i.own_request = Some(&own);
        assert_eq!(state_of(&i), Some(TargetState::Denied), "{status}");
    }
}

#[test]
fn guardrail_blocks_instead_of_filing() {
    let mut i = input(640.0, 50_000);
    i.blocked = Some("over the guardrail".into());
    assert_eq!(state_of(&i), Some(TargetState::Blocked));
}

#[test]
fn approved_request_waits_for_the_value_instead_of_refiling() {
    let approved = tracked(request("r1", "APPROVED", 2000.0), None);
    let mut i = input(640.0, 2000);
    i.own_request = Some(&approved);
    assert_eq!(state_of(&i), Some(TargetState::Requested));

    // Long after approval with the value still short: something else changed it; ask again.
    let mut stale = approved.clone();
    stale.view.updated_at = Some(Timestamp::now() - SignedDuration::from_hours(2));
    i.own_request = Some(&stale);
    assert_eq!(plan(&i), Plan::File { value: 2000 });
}

#[test]
fn approved_request_for_less_than_the_new_need_files_again() {
    let approved = tracked(request("r1", "APPROVED", 1000.0), None);
    let mut i = input(1000.0, 2000);
    i.own_request = Some(&approved);
    assert_eq!(plan(&i), Plan::File { value: 2000 });
}

#[test]
fn decrease_only_when_allowed_and_driving() {
    let mut i = input(3000.0, 2000);
    assert_eq!(state_of(&i), Some(TargetState::Satisfied));
    i.allow_decrease = true;
    assert_eq!(plan(&i), Plan::File { value: 2000 });
    i.is_driver = false;
    assert_eq!(state_of(&i), Some(TargetState::Satisfied));
}
