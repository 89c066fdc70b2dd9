//! What one object's regions came to, together: the input of the object's report.

use jiff::Timestamp;
use kube::ResourceExt;

use super::super::context::Context;
use crate::{
    api::{
        CloudAccount, DEFAULT_UTILIZATION_THRESHOLD, QuotaRequirement, QuotaRequirementStatus,
        TargetState, TargetStatus, UsageSettings,
    },
    cloud::QuotaRef,
    controller::{decide::outcome::Blocker, events::Note, object::previous},
};

/// What one region came to.
pub struct TargetResult {
    pub status: TargetStatus,
    /// An event, when a request was filed or adopted.
    pub note: Option<Note>,
    /// The resolved quota code or id, once the cloud was read.
    pub quota_id: Option<String>,
    /// The quota is the same in every region.
    pub global: bool,
    /// The key of this target's filing intent in status, once known.
    pub scope: Option<String>,
    /// Whether a recorded filing intent must stay (the outcome of a filing is unknown).
    pub keep_intent: bool,
    /// When the region must be looked at again although nothing else changes (the end of a
    /// refusal's cooldown).
    pub wake_at: Option<Timestamp>,
}

impl TargetResult {
    /// The same result shown for another region of a global quota.
    pub fn mirrored(&self, region: &str) -> Self {
        let mut status = self.status.clone();
        status.region = region.to_string();
        let home = &self.status.region;
        let message = status.message.take().unwrap_or_default();
        status.message = Some(format!("global quota, reconciled in {home}: {message}"));
        Self {
            status,
            note: None,
            quota_id: self.quota_id.clone(),
            global: true,
            scope: self.scope.clone(),
            keep_intent: self.keep_intent,
            wake_at: self.wake_at,
        }
    }
}

/// The regions of one object, together.
pub struct Regions {
    /// The CloudAccount's name, once the object may use it.
    pub account: Option<String>,
    /// The account's utilisation threshold, in percent.
    pub threshold: f64,
    pub quota: Option<String>,
    pub targets: Vec<TargetStatus>,
    pub blocker: Option<Blocker>,
    pub notes: Vec<Note>,
    retry: bool,
    /// Filing intents whose outcome is unknown, or that were not looked at: they stay.
    kept_intents: Vec<String>,
    /// The earliest moment a region asked to be looked at again.
    wake_at: Option<Timestamp>,
    /// Regions that wait out a refusal's cooldown (queued, but with nothing to follow).
    cooling: Vec<String>,
}

impl Regions {
    /// What the regions came to, together.
    pub fn of(
        obj: &QuotaRequirement,
        account: &CloudAccount,
        quota: &QuotaRef,
        results: Vec<TargetResult>,
    ) -> Self {
        let quota_label = results
            .iter()
            .find_map(|r| r.quota_id.clone())
            .map(|id| format!("{}/{id}", quota.service()));
        let all_judged = results.iter().all(|r| r.scope.is_some());
        let wake_at = results.iter().filter_map(|r| r.wake_at).min();
        let cooling = results
            .iter()
            .filter(|r| r.wake_at.is_some())
            .map(|r| r.status.region.clone())
            .collect();
        let mut notes = vec![];
        let mut kept_intents = vec![];
        let targets = results
            .into_iter()
            .map(|r| {
                notes.extend(r.note);
                if let Some(scope) = r.scope.filter(|_| r.keep_intent) {
                    kept_intents.push(scope);
                }
                r.status
            })
            .collect();
        // While some target could not be judged (its quota could not be read), every intent stays:
        // the one it may have left is claimed once it can be.
        if !all_judged {
            kept_intents.extend(filing_scopes(obj));
        }
        Self {
            account: Some(account.name_any()),
            threshold: UsageSettings::threshold(account),
            quota: quota_label,
            targets,
            blocker: None,
            notes,
            retry: false,
            kept_intents,
            wake_at,
            cooling,
        }
    }

    /// Nothing was looked at: every region shows why, and every intent stays until the account
    /// or spec lets it be judged.
    pub fn blocked(obj: &QuotaRequirement, blocker: Blocker) -> Self {
        let targets = obj
            .spec
            .regions
            .iter()
            .map(|region| TargetStatus {
                region: region.clone(),
                current_value: None,
                desired_value: obj.spec.desired_value,
                driven_by: None,
                state: blocker.state(),
                request: previous(obj, region).and_then(|t| t.request.clone()),
                capacity: None,
                usage: None,
                // What headroom asked stays: it never lowers.
                headroom: previous(obj, region).and_then(|t| t.headroom.clone()),
                message: Some(blocker.message.clone()),
            })
            .collect();
        Self {
            account: None,
            threshold: DEFAULT_UTILIZATION_THRESHOLD,
            quota: None,
            targets,
            retry: blocker.retry,
            blocker: Some(blocker),
            notes: vec![],
            kept_intents: filing_scopes(obj),
            wake_at: None,
            cooling: vec![],
        }
    }

    /// Intents are cleared only once the requests they announced are in the status written.
    pub fn settled_intents(&self, status: &QuotaRequirementStatus) -> Vec<String> {
        status
            .filings
            .keys()
            .filter(|scope| !self.kept_intents.contains(scope))
            .cloned()
            .collect()
    }

    /// When to look again, and whether that is a retry (with backoff) of something that failed.
    pub fn next_look(
        &self,
        ctx: &Context,
        key: &str,
        status: &QuotaRequirementStatus,
    ) -> (std::time::Duration, bool) {
        if has(status, TargetState::Error) || self.retry {
            return (ctx.backoff.next(key), true);
        }
        ctx.backoff.reset(key);
        // Terminal states are re-read too: a quota raised elsewhere turns Satisfied, and a quota
        // that could not be raised may become adjustable. Nothing is filed again until the spec
        // changes.
        let follow = status.targets.iter().any(|t| {
            t.state == TargetState::Requested
                || (t.state == TargetState::Queued && !self.cooling.contains(&t.region))
        });
        let after = if follow {
            ctx.config.poll
        } else {
            ctx.config.resync
        };
        // A refused quota's cooldown ends: look again then, not a resync later.
        let after = match self.wake_at {
            Some(at) => after.min(Timestamp::now().duration_until(at).unsigned_abs()),
            None => after,
        };
        (after, false)
    }
}

fn filing_scopes(obj: &QuotaRequirement) -> Vec<String> {
    obj.status
        .as_ref()
        .map(|s| s.filings.keys().cloned().collect())
        .unwrap_or_default()
}

/// Whether any region is in `state`.
fn has(status: &QuotaRequirementStatus, state: TargetState) -> bool {
    status.targets.iter().any(|t| t.state == state)
}
