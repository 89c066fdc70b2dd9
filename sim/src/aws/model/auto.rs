//! AWS filing increases by itself (scenario `autoAdjust.enabled`): on every tick, for each
//! account opted in with NotifyAndAdjust, each adjustable quota not excluded and without an
//! open request whose usage has reached `threshold` percent of its value gets a request
//! `raiseBy` percent above the value, as the admin `auto-adjust` route files one. A refused one
//! is not filed again until the value moves.
//!
//! AWS watches every region; the simulator watches the regions it can name for the account:
//! those of the scenario's usage entries, of usage set since start, and those it was called from.

use std::collections::BTreeSet;

use jiff::Timestamp;

use crate::aws::model::{
    catalog::QuotaDef,
    request::Source,
    state::{AwsState, Filing},
};

impl AwsState {
    pub(crate) fn auto_file(&mut self, now: Timestamp) {
        let policy = self.scenario.auto_adjust.clone();
        if !policy.enabled {
            return;
        }
        let mut due = Vec::new();
        for setting in &self.scenario.auto_management {
            let account = &setting.account;
            for region in self.watched_regions(account) {
                for def in self.catalog.all().filter(|d| d.adjustable) {
                    if !setting.adjusts(&def.service_code, &def.quota_code)
                        || self.open_request_for(account, &region, def).is_some()
                    {
                        continue;
                    }
                    let Some(used) = self.usage_now(account, &region, def, now) else {
                        continue;
                    };
                    let value = self.current_value(account, &region, def);
                    if value > 0.0 && used / value * 100.0 >= policy.threshold {
                        let desired = (value * (1.0 + policy.raise_by / 100.0))
                            .ceil()
                            .max(value + 1.0);
                        if !self.asked_before(account, &region, def, desired) {
                            due.push((account.clone(), region.clone(), def.clone(), desired));
                        }
                    }
                }
            }
        }
        for (account, region, def, desired_value) in due {
            let filing = Filing {
                account: &account,
                region: &region,
                def: &def,
                desired_value,
                support_case_allowed: false,
                source: Source::AutomaticManagement,
            };
            self.file(filing, now);
        }
    }

    /// Whether AWS already asked this much for the quota: a refused automatic request is not
    /// filed again until the value moves (AWS's guide then says to file a manual one).
    fn asked_before(&self, account: &str, region: &str, def: &QuotaDef, desired: f64) -> bool {
        self.requests.iter().any(|r| {
            r.source == Source::AutomaticManagement
                && r.service_code == def.service_code
                && r.quota_code == def.quota_code
                && self.visible(r, account, region)
                && r.desired_value >= desired
        })
    }

    fn watched_regions(&self, account: &str) -> BTreeSet<String> {
        let from_scenario = (self.scenario.quotas.iter())
            .filter(|q| q.usage.is_some() && q.account.as_deref().is_none_or(|a| a == account))
            .filter_map(|q| q.region.clone());
        let called = (self.counters.all().into_iter())
            .filter(|c| c.account == account)
            .map(|c| c.region);
        from_scenario
            .chain(called)
            .chain(self.usage.regions(account))
            .filter(|r| r != "*")
            .collect()
    }
}
