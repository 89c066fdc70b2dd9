//! AWS Support cases: one for each increase request the simulator moved to CASE_OPENED, with the
//! same case id. AWS may post a question (scripted by a rule's `question` or the admin), which
//! puts the case in `pending-customer-action`; a customer reply puts it in
//! `customer-action-completed`; the request's end resolves it.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use crate::aws::model::request::Request;

/// Who AWS's own messages are from, as the Support API shows them.
pub const AWS_SENDER: &str = "Amazon Web Services";
/// The Support API's service code for quota increase cases.
pub const SERVICE_CODE: &str = "service-limit-increase";

/// One message on a case.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Communication {
    pub body: String,
    pub submitted_by: String,
    pub time_created: Timestamp,
}

/// One support case as the simulator keeps it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    pub case_id: String,
    pub display_id: String,
    pub account: String,
    pub subject: String,
    /// opened, pending-customer-action, customer-action-completed, reopened, resolved, ...
    pub status: String,
    pub time_created: Timestamp,
    pub submitted_by: String,
    /// Oldest first.
    pub communications: Vec<Communication>,
    /// AddCommunicationToCase calls answered for this case.
    pub replies: u32,
}

/// Every case, by case id.
#[derive(Default)]
pub struct CaseBook {
    cases: BTreeMap<String, Case>,
}

impl CaseBook {
    /// Opens the case of request `r` (once), with the request as its first message, and
    /// AWS's `question` after it when the request's rule scripts one.
    pub fn opened(&mut self, r: &Request, now: Timestamp) {
        let Some(id) = r.case_id.clone() else {
            return;
        };
        if self.cases.contains_key(&id) {
            return;
        }
        let submitted_by = format!("arn:aws:iam::{}:root", r.account);
        let subject = format!(
            "Service Quotas increase: {}/{} in {} to {}",
            r.service_code, r.quota_code, r.region, r.desired_value
        );
        let case = Case {
            case_id: id.clone(),
            display_id: id.clone(),
            account: r.account.clone(),
            subject: subject.clone(),
            status: "opened".into(),
            time_created: now,
            submitted_by: submitted_by.clone(),
            communications: vec![Communication {
                body: format!("{subject} (request {})", r.id),
                submitted_by,
                time_created: now,
            }],
            replies: 0,
        };
        self.cases.insert(id.clone(), case);
        if let Some(q) = &r.rule.question {
            self.ask(&id, q, now);
        }
    }

    /// AWS posts `body` in the case and waits for the customer. False without such a case.
    pub fn ask(&mut self, id: &str, body: &str, now: Timestamp) -> bool {
        let Some(case) = self.cases.get_mut(id) else {
            return false;
        };
        case.communications.push(Communication {
            body: body.into(),
            submitted_by: AWS_SENDER.into(),
            time_created: later(case, now),
        });
        case.status = "pending-customer-action".into();
        true
    }

    /// The customer's reply (AddCommunicationToCase); counted.
    pub fn reply(&mut self, id: &str, body: &str, now: Timestamp) -> Option<&Case> {
        let case = self.cases.get_mut(id)?;
        let at = later(case, now);
        case.communications.push(Communication {
            body: body.into(),
            submitted_by: case.submitted_by.clone(),
            time_created: at,
        });
        case.replies += 1;
        if case.status == "pending-customer-action" {
            case.status = "customer-action-completed".into();
        }
        Some(case)
    }

    /// The request of case `id` ended: AWS resolves the case.
    pub fn resolved(&mut self, id: &str) {
        if let Some(case) = self.cases.get_mut(id) {
            case.status = "resolved".into();
        }
    }

    pub fn get(&self, id: &str) -> Option<&Case> {
        self.cases.get(id)
    }

    pub fn all(&self) -> impl Iterator<Item = &Case> {
        self.cases.values()
    }
}

/// Messages keep their order even when two land in the same instant.
fn later(case: &Case, now: Timestamp) -> Timestamp {
    let last = case.communications.last().map(|c| c.time_created);
    match last {
        Some(t) if t >= now => t + jiff::SignedDuration::from_millis(1),
        _ => now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::{
        model::request::{FiledRequest, Source},
        scenario::Rule,
        status::RequestStatus,
    };

    fn request(question: Option<&str>) -> Request {
        let filed = FiledRequest {
            id: "r1".into(),
            account: "111111111111".into(),
            region: "us-east-1".into(),
            service_code: "ec2".into(),
            quota_code: "L-1".into(),
            desired_value: 10.0,
            filed_at: Timestamp::UNIX_EPOCH,
            source: Source::Api,
        };
        let rule = Rule {
            question: question.map(String::from),
            ..Rule::default()
        };
        let mut r = Request::new(&filed, true, rule);
        r.case_id = Some("17000000001".into());
        r.status = RequestStatus::CaseOpened;
        r
    }

    #[test]
    fn a_scripted_question_waits_for_the_customer_and_a_reply_completes_it() {
        let mut book = CaseBook::default();
        let t0 = Timestamp::from_second(1_700_000_000).unwrap();
        book.opened(&request(Some("Which instance types?")), t0);
        let case = book.get("17000000001").unwrap();
        assert_eq!(case.status, "pending-customer-action");
        assert_eq!(case.communications.len(), 2);
        assert_eq!(case.communications[1].submitted_by, AWS_SENDER);
        assert!(case.communications[1].time_created > case.communications[0].time_created);
        let replied = book.reply("17000000001", "m5 and c5", t0).unwrap();
        assert_eq!(replied.status, "customer-action-completed");
        assert_eq!(replied.replies, 1);
        book.opened(&request(None), t0);
        assert_eq!(book.get("17000000001").unwrap().replies, 1, "opened once");
        assert!(book.reply("nope", "x", t0).is_none());
    }

    #[test]
    fn without_a_question_the_case_is_opened() {
        let mut book = CaseBook::default();
        book.opened(&request(None), Timestamp::UNIX_EPOCH);
        assert_eq!(book.get("17000000001").unwrap().status, "opened");
    }
}
