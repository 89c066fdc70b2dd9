//! Checks a `gcp:` scenario section against the model before anything is built from it: the
//! catalog (built-in plus the scenario's definitions), its regions and dimensions, method names,
//! and seeded preferences, which are checked by seeding them into a fresh state so the rules
//! cannot drift from the API's. The scenario stays plain data; this layer sits above it, the
//! catalog, the state and the seeding.

use super::{
    method::Method,
    model::catalog::Catalog,
    model::seed,
    model::state::GcpState,
    scenario::{GcpScenario, Outcome, merge_region},
    vocab::check_value,
};
use crate::invalid::ScenarioError;

impl GcpScenario {
    /// Checks what serde cannot; `at` is this section's path (`gcp`).
    pub fn validate(&self, at: &str) -> Result<(), ScenarioError> {
        for (i, p) in self.projects.iter().enumerate() {
            check_name(&format!("{at}.projects[{i}]"), p)?;
        }
        for (i, r) in self.regions.iter().enumerate() {
            check_name(&format!("{at}.regions[{i}]"), r)?;
        }
        let built_in = Catalog::built_in();
        for (i, d) in self.quota_infos.iter().enumerate() {
            let field = |name: &str| format!("{at}.quotaInfos[{i}].{name}");
            let known = built_in.get(&d.service, &d.quota_id).is_some();
            if !known && d.metric.is_none() {
                let msg = format!(
                    "{}/{} is not a built-in quota: give it a metric (and default)",
                    d.service, d.quota_id
                );
                return Err(ScenarioError::new(field("metric"), msg));
            }
            if !known && d.default_value.is_none() {
                let msg = "a new quota needs its default value";
                return Err(ScenarioError::new(field("default"), msg));
            }
            if let Some(Err(m)) = d.default_value.map(check_value) {
                return Err(ScenarioError::new(field("default"), m));
            }
            if d.eligible == Some(true) && d.ineligibility_reason.is_some() {
                let msg = "an eligible quota has no ineligibility reason";
                return Err(ScenarioError::new(field("ineligibilityReason"), msg));
            }
        }
        let catalog = Catalog::for_scenario(self);
        self.compute
            .validate(&format!("{at}.compute"), &catalog.regions)?;
        self.validate_values(at, &catalog)?;
        self.validate_rules(at, &catalog)?;
        for (i, a) in self.adjuster.iter().enumerate() {
            self.check_project(&format!("{at}.adjuster[{i}].project"), &a.project)?;
            if a.inherited_from.is_some() && a.enablement != super::scenario::Enablement::Inherited
            {
                let msg = "only an INHERITED setting comes from an ancestor";
                return Err(ScenarioError::new(
                    format!("{at}.adjuster[{i}].inheritedFrom"),
                    msg,
                ));
            }
        }
        for (i, f) in self.faults.iter().enumerate() {
            f.method
                .parse::<Method>()
                .map_err(|m| ScenarioError::new(format!("{at}.faults[{i}].method"), m))?;
        }
        // Seeds are checked by seeding them, so the rules cannot drift from the API's.
        let mut state = GcpState::new(GcpScenario {
            preferences: Vec::new(),
            ..self.clone()
        });
        let now = jiff::Timestamp::now();
        for (i, s) in self.preferences.iter().enumerate() {
            seed::seed(&mut state, s.clone(), now).map_err(|(name, message)| {
                ScenarioError::new(format!("{at}.preferences[{i}].{name}"), message)
            })?;
        }
        Ok(())
    }

    fn validate_values(&self, at: &str, catalog: &Catalog) -> Result<(), ScenarioError> {
        for (i, v) in self.values.iter().enumerate() {
            let field = |name: &str| format!("{at}.values[{i}].{name}");
            let def = catalog.get(&v.service, &v.quota_id).ok_or_else(|| {
                let msg = format!("unknown quota {}/{}", v.service, v.quota_id);
                ScenarioError::new(field("quotaId"), msg)
            })?;
            if let Some(p) = &v.project {
                self.check_project(&field("project"), p)?;
            }
            let dims = merge_region(v.region.as_deref(), &v.dimensions)
                .map_err(|m| ScenarioError::new(field("region"), m))?;
            catalog.check_dims(def, &dims).map_err(|(key, m)| {
                let name = if v.region.is_some() && key == "region" {
                    "region".to_string()
                } else {
                    format!("dimensions.{key}")
                };
                ScenarioError::new(field(&name), m)
            })?;
            if v.value.is_none() && v.usage.is_none() {
                return Err(ScenarioError::new(field("value"), "set a value or a usage"));
            }
            if let Some(Err(m)) = v.value.map(check_value) {
                return Err(ScenarioError::new(field("value"), m));
            }
            if let Some(Err(m)) = v.usage.as_ref().map(crate::usage::Usage::check) {
                return Err(ScenarioError::new(field("usage"), m));
            }
        }
        Ok(())
    }

    fn validate_rules(&self, at: &str, catalog: &Catalog) -> Result<(), ScenarioError> {
        let rules = std::iter::once((format!("{at}.schedule.default"), &self.schedule.default))
            .chain(
                (self.schedule.rules.iter().enumerate())
                    .map(|(i, r)| (format!("{at}.schedule.rules[{i}]"), r)),
            );
        for (path, r) in rules {
            let field = |name: &str| format!("{path}.{name}");
            if let (Some(s), Some(q)) = (&r.service, &r.quota_id)
                && catalog.get(s, q).is_none()
            {
                let msg = format!("unknown quota {s}/{q}");
                return Err(ScenarioError::new(field("quotaId"), msg));
            }
            if let Some(reg) = &r.region
                && !catalog.regions.contains(reg)
            {
                let msg = format!("`{reg}` is not a known region");
                return Err(ScenarioError::new(field("region"), msg));
            }
            let partial = r.outcome == Outcome::Partial;
            if let Some(f) = r.grant_fraction {
                if !partial {
                    let msg = "only a `partial` outcome grants a fraction";
                    return Err(ScenarioError::new(field("grantFraction"), msg));
                }
                if !(f > 0.0 && f < 1.0) {
                    let msg = "must be between 0 and 1 (exclusive)";
                    return Err(ScenarioError::new(field("grantFraction"), msg));
                }
            }
            if r.granted_value.is_some() && !partial {
                let msg = "only a `partial` outcome takes a grantedValue";
                return Err(ScenarioError::new(field("grantedValue"), msg));
            }
        }
        Ok(())
    }

    fn check_project(&self, field: &str, project: &str) -> Result<(), ScenarioError> {
        check_name(field, project)?;
        if !self.projects.is_empty() && !self.projects.iter().any(|p| p == project) {
            let msg = format!("`{project}` is not in `projects`");
            return Err(ScenarioError::new(field, msg));
        }
        Ok(())
    }
}

/// Project ids and regions end up in resource names, so they cannot hold `/` or be empty.
fn check_name(field: &str, name: &str) -> Result<(), ScenarioError> {
    if name.is_empty() || name.contains(['/', ' ']) {
        let msg = format!("`{name}` must be non-empty, without `/` or spaces");
        return Err(ScenarioError::new(field, msg));
    }
    Ok(())
}
