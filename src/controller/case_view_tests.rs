use jiff::Timestamp;

use super::*;
use crate::cloud::{CaseMessage, ErrorKind};

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + s).unwrap()
}

fn msg(s: i64, from_cloud: bool, body: &str) -> CaseMessage {
    CaseMessage {
        at: at(s),
        from_cloud,
        body: body.into(),
    }
}

fn case(status: &str, messages: Vec<CaseMessage>) -> CaseView {
    CaseView {
        id: "case-1".into(),
        display_id: "17000000001".into(),
        status: status.into(),
        messages,
    }
}

#[test]
fn aws_waits_when_the_case_says_so_or_wrote_last_until_answered_after_it() {
    let opened = case("opened", vec![msg(0, false, "please raise")]);
    assert!(!awaiting(&opened, None), "only the customer wrote");
    let asked = case("opened", vec![msg(0, false, "raise"), msg(5, true, "why?")]);
    assert!(awaiting(&asked, None), "AWS wrote last");
    let pending = case("pending-customer-action", vec![msg(0, false, "raise")]);
    assert!(awaiting(&pending, None), "the case status says so");
    assert!(
        !awaiting(&asked, Some(at(6))),
        "answered after the question"
    );
    assert!(
        awaiting(&asked, Some(at(4))),
        "a reply before the question answers nothing"
    );
    let done = case(
        "customer-action-completed",
        vec![
            msg(0, false, "raise"),
            msg(5, true, "why?"),
            msg(9, false, "m5"),
        ],
    );
    assert!(!awaiting(&done, None));
}

#[test]
fn the_excerpt_is_the_first_lines_single_spaced_and_cut_near_300_characters() {
    assert_eq!(
        excerpt("Hello,\n\n  Which   instance types?\nThanks"),
        "Hello, Which instance types? Thanks"
    );
    let long = "word ".repeat(200);
    let cut = excerpt(&long);
    assert!(cut.ends_with('…'), "{cut}");
    assert!(cut.chars().count() <= 301, "{}", cut.chars().count());
    assert_eq!(excerpt(""), "");
}

#[test]
fn the_block_shows_the_latest_aws_message_and_a_confirmed_reply() {
    let asked = case(
        "pending-customer-action",
        vec![
            msg(0, false, "raise"),
            msg(5, true, "Which types?"),
            msg(3, true, "older"),
        ],
    );
    let b = block(&asked, None);
    assert!(b.awaiting_customer);
    assert_eq!(b.latest_aws_message.as_deref(), Some("Which types?"));
    assert_eq!(b.latest_aws_message_at, Some(time(at(5))));
    assert_eq!(b.note, None);
    let sent = CaseReply {
        at: time(at(6)),
        sent_at: Some(time(at(7))),
    };
    let b = block(&asked, Some(&sent));
    assert!(
        !b.awaiting_customer,
        "a case read before the reply still says pending"
    );
    assert_eq!(b.reply_sent_at, Some(time(at(7))));
}

#[test]
fn a_reply_recorded_but_not_confirmed_is_found_in_the_case_or_named_never_resent() {
    let begun = CaseReply {
        at: time(at(6)),
        sent_at: None,
    };
    let arrived = case(
        "customer-action-completed",
        vec![msg(5, true, "why?"), msg(8, false, "m5")],
    );
    assert_eq!(
        block(&arrived, Some(&begun)).reply_sent_at,
        Some(time(at(8)))
    );
    let lost = case("pending-customer-action", vec![msg(5, true, "why?")]);
    let b = block(&lost, Some(&begun));
    assert_eq!(b.reply_sent_at, None);
    assert!(b.awaiting_customer);
    let note = b.note.unwrap();
    assert!(note.contains("not sent twice"), "{note}");
    assert!(note.contains("displayId=17000000001"), "{note}");
}

#[test]
fn an_unreadable_case_points_to_the_console_with_what_aws_answered() {
    let e = CloudError::new(
        ErrorKind::AccessDenied,
        "SubscriptionRequiredException",
        "AWS Premium Support Subscription is required to use this service.",
    );
    let b = unreadable("17000000001", None, &e);
    assert_eq!(
        b.note.as_deref(),
        Some(
            "case not readable here (SubscriptionRequiredException: AWS Premium Support \
             Subscription is required to use this service.): answer it in the console \
             (https://support.console.aws.amazon.com/support/home#/case/?displayId=17000000001)"
        )
    );
    assert!(!b.awaiting_customer);
    assert_eq!(awaiting_message(&b), None);
}

#[test]
fn the_message_while_aws_waits_starts_with_the_reason() {
    let b = block(
        &case(
            "pending-customer-action",
            vec![msg(5, true, "Which types?\nThanks")],
        ),
        None,
    );
    let m = awaiting_message(&b).unwrap();
    assert!(
        m.starts_with(
            "AwaitingCustomerReply: AWS asked a question in support case 17000000001: \
             Which types? Thanks — answer it in the Support Center"
        ),
        "{m}"
    );
}

#[test]
fn an_aws_message_is_new_once() {
    let b = |s: Option<i64>| CaseStatus {
        latest_aws_message_at: s.map(|s| time(at(s))),
        ..CaseStatus::default()
    };
    assert!(new_aws_message(None, &b(Some(5))), "first seen");
    assert!(new_aws_message(Some(&b(None)), &b(Some(5))));
    assert!(
        !new_aws_message(Some(&b(Some(5))), &b(Some(5))),
        "told already"
    );
    assert!(
        new_aws_message(Some(&b(Some(5))), &b(Some(9))),
        "a newer one"
    );
    assert!(!new_aws_message(Some(&b(Some(5))), &b(None)), "none");
}

/// Where a reconcile may stop in the reply's three steps.
#[derive(Clone, Copy, Debug)]
enum Stop {
    Never,
    AfterRecord,
    AfterSend,
}

/// One reconcile of the reply discipline, as `case` runs it: the block from the case and the
/// record, the record written first, then the send, then the confirmation.
fn reconcile(
    view: &mut CaseView,
    recorded: &mut Option<CaseReply>,
    sends: &mut u32,
    now: i64,
    stop: Stop,
) {
    let b = block(view, recorded.as_ref());
    if reply_due(Some("m5"), &b, true, recorded.as_ref()).is_none() {
        return;
    }
    *recorded = Some(CaseReply {
        at: time(at(now)),
        sent_at: None,
    });
    if let Stop::AfterRecord = stop {
        return;
    }
    *sends += 1;
    view.messages.push(msg(now, false, "m5"));
    if let Stop::AfterSend = stop {
        return;
    }
    if let Some(r) = recorded.as_mut() {
        r.sent_at = Some(time(at(now)));
    }
}

proptest::proptest! {
    /// Whatever AWS asks and wherever reconciles stop, one case gets the reply at most once,
    /// and gets it when nothing stops.
    #[test]
    fn the_reply_is_never_sent_twice_to_one_case(
        steps in proptest::collection::vec((proptest::bool::ANY, 0u8..3), 1..30)
    ) {
        let mut view = case("opened", vec![msg(0, false, "raise")]);
        let (mut recorded, mut sends, mut asked, mut stopped) = (None, 0, false, false);
        for (i, (ask, stop)) in steps.into_iter().enumerate() {
            let now = 10 * (i as i64 + 1);
            if ask {
                view.messages.push(msg(now, true, "why?"));
                asked = true;
            }
            let stop = [Stop::Never, Stop::AfterRecord, Stop::AfterSend][stop as usize];
            let due = reply_due(Some("m5"), &block(&view, recorded.as_ref()), true, recorded.as_ref()).is_some();
            stopped |= due && !matches!(stop, Stop::Never);
            reconcile(&mut view, &mut recorded, &mut sends, now + 1, stop);
            proptest::prop_assert!(sends <= 1, "sent {sends} times");
        }
        if asked && !stopped {
            proptest::prop_assert_eq!(sends, 1);
        }
    }
}

#[test]
fn only_the_filer_replies_only_when_aws_waits_and_only_with_a_reply_configured() {
    let waiting = CaseStatus {
        awaiting_customer: true,
        ..CaseStatus::default()
    };
    assert_eq!(reply_due(Some("m5"), &waiting, true, None), Some("m5"));
    assert_eq!(
        reply_due(None, &waiting, true, None),
        None,
        "none configured"
    );
    assert_eq!(
        reply_due(Some("m5"), &waiting, false, None),
        None,
        "adopted: another object's case"
    );
    assert_eq!(
        reply_due(Some("m5"), &CaseStatus::default(), true, None),
        None,
        "AWS waits for nothing"
    );
    let begun = CaseReply {
        at: time(at(1)),
        sent_at: None,
    };
    assert_eq!(
        reply_due(Some("m5"), &waiting, true, Some(&begun)),
        None,
        "recorded once"
    );
}
