use jiff::{SignedDuration, Timestamp};

use super::{
    Ask, Need, Observed, Plan,
    drive::{self, Outside},
    outcome::{Filed, closed_message},
    plan,
    refusals::settles,
    requests::{History, Intent, Tracked},
};
use crate::{
    api::TargetState,
    cloud::{CloudError, Phase, RequestView},
    controller::aggregate::Effective,
};

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
        origin: None,
        justification: None,
    }
}

fn tracked(view: RequestView, closed_at: Option<i64>) -> Tracked {
    Tracked {
        view,
        closed_at_generation: closed_at,
        filed_by_me: true,
    }
}

/// The world of a unit test: the cloud's history is `history`, the other objects are as the
/// fixture says, and a filing is not made (the plan that asked for it is returned).
struct Fixture {
    history: History,
    reads: Vec<Ask>,
}

impl Outside for Fixture {
    async fn read(&mut self, ask: Ask, o: &mut Observed) -> Result<(), CloudError> {
        assert!(!self.reads.contains(&ask), "{ask:?} is read once");
        self.reads.push(ask);
        match ask {
            Ask::History => o.history = Some(self.history.clone()),
            Ask::Peers => o.peers_fresh = true,
        }
        Ok(())
    }

    async fn file(&mut self, _: &Observed, _: i64) -> Result<Filed, CloudError> {
        Ok(Filed::Dry)
    }
}

/// What the controller's loop decides for `i`, with `history` (empty unless a test gives one)
/// when the plan needs the cloud's history: the plan it ends on.
fn decide(i: &Observed) -> Plan {
    decide_with(i, &History::default())
}

fn decide_with(i: &Observed, history: &History) -> Plan {
    let mut world = Fixture {
        history: history.clone(),
        reads: vec![],
    };
    let mut o = i.clone();
    let verdict =
        futures::executor::block_on(drive::run(&mut o, &mut world)).expect("no read fails");
    match verdict.filed {
        Some((value, _)) => Plan::File { value },
        None if verdict.wake_at.is_some() => Plan::Wait {
            until: verdict.wake_at.expect("checked"),
            message: verdict.message,
            request: verdict.request,
        },
        None => Plan::Hold {
            state: verdict.state,
            message: verdict.message,
            request: verdict.request,
        },
    }
}

/// When the fixtures' needs were declared: before any request a test makes.
fn long_ago() -> Timestamp {
    Timestamp::now() - SignedDuration::from_hours(24 * 30)
}

fn input(current: f64, own: i64) -> Observed {
    Observed::new(
        Timestamp::now(),
        current,
        "L-1".into(),
        long_ago(),
        driving(own),
    )
}

/// This object's own need of `own`, which drives the quota, declared long ago.
pub(super) fn driving(own: i64) -> Need {
    let me = "team/me".to_string();
    let effective = Effective {
        value: own,
        driven_by: me.clone(),
        since: long_ago(),
    };
    Need::new(me, own, effective)
}

fn state(plan: &Plan) -> Option<TargetState> {
    match plan {
        Plan::Hold { state, .. } => Some(*state),
        Plan::Wait { .. } => Some(TargetState::Queued),
        Plan::File { .. } | Plan::Read(_) => None,
    }
}

#[test]
fn current_value_that_meets_the_need_is_satisfied_without_filing() {
    assert_eq!(
        state(&decide(&input(2000.0, 2000))),
        Some(TargetState::Satisfied)
    );
    assert_eq!(
        state(&decide(&input(5000.0, 2000))),
        Some(TargetState::Satisfied)
    );
}

#[test]
fn a_shortfall_files_the_effective_value() {
    let mut i = input(640.0, 1000);
    i.need.effective = 2000;
    i.need.is_driver = false;
    assert_eq!(decide(&i), Plan::File { value: 2000 });
}

#[test]
fn non_adjustable_quota_is_never_filed() {
    let mut i = input(10.0, 100);
    i.adjustable = false;
    assert_eq!(state(&decide(&i)), Some(TargetState::NotAdjustable));
}

#[test]
fn an_open_request_is_followed_not_refiled() {
    let own = tracked(request("r1", "CASE_OPENED", 2000.0), None);
    let mut i = input(640.0, 2000);
    i.own_request = Some(own.clone());
    assert_eq!(state(&decide(&i)), Some(TargetState::Requested));
}

#[test]
fn an_open_request_known_to_the_process_is_adopted() {
    let open = request("r1", "PENDING", 2000.0);
    let mut i = input(640.0, 2000);
    i.open_request = Some(open.clone());
    let Plan::Hold { state, request, .. } = decide(&i) else {
        panic!("must not file")
    };
    assert_eq!(state, TargetState::Requested);
    assert_eq!(request.unwrap().view.id, "r1");
}

#[test]
fn an_open_request_below_the_need_queues_the_larger_one() {
    let open = request("r1", "PENDING", 1000.0);
    let mut i = input(640.0, 2000);
    i.open_request = Some(open.clone());
    assert_eq!(state(&decide(&i)), Some(TargetState::Queued));
}

#[test]
fn an_unknown_status_word_is_followed_never_taken_as_success() {
    let own = tracked(request("r1", "SOMETHING_NEW", 2000.0), None);
    assert_eq!(own.view.phase, Phase::Unknown);
    let mut i = input(640.0, 2000);
    i.own_request = Some(own.clone());
    assert_eq!(state(&decide(&i)), Some(TargetState::Requested));
}

#[test]
fn denied_request_is_stamped_and_not_refiled_until_the_spec_changes() {
    let denied = tracked(request("r1", "DENIED", 2000.0), None);
    let mut i = input(640.0, 2000);
    i.own_request = Some(denied.clone());
    let Plan::Hold {
        state,
        request,
        message,
    } = decide(&i)
    else {
        panic!("must not file")
    };
    assert_eq!(state, TargetState::Denied);
    assert!(message.contains("cloud says so"), "{message}");
    let stamped = request.unwrap();
    assert_eq!(stamped.closed_at_generation, Some(1));

    // The same generation later: still denied.
    let mut again = input(640.0, 2000);
    again.own_request = Some(stamped.clone());
    assert_eq!(state_of(&again), Some(TargetState::Denied));

    // A new generation: ask again.
    let mut changed = input(640.0, 2500);
    changed.generation = 2;
    changed.own_request = Some(stamped.clone());
    assert_eq!(decide(&changed), Plan::File { value: 2500 });
}

fn state_of(i: &Observed) -> Option<TargetState> {
    state(&plan(i))
}

#[test]
fn every_closing_status_counts_as_a_denial() {
    for status in ["DENIED", "NOT_APPROVED", "CASE_CLOSED", "INVALID_REQUEST"] {
        let own = tracked(request("r1", status, 2000.0), None);
        let mut i = input(640.0, 2000);
        i.own_request = Some(own.clone());
        assert_eq!(state_of(&i), Some(TargetState::Denied), "{status}");
    }
}

#[test]
fn guardrail_blocks_instead_of_filing() {
    let mut i = input(640.0, 50_000);
    i.need.blocked = Some("over the guardrail".into());
    assert_eq!(state_of(&i), Some(TargetState::Blocked));
}

#[test]
fn approved_request_waits_for_the_value_instead_of_refiling() {
    let approved = tracked(request("r1", "APPROVED", 2000.0), None);
    let mut i = input(640.0, 2000);
    i.own_request = Some(approved.clone());
    assert_eq!(state_of(&i), Some(TargetState::Requested));

    // Long after approval with the value still short: something else changed it; ask again.
    let mut stale = approved.clone();
    stale.view.updated_at = Some(Timestamp::now() - SignedDuration::from_hours(2));
    i.own_request = Some(stale.clone());
    assert_eq!(decide(&i), Plan::File { value: 2000 });
}

#[test]
fn approved_request_for_less_than_the_new_need_files_again() {
    let approved = tracked(request("r1", "APPROVED", 1000.0), None);
    let mut i = input(1000.0, 2000);
    i.own_request = Some(approved.clone());
    assert_eq!(decide(&i), Plan::File { value: 2000 });
}

#[test]
fn decrease_only_when_allowed_and_driving() {
    let mut i = input(3000.0, 2000);
    assert_eq!(state_of(&i), Some(TargetState::Satisfied));
    i.allow_decrease = true;
    i.decrease_floor = Some(0);
    assert_eq!(decide(&i), Plan::File { value: 2000 });
    i.need.is_driver = false;
    assert_eq!(state_of(&i), Some(TargetState::Satisfied));
}

#[test]
fn nothing_is_filed_before_the_history_is_read() {
    assert_eq!(plan(&input(640.0, 2000)), Plan::Read(Ask::History));
}

#[test]
fn an_open_request_in_the_history_is_adopted_not_duplicated() {
    let history = History {
        open: Some(request("console", "CASE_OPENED", 2500.0)),
        ..History::default()
    };
    let Plan::Hold { state, request, .. } = decide_with(&input(640.0, 2000), &history) else {
        panic!("must not file")
    };
    assert_eq!(state, TargetState::Requested);
    let request = request.unwrap();
    assert_eq!(request.view.id, "console");
    assert!(!request.filed_by_me, "adopted, not filed by this object");
}

#[test]
fn a_refused_combined_request_above_this_objects_need_lets_it_file_its_own_once() {
    // Another object drove the request to 2000; this one needs 1000.
    let combined = tracked(request("r1", "DENIED", 2000.0), None);
    let mut i = input(640.0, 1000);
    i.own_request = Some(combined.clone());
    assert_eq!(decide(&i), Plan::File { value: 1000 });

    // Its own request for 1000, refused too, settles it.
    let own = tracked(request("r2", "DENIED", 1000.0), None);
    i.own_request = Some(own.clone());
    assert_eq!(state_of(&i), Some(TargetState::Denied));
    assert!(settles(&own, 1000, 1));
    assert!(!settles(&combined, 1000, 1));
}

#[test]
fn an_approved_request_in_the_history_is_waited_for_after_a_crash() {
    let history = History {
        latest: Some(request("r1", "APPROVED", 2000.0)),
        ..History::default()
    };
    assert_eq!(
        state(&decide_with(&input(640.0, 2000), &history)),
        Some(TargetState::Requested)
    );
    let small = History {
        latest: Some(request("r1", "APPROVED", 1000.0)),
        ..History::default()
    };
    assert_eq!(
        decide_with(&input(640.0, 2000), &small),
        Plan::File { value: 2000 }
    );
}

fn intent_at(value: i64, at: Timestamp) -> Intent {
    Intent {
        value,
        at,
        generation: 1,
    }
}

#[test]
fn a_request_made_by_this_objects_recorded_filing_is_claimed_after_a_crash() {
    let now = Timestamp::now();
    let mut denied = request("r1", "DENIED", 2000.0);
    denied.submitted_at = Some(now);
    let history = History {
        latest: Some(denied.clone()),
        ..History::default()
    };
    let intent = intent_at(2000, now - SignedDuration::from_secs(1));
    let mut i = input(640.0, 2000);
    i.intent = Some(intent.clone());
    let Plan::Hold { state, request, .. } = decide_with(&i, &history) else {
        panic!("the request it made must be claimed, not filed again")
    };
    assert_eq!(state, TargetState::Denied);
    let request = request.unwrap();
    assert!(request.filed_by_me);
    assert_eq!(request.closed_at_generation, Some(1));
}

#[test]
fn a_refusal_this_object_did_not_file_is_never_claimed_but_settles_a_need_it_postdates() {
    let now = Timestamp::now();
    let mut denied = request("r1", "DENIED", 2000.0);
    denied.submitted_at = Some(now);
    let history = History::of(vec![denied]);
    // Made before this need was declared: not this object's refusal, so it asks.
    let mut newer = input(640.0, 2000);
    newer.since = now + SignedDuration::from_mins(1);
    newer.need.driver_since = newer.since;
    assert_eq!(decide_with(&newer, &history), Plan::File { value: 2000 });
    // An intent for another value, or made after the request: not this object's request.
    let other_value = intent_at(3000, now);
    newer.intent = Some(other_value.clone());
    assert_eq!(decide_with(&newer, &history), Plan::File { value: 2000 });
    let later = intent_at(2000, now + SignedDuration::from_mins(10));
    newer.intent = Some(later.clone());
    assert_eq!(decide_with(&newer, &history), Plan::File { value: 2000 });
    // Made since the need was declared: the same value is never asked for again, and the
    // refusal is shown as someone else's.
    let (state, shown) = held(decide_with(&input(640.0, 2000), &history));
    assert_eq!(state, TargetState::Denied);
    assert!(!shown.filed_by_me);
}

#[test]
fn the_guardrails_judge_the_value_that_is_filed_not_only_this_objects_own() {
    let guardrails = crate::api::Guardrails {
        max_values: [("L-1".to_string(), 1000)].into(),
        ..Default::default()
    };
    let mut i = input(640.0, 700);
    i.need.effective = 8_000_000;
    i.need.is_driver = false;
    i.guardrails = Some(guardrails.clone());
    let Plan::Hold { state, message, .. } = decide(&i) else {
        panic!("8,000,000 must not be filed past maxValues 1000")
    };
    assert_eq!(state, TargetState::Blocked);
    assert!(message.contains("maxValues[L-1] = 1000"), "{message}");
    i.need.effective = 700;
    i.need.is_driver = true;
    assert_eq!(decide(&i), Plan::File { value: 700 });
}

#[test]
fn a_decrease_needs_the_accounts_consent_and_stops_at_its_floor() {
    // The spec asks, the account does not consent: satisfied, never lowered, and said so.
    let mut i = input(96.0, 1);
    i.allow_decrease = true;
    let Plan::Hold { state, message, .. } = decide(&i) else {
        panic!("must not lower without the account's consent")
    };
    assert_eq!(state, TargetState::Satisfied);
    assert!(message.contains("does not consent"), "{message}");
    // Consent down to 64: lowering to 1 is blocked, to 80 is filed.
    i.decrease_floor = Some(64);
    let Plan::Hold { state, message, .. } = decide(&i) else {
        panic!("must not lower below the account's floor")
    };
    assert_eq!(state, TargetState::Blocked);
    assert!(message.contains("minValues[L-1] = 64"), "{message}");
    let mut above = input(96.0, 80);
    above.allow_decrease = true;
    above.decrease_floor = Some(64);
    assert_eq!(decide(&above), Plan::File { value: 80 });
}

fn refused_at(id: &str, value: f64, at: Timestamp) -> RequestView {
    let mut r = request(id, "DENIED", value);
    r.submitted_at = Some(at);
    r.updated_at = Some(at);
    r
}

#[test]
fn a_refused_quota_waits_out_the_cooldown_then_asks_for_the_largest_need_below_it() {
    let now = Timestamp::now();
    let day = SignedDuration::from_hours(24);
    // 1180 was refused a minute ago; this object needs 1150, which nobody asked for.
    let history = History::of(vec![refused_at(
        "r1",
        1180.0,
        now - SignedDuration::from_mins(1),
    )]);
    let mut i = input(5.0, 1150);
    i.cooldown = day;
    let Plan::Wait { until, message, .. } = decide_with(&i, &history) else {
        panic!("a refused quota is not asked again within the cooldown")
    };
    assert!(until > now + SignedDuration::from_hours(23), "{until}");
    assert!(
        message.contains("request r1 for 1180 was DENIED"),
        "{message}"
    );
    assert!(message.contains("for 1150"), "{message}");
    // A day later it asks, once, for its own need.
    let old = History::of(vec![refused_at(
        "r1",
        1180.0,
        now - day - SignedDuration::from_mins(1),
    )]);
    assert_eq!(decide_with(&i, &old), Plan::File { value: 1150 });
    // The 1180 need itself is settled by the refusal, whoever filed it.
    let mut driver = input(5.0, 1180);
    driver.cooldown = day;
    assert_eq!(
        state(&decide_with(&driver, &old)),
        Some(TargetState::Denied)
    );
}

#[test]
fn a_need_declared_after_the_refusal_waits_out_the_cooldown_too() {
    let now = Timestamp::now();
    let history = History::of(vec![refused_at(
        "r1",
        1180.0,
        now - SignedDuration::from_mins(10),
    )]);
    // A new object (or a spec change) after the refusal is not settled by it, but the quota is
    // asked at most once per cooldown whatever need asks: no walking around it.
    let mut i = input(5.0, 2000);
    i.cooldown = SignedDuration::from_hours(24);
    i.since = now - SignedDuration::from_mins(1);
    i.need.driver_since = i.since;
    let Plan::Wait { until, message, .. } = decide_with(&i, &history) else {
        panic!("waits")
    };
    assert_eq!(
        until,
        refusals_closed(&history) + SignedDuration::from_hours(24)
    );
    assert!(message.contains("for 2000"), "{message}");
    // Once the cooldown is over it asks, once.
    i.cooldown = SignedDuration::from_mins(5);
    assert_eq!(decide_with(&i, &history), Plan::File { value: 2000 });
}

fn refusals_closed(history: &History) -> Timestamp {
    History::refusals(Some(history))
        .iter()
        .filter_map(crate::controller::decide::refusals::closed_at)
        .max()
        .expect("a refusal")
}

#[test]
fn the_history_keeps_every_refusal_and_the_latest_request() {
    let now = Timestamp::now();
    let mut approved = request("a", "APPROVED", 500.0);
    approved.submitted_at = Some(now);
    let history = History::of(vec![
        refused_at("d1", 900.0, now - SignedDuration::from_hours(3)),
        approved,
        refused_at("d2", 800.0, now - SignedDuration::from_hours(2)),
    ]);
    assert_eq!(history.latest.unwrap().id, "a");
    let ids: Vec<&str> = history.refusals.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["d1", "d2"]);
}

#[test]
fn an_unlimited_quota_meets_every_need() {
    let Plan::Hold { state, message, .. } = decide(&input(-1.0, 1_000_000)) else {
        panic!("must not file")
    };
    assert_eq!(state, TargetState::Satisfied);
    assert!(message.contains("unlimited"), "{message}");
    // Not even an allowed decrease lowers an unlimited quota.
    let mut i = input(-1.0, 100);
    i.allow_decrease = true;
    i.decrease_floor = Some(0);
    assert_eq!(state_of(&i), Some(TargetState::Satisfied));
}

#[test]
fn a_guardrail_blocks_a_decrease_too() {
    let mut i = input(3000.0, 2000);
    i.allow_decrease = true;
    i.decrease_floor = Some(0);
    i.need.blocked = Some("over the guardrail".into());
    assert_eq!(state_of(&i), Some(TargetState::Blocked));
}

#[test]
fn a_terminal_state_turns_satisfied_when_the_quota_is_raised_elsewhere() {
    let denied = tracked(request("r1", "DENIED", 2000.0), Some(1));
    let mut i = input(2000.0, 2000);
    i.own_request = Some(denied.clone());
    assert_eq!(state_of(&i), Some(TargetState::Satisfied));
}

#[test]
fn a_request_this_object_filed_is_its_own_even_before_its_status_shows_it() {
    let open = request("r1", "PENDING", 2000.0);
    let mut i = input(640.0, 2000);
    i.open_request = Some(open.clone());
    let Plan::Hold { request, .. } = decide(&i) else {
        panic!("must not file")
    };
    assert!(!request.unwrap().filed_by_me, "someone else's by default");
    i.filed_here = Some("r1".into());
    let Plan::Hold { request, .. } = decide(&i) else {
        panic!("must not file")
    };
    assert!(request.unwrap().filed_by_me);
}

#[test]
fn a_refusal_of_exactly_this_need_recorded_by_the_driver_settles_an_object_with_none_of_its_own() {
    let combined = tracked(request("r1", "DENIED", 2000.0), Some(1));
    let mut i = input(640.0, 2000);
    i.need.peer_request = Some(combined.clone());
    let Plan::Hold {
        state,
        request: shown,
        ..
    } = decide(&i)
    else {
        panic!("the same value must not be filed again after its refusal")
    };
    assert_eq!(state, TargetState::Denied);
    assert!(!shown.unwrap().filed_by_me);
    // With a request of its own on record, that one decides.
    let own = tracked(request("r2", "CASE_OPENED", 2000.0), None);
    i.own_request = Some(own.clone());
    assert_eq!(state_of(&i), Some(TargetState::Requested));
}

#[test]
fn an_allowed_decrease_to_the_current_value_is_already_satisfied() {
    let mut i = input(2000.0, 2000);
    i.allow_decrease = true;
    i.decrease_floor = Some(0);
    assert_eq!(state_of(&i), Some(TargetState::Satisfied));
}

#[test]
fn a_satisfied_message_says_whose_need_is_met() {
    let message = |i: &Observed| match decide(i) {
        Plan::Hold { message, .. } => message,
        other => panic!("{other:?}"),
    };
    // Riding on a larger need that is not met yet, this object's own is.
    let mut rider = input(1500.0, 1000);
    rider.need.effective = 2000;
    rider.need.is_driver = false;
    assert_eq!(
        message(&rider),
        "current value 1500 meets this object's 1000"
    );
    // The driver, or an object whose need is the effective one, speaks of the desired value.
    let driver = input(2500.0, 2000);
    assert_eq!(
        message(&driver),
        "current value 2500 meets the desired 2000"
    );
    let mut equal = input(2500.0, 2000);
    equal.need.is_driver = false;
    assert_eq!(message(&equal), "current value 2500 meets the desired 2000");
}

#[test]
fn a_combined_request_the_driver_still_shows_open_is_refused_as_the_history_says() {
    let recorded_open = tracked(request("r1", "CASE_OPENED", 2000.0), None);
    let mut refused = request("r1", "DENIED", 2000.0);
    refused.submitted_at = Some(Timestamp::now());
    let history = History {
        latest: Some(refused),
        ..History::default()
    };
    let mut i = input(640.0, 2000);
    i.need.peer_request = Some(recorded_open.clone());
    assert_eq!(
        state(&decide_with(&i, &history)),
        Some(TargetState::Denied),
        "the history shows the driver's request refused: not filed again"
    );
}

fn held(plan: Plan) -> (TargetState, Tracked) {
    match plan {
        Plan::Hold {
            state,
            request: Some(request),
            ..
        } => (state, request),
        other => panic!("expected a held request, got {other:?}"),
    }
}

#[test]
fn who_filed_a_followed_request_is_kept() {
    // Its own open request stays its own; an adopted one stays adopted.
    let mine = tracked(request("r1", "CASE_OPENED", 2000.0), None);
    let mut i = input(640.0, 2000);
    i.own_request = Some(mine.clone());
    assert!(held(decide(&i)).1.filed_by_me);
    let adopted = Tracked {
        filed_by_me: false,
        ..mine.clone()
    };
    i.own_request = Some(adopted.clone());
    assert!(!held(decide(&i)).1.filed_by_me);
    // Another open request than the one on record is not this object's.
    let closed_mine = tracked(request("r0", "APPROVED", 1000.0), None);
    let other = request("r9", "PENDING", 2000.0);
    i.own_request = Some(closed_mine.clone());
    i.open_request = Some(other.clone());
    let (state, shown) = held(decide(&i));
    assert_eq!(
        (state, shown.view.id.as_str(), shown.filed_by_me),
        (TargetState::Requested, "r9", false)
    );
}

#[test]
fn an_approved_request_waited_for_keeps_its_filer() {
    let mine = tracked(request("r1", "APPROVED", 2000.0), None);
    let mut i = input(640.0, 2000);
    i.own_request = Some(mine.clone());
    assert!(held(decide(&i)).1.filed_by_me);
    let theirs = History {
        latest: Some(request("r2", "APPROVED", 2000.0)),
        ..History::default()
    };
    let (state, shown) = held(decide_with(&input(640.0, 2000), &theirs));
    assert_eq!((state, shown.filed_by_me), (TargetState::Requested, false));
}

#[test]
fn a_claimed_request_that_is_open_or_approved_is_not_stamped_as_refused() {
    let now = Timestamp::now();
    let intent = intent_at(2000, now - SignedDuration::from_secs(1));
    for status in ["CASE_OPENED", "APPROVED"] {
        let mut made = request("r1", status, 2000.0);
        made.submitted_at = Some(now);
        let history = History {
            latest: Some(made),
            ..History::default()
        };
        let mut i = input(640.0, 2000);
        i.intent = Some(intent.clone());
        let (state, claimed) = held(decide_with(&i, &history));
        assert_eq!(state, TargetState::Requested, "{status}");
        assert!(claimed.filed_by_me, "{status}");
        assert_eq!(claimed.closed_at_generation, None, "{status}");
    }
}

#[test]
fn closing_messages_say_what_was_granted_or_refused() {
    let mut partial = request("p1", "PARTIALLY_GRANTED", 400.0);
    partial.phase = Phase::PartiallyGranted;
    partial.granted_value = Some(256.0);
    partial.message = None;
    assert_eq!(
        closed_message(&partial, None),
        "request p1 granted 256 of 400; change the spec to ask again"
    );
    let mut denied = request("d1", "DENIED", 400.0);
    denied.granted_value = Some(0.0);
    denied.message = Some("no history".into());
    assert_eq!(
        closed_message(&denied, None),
        "request d1 for 400 was DENIED: no history; change the spec to ask again"
    );
}

#[test]
fn not_approved_without_support_cases_says_a_case_was_not_allowed() {
    let refused = request("n1", "NOT_APPROVED", 400.0);
    assert_eq!(
        closed_message(&refused, Some("no-plan")),
        "request n1 for 400 was not approved: a support case was not allowed \
         (spec.aws.supportCaseAllowed is false on CloudAccount no-plan); AWS approves only what \
         it can automatically: ask for less, or allow support cases, and change the spec to ask \
         again"
    );
    // The same refusal in an account that allows cases is AWS's own, and so is a DENIED one
    // in an account that does not: neither blames the setting.
    let plain = closed_message(&refused, None);
    assert!(
        plain.starts_with("request n1 for 400 was NOT_APPROVED"),
        "{plain}"
    );
    let denied = closed_message(&request("d1", "DENIED", 400.0), Some("no-plan"));
    assert!(!denied.contains("supportCaseAllowed"), "{denied}");
    // The decision carries it from the account to the Denied target.
    let mut i = input(100.0, 400);
    i.no_support_case = Some("no-plan".into());
    i.own_request = Some(tracked(refused, None));
    match decide(&i) {
        Plan::Hold { state, message, .. } => {
            assert_eq!(state, TargetState::Denied);
            assert!(
                message.contains("a support case was not allowed"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn someone_elses_approval_is_not_taken_for_this_objects_own() {
    // Its own approved request is too small; a larger one approved in the history is not its own.
    let mine = tracked(request("r1", "APPROVED", 1000.0), None);
    let theirs = History {
        latest: Some(request("r2", "APPROVED", 2000.0)),
        ..History::default()
    };
    let mut i = input(640.0, 2000);
    i.own_request = Some(mine.clone());
    let (state, shown) = held(decide_with(&i, &theirs));
    assert_eq!(
        (state, shown.view.id.as_str()),
        (TargetState::Requested, "r2")
    );
    assert!(!shown.filed_by_me);
}

/// A world that does not give what was asked: the loop asks once and stops, it never spins.
struct Deaf;

impl Outside for Deaf {
    async fn read(&mut self, _: Ask, _: &mut Observed) -> Result<(), CloudError> {
        Ok(())
    }

    async fn file(&mut self, _: &Observed, _: i64) -> Result<Filed, CloudError> {
        Ok(Filed::Dry)
    }
}

#[test]
fn a_read_that_adds_nothing_ends_in_an_error_not_a_loop() {
    let mut o = input(640.0, 2000);
    let verdict = futures::executor::block_on(drive::run(&mut o, &mut Deaf)).expect("no error");
    assert_eq!(verdict.state, TargetState::Error);
    assert!(
        verdict.message.contains("History twice"),
        "{}",
        verdict.message
    );
}

#[test]
fn the_other_objects_are_read_afresh_before_filing_unless_one_already_recorded_the_need() {
    let mut i = input(640.0, 2000);
    i.history = Some(History::default());
    assert_eq!(plan(&i), Plan::Read(Ask::Peers));
    i.peers_fresh = true;
    assert_eq!(plan(&i), Plan::File { value: 2000 });
    let mut recorded = input(640.0, 2000);
    recorded.history = Some(History::default());
    recorded.need.peer_request = Some(tracked(request("theirs", "PENDING", 2000.0), None));
    assert_ne!(plan(&recorded), Plan::Read(Ask::Peers));
}

#[test]
fn a_refusal_older_than_this_objects_own_answer_does_not_settle_it() {
    let now = Timestamp::now();
    let mut refused = request("r1", "DENIED", 1000.0);
    refused.submitted_at = Some(now - SignedDuration::from_hours(1));
    // Its own later request, for more than it needs now, was refused: that answer decides, and
    // it does not settle the need (it asked for more).
    let mut own = request("r2", "DENIED", 3000.0);
    own.submitted_at = Some(now - SignedDuration::from_mins(10));
    let mut i = input(640.0, 2000);
    i.since = now - SignedDuration::from_hours(2);
    i.need.driver_since = i.since;
    i.own_request = Some(tracked(own.clone(), Some(1)));
    let history = History::of(vec![refused, own]);
    assert_eq!(decide_with(&i, &history), Plan::File { value: 2000 });
}

#[test]
fn the_refusal_of_its_own_request_stamped_at_an_older_generation_is_its_own_answer() {
    // The request closed while the spec changed: its record was stamped at generation 1, and the
    // history shows the same request. The record decides (not settled at generation 2), and the
    // history's copy of it does not settle the new need either.
    let now = Timestamp::now();
    let mut r = request("r1", "DENIED", 1000.0);
    r.submitted_at = Some(now - SignedDuration::from_hours(1));
    let mut i = input(640.0, 2000);
    i.generation = 2;
    i.since = now - SignedDuration::from_hours(2);
    i.need.driver_since = i.since;
    let mut own = r.clone();
    own.submitted_at = None;
    i.own_request = Some(tracked(own, Some(1)));
    let history = History::of(vec![r]);
    assert_eq!(decide_with(&i, &history), Plan::File { value: 2000 });
}

#[test]
fn a_request_of_its_own_made_at_the_same_moment_as_a_refusal_does_not_outrank_it() {
    let at = Timestamp::now() - SignedDuration::from_hours(1);
    let mut refused = request("r1", "DENIED", 1000.0);
    refused.submitted_at = Some(at);
    let mut own = request("r2", "DENIED", 3000.0);
    own.submitted_at = Some(at);
    let mut i = input(640.0, 2000);
    i.since = at - SignedDuration::from_hours(1);
    i.need.driver_since = i.since;
    i.own_request = Some(tracked(own.clone(), Some(1)));
    let history = History::of(vec![refused, own]);
    let (state, shown) = held(decide_with(&i, &history));
    assert_eq!((state, shown.view.id.as_str()), (TargetState::Denied, "r1"));
}

#[test]
fn a_quota_exactly_at_the_need_says_nothing_about_lowering() {
    let mut i = input(2000.0, 2000);
    i.allow_decrease = true;
    let Plan::Hold { message, .. } = decide(&i) else {
        panic!("satisfied")
    };
    assert!(!message.contains("not lowered"), "{message}");
}

#[test]
fn a_decrease_to_exactly_the_accounts_floor_is_filed() {
    let mut i = input(5000.0, 200);
    i.allow_decrease = true;
    i.decrease_floor = Some(200);
    assert_eq!(decide(&i), Plan::File { value: 200 });
}

#[test]
fn an_approval_is_trusted_to_apply_for_less_than_an_hour_not_an_hour() {
    let mut approved = tracked(request("r1", "APPROVED", 2000.0), None);
    let mut i = input(640.0, 2000);
    approved.view.updated_at = Some(i.now - SignedDuration::from_hours(1));
    i.own_request = Some(approved.clone());
    assert_eq!(decide(&i), Plan::File { value: 2000 });
    approved.view.updated_at = Some(i.now - SignedDuration::from_mins(59));
    i.own_request = Some(approved);
    assert_eq!(state_of(&i), Some(TargetState::Requested));
}

#[test]
fn a_namespace_holding_a_slot_lets_waiting_namespaces_file_first() {
    let mut i = input(10.0, 100);
    i.turn = Some("waiting its turn: this namespace holds 1 of us-east-1's slots".into());
    let (state, message) = match decide(&i) {
        Plan::Hold { state, message, .. } => (state, message),
        other => panic!("held, not {other:?}"),
    };
    assert_eq!(state, TargetState::Queued);
    assert!(message.starts_with("waiting its turn"), "{message}");
    // An open request of its own is followed, turn or not; with no turn to wait, it files.
    i.turn = None;
    assert_eq!(decide(&i), Plan::File { value: 100 });
}
