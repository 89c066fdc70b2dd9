use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::cloud::ErrorKind;

fn observed() -> Observed {
    let long_ago = Timestamp::now() - SignedDuration::from_hours(720);
    let need = crate::controller::decide::tests::driving(100);
    Observed::new(Timestamp::now(), 10.0, "L-1".into(), long_ago, need)
}

fn view(id: &str) -> RequestView {
    RequestView {
        id: id.into(),
        case_id: None,
        status: "PENDING".into(),
        phase: Phase::Open,
        requested_value: 100.0,
        granted_value: None,
        submitted_at: Some(Timestamp::now()),
        updated_at: None,
        message: None,
        origin: None,
        justification: None,
    }
}

fn answered(kind: ErrorKind) -> Verdict {
    let e = CloudError::new(kind, "Code", "the cloud said no");
    after_filing(100, Filed::Answered(Err(e)), &observed())
}

#[test]
fn a_request_the_cloud_made_is_requested_filed_by_this_object_and_told() {
    let made = view("r1");
    let v = after_filing(100, Filed::Answered(Ok(made.clone())), &observed());
    assert_eq!(v.state, TargetState::Requested);
    assert_eq!(v.filed, Some((100, Some(made))));
    let request = v.request.expect("the new request is shown");
    assert!(request.filed_by_me);
    assert_eq!(v.message, "filed request r1 for 100");
    assert!(!v.keep_intent);
}

#[test]
fn a_request_held_back_is_queued_and_its_intent_cleared() {
    for kind in [
        ErrorKind::LimitExceeded,
        ErrorKind::Throttled,
        ErrorKind::AlreadyOpen,
    ] {
        let v = answered(kind);
        assert_eq!(v.state, TargetState::Queued, "{kind:?}");
        assert!(v.message.starts_with("the cloud holds the request back"));
        assert_eq!(v.filed, Some((100, None)), "{kind:?}: tried, nothing made");
        assert!(!v.keep_intent, "{kind:?}");
    }
}

#[test]
fn only_a_failure_that_may_have_made_the_request_keeps_the_intent() {
    for (kind, keep, state) in [
        (ErrorKind::Unavailable, true, TargetState::Error),
        (ErrorKind::Other, true, TargetState::Error),
        (ErrorKind::AccessDenied, false, TargetState::Error),
        (ErrorKind::NotAdjustable, false, TargetState::NotAdjustable),
    ] {
        let v = answered(kind);
        assert_eq!((v.state, v.keep_intent), (state, keep), "{kind:?}");
        assert_eq!(v.filed, Some((100, None)), "{kind:?}");
        assert!(v.message.contains("the cloud said no"), "{}", v.message);
    }
}

#[test]
fn a_failed_filing_keeps_the_last_request_on_record() {
    let mut o = observed();
    let mut old = view("r0");
    old.phase = Phase::Denied;
    o.own_request = Some(Tracked {
        view: old,
        closed_at_generation: Some(1),
        filed_by_me: true,
    });
    let e = CloudError::new(ErrorKind::Unavailable, "Code", "timed out");
    let v = after_filing(100, Filed::Answered(Err(e)), &o);
    assert_eq!(v.request.map(|t| t.view.id), Some("r0".into()));
}

#[test]
fn a_cloud_error_is_retried_unless_the_quota_cannot_be_raised() {
    let e = |kind| CloudError::new(kind, "Code", "m");
    assert_eq!(
        failed(&e(ErrorKind::NotAdjustable)).state,
        TargetState::NotAdjustable
    );
    for kind in [
        ErrorKind::Unavailable,
        ErrorKind::Throttled,
        ErrorKind::NotFound,
    ] {
        assert_eq!(failed(&e(kind)).state, TargetState::Error, "{kind:?}");
    }
    assert_eq!(refused_spec("no".into()).state, TargetState::Blocked);
    // No credentials: nothing to retry until an admin adds them.
    assert_eq!(
        failed(&e(ErrorKind::Credentials)).state,
        TargetState::Blocked
    );
}

#[test]
fn an_account_that_is_wrong_blocks_until_it_changes_and_a_failing_cloud_is_retried() {
    let e = |kind| CloudError::new(kind, "Code", "m");
    for (kind, reason) in [
        (ErrorKind::AccountMismatch, reasons::ACCOUNT_MISMATCH),
        (ErrorKind::InvalidArgument, reasons::ACCOUNT_INVALID),
        (ErrorKind::AccessDenied, reasons::ACCOUNT_ACCESS_DENIED),
        (ErrorKind::Credentials, reasons::CREDENTIALS_FAILED),
    ] {
        let b = Blocker::provider_failed("prod", &e(kind));
        assert_eq!((b.reason, b.retry), (reason, false), "{kind:?}");
        assert_eq!(b.state(), TargetState::Blocked);
    }
    let denied = Blocker::provider_failed("prod", &e(ErrorKind::AccessDenied));
    assert!(
        denied.message.starts_with("CloudAccount prod: "),
        "{}",
        denied.message
    );
    let down = Blocker::provider_failed("prod", &e(ErrorKind::Unavailable));
    assert_eq!((down.reason, down.retry), (reasons::CLOUD_ERROR, true));
    assert_eq!(down.state(), TargetState::Error);
}

#[test]
fn a_spec_the_cloud_cannot_serve_is_blocked_with_the_clouds_words_and_never_retried() {
    let e = CloudError::new(
        ErrorKind::SpecMismatch,
        "UnknownRegion",
        "us-east-9 is not a region AWS serves",
    );
    let stopped = failed(&e);
    assert_eq!(stopped.state, TargetState::Blocked);
    assert_eq!(
        stopped.message,
        "UnknownRegion: us-east-9 is not a region AWS serves"
    );
    let other = failed(&CloudError::new(ErrorKind::Unavailable, "503", "later"));
    assert_eq!(
        other.state,
        TargetState::Error,
        "a passing fault is retried"
    );
}
