//! Test and demo control of usage and of Google's Quota Adjuster: replace a quota's usage
//! shape while the simulator runs, read usage now and the adjuster settings, and make the
//! adjuster raise a quota. The `/_sim/gcp/usage/...` and `/_sim/gcp/adjuster/...` routes call
//! exactly these methods.

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use super::{
    control::{GcpControl, quota},
    model::{adjuster::Settings, preference::Preference, seed, state::GcpState},
    scenario::{SeedPreference, merge_region},
    vocab::{COMPUTE, Dims, Origin},
};
use crate::{admin::SimError, usage::Usage};

/// How far back the adjuster looks for peak usage.
const LOOKBACK: SignedDuration = SignedDuration::from_hours(7 * 24);

/// What the Quota Adjuster raises: a quota and dimensions in a project, to `preferredValue`
/// or, when absent, 15 % above the peak usage of the past week (at least one above the value).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AdjusterRaise {
    #[serde(default = "compute")]
    pub service: String,
    pub quota_id: String,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub dimensions: Dims,
    #[serde(default)]
    pub preferred_value: Option<i64>,
}

fn compute() -> String {
    COMPUTE.into()
}

/// A quota's usage for some dimensions: its shape, and its value now.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageNow {
    pub usage: Option<Usage>,
    pub now: i64,
}

impl GcpControl {
    /// Replaces the usage shape for exactly these dimensions in one project, anchored now
    /// (`growth {start: 60}` means 60 now); Cloud Monitoring publishes it from then on.
    pub fn set_usage_shape(
        &self,
        project: &str,
        service: &str,
        quota_id: &str,
        dims: &Dims,
        usage: Usage,
    ) -> Result<(), SimError> {
        usage.check().map_err(SimError::Invalid)?;
        self.with(|st, now| {
            quota(st, service, quota_id, dims)?;
            st.set_usage_shape(project, service, quota_id, dims, usage, now);
            Ok(())
        })
    }

    /// The usage shape for these dimensions and its value now (0 and no shape: no usage).
    pub fn usage_now(
        &self,
        project: &str,
        service: &str,
        quota_id: &str,
        dims: &Dims,
    ) -> Result<UsageNow, SimError> {
        self.with(|st, now| {
            let def = quota(st, service, quota_id, dims)?;
            Ok(UsageNow {
                usage: st.usage_shape(project, &def, dims).map(|(u, _)| u),
                now: st.usage_of(project, &def, dims, now),
            })
        })
    }

    /// The project's QuotaAdjusterSettings now.
    pub fn adjuster_settings(&self, project: &str) -> Settings {
        self.with(|st, _| st.adjuster(project))
    }

    /// Raises a quota as the Quota Adjuster does: creates a QuotaPreference (or raises the
    /// project's existing one for those dimensions) with `requestOrigin: AUTO_ADJUSTER`, a
    /// reconciling increase that ends on the schedule or by grant / refuse like any other.
    /// Refused when the adjuster is not enabled for the project, when the quota has no usage
    /// there (the adjuster needs history), or when an increase is already reconciling.
    pub fn quota_adjuster_raise(
        &self,
        project: &str,
        raise: AdjusterRaise,
    ) -> Result<Preference, SimError> {
        self.with(|st, now| {
            if !st.adjuster(project).enabled {
                return Err(SimError::Invalid(format!(
                    "the Quota Adjuster is not enabled for project {project}"
                )));
            }
            let dims = merge_region(raise.region.as_deref(), &raise.dimensions)
                .map_err(SimError::Invalid)?;
            let def = quota(st, &raise.service, &raise.quota_id, &dims)?;
            let (usage, t0) = st.usage_shape(project, &def, &dims).ok_or_else(|| {
                SimError::Invalid(format!(
                    "{} has no usage in {project} for {dims:?}: the adjuster needs history",
                    def.quota_id
                ))
            })?;
            let from = now.checked_sub(LOOKBACK).unwrap_or(now);
            let peak = usage.peak(t0, now, from, now).unwrap_or(0.0);
            let current = st.value_of(project, &def, &dims);
            let preferred = raise
                .preferred_value
                .unwrap_or(((peak * 1.15).ceil() as i64).max(current + 1));
            match st.find_same(project, &def.service, &def.quota_id, &dims) {
                Some(idx) => raise_existing(st, idx, preferred, now),
                None => {
                    let id = format!("quota-adjuster-{}", st.generated_id());
                    let s = SeedPreference {
                        project: project.into(),
                        id,
                        service: def.service.clone(),
                        quota_id: def.quota_id.clone(),
                        region: None,
                        dimensions: dims,
                        preferred_value: preferred,
                        justification: None,
                        contact_email: Some("quota-adjuster@google.com".into()),
                        annotations: Default::default(),
                        origin: Origin::AutoAdjuster,
                    };
                    let idx = seed::seed(st, s, now)
                        .map_err(|(field, m)| SimError::Invalid(format!("{field}: {m}")))?;
                    Ok(st.prefs[idx].clone())
                }
            }
        })
    }
}

/// The adjuster raising a preference that already exists (and is not reconciling).
fn raise_existing(
    st: &mut GcpState,
    idx: usize,
    preferred: i64,
    now: jiff::Timestamp,
) -> Result<Preference, SimError> {
    let mut p = st.prefs[idx].clone();
    if p.reconciling {
        return Err(SimError::Invalid(format!(
            "{} is already reconciling",
            p.name()
        )));
    }
    let def = quota(st, &p.service, &p.quota_id, &p.dimensions)?;
    let current = st.value_of(&p.project, &def, &p.dimensions);
    if preferred <= current {
        return Err(SimError::Invalid(format!(
            "the adjuster only raises: {preferred} is not above {current}"
        )));
    }
    p.preferred_value = preferred;
    p.origin = Origin::AutoAdjuster;
    p.etag = st.next_etag();
    p.update_time = now;
    st.open_increase(&mut p, current, now);
    st.log_write(&p, current, "quota-adjuster", now);
    st.prefs[idx] = p.clone();
    Ok(p)
}
