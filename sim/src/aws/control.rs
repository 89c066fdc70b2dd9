//! Test and demo control of the simulated account from Rust: counters, the filing log, and
//! moving requests by hand. The `/_sim/aws` HTTP routes call exactly these methods.

use jiff::Timestamp;

use super::{
    fault::FaultInjection,
    model::catalog::QuotaDef,
    model::limiter::CallCount,
    model::request::{FiledRequest, Request},
    model::state::{AwsState, Shared},
    operation::Operation,
    scenario::{SeedRequest, ThrottleInjection},
    status::RequestStatus,
};
use crate::{
    admin::SimError,
    invalid::check_account_id,
    shared::{current, lock},
};

/// A cloneable handle on the simulated Service Quotas state.
#[derive(Clone)]
pub struct AwsControl {
    pub(crate) shared: Shared,
}

impl AwsControl {
    pub(super) fn with<T>(&self, f: impl FnOnce(&mut AwsState, Timestamp) -> T) -> T {
        current(&self.shared, f)
    }

    /// Calls received for an operation (by its wire name), all accounts and regions, throttled
    /// ones included.
    pub fn calls(&self, operation: &str) -> u64 {
        Operation::from_name(operation).map_or(0, |op| lock(&self.shared).counters.total(op))
    }

    /// Calls received for an operation from one account in one region.
    pub fn calls_in(&self, account: &str, region: &str, operation: &str) -> u64 {
        self.counters()
            .into_iter()
            .find(|c| c.account == account && c.region == region && c.operation == operation)
            .map_or(0, |c| c.calls)
    }

    pub fn counters(&self) -> Vec<CallCount> {
        lock(&self.shared).counters.all()
    }

    pub fn reset_counters(&self) {
        lock(&self.shared).counters.reset();
    }

    /// An account's quota request template: (service, quota, region, value), in key order.
    pub fn template(&self, account: &str) -> Vec<(String, String, String, f64)> {
        let st = lock(&self.shared);
        (st.templates.get(account).into_iter().flatten())
            .map(|((s, q, r), v)| (s.clone(), q.clone(), r.clone(), *v))
            .collect()
    }

    /// Every request filed (API or console), oldest first.
    pub fn filed(&self) -> Vec<FiledRequest> {
        lock(&self.shared).filed.clone()
    }

    /// How many requests have been filed (API or console): `filed().len()` without the copy,
    /// for callers that poll it.
    pub fn filed_count(&self) -> usize {
        lock(&self.shared).filed.len()
    }

    /// Every request with its current status, oldest first.
    pub fn requests(&self) -> Vec<Request> {
        self.with(|st, _| st.requests.clone())
    }

    pub fn request(&self, id: &str) -> Result<Request, SimError> {
        self.with(|st, _| {
            let idx = find(st, id)?;
            Ok(st.requests[idx].clone())
        })
    }

    /// Approves an open request now; the applied value becomes its DesiredValue.
    pub fn approve(&self, id: &str) -> Result<Request, SimError> {
        self.close(id, RequestStatus::Approved, None)
    }

    /// Ends an open request without granting it: DENIED, NOT_APPROVED, CASE_CLOSED or
    /// INVALID_REQUEST.
    pub fn deny(
        &self,
        id: &str,
        status: RequestStatus,
        message: &str,
    ) -> Result<Request, SimError> {
        if status.is_open() || status == RequestStatus::Approved {
            return Err(SimError::Invalid(format!(
                "{status:?} does not end a request without granting it"
            )));
        }
        self.close(id, status, Some(message.to_string()))
    }

    fn close(
        &self,
        id: &str,
        status: RequestStatus,
        message: Option<String>,
    ) -> Result<Request, SimError> {
        self.with(|st, now| {
            let idx = find(st, id)?;
            if !st.requests[idx].status.is_open() {
                let current = st.requests[idx].status;
                return Err(SimError::Invalid(format!(
                    "request {id} is already {current:?}"
                )));
            }
            st.close(idx, status, message, now);
            Ok(st.requests[idx].clone())
        })
    }

    /// Makes a request's next scheduled move now (open the case, or reach its outcome).
    pub fn advance(&self, id: &str) -> Result<Request, SimError> {
        self.with(|st, now| {
            let idx = find(st, id)?;
            st.advance(idx, now).map_err(SimError::Invalid)?;
            Ok(st.requests[idx].clone())
        })
    }

    /// Files an open request as if someone used the console; it follows the schedule like any
    /// other. Refused when the quota already has an open request.
    pub fn seed_open_request(&self, seed: SeedRequest) -> Result<Request, SimError> {
        self.with(|st, now| {
            let account = seed
                .account
                .clone()
                .unwrap_or_else(|| st.scenario.default_account.clone());
            check_account_id("account", &account).map_err(|e| SimError::Invalid(e.to_string()))?;
            let def = quota(st, &seed.service_code, &seed.quota_code)?;
            if st.open_request_for(&account, &seed.region, &def).is_some() {
                return Err(SimError::Invalid(format!(
                    "{}/{} already has an open request in {account} {}",
                    def.service_code, def.quota_code, seed.region
                )));
            }
            let idx = st.file_seed(&account, &seed.region, &def, seed.desired_value, now);
            match seed.status {
                None | Some(RequestStatus::Pending) => {}
                Some(RequestStatus::CaseOpened) => st.open_case(idx, now),
                Some(other) => {
                    return Err(SimError::Invalid(format!(
                        "{other:?} is not an open status"
                    )));
                }
            }
            Ok(st.requests[idx].clone())
        })
    }

    /// Sets the applied value of a quota in one account and region (everywhere in the account
    /// for a global quota), as if AWS had changed it.
    pub fn set_value(
        &self,
        account: &str,
        region: &str,
        service: &str,
        code: &str,
        value: f64,
    ) -> Result<(), SimError> {
        if !(value.is_finite() && value >= 0.0) {
            return Err(SimError::Invalid(format!(
                "value {value} must be a number >= 0"
            )));
        }
        self.with(|st, _| {
            let def = quota(st, service, code)?;
            st.set_value(account, region, &def, value);
            Ok(())
        })
    }

    /// The applied value (None: the quota runs on its default) and the default.
    pub fn value(
        &self,
        account: &str,
        region: &str,
        service: &str,
        code: &str,
    ) -> Result<(Option<f64>, f64), SimError> {
        self.with(|st, _| {
            let def = quota(st, service, code)?;
            Ok((st.applied_value(account, region, &def), def.default_value))
        })
    }

    /// STS calls of an action (`AssumeRole`, `GetCallerIdentity`), every account.
    pub fn sts_calls(&self, action: &str) -> u64 {
        let st = lock(&self.shared);
        st.sts_calls
            .iter()
            .filter(|((_, a), _)| a == action)
            .map(|(_, n)| n)
            .sum()
    }

    /// Every call that reached the AWS side, Service Quotas and STS, refused ones included.
    pub fn total_calls(&self) -> u64 {
        let st = lock(&self.shared);
        let quotas: u64 = st.counters.all().iter().map(|c| c.calls).sum();
        quotas + st.sts_calls.values().sum::<u64>()
    }

    /// Answers matching calls with a fault (AccessDenied, an HTML 500, a stall) from now on,
    /// `count` times or for good.
    pub fn inject_fault(&self, fault: FaultInjection) -> Result<(), SimError> {
        fault
            .validate()
            .map_err(|(field, m)| SimError::Invalid(format!("{field}: {m}")))?;
        lock(&self.shared).faults.push(fault);
        Ok(())
    }

    /// Drops every fault still to answer (the scenario's too).
    pub fn clear_faults(&self) {
        lock(&self.shared).faults.clear();
    }

    /// Answers the next `count` matching calls (or one in every `every`) with
    /// TooManyRequestsException.
    pub fn inject_throttles(&self, injection: ThrottleInjection) -> Result<(), SimError> {
        injection
            .operation
            .parse::<Operation>()
            .map_err(SimError::Invalid)?;
        if injection.every == Some(0) {
            return Err(SimError::Invalid("every: must be at least 1".into()));
        }
        lock(&self.shared).limiter.inject(injection);
        Ok(())
    }

    /// Drops every injected throttle still to answer (the scenario's too); the rate limits stay.
    pub fn clear_throttles(&self) {
        lock(&self.shared).limiter.clear_injected();
    }
}

fn find(st: &AwsState, id: &str) -> Result<usize, SimError> {
    st.index_of(id)
        .ok_or_else(|| SimError::NotFound(format!("request {id}")))
}

pub(super) fn quota(st: &AwsState, service: &str, code: &str) -> Result<QuotaDef, SimError> {
    st.catalog
        .get(service, code)
        .cloned()
        .ok_or_else(|| SimError::NotFound(format!("quota {service}/{code}")))
}
