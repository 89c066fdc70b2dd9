//! What is in use per account, region and quota: the scenario's `usage:` shapes (anchored at
//! the simulator's start) and shapes set since by admin calls (anchored when set). The most
//! specific scenario entry wins, as for values.

use std::collections::HashMap;

use jiff::Timestamp;

use crate::aws::{model::catalog::QuotaDef, scenario::AwsScenario};
use crate::usage::Usage;

/// (account, region or `*` for a global quota, service, quota code).
type Key = (String, String, String, String);

/// A shape and the time it is anchored at.
pub type Anchored = (Usage, Timestamp);

pub struct UsageBook {
    /// When the simulator started: the anchor of every scenario shape.
    pub started: Timestamp,
    set: HashMap<Key, Anchored>,
}

impl UsageBook {
    pub fn new(started: Timestamp) -> Self {
        Self {
            started,
            set: HashMap::new(),
        }
    }

    fn key(account: &str, region: &str, def: &QuotaDef) -> Key {
        let region = if def.global { "*" } else { region };
        (
            account.into(),
            region.into(),
            def.service_code.clone(),
            def.quota_code.clone(),
        )
    }

    /// Replaces the shape in one account and region from `now` on (its past included: a
    /// shape describes the whole series).
    pub fn set(
        &mut self,
        account: &str,
        region: &str,
        def: &QuotaDef,
        usage: Usage,
        now: Timestamp,
    ) {
        self.set
            .insert(Self::key(account, region, def), (usage, now));
    }

    /// The regions an account's usage was set in since start.
    pub fn regions<'a>(&'a self, account: &'a str) -> impl Iterator<Item = String> + 'a {
        (self.set.keys())
            .filter(move |(a, ..)| a == account)
            .map(|(_, r, ..)| r.clone())
    }

    /// The usage of a quota in one account and region, None when AWS publishes none there.
    pub fn of(
        &self,
        scenario: &AwsScenario,
        account: &str,
        region: &str,
        def: &QuotaDef,
    ) -> Option<Anchored> {
        if let Some(u) = self.set.get(&Self::key(account, region, def)) {
            return Some(u.clone());
        }
        scenario
            .quotas
            .iter()
            .filter(|q| q.service_code == def.service_code && q.quota_code == def.quota_code)
            .filter(|q| q.usage.is_some())
            .filter(|q| q.account.as_deref().is_none_or(|a| a == account))
            .filter(|q| def.global || q.region.as_deref().is_none_or(|r| r == region))
            .max_by_key(|q| 2 * u8::from(q.account.is_some()) + u8::from(q.region.is_some()))
            .and_then(|q| q.usage.clone())
            .map(|u| (u, self.started))
    }
}
