//! Preferences made outside the API under test (the console, the Quota Adjuster, gcloud, a
//! colleague): scenario `preferences` and the admin seed route. They are open increases and
//! follow the schedule; the write log names their origin as the source.

use jiff::Timestamp;

use crate::gcp::{
    model::preference::Preference,
    model::state::{GcpState, check_id},
    scenario::{GcpScenario, SeedPreference, merge_region},
    vocab::{Origin, check_value, compare_values},
};

/// A fresh state holding the scenario's own preferences. Seeds that do not fit are skipped
/// with a warning; `Scenario::validate` reports them by field before this is reached.
pub fn seeded(scenario: GcpScenario) -> GcpState {
    let mut state = GcpState::new(scenario);
    let now = Timestamp::now();
    for s in state.scenario.preferences.clone() {
        if let Err((field, message)) = seed(&mut state, s, now) {
            tracing::warn!(%field, %message, "sim: gcp seed preference skipped");
        }
    }
    state
}

/// Adds a reconciling increase as if made in the console (scenario seeds, admin). Err: (field,
/// message), the field named as in the scenario.
pub fn seed(
    st: &mut GcpState,
    s: SeedPreference,
    now: Timestamp,
) -> Result<usize, (String, String)> {
    let err = |field: &str, msg: String| (field.to_string(), msg);
    if !st.scenario.project_exists(&s.project) {
        return Err(err(
            "project",
            format!("`{}` is not in `projects`", s.project),
        ));
    }
    check_id(&s.id).map_err(|m| err("id", m))?;
    if st.find(&s.project, &s.id).is_some() {
        return Err(err("id", format!("preference `{}` already exists", s.id)));
    }
    let def = (st.catalog.get(&s.service, &s.quota_id).cloned()).ok_or_else(|| {
        err(
            "quotaId",
            format!("unknown quota {}/{}", s.service, s.quota_id),
        )
    })?;
    let dims = merge_region(s.region.as_deref(), &s.dimensions).map_err(|m| err("region", m))?;
    st.catalog.check_dims(&def, &dims).map_err(|(key, m)| {
        let field = if key == "region" && s.region.is_some() {
            "region".into()
        } else {
            format!("dimensions.{key}")
        };
        (field, m)
    })?;
    if let Some(other) = st.find_same(&s.project, &s.service, &s.quota_id, &dims) {
        let msg = format!(
            "{} already targets these dimensions",
            st.prefs[other].name()
        );
        return Err(err("dimensions", msg));
    }
    if def.is_fixed || def.ineligible.is_some() {
        return Err(err("quotaId", format!("{} cannot be raised", def.quota_id)));
    }
    let from = st.value_of(&s.project, &def, &dims);
    check_value(s.preferred_value).map_err(|m| err("preferredValue", m))?;
    if compare_values(s.preferred_value, from) != std::cmp::Ordering::Greater {
        let msg = format!(
            "a seeded preference is an open increase: {} is not above the current value {from}",
            s.preferred_value
        );
        return Err(err("preferredValue", msg));
    }
    let mut p = Preference {
        project: s.project,
        id: s.id,
        service: s.service,
        quota_id: s.quota_id,
        dimensions: dims,
        preferred_value: s.preferred_value,
        granted_value: None,
        state_detail: String::new(),
        trace_id: String::new(),
        annotations: s.annotations,
        origin: s.origin,
        etag: st.next_etag(),
        create_time: now,
        update_time: now,
        reconciling: false,
        justification: s.justification.unwrap_or_default(),
        contact_email: s
            .contact_email
            .unwrap_or_else(|| "someone@example.com".into()),
        from_value: from,
        rule: Default::default(),
        filed_at: now,
        polls: 0,
    };
    st.open_increase(&mut p, from, now);
    let source = match p.origin {
        Origin::CloudConsole => "console",
        Origin::AutoAdjuster => "quota-adjuster",
        Origin::Api => "elsewhere",
    };
    st.log_write(&p, from, source, now);
    st.prefs.push(p);
    Ok(st.prefs.len() - 1)
}
