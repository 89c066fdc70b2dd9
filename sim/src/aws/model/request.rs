//! One quota increase request and its life: PENDING -> (CASE_OPENED ->) an outcome, moved by
//! time, by polls or by admin calls as its scenario rule says.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::aws::{
    scenario::{Outcome, Rule},
    status::RequestStatus,
};
use crate::delay::Delay;

/// Who put the request there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Source {
    /// RequestServiceQuotaIncrease on the wire.
    Api,
    /// The scenario's `openRequests` or an admin seed, as if filed in the console.
    Console,
    /// Filed by AWS itself for an account opted in to Automatic Management with
    /// NotifyAndAdjust (`RequestType: AutomaticManagement`); it never opens a support case.
    AutomaticManagement,
}

/// One entry of the filing log: every request filed through the API or seeded.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FiledRequest {
    pub id: String,
    pub account: String,
    pub region: String,
    pub service_code: String,
    pub quota_code: String,
    pub desired_value: f64,
    pub filed_at: Timestamp,
    pub source: Source,
}

/// A request as the simulator keeps it (the wire shape is built from this).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    pub id: String,
    pub case_id: Option<String>,
    pub account: String,
    pub region: String,
    pub service_code: String,
    pub quota_code: String,
    pub desired_value: f64,
    pub status: RequestStatus,
    pub created: Timestamp,
    pub last_updated: Timestamp,
    pub support_case_allowed: bool,
    pub source: Source,
    /// Why it ended (rule or admin message); not part of AWS's wire shape.
    pub message: Option<String>,
    #[serde(skip)]
    pub rule: Rule,
    /// Reads that have seen the current status (for `<n> polls` delays).
    #[serde(skip)]
    polls_in_state: u32,
}

/// The next move a request will make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    OpenCase,
    Close,
}

impl Request {
    /// A PENDING request for what was filed.
    pub fn new(filed: &FiledRequest, support_case_allowed: bool, rule: Rule) -> Self {
        Self {
            id: filed.id.clone(),
            case_id: None,
            account: filed.account.clone(),
            region: filed.region.clone(),
            service_code: filed.service_code.clone(),
            quota_code: filed.quota_code.clone(),
            desired_value: filed.desired_value,
            status: RequestStatus::Pending,
            created: filed.filed_at,
            last_updated: filed.filed_at,
            support_case_allowed,
            source: filed.source,
            message: None,
            rule,
            polls_in_state: 0,
        }
    }

    fn next_step(&self) -> Option<(Delay, Step)> {
        let close = (self.rule.outcome != Outcome::StayOpen)
            .then_some((self.rule.close_after, Step::Close));
        match self.status {
            RequestStatus::Pending => match self.rule.case_opened_after {
                Some(d) => Some((d, Step::OpenCase)),
                None => close,
            },
            RequestStatus::CaseOpened => close,
            _ => None,
        }
    }

    /// Makes every move whose time has come, each stamped with the time it was due (not the
    /// time it was noticed), so histories do not depend on when someone looked.
    /// Returns the statuses entered, in order.
    pub fn settle(
        &mut self,
        now: Timestamp,
        case_ids: &mut dyn FnMut() -> String,
    ) -> Vec<RequestStatus> {
        let mut entered = Vec::new();
        while let Some((delay, step)) = self.next_step() {
            let Some(at) = delay.due(self.last_updated).filter(|&at| at <= now) else {
                break;
            };
            entered.push(self.take(step, at, case_ids));
        }
        entered
    }

    /// Records one read of this request (Get, or a history listing that returned it) after the
    /// reader saw it: with a `<n> polls` delay, n reads see the current status and the move
    /// happens at the end of the nth, so the next reader sees the new status.
    pub fn record_read(
        &mut self,
        now: Timestamp,
        case_ids: &mut dyn FnMut() -> String,
    ) -> Vec<RequestStatus> {
        self.polls_in_state += 1;
        match self.next_step() {
            Some((Delay::Polls(n), step)) if self.polls_in_state >= n => {
                let mut entered = vec![self.take(step, now, case_ids)];
                entered.extend(self.settle(now, case_ids));
                entered
            }
            _ => Vec::new(),
        }
    }

    /// Makes the next move now, whatever its delay (admin `advance`). None when the request
    /// has no next move (closed, or a `stay_open` case).
    pub fn advance(
        &mut self,
        now: Timestamp,
        case_ids: &mut dyn FnMut() -> String,
    ) -> Option<RequestStatus> {
        let (_, step) = self.next_step()?;
        Some(self.take(step, now, case_ids))
    }

    /// Puts the request in `status` now (admin approve / deny / open case).
    pub fn close(&mut self, status: RequestStatus, message: Option<String>, now: Timestamp) {
        self.enter(status, now);
        if message.is_some() {
            self.message = message;
        }
    }

    fn take(
        &mut self,
        step: Step,
        at: Timestamp,
        case_ids: &mut dyn FnMut() -> String,
    ) -> RequestStatus {
        match step {
            Step::OpenCase if !self.support_case_allowed => {
                // AWS: with SupportCaseAllowed=false it opens no case and ends NOT_APPROVED.
                self.message =
                    Some("a support case was needed but SupportCaseAllowed was false".into());
                self.enter(RequestStatus::NotApproved, at);
            }
            Step::OpenCase => {
                self.case_id = Some(case_ids());
                self.enter(RequestStatus::CaseOpened, at);
            }
            Step::Close => {
                let status = self.rule.outcome.final_status().unwrap_or(self.status);
                self.message.clone_from(&self.rule.message);
                self.enter(status, at);
            }
        }
        self.status
    }

    fn enter(&mut self, status: RequestStatus, at: Timestamp) {
        self.status = status;
        self.last_updated = at.max(self.last_updated);
        self.polls_in_state = 0;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::delay::add;

    fn req(rule: Rule, now: Timestamp) -> Request {
        let filed = FiledRequest {
            id: "r1".into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            service_code: "ec2".into(),
            quota_code: "L-34B43A08".into(),
            desired_value: 100.0,
            filed_at: now,
            source: Source::Api,
        };
        Request::new(&filed, true, rule)
    }

    fn case_ids() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("case-{n}")
        }
    }

    #[test]
    fn time_schedule_stamps_due_times() {
        let t0 = Timestamp::from_second(1_700_000_000).unwrap();
        let rule = Rule {
            case_opened_after: Some(Delay::millis(100)),
            close_after: Delay::millis(200),
            ..Rule::default()
        };
        let mut r = req(rule, t0);
        let mut ids = case_ids();
        assert!(
            r.settle(add(t0, Duration::from_millis(99)), &mut ids)
                .is_empty()
        );
        let later = add(t0, Duration::from_secs(10));
        let seen = r.settle(later, &mut ids);
        assert_eq!(seen, [RequestStatus::CaseOpened, RequestStatus::Approved]);
        assert_eq!(r.last_updated, add(t0, Duration::from_millis(300)));
        assert_eq!(r.case_id.as_deref(), Some("case-1"));
    }

    #[test]
    fn polls_schedule_counts_reads() {
        let t0 = Timestamp::from_second(1_700_000_000).unwrap();
        let rule = Rule {
            outcome: Outcome::Deny,
            case_opened_after: Some(Delay::Polls(2)),
            close_after: Delay::Polls(1),
            ..Rule::default()
        };
        let mut r = req(rule, t0);
        let mut ids = case_ids();
        let statuses: Vec<_> = (0..5)
            .map(|_| {
                let seen = r.status;
                r.record_read(t0, &mut ids);
                seen
            })
            .collect();
        use RequestStatus::*;
        assert_eq!(statuses, [Pending, Pending, CaseOpened, Denied, Denied]);
    }

    #[test]
    fn no_support_case_allowed_ends_not_approved() {
        let t0 = Timestamp::from_second(1_700_000_000).unwrap();
        let rule = Rule {
            case_opened_after: Some(Delay::IMMEDIATE),
            ..Rule::default()
        };
        let mut r = req(rule, t0);
        r.support_case_allowed = false;
        r.settle(t0, &mut case_ids());
        assert_eq!(r.status, RequestStatus::NotApproved);
        assert_eq!(r.case_id, None);
    }

    #[test]
    fn stay_open_needs_an_admin() {
        let t0 = Timestamp::from_second(1_700_000_000).unwrap();
        let rule = Rule {
            outcome: Outcome::StayOpen,
            case_opened_after: Some(Delay::IMMEDIATE),
            ..Rule::default()
        };
        let mut r = req(rule, t0);
        let mut ids = case_ids();
        r.settle(add(t0, Duration::from_secs(3600)), &mut ids);
        assert_eq!(r.status, RequestStatus::CaseOpened);
        assert_eq!(r.advance(t0, &mut ids), None);
    }
}
