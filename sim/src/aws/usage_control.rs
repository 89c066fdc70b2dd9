//! Test and demo control of usage and of AWS's own reactions to it: replace a quota's usage
//! shape while the simulator runs, read usage now, and file an increase as Service Quotas
//! Automatic Management would. The `/_sim/aws/usage/...` and `/_sim/aws/auto-adjust` routes
//! call exactly these methods.

use serde::{Deserialize, Serialize};

use super::{
    control::AwsControl,
    model::request::{Request, Source},
    model::state::Filing,
};
use crate::{admin::SimError, invalid::check_account_id, usage::Usage};

/// What `auto_adjust` files: for `account` (default: the scenario's default account) in
/// `region`, `desiredValue` or, when absent, the current value raised by the scenario's
/// `autoAdjust.raiseBy` percent (rounded up).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AutoAdjustRequest {
    #[serde(default)]
    pub account: Option<String>,
    pub region: String,
    pub service_code: String,
    pub quota_code: String,
    #[serde(default)]
    pub desired_value: Option<f64>,
}

/// A quota's usage in one account and region: its shape, and its value now.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageNow {
    pub usage: Option<Usage>,
    pub now: Option<f64>,
}

impl AwsControl {
    /// Replaces a quota's usage shape in one account and region (everywhere in the account for
    /// a global quota), anchored now: `growth {start: 300}` means 300 now. The quota publishes
    /// a usage metric from then on, if it had none.
    pub fn set_usage(
        &self,
        account: &str,
        region: &str,
        service: &str,
        code: &str,
        usage: Usage,
    ) -> Result<(), SimError> {
        check_account_id("account", account).map_err(|e| SimError::Invalid(e.to_string()))?;
        usage.check().map_err(SimError::Invalid)?;
        self.with(|st, now| {
            let def = super::control::quota(st, service, code)?;
            st.usage.set(account, region, &def, usage, now);
            st.catalog.ensure_metric(service, code);
            Ok(())
        })
    }

    /// The quota's usage shape and its value now (both None: no usage published there).
    pub fn usage(
        &self,
        account: &str,
        region: &str,
        service: &str,
        code: &str,
    ) -> Result<UsageNow, SimError> {
        self.with(|st, now| {
            let def = super::control::quota(st, service, code)?;
            let found = st.usage_of(account, region, &def);
            Ok(UsageNow {
                now: found.as_ref().map(|(u, t0)| u.at(*t0, now)),
                usage: found.map(|(u, _)| u),
            })
        })
    }

    /// Files an increase as Service Quotas Automatic Management does for an account opted in
    /// with NotifyAndAdjust: `RequestType: AutomaticManagement`, the service as requester, no
    /// support case. It is an open request like any other and moves on the schedule (or by
    /// `approve` / `deny`). Refused when the account does not let AWS adjust this quota, when
    /// the quota is not adjustable, or when it already has an open request (AWS files no
    /// duplicate).
    pub fn auto_adjust(&self, req: AutoAdjustRequest) -> Result<Request, SimError> {
        self.with(|st, now| {
            let account = req
                .account
                .clone()
                .unwrap_or_else(|| st.scenario.default_account.clone());
            let def = super::control::quota(st, &req.service_code, &req.quota_code)?;
            let opted = st
                .scenario
                .auto_management
                .iter()
                .find(|s| s.account == account);
            if !opted.is_some_and(|s| s.adjusts(&def.service_code, &def.quota_code)) {
                return Err(SimError::Invalid(format!(
                    "account {account} does not let AWS adjust {}/{} (Automatic Management with \
                     NotifyAndAdjust, ENABLED, quota not excluded)",
                    def.service_code, def.quota_code
                )));
            }
            if !def.adjustable {
                return Err(SimError::Invalid(format!(
                    "{} is not adjustable",
                    def.quota_code
                )));
            }
            if let Some(open) = st.open_request_for(&account, &req.region, &def) {
                return Err(SimError::Invalid(format!(
                    "{}/{} already has an open request ({}) in {account} {}",
                    def.service_code, def.quota_code, open.id, req.region
                )));
            }
            let current = st.current_value(&account, &req.region, &def);
            let raise = 1.0 + st.scenario.auto_adjust.raise_by / 100.0;
            let desired = req
                .desired_value
                .unwrap_or((current * raise).ceil().max(current + 1.0));
            if !(desired.is_finite() && desired > current) {
                return Err(SimError::Invalid(format!(
                    "desiredValue {desired} must be above the current value {current}"
                )));
            }
            let filing = Filing {
                account: &account,
                region: &req.region,
                def: &def,
                desired_value: desired,
                support_case_allowed: false,
                source: Source::AutomaticManagement,
            };
            let idx = st.file(filing, now);
            Ok(st.requests[idx].clone())
        })
    }
}
