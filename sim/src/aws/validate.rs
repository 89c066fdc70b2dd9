//! Checks an `aws:` scenario section against the model before anything is built from it:
//! operation names, account ids, and quotas the catalog (built-in table plus the scenario's own
//! definitions) must know. The scenario stays plain data; this layer sits above it and the
//! catalog, so neither needs the other's validation.

use super::{
    model::catalog::Catalog,
    operation::Operation,
    scenario::{AwsScenario, ERROR_REASON_CODES},
};
use crate::invalid::{ScenarioError, check_account_id};

impl AwsScenario {
    /// Checks what serde cannot; `at` is this section's path (`aws`).
    pub fn validate(&self, at: &str) -> Result<(), ScenarioError> {
        check_account_id(&format!("{at}.defaultAccount"), &self.default_account)?;
        for (key, id) in &self.accounts {
            check_account_id(&format!("{at}.accounts.{key}"), id)?;
        }
        for (i, id) in self.no_support_plan.iter().enumerate() {
            check_account_id(&format!("{at}.noSupportPlan[{i}]"), id)?;
        }
        if !(self.rates.scale.is_finite() && self.rates.scale > 0.0) {
            let msg = "must be a positive number (use `enabled: false` to turn rates off)";
            return Err(ScenarioError::new(format!("{at}.rates.scale"), msg));
        }
        for (name, rate) in &self.rates.overrides {
            let field = format!("{at}.rates.overrides.{name}");
            name.parse::<Operation>()
                .map_err(|m| ScenarioError::new(&field, m))?;
            if !(rate.rate > 0.0 && rate.burst >= 1.0) {
                let msg = "rate must be > 0 and burst >= 1";
                return Err(ScenarioError::new(field, msg));
            }
        }
        for (i, t) in self.throttles.iter().enumerate() {
            let field = format!("{at}.throttles[{i}]");
            t.operation
                .parse::<Operation>()
                .map_err(|m| ScenarioError::new(format!("{field}.operation"), m))?;
            if let Some(a) = &t.account {
                check_account_id(&format!("{field}.account"), a)?;
            }
        }
        for (i, f) in self.faults.iter().enumerate() {
            let field = format!("{at}.faults[{i}]");
            f.validate()
                .map_err(|(name, m)| ScenarioError::new(format!("{field}.{name}"), m))?;
            if let Some(a) = &f.account {
                check_account_id(&format!("{field}.account"), a)?;
            }
        }
        for (i, r) in self.roles.iter().enumerate() {
            r.validate(&format!("{at}.roles[{i}]"))?;
        }
        self.ec2.validate(&format!("{at}.ec2"))?;
        for (i, r) in self.regions.iter().enumerate() {
            // A region name ends up in XML and endpoints: a name, no markup or spaces.
            let fits = !r.is_empty()
                && r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !fits {
                let msg = format!("`{r}` is not a region name (a-z, 0-9 and -)");
                return Err(ScenarioError::new(format!("{at}.regions[{i}]"), msg));
            }
        }
        self.validate_quotas(at)?;
        for (i, r) in self.schedule.rules.iter().enumerate() {
            if let Some(a) = &r.account {
                check_account_id(&format!("{at}.schedule.rules[{i}].account"), a)?;
            }
        }
        self.validate_seeds(at)?;
        self.validate_usage_settings(at)
    }

    fn validate_usage_settings(&self, at: &str) -> Result<(), ScenarioError> {
        let catalog = Catalog::for_scenario(self);
        for (i, s) in self.auto_management.iter().enumerate() {
            let field = |name: &str| format!("{at}.autoManagement[{i}].{name}");
            check_account_id(&field("account"), &s.account)?;
            for (service, codes) in &s.exclusions {
                if let Some(code) = codes.iter().find(|c| catalog.get(service, c).is_none()) {
                    let msg = format!("unknown quota {service}/{code}");
                    return Err(ScenarioError::new(
                        field(&format!("exclusions.{service}")),
                        msg,
                    ));
                }
            }
        }
        let r = &self.utilization_report;
        for (name, d) in [
            ("pendingFor", r.pending_for),
            ("inProgressFor", r.in_progress_for),
        ] {
            if d == crate::delay::Delay::Manual {
                let msg = "a report moves by time or reads, not by hand";
                return Err(ScenarioError::new(
                    format!("{at}.utilizationReport.{name}"),
                    msg,
                ));
            }
        }
        let a = &self.auto_adjust;
        if !(a.threshold > 0.0 && a.threshold <= 100.0) {
            let msg = "a percentage above 0, at most 100";
            return Err(ScenarioError::new(
                format!("{at}.autoAdjust.threshold"),
                msg,
            ));
        }
        if !(a.raise_by > 0.0 && a.raise_by.is_finite()) {
            let msg = "a percentage above 0";
            return Err(ScenarioError::new(format!("{at}.autoAdjust.raiseBy"), msg));
        }
        Ok(())
    }

    fn validate_quotas(&self, at: &str) -> Result<(), ScenarioError> {
        let built_in = Catalog::built_in();
        for (i, q) in self.quotas.iter().enumerate() {
            let field = |name: &str| format!("{at}.quotas[{i}].{name}");
            if let Some(a) = &q.account {
                check_account_id(&field("account"), a)?;
            }
            let scoped = q.account.is_some() || q.region.is_some();
            if scoped && q.defines_something() {
                let msg = "name, default, unit, adjustable and global hold in every account and \
                           region: put them on an entry without account/region";
                return Err(ScenarioError::new(field("account"), msg));
            }
            let known = built_in.get(&q.service_code, &q.quota_code).is_some()
                || self.quotas.iter().any(|o| {
                    o.quota_name.is_some()
                        && o.service_code == q.service_code
                        && o.quota_code == q.quota_code
                });
            if !known {
                let msg = format!(
                    "{}/{} is not a built-in quota: give it a quotaName (and default, adjustable)",
                    q.service_code, q.quota_code
                );
                return Err(ScenarioError::new(field("quotaName"), msg));
            }
            if let Some(reason) = &q.error_reason
                && !ERROR_REASON_CODES.contains(&reason.error_code.as_str())
            {
                let msg = format!("expected one of {}", ERROR_REASON_CODES.join(", "));
                return Err(ScenarioError::new(field("errorReason.errorCode"), msg));
            }
            if q.applied == Some(false) && q.value.is_some() {
                let msg = "a value with `applied: false` would never be seen; drop one of them";
                return Err(ScenarioError::new(field("value"), msg));
            }
            if let Some(Err(m)) = q.usage.as_ref().map(crate::usage::Usage::check) {
                return Err(ScenarioError::new(field("usage"), m));
            }
            for (name, v) in [("value", q.value), ("default", q.default_value)] {
                if v.is_some_and(|v| !(v.is_finite() && v >= 0.0)) {
                    return Err(ScenarioError::new(field(name), "must be a number >= 0"));
                }
            }
        }
        Ok(())
    }

    fn validate_seeds(&self, at: &str) -> Result<(), ScenarioError> {
        let catalog = Catalog::for_scenario(self);
        for (i, s) in self.open_requests.iter().enumerate() {
            let field = |name: &str| format!("{at}.openRequests[{i}].{name}");
            if let Some(a) = &s.account {
                check_account_id(&field("account"), a)?;
            }
            if catalog.get(&s.service_code, &s.quota_code).is_none() {
                let msg = format!("unknown quota {}/{}", s.service_code, s.quota_code);
                return Err(ScenarioError::new(field("quotaCode"), msg));
            }
            if let Some(st) = s.status
                && !st.is_open()
            {
                let msg = "an open request is PENDING or CASE_OPENED";
                return Err(ScenarioError::new(field("status"), msg));
            }
        }
        Ok(())
    }
}
