//! CreateQuotaPreference and UpdateQuotaPreference: what is checked, what is stored.
//!
//! Values are ordered with -1 (unlimited) above all others, so asking -1 is an increase and any
//! limit on an unlimited quota a decrease. Increases wait (reconciling) and need a contact email;
//! decreases apply at once but are refused past 10% or below usage unless the matching safety
//! check is ignored; fixed and ineligible quotas refuse increases; dimensions, service and quota
//! id never change; a second preference for the same quota and dimensions, under any id, answers
//! ALREADY_EXISTS; a stale etag answers ABORTED; every stored write gets a new etag and a line in
//! the write log.

use jiff::Timestamp;

use crate::gcp::{
    cloud_quotas::wire::{Mask, PreferenceIn, SafetyChecks},
    error::GcpError,
    method::Method,
    model::catalog::QuotaDef,
    model::preference::Preference,
    model::state::{Change, GcpState, check_id},
    vocab::{Dims, Origin, UNLIMITED, compare_values},
};

/// One write as the request states it.
pub struct WriteRequest<'a> {
    pub method: Method,
    pub project: &'a str,
    /// The path id (update) or `quotaPreferenceId` (create; empty: the server picks one).
    pub id: &'a str,
    pub body: PreferenceIn,
    pub checks: SafetyChecks,
    pub validate_only: bool,
    pub allow_missing: bool,
    pub mask: Mask,
}

pub fn create(
    st: &mut GcpState,
    req: WriteRequest<'_>,
    now: Timestamp,
) -> Result<Preference, GcpError> {
    let id = if req.id.is_empty() {
        st.generated_id()
    } else {
        req.id.to_string()
    };
    check_id(&id).map_err(GcpError::invalid)?;
    if st.find(req.project, &id).is_some() {
        return Err(GcpError::already_exists(format!(
            "QuotaPreference projects/{}/locations/global/quotaPreferences/{id} already exists.",
            req.project
        )));
    }
    insert(st, &req, id, now)
}

pub fn update(
    st: &mut GcpState,
    req: WriteRequest<'_>,
    now: Timestamp,
) -> Result<Preference, GcpError> {
    let Some(idx) = st.find(req.project, req.id) else {
        if req.allow_missing {
            check_id(req.id).map_err(GcpError::invalid)?;
            return insert(st, &req, req.id.to_string(), now);
        }
        return Err(GcpError::not_found(format!(
            "QuotaPreference projects/{}/locations/global/quotaPreferences/{} not found.",
            req.project, req.id
        )));
    };
    let stored = st.prefs[idx].clone();
    let body = &req.body;
    if !body.etag.is_empty() && body.etag != stored.etag {
        return Err(GcpError::aborted(format!(
            "The etag `{}` does not match the current etag of {}: read it again and retry.",
            body.etag,
            stored.name()
        )));
    }
    let mask = req.mask;
    let immutable = |name: &str| {
        GcpError::invalid(format!(
            "{name} is immutable: {} keeps service {}, quota_id {} and dimensions {:?}; create \
             another preference instead",
            stored.name(),
            stored.service,
            stored.quota_id,
            stored.dimensions
        ))
    };
    if (mask.service || !body.service.is_empty()) && body.service != stored.service {
        return Err(immutable("service"));
    }
    if (mask.quota_id || !body.quota_id.is_empty()) && body.quota_id != stored.quota_id {
        return Err(immutable("quota_id"));
    }
    if (mask.dimensions || !body.dimensions.is_empty()) && body.dimensions != stored.dimensions {
        return Err(immutable("dimensions"));
    }
    let mut p = stored.clone();
    if mask.preferred_value || mask.annotations {
        let config = body.quota_config.as_ref().ok_or_else(|| {
            GcpError::invalid("quota_config is required: the update mask names it")
        })?;
        if mask.preferred_value {
            p.preferred_value = config.preferred_value;
        }
        if mask.annotations {
            p.annotations.clone_from(&config.annotations);
        }
    }
    if mask.justification {
        p.justification.clone_from(&body.justification);
    }
    if mask.contact_email && !body.contact_email.is_empty() {
        p.contact_email.clone_from(&body.contact_email);
    }
    let def = quota(st, &p.service, &p.quota_id)?;
    let current = st.value_of(req.project, &def, &p.dimensions);
    // A new value is a new request; so is the same value again once the last one ended short
    // of it (refused, partly granted, or the value moved since).
    let refile = mask.preferred_value
        && (p.preferred_value != stored.preferred_value
            || (!stored.reconciling && p.preferred_value != current));
    let change = if refile {
        let email = Some(body.contact_email.as_str())
            .filter(|e| !e.is_empty())
            .unwrap_or(&p.contact_email)
            .to_string();
        let change = decide(
            st,
            req.project,
            &def,
            &p.dimensions,
            p.preferred_value,
            &email,
            req.checks,
        )?;
        apply(st, &mut p, change, current, now);
        change
    } else {
        Change::Unchanged
    };
    p.etag = st.next_etag();
    p.update_time = now;
    if req.validate_only {
        return Ok(p);
    }
    if refile && change == Change::Decrease {
        st.set_value_of(&p, p.preferred_value);
    }
    st.prefs[idx] = p.clone();
    st.log_write(&p, current, req.method.name(), now);
    Ok(p)
}

/// A new preference from a create, or an update with allowMissing.
fn insert(
    st: &mut GcpState,
    req: &WriteRequest<'_>,
    id: String,
    now: Timestamp,
) -> Result<Preference, GcpError> {
    let body = &req.body;
    if body.service.is_empty() {
        return Err(GcpError::invalid("quota_preference.service is required"));
    }
    if body.quota_id.is_empty() {
        return Err(GcpError::invalid("quota_preference.quota_id is required"));
    }
    let config = body
        .quota_config
        .as_ref()
        .ok_or_else(|| GcpError::invalid("quota_preference.quota_config is required"))?;
    let def = quota(st, &body.service, &body.quota_id)?;
    let dims = body.dimensions.clone();
    st.catalog
        .check_dims(&def, &dims)
        .map_err(|(_, m)| GcpError::invalid(format!("quota_preference.dimensions: {m}")))?;
    if let Some(other) = st.find_same(req.project, &def.service, &def.quota_id, &dims) {
        return Err(GcpError::already_exists(format!(
            "{} already holds the preference for {} with dimensions {dims:?}; update it instead",
            st.prefs[other].name(),
            def.quota_id
        )));
    }
    let current = st.value_of(req.project, &def, &dims);
    let preferred = config.preferred_value;
    let change = decide(
        st,
        req.project,
        &def,
        &dims,
        preferred,
        &body.contact_email,
        req.checks,
    )?;
    let mut p = Preference {
        project: req.project.to_string(),
        id,
        service: def.service.clone(),
        quota_id: def.quota_id.clone(),
        dimensions: dims,
        preferred_value: preferred,
        granted_value: None,
        state_detail: String::new(),
        trace_id: String::new(),
        annotations: config.annotations.clone(),
        origin: Origin::Api,
        etag: st.next_etag(),
        create_time: now,
        update_time: now,
        reconciling: false,
        justification: body.justification.clone(),
        contact_email: body.contact_email.clone(),
        from_value: current,
        rule: Default::default(),
        filed_at: now,
        polls: 0,
    };
    apply(st, &mut p, change, current, now);
    if req.validate_only {
        return Ok(p);
    }
    if change == Change::Decrease {
        st.set_value_of(&p, preferred);
    }
    st.log_write(&p, current, req.method.name(), now);
    st.prefs.push(p.clone());
    Ok(p)
}

fn quota(st: &GcpState, service: &str, quota_id: &str) -> Result<QuotaDef, GcpError> {
    if !st.catalog.has_service(service) {
        return Err(GcpError::invalid(format!(
            "quota_preference.service: service `{service}` is not known"
        )));
    }
    st.catalog.get(service, quota_id).cloned().ok_or_else(|| {
        GcpError::invalid(format!(
            "quota_preference.quota_id: quota `{quota_id}` does not exist in service `{service}`"
        ))
    })
}

/// Whether a preferred value may be set, and what kind of change it is.
fn decide(
    st: &GcpState,
    project: &str,
    def: &QuotaDef,
    dims: &Dims,
    preferred: i64,
    email: &str,
    checks: SafetyChecks,
) -> Result<Change, GcpError> {
    if preferred < UNLIMITED {
        return Err(GcpError::invalid(format!(
            "quota_config.preferred_value must be greater than or equal to -1, got {preferred}"
        )));
    }
    let from = st.value_of(project, def, dims);
    let id = &def.quota_id;
    let change = match compare_values(preferred, from) {
        std::cmp::Ordering::Greater => Change::Increase,
        std::cmp::Ordering::Less => Change::Decrease,
        std::cmp::Ordering::Equal => return Ok(Change::Unchanged),
    };
    if def.is_fixed {
        return Err(GcpError::precondition(format!(
            "{id} is a fixed quota: its value {from} cannot be adjusted"
        )));
    }
    if change == Change::Increase {
        if let Some(reason) = def.ineligible {
            return Err(GcpError::precondition(format!(
                "{id} is not eligible for a quota increase ({})",
                reason.name()
            )));
        }
        if email.trim().is_empty() {
            return Err(GcpError::invalid(format!(
                "contact_email is required to request a quota increase ({id}: {from} -> {preferred})"
            )));
        }
        return Ok(change);
    }
    // From unlimited, any limit is a decrease of more than 10%.
    let steep = from == UNLIMITED || (from - preferred).saturating_mul(10) > from;
    if steep && !checks.percentage {
        return Err(GcpError::precondition(format!(
            "Decreasing {id} from {from} to {preferred} is more than 10%; add \
             QUOTA_DECREASE_PERCENTAGE_TOO_HIGH to ignore_safety_checks to proceed"
        )));
    }
    // Usage as it is at this call (a shape moves with time; a flat usage does not).
    let usage = st.usage_of(project, def, dims, Timestamp::now());
    if preferred < usage && !checks.below_usage {
        return Err(GcpError::precondition(format!(
            "Decreasing {id} to {preferred} would be below the current usage {usage}; add \
             QUOTA_DECREASE_BELOW_USAGE to ignore_safety_checks to proceed"
        )));
    }
    Ok(change)
}

/// Puts `p` in the state its change leads to: an increase waits, anything else is in force.
fn apply(st: &mut GcpState, p: &mut Preference, change: Change, current: i64, now: Timestamp) {
    if change == Change::Increase {
        st.open_increase(p, current, now);
    } else {
        p.reconciling = false;
        p.granted_value = Some(p.preferred_value);
        p.from_value = current;
        p.trace_id.clear();
        p.state_detail.clear();
    }
}
