//! One region of one object: what every step of its reconcile needs (`Region`), and what it
//! came to (`TargetResult`).

use jiff::Timestamp;

use super::{context::Context, decide::outcome::Stopped, events::Note, writes::Writes};
use crate::{
    api::{CloudAccount, QuotaRequirement, TargetStatus},
    cloud::{QuotaProvider, Target},
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
    /// Stopped before a decision (a read failed, or the spec cannot be met as written): any
    /// recorded filing intent stays for a later reconcile to judge.
    pub fn stopped(mut status: TargetStatus, why: Stopped, quota_id: Option<String>) -> Self {
        status.state = why.state;
        status.message = Some(why.message);
        Self {
            status,
            note: None,
            quota_id,
            global: false,
            scope: None,
            keep_intent: true,
            wake_at: None,
        }
    }

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

/// One object's reconcile of one region: what every step of it needs.
pub struct Region<'a> {
    pub obj: &'a QuotaRequirement,
    pub ctx: &'a Context,
    pub writes: &'a Writes,
    pub account: &'a CloudAccount,
    pub provider: &'a dyn QuotaProvider,
    pub target: Target,
    /// When the object's current need was declared.
    pub since: Timestamp,
}
