//! Test and demo control of the simulated Cloud Quotas from Rust: counters, the write log,
//! ending open increases by hand, values and usage. The `/_sim/gcp` routes call these methods.

use jiff::Timestamp;

use super::{
    method::{CallCount, Method},
    model::catalog::QuotaDef,
    model::preference::{Preference, Verdict},
    model::state::{GcpState, PreferenceWrite, Shared},
    scenario::{Fault, SeedPreference},
    vocab::Dims,
};
use crate::{
    admin::SimError,
    shared::{current, lock},
};

/// Builds dimensions: `dims([("region", "us-central1")])`.
pub fn dims<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Dims {
    pairs
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}

/// A cloneable handle on the simulated Cloud Quotas state.
#[derive(Clone)]
pub struct GcpControl {
    pub(crate) shared: Shared,
}

impl GcpControl {
    pub(super) fn with<T>(&self, f: impl FnOnce(&mut GcpState, Timestamp) -> T) -> T {
        current(&self.shared, f)
    }

    /// Calls of a method (RPC name, e.g. `UpdateQuotaPreference`) in every project, failed
    /// ones included.
    pub fn calls(&self, method: &str) -> u64 {
        method
            .parse::<Method>()
            .map_or(0, |m| lock(&self.shared).counters.total(m))
    }

    pub fn calls_in(&self, project: &str, method: &str) -> u64 {
        self.counters()
            .into_iter()
            .find(|c| c.project == project && c.method == method)
            .map_or(0, |c| c.calls)
    }

    pub fn counters(&self) -> Vec<CallCount> {
        lock(&self.shared).counters.all()
    }

    pub fn reset_counters(&self) {
        lock(&self.shared).counters.reset();
    }

    /// Every preference stored (API writes and seeds), oldest first; validateOnly calls store
    /// nothing and are not here.
    pub fn writes(&self) -> Vec<PreferenceWrite> {
        lock(&self.shared).writes.clone()
    }

    /// Every preference in every project, in creation order.
    pub fn preferences(&self) -> Vec<Preference> {
        self.with(|st, _| st.prefs.clone())
    }

    pub fn preference(&self, project: &str, id: &str) -> Result<Preference, SimError> {
        self.with(|st, _| Ok(st.prefs[find(st, project, id)?].clone()))
    }

    /// Grants an open increase in full now.
    pub fn grant(&self, project: &str, id: &str) -> Result<Preference, SimError> {
        self.end(project, id, |_| Ok(Verdict::Grant))
    }

    /// Grants an open increase without a limit now: the value becomes -1 (unlimited).
    pub fn grant_unlimited(&self, project: &str, id: &str) -> Result<Preference, SimError> {
        self.end(project, id, |_| Ok(Verdict::Unlimited))
    }

    /// Grants part of an open increase now: `granted` must lie strictly between the value it
    /// was raised from and the preferred value.
    pub fn grant_partial(
        &self,
        project: &str,
        id: &str,
        granted: i64,
        detail: &str,
    ) -> Result<Preference, SimError> {
        self.end(project, id, |p| {
            if granted <= p.from_value || granted >= p.preferred_value {
                return Err(SimError::Invalid(format!(
                    "a partial grant lies strictly between {} and {}, not {granted}",
                    p.from_value, p.preferred_value
                )));
            }
            Ok(Verdict::Partial(granted, detail.to_string()))
        })
    }

    /// Refuses an open increase now; the value stays where it was.
    pub fn refuse(&self, project: &str, id: &str, detail: &str) -> Result<Preference, SimError> {
        self.end(project, id, |_| Ok(Verdict::Refuse(detail.to_string())))
    }

    /// Ends an open increase now the way its scenario rule says (for `manual` delays).
    pub fn advance(&self, project: &str, id: &str) -> Result<Preference, SimError> {
        self.end(project, id, |p| {
            p.scheduled_verdict().ok_or_else(|| {
                SimError::Invalid(format!(
                    "{} stays open by its rule; grant or refuse it",
                    p.name()
                ))
            })
        })
    }

    fn end(
        &self,
        project: &str,
        id: &str,
        verdict: impl FnOnce(&Preference) -> Result<Verdict, SimError>,
    ) -> Result<Preference, SimError> {
        self.with(|st, now| {
            let idx = find(st, project, id)?;
            let p = &st.prefs[idx];
            if !p.reconciling {
                return Err(SimError::Invalid(format!(
                    "{} is not reconciling (granted {:?} of {})",
                    p.name(),
                    p.granted_value,
                    p.preferred_value
                )));
            }
            let verdict = verdict(p)?;
            st.resolve(idx, verdict, now);
            Ok(st.prefs[idx].clone())
        })
    }

    /// Adds a reconciling increase as if someone made it in the console; it follows the
    /// schedule like any other.
    pub fn seed_preference(&self, seed: SeedPreference) -> Result<Preference, SimError> {
        self.with(|st, now| {
            let idx = super::model::seed::seed(st, seed, now)
                .map_err(|(field, m)| SimError::Invalid(format!("{field}: {m}")))?;
            Ok(st.prefs[idx].clone())
        })
    }

    /// Sets a quota value in one project for exactly these dimensions (empty: the project's
    /// default entry), as if Google had changed it; -1 is unlimited.
    pub fn set_value(
        &self,
        project: &str,
        service: &str,
        quota_id: &str,
        dims: &Dims,
        value: i64,
    ) -> Result<(), SimError> {
        super::vocab::check_value(value).map_err(SimError::Invalid)?;
        self.set(project, service, quota_id, dims, value, GcpState::set_value)
    }

    /// Sets what is in use (decreases below it need QUOTA_DECREASE_BELOW_USAGE).
    pub fn set_usage(
        &self,
        project: &str,
        service: &str,
        quota_id: &str,
        dims: &Dims,
        usage: i64,
    ) -> Result<(), SimError> {
        if usage < 0 {
            return Err(SimError::Invalid(format!("usage {usage} must be >= 0")));
        }
        self.set(project, service, quota_id, dims, usage, GcpState::set_usage)
    }

    fn set(
        &self,
        project: &str,
        service: &str,
        quota_id: &str,
        dims: &Dims,
        n: i64,
        store: fn(&mut GcpState, &str, &str, &str, &Dims, i64),
    ) -> Result<(), SimError> {
        self.on_quota(service, quota_id, dims, |st, _| {
            store(st, project, service, quota_id, dims, n);
        })
    }

    /// The value in force for these dimensions (what QuotaInfo shows for them).
    pub fn value(
        &self,
        project: &str,
        service: &str,
        quota_id: &str,
        dims: &Dims,
    ) -> Result<i64, SimError> {
        self.on_quota(service, quota_id, dims, |st, def| {
            st.value_of(project, def, dims)
        })
    }

    pub fn usage(
        &self,
        project: &str,
        service: &str,
        quota_id: &str,
        dims: &Dims,
    ) -> Result<i64, SimError> {
        self.with(|st, now| {
            let def = quota(st, service, quota_id, dims)?;
            Ok(st.usage_of(project, &def, dims, now))
        })
    }

    /// Runs `f` on the state and the quota's definition, once the dimensions are known to fit it.
    fn on_quota<T>(
        &self,
        service: &str,
        quota_id: &str,
        dims: &Dims,
        f: impl FnOnce(&mut GcpState, &QuotaDef) -> T,
    ) -> Result<T, SimError> {
        self.with(|st, _| {
            let def = quota(st, service, quota_id, dims)?;
            Ok(f(st, &def))
        })
    }

    /// Answers the next `count` matching calls with the fault's error.
    pub fn inject_fault(&self, fault: Fault) -> Result<(), SimError> {
        fault.method.parse::<Method>().map_err(SimError::Invalid)?;
        lock(&self.shared).inject(fault);
        Ok(())
    }
}

fn find(st: &GcpState, project: &str, id: &str) -> Result<usize, SimError> {
    st.find(project, id).ok_or_else(|| {
        SimError::NotFound(format!(
            "projects/{project}/locations/global/quotaPreferences/{id}"
        ))
    })
}

pub(super) fn quota(
    st: &GcpState,
    service: &str,
    quota_id: &str,
    dims: &Dims,
) -> Result<QuotaDef, SimError> {
    let def = st
        .catalog
        .get(service, quota_id)
        .cloned()
        .ok_or_else(|| SimError::NotFound(format!("quota {service}/{quota_id}")))?;
    st.catalog
        .check_dims(&def, dims)
        .map_err(|(_, m)| SimError::Invalid(m))?;
    Ok(def)
}
