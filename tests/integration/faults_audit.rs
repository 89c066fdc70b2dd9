//! What the fault harness checks, from the simulator's record of every request filed and how it
//! ended: each quota that needs an increase got exactly the one request its objects imply, at
//! their largest value, and nothing else was filed.

use std::collections::BTreeMap;

use jiff::Timestamp;
use quota_sim::Request;

/// One quota in one account and region: (account, region, service, code).
pub type QuotaKey = (String, String, String, String);

/// How the simulator's schedule ends requests for a quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Granted,
    Refused,
}

/// A quota the objects need raised: one request for `value`, ending as `fate` says.
#[derive(Clone, Debug)]
pub struct Need {
    pub value: f64,
    pub fate: Fate,
}

#[derive(Debug, Default)]
pub struct Audit {
    pub filed: usize,
    /// Requests beyond the one each needed quota implies, plus any for a quota that needed none.
    pub duplicates: usize,
    /// Of those: filed while another request for the quota was still open.
    pub open_at_once: usize,
    /// Of those: filed after a request for the quota was refused.
    pub after_refusal: usize,
    /// Needed quotas with no request at all.
    pub lost: usize,
    /// Requests for another value than the objects' largest.
    pub wrong_value: usize,
    /// One line per quota that went wrong, for the failure message.
    pub problems: Vec<String>,
}

impl Audit {
    pub fn is_clean(&self) -> bool {
        self.duplicates == 0 && self.lost == 0 && self.wrong_value == 0
    }
}

fn key(r: &Request) -> QuotaKey {
    (
        r.account.clone(),
        r.region.clone(),
        r.service_code.clone(),
        r.quota_code.clone(),
    )
}

/// When a request stopped being open (its last move), or None while it is open.
fn closed_at(r: &Request) -> Option<Timestamp> {
    (!r.status.is_open()).then_some(r.last_updated)
}

pub fn audit(needs: &BTreeMap<QuotaKey, Need>, requests: &[Request]) -> Audit {
    let mut by_key: BTreeMap<QuotaKey, Vec<&Request>> = BTreeMap::new();
    for r in requests {
        by_key.entry(key(r)).or_default().push(r);
    }
    let mut a = Audit {
        filed: requests.len(),
        ..Audit::default()
    };
    for (k, need) in needs {
        let filed = by_key.get(k).map(Vec::as_slice).unwrap_or_default();
        if filed.is_empty() {
            a.lost += 1;
            a.problems.push(format!(
                "lost: {k:?} needed {} ({:?})",
                need.value, need.fate
            ));
        }
        let wrong = filed
            .iter()
            .filter(|r| r.desired_value != need.value)
            .count();
        if wrong > 0 {
            a.wrong_value += wrong;
            a.problems.push(format!(
                "wrong value: {k:?} needed {}: {}",
                need.value,
                show(filed)
            ));
        }
    }
    for (k, filed) in &by_key {
        let expected = usize::from(needs.contains_key(k));
        if filed.len() <= expected {
            continue;
        }
        a.duplicates += filed.len() - expected;
        let mut sorted = filed.clone();
        sorted.sort_by_key(|r| r.created);
        for pair in sorted.windows(2) {
            let (before, after) = (pair[0], pair[1]);
            if closed_at(before).is_none_or(|c| after.created < c) {
                a.open_at_once += 1;
            } else if !matches!(before.status, quota_sim::RequestStatus::Approved) {
                a.after_refusal += 1;
            }
        }
        let why = if expected == 0 {
            "filed though no object needed it"
        } else {
            "more than one request"
        };
        a.problems.push(format!("{why}: {k:?}: {}", show(&sorted)));
    }
    a
}

fn show(requests: &[&Request]) -> String {
    let parts: Vec<String> = requests
        .iter()
        .map(|r| {
            format!(
                "{} for {} filed {} now {:?}",
                r.id, r.desired_value, r.created, r.status
            )
        })
        .collect();
    parts.join("; ")
}
