//! One QuotaPreference as the simulator keeps it, and when its open increase ends: after a time,
//! after some reads, or by an admin call, as its scenario rule says.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use crate::delay::Delay;
use crate::gcp::{
    scenario::{Outcome, Rule},
    vocab::{Dims, Origin},
};

/// A stored QuotaPreference. `reconciling` is true while an increase waits; it ends granted
/// (`grantedValue == preferredValue`), granted in part (`fromValue < grantedValue <
/// preferredValue`) or refused (`grantedValue == fromValue`), with `stateDetail` saying why.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preference {
    pub project: String,
    pub id: String,
    pub service: String,
    pub quota_id: String,
    pub dimensions: Dims,
    pub preferred_value: i64,
    pub granted_value: Option<i64>,
    pub state_detail: String,
    pub trace_id: String,
    pub annotations: BTreeMap<String, String>,
    pub origin: Origin,
    pub etag: String,
    pub create_time: Timestamp,
    pub update_time: Timestamp,
    pub reconciling: bool,
    pub justification: String,
    /// Input only on the wire; kept here so the admin view shows who asked.
    pub contact_email: String,
    /// The quota value when the latest change was filed.
    pub from_value: i64,
    #[serde(skip)]
    pub rule: Rule,
    /// When the open increase was filed (its delay counts from here).
    #[serde(skip)]
    pub filed_at: Timestamp,
    /// Reads that have seen the open increase (for `<n> polls`).
    #[serde(skip)]
    pub polls: u32,
}

/// How an open increase ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Grant,
    /// Granted without a limit (-1), whatever was asked.
    Unlimited,
    /// The value granted and why.
    Partial(i64, String),
    /// Why not.
    Refuse(String),
}

impl Preference {
    /// `projects/{p}/locations/global/quotaPreferences/{id}`.
    pub fn name(&self) -> String {
        format!(
            "projects/{}/locations/global/quotaPreferences/{}",
            self.project, self.id
        )
    }

    /// When the open increase is due to end by itself, if it does (not `stay`, not manual, not
    /// a poll count still short).
    pub fn due(&self) -> Option<Timestamp> {
        if !self.reconciling || self.rule.outcome == Outcome::Stay {
            return None;
        }
        self.rule.after.due(self.filed_at)
    }

    /// Records a read that saw the open increase; true when that read was the last one its
    /// `<n> polls` delay allows, so the next reader sees it ended.
    pub fn record_read(&mut self) -> bool {
        if !self.reconciling || self.rule.outcome == Outcome::Stay {
            return false;
        }
        self.polls += 1;
        matches!(self.rule.after, Delay::Polls(n) if self.polls >= n)
    }

    /// The verdict its rule gives (None for `stay`).
    pub fn scheduled_verdict(&self) -> Option<Verdict> {
        let rule = &self.rule;
        let detail = |default: String| rule.state_detail.clone().unwrap_or(default);
        match rule.outcome {
            Outcome::Grant => Some(Verdict::Grant),
            Outcome::Refuse => Some(Verdict::Refuse(detail(format!(
                "The request to raise {} to {} was not approved.",
                self.quota_id, self.preferred_value
            )))),
            Outcome::Partial => {
                let (from, to) = (self.from_value, self.preferred_value);
                let fraction = rule.grant_fraction.unwrap_or(0.5);
                let wanted = rule
                    .granted_value
                    .unwrap_or_else(|| from + ((to - from) as f64 * fraction).floor() as i64);
                // Strictly between the old and the asked value when there is room, so a partial
                // grant never looks like a refusal or a full grant.
                let granted = if to - from >= 2 {
                    wanted.clamp(from + 1, to - 1)
                } else {
                    from
                };
                Some(Verdict::Partial(
                    granted,
                    detail(format!(
                        "Partially approved: {granted} of the {to} requested for {}.",
                        self.quota_id
                    )),
                ))
            }
            Outcome::Stay => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pref(rule: Rule, from: i64, to: i64) -> Preference {
        let t0 = Timestamp::from_second(1_700_000_000).unwrap();
        Preference {
            project: "p".into(),
            id: "x".into(),
            service: "compute.googleapis.com".into(),
            quota_id: "CPUS-per-project-region".into(),
            dimensions: Dims::new(),
            preferred_value: to,
            granted_value: Some(from),
            state_detail: String::new(),
            trace_id: String::new(),
            annotations: BTreeMap::new(),
            origin: Origin::Api,
            etag: String::new(),
            create_time: t0,
            update_time: t0,
            reconciling: true,
            justification: String::new(),
            contact_email: String::new(),
            from_value: from,
            rule,
            filed_at: t0,
            polls: 0,
        }
    }

    #[test]
    fn partial_grants_land_strictly_between() {
        let rule = Rule {
            outcome: Outcome::Partial,
            ..Rule::default()
        };
        let p = pref(rule.clone(), 24, 100);
        assert!(matches!(
            p.scheduled_verdict(),
            Some(Verdict::Partial(62, _))
        ));
        let tiny = Rule {
            grant_fraction: Some(0.01),
            ..rule.clone()
        };
        let p = pref(tiny, 24, 100);
        assert!(matches!(
            p.scheduled_verdict(),
            Some(Verdict::Partial(25, _))
        ));
        let over = Rule {
            granted_value: Some(500),
            ..rule
        };
        let p = pref(over, 24, 100);
        assert!(matches!(
            p.scheduled_verdict(),
            Some(Verdict::Partial(99, _))
        ));
    }

    #[test]
    fn polls_count_reads() {
        let rule = Rule {
            after: Delay::Polls(2),
            ..Rule::default()
        };
        let mut p = pref(rule, 1, 2);
        assert_eq!(p.due(), None);
        assert!(!p.record_read());
        assert!(p.record_read());
    }
}
