//! What status shows of a request's support case, from the case as AWS reports it: whether AWS
//! waits for the customer, its latest message's first lines, the hint when the case cannot be
//! read here, and the target's message while AWS waits. Pure: the reads are `case`'s.

use jiff::Timestamp;

use super::status::time;
use crate::{
    api::{CaseReply, CaseStatus, reasons},
    cloud::{CaseView, CloudError},
};

/// How much of AWS's message status shows.
const EXCERPT_CHARS: usize = 300;
/// The case status AWS sets when it asked something and waits.
const PENDING_CUSTOMER: &str = "pending-customer-action";

/// The case block for `view`, with the reply this object recorded for the case (if any).
pub fn block(view: &CaseView, reply: Option<&CaseReply>) -> CaseStatus {
    let latest_aws = view
        .messages
        .iter()
        .filter(|m| m.from_cloud)
        .max_by_key(|m| m.at);
    let reply_sent_at = reply.and_then(|r| sent_at(view, r));
    CaseStatus {
        status: Some(view.status.clone()),
        display_id: Some(view.display_id.clone()),
        awaiting_customer: awaiting(view, reply_sent_at),
        latest_aws_message_at: latest_aws.map(|m| time(m.at)),
        latest_aws_message: latest_aws.map(|m| excerpt(&m.body)),
        reply_sent_at: reply_sent_at.map(time),
        note: reply
            .filter(|_| reply_sent_at.is_none())
            .map(|r| unconfirmed(view, r)),
    }
}

/// AWS waits for the customer: the case says so, or AWS wrote last; unless this operator's
/// reply went after AWS's latest message (a case read before the reply still says pending).
pub fn awaiting(view: &CaseView, replied_at: Option<Timestamp>) -> bool {
    let newest = view.messages.iter().max_by_key(|m| m.at);
    let aws_last = newest.is_some_and(|m| m.from_cloud);
    let asked = view.status == PENDING_CUSTOMER || aws_last;
    let latest_aws = (view.messages.iter())
        .filter(|m| m.from_cloud)
        .map(|m| m.at)
        .max();
    let answered = replied_at.is_some_and(|r| latest_aws.is_none_or(|a| r >= a));
    asked && !answered
}

/// When the recorded reply reached AWS: as recorded, else the first customer message AWS
/// shows from the moment it was decided on (the operator stopped before recording it).
fn sent_at(view: &CaseView, reply: &CaseReply) -> Option<Timestamp> {
    if let Some(t) = &reply.sent_at {
        return Some(t.0);
    }
    let decided = reply.at.0;
    (view.messages.iter())
        .filter(|m| !m.from_cloud && m.at >= decided)
        .map(|m| m.at)
        .min()
}

fn unconfirmed(view: &CaseView, reply: &CaseReply) -> String {
    format!(
        "a reply was begun at {} but AWS shows none; it is not sent twice: answer it in the \
         console ({})",
        reply.at.0,
        console_url(&view.display_id)
    )
}

/// The first lines of a message, whitespace collapsed, cut at about 300 characters.
pub fn excerpt(body: &str) -> String {
    let joined = body
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let words = joined.split_whitespace().collect::<Vec<_>>().join(" ");
    match words.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", words[..cut].trim_end()),
        None => words,
    }
}

/// The reply to send now, if one is due: AWS waits, the spec has one, this object filed the
/// request (one object answers a case), and no reply to the case was ever recorded, whatever
/// became of it.
pub fn reply_due<'a>(
    configured: Option<&'a str>,
    case: &CaseStatus,
    filed_by_me: bool,
    recorded: Option<&CaseReply>,
) -> Option<&'a str> {
    let body = configured?;
    (case.awaiting_customer && filed_by_me && recorded.is_none()).then_some(body)
}

/// The case block when the Support API refused to show the case here.
pub fn unreadable(case_id: &str, prev: Option<&CaseStatus>, e: &CloudError) -> CaseStatus {
    let display = prev
        .and_then(|p| p.display_id.clone())
        .unwrap_or_else(|| case_id.to_string());
    CaseStatus {
        note: Some(format!(
            "case not readable here ({}: {}): answer it in the console ({})",
            e.code,
            e.message,
            console_url(&display)
        )),
        display_id: Some(display),
        ..CaseStatus::default()
    }
}

/// Where the case is answered by hand.
pub fn console_url(display_id: &str) -> String {
    format!("https://support.console.aws.amazon.com/support/home#/case/?displayId={display_id}")
}

/// The target's message while AWS waits for the customer: it starts with the reason, which
/// the Ready condition then carries.
pub fn awaiting_message(case: &CaseStatus) -> Option<String> {
    if !case.awaiting_customer {
        return None;
    }
    let id = case.display_id.as_deref().unwrap_or("?");
    let first = case
        .latest_aws_message
        .as_deref()
        .unwrap_or("(no message text)");
    Some(format!(
        "{}: AWS asked a question in support case {id}: {first} — answer it in the Support \
         Center ({}) or set spec.aws.caseReply",
        reasons::AWAITING_CUSTOMER_REPLY,
        console_url(id)
    ))
}

/// Whether AWS wrote a message `new` shows and `old` (the status as it was) did not: one event
/// per message, kept once in status so a restart does not tell it again.
pub fn new_aws_message(old: Option<&CaseStatus>, new: &CaseStatus) -> bool {
    let Some(at) = new.latest_aws_message_at.as_ref() else {
        return false;
    };
    old.and_then(|o| o.latest_aws_message_at.as_ref())
        .is_none_or(|seen| seen.0 < at.0)
}

#[cfg(test)]
#[path = "case_view_tests.rs"]
mod tests;
