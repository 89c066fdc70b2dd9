//! Everything the simulated Cloud Quotas remembers: quota values and usage per project and
//! dimensions, preferences, the write log, counters and injected faults. One mutex guards it;
//! every call is short.

use std::collections::HashMap;

use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::gcp::{
    error::{Code, GcpError},
    machine_types::MachineTypes,
    method::{Counters, Method},
    model::adjuster::Settings,
    model::catalog::{Catalog, QuotaDef},
    model::preference::{Preference, Verdict},
    scenario::{Fault, GcpScenario, merge_region},
    vocab::{Dims, UNLIMITED, compare_values},
};
use crate::shared::Ticks;
use crate::usage::Usage;

/// A usage shape and the time it is anchored at.
pub type Anchored = (Usage, Timestamp);

/// One entry of the write log: every preference stored through the API or seeded.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreferenceWrite {
    pub project: String,
    pub id: String,
    pub service: String,
    pub quota_id: String,
    pub dimensions: Dims,
    pub preferred_value: i64,
    /// The quota value when it was written.
    pub previous_value: i64,
    pub change: Change,
    /// `CreateQuotaPreference`, `UpdateQuotaPreference`, or for a seed `console`,
    /// `quota-adjuster` or `elsewhere` (its origin).
    pub source: String,
    pub at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Change {
    Increase,
    Decrease,
    /// The preferred value equals the quota value in force (e.g. an annotations-only update of
    /// a granted preference).
    Unchanged,
}

/// (project, None for every project), service, quota id, dimensions.
type ValueKey = (Option<String>, String, String, Dims);

/// The state behind its lock, as the handlers and the control handle share it.
pub type Shared = crate::shared::Shared<GcpState>;

pub struct GcpState {
    pub scenario: GcpScenario,
    pub catalog: Catalog,
    /// Compute Engine machine types, the same in every project.
    pub machine_types: MachineTypes,
    values: HashMap<ValueKey, i64>,
    usage: HashMap<ValueKey, Anchored>,
    /// When the simulator started: the anchor of every scenario usage shape.
    pub started: Timestamp,
    pub prefs: Vec<Preference>,
    pub writes: Vec<PreferenceWrite>,
    pub counters: Counters,
    faults: Vec<Fault>,
    seq: u64,
    /// QuotaAdjusterSettings changed since start, by project.
    adjuster: HashMap<String, Settings>,
}

impl GcpState {
    /// A fresh state with the scenario's values and no preferences: `seed::seeded` adds the
    /// scenario's, so this module never needs the seeding rules that need it.
    pub fn new(scenario: GcpScenario) -> Self {
        let started = Timestamp::now();
        let mut state = Self {
            started,
            catalog: Catalog::for_scenario(&scenario),
            machine_types: MachineTypes::for_scenario(&scenario.compute),
            values: HashMap::new(),
            usage: HashMap::new(),
            prefs: Vec::new(),
            writes: Vec::new(),
            counters: Counters::default(),
            faults: scenario.faults.clone(),
            seq: 0,
            adjuster: HashMap::new(),
            scenario,
        };
        for v in state.scenario.values.clone() {
            let Ok(dims) = merge_region(v.region.as_deref(), &v.dimensions) else {
                continue;
            };
            let key = (
                v.project.clone(),
                v.service.clone(),
                v.quota_id.clone(),
                dims,
            );
            if let Some(value) = v.value {
                state.values.insert(key.clone(), value);
            }
            if let Some(usage) = v.usage {
                state.usage.insert(key, (usage, started));
            }
        }
        state
    }

    /// The value for `dims`: the most specific entry whose dimensions all match (a project's
    /// own entry before an every-project one), else the quota's default.
    pub fn value_of(&self, project: &str, def: &QuotaDef, dims: &Dims) -> i64 {
        lookup(&self.values, project, def, dims).unwrap_or(def.default_value)
    }

    /// What is in use at `now` for `dims` (0 without usage), rounded to a whole count.
    pub fn usage_of(&self, project: &str, def: &QuotaDef, dims: &Dims, now: Timestamp) -> i64 {
        self.usage_shape(project, def, dims)
            .map_or(0, |(u, t0)| u.at(t0, now).round() as i64)
    }

    /// The usage shape for `dims`, found as values are.
    pub fn usage_shape(&self, project: &str, def: &QuotaDef, dims: &Dims) -> Option<Anchored> {
        lookup(&self.usage, project, def, dims)
    }

    /// Every usage series a project publishes: (service, quota id, dimensions, shape), a
    /// project's own entry winning over an every-project one for the same dimensions.
    pub fn usage_series(&self, project: &str) -> Vec<(String, String, Dims, Anchored)> {
        let mut out: std::collections::BTreeMap<(String, String, Dims), (bool, Anchored)> =
            Default::default();
        for ((p, s, q, d), u) in &self.usage {
            if p.as_deref().is_some_and(|p| p != project) {
                continue;
            }
            let key = (s.clone(), q.clone(), d.clone());
            let own = p.is_some();
            if out.get(&key).is_none_or(|(was_own, _)| own && !was_own) {
                out.insert(key, (own, u.clone()));
            }
        }
        out.into_iter()
            .map(|((s, q, d), (_, u))| (s, q, d, u))
            .collect()
    }

    pub fn set_value(&mut self, project: &str, service: &str, quota_id: &str, dims: &Dims, v: i64) {
        self.values
            .insert(own_key(project, service, quota_id, dims), v);
    }

    /// Sets the value of the quota and dimensions a preference is for, in its project.
    pub fn set_value_of(&mut self, p: &Preference, v: i64) {
        self.set_value(&p.project, &p.service, &p.quota_id, &p.dimensions, v);
    }

    /// A flat usage of `v` (the shape's anchor does not matter for a flat one).
    pub fn set_usage(&mut self, project: &str, service: &str, quota_id: &str, dims: &Dims, v: i64) {
        let flat = (Usage::flat(v as f64), self.started);
        self.usage
            .insert(own_key(project, service, quota_id, dims), flat);
    }

    /// Replaces the usage shape for these dimensions in one project, anchored at `now`.
    pub fn set_usage_shape(
        &mut self,
        project: &str,
        service: &str,
        quota_id: &str,
        dims: &Dims,
        usage: Usage,
        now: Timestamp,
    ) {
        self.usage
            .insert(own_key(project, service, quota_id, dims), (usage, now));
    }

    /// QuotaInfo.dimensionsInfos for a project: the default entry (no dimensions) first, then
    /// every set of dimensions that has a value of its own.
    pub fn dimension_infos(&self, project: &str, def: &QuotaDef) -> Vec<(Dims, i64)> {
        let mut sets: Vec<Dims> = self
            .values
            .keys()
            .filter(|(p, s, q, d)| {
                *s == def.service
                    && *q == def.quota_id
                    && !d.is_empty()
                    && p.as_deref().is_none_or(|p| p == project)
            })
            .map(|(_, _, _, d)| d.clone())
            .collect();
        sets.sort();
        sets.dedup();
        std::iter::once(Dims::new())
            .chain(sets)
            .map(|d| {
                let v = self.value_of(project, def, &d);
                (d, v)
            })
            .collect()
    }

    fn next_hex(&mut self, what: &str) -> String {
        self.seq += 1;
        hex::encode(&Sha256::digest(format!("{what}/{}", self.seq))[..10])
    }

    pub fn next_etag(&mut self) -> String {
        self.next_hex("etag")
    }

    pub fn next_trace_id(&mut self) -> String {
        self.next_hex("trace")
    }

    pub fn generated_id(&mut self) -> String {
        self.next_hex("id")
    }

    pub fn find(&self, project: &str, id: &str) -> Option<usize> {
        self.prefs
            .iter()
            .position(|p| p.project == project && p.id == id)
    }

    /// The preference for the same quota and dimensions (there is at most one per project).
    pub fn find_same(
        &self,
        project: &str,
        service: &str,
        quota_id: &str,
        dims: &Dims,
    ) -> Option<usize> {
        self.prefs.iter().position(|p| {
            p.project == project
                && p.service == service
                && p.quota_id == quota_id
                && p.dimensions == *dims
        })
    }

    /// Marks `p` as a new open increase from `from`, on the rule the scenario gives it.
    pub fn open_increase(&mut self, p: &mut Preference, from: i64, now: Timestamp) {
        p.reconciling = true;
        p.granted_value = Some(from);
        p.from_value = from;
        p.state_detail.clear();
        p.trace_id = self.next_trace_id();
        p.rule = self
            .scenario
            .rule_for(&p.project, &p.service, &p.quota_id, &p.dimensions);
        p.filed_at = now;
        p.polls = 0;
    }

    /// Records a read of preference `idx` after the reader saw it (see `Preference::record_read`).
    pub fn record_read(&mut self, idx: usize, now: Timestamp) {
        if self.prefs[idx].record_read()
            && let Some(verdict) = self.prefs[idx].scheduled_verdict()
        {
            self.resolve(idx, verdict, now);
        }
    }

    /// Ends the open increase of preference `idx`; a grant (full or partial) changes the value.
    pub fn resolve(&mut self, idx: usize, verdict: Verdict, at: Timestamp) {
        let etag = self.next_etag();
        let p = &mut self.prefs[idx];
        let granted = match &verdict {
            Verdict::Grant => p.preferred_value,
            Verdict::Unlimited => UNLIMITED,
            Verdict::Partial(g, _) => *g,
            Verdict::Refuse(_) => p.from_value,
        };
        p.state_detail = match verdict {
            Verdict::Grant | Verdict::Unlimited => String::new(),
            Verdict::Partial(_, why) | Verdict::Refuse(why) => why,
        };
        p.reconciling = false;
        p.granted_value = Some(granted);
        p.update_time = at.max(p.update_time);
        p.etag = etag;
        tracing::info!(
            name = %p.name(), granted, preferred = p.preferred_value, "sim: gcp preference reconciled"
        );
        let p = p.clone();
        if granted != p.from_value {
            self.set_value_of(&p, granted);
        }
    }

    pub fn log_write(&mut self, p: &Preference, previous_value: i64, source: &str, now: Timestamp) {
        let change = match compare_values(p.preferred_value, previous_value) {
            std::cmp::Ordering::Greater => Change::Increase,
            std::cmp::Ordering::Less => Change::Decrease,
            std::cmp::Ordering::Equal => Change::Unchanged,
        };
        tracing::info!(name = %p.name(), value = p.preferred_value, ?change, "sim: gcp preference written");
        self.writes.push(PreferenceWrite {
            project: p.project.clone(),
            id: p.id.clone(),
            service: p.service.clone(),
            quota_id: p.quota_id.clone(),
            dimensions: p.dimensions.clone(),
            preferred_value: p.preferred_value,
            previous_value,
            change,
            source: source.into(),
            at: now,
        });
    }

    /// The project's QuotaAdjusterSettings now.
    pub fn adjuster(&self, project: &str) -> Settings {
        self.adjuster.get(project).cloned().unwrap_or_else(|| {
            let setting = self.scenario.adjuster.iter().find(|s| s.project == project);
            Settings::initial(project, setting)
        })
    }

    /// Sets the enablement on the project itself (None: back to inheriting).
    pub fn update_adjuster(
        &mut self,
        project: &str,
        enabled: Option<bool>,
        now: Timestamp,
    ) -> Settings {
        let mut s = self.adjuster(project);
        self.seq += 1;
        s.update(enabled, now, self.seq);
        self.adjuster.insert(project.into(), s.clone());
        s
    }

    pub fn inject(&mut self, fault: Fault) {
        self.faults.push(fault);
    }

    /// The injected error for this call, if one is still due.
    pub fn take_fault(&mut self, method: Method, project: &str) -> Option<GcpError> {
        let f = self.faults.iter_mut().find(|f| {
            f.count > 0
                && f.method == method.name()
                && f.project.as_deref().is_none_or(|p| p == project)
        })?;
        f.count -= 1;
        let message = f.message.clone().unwrap_or_else(|| match f.code {
            Code::ResourceExhausted => {
                let kind = if method.is_write() { "Write" } else { "Read" };
                format!(
                    "Quota exceeded for quota metric '{kind} requests' and limit '{kind} requests \
                     per minute' of service '{}' for consumer 'projects/{project}'.",
                    method.service()
                )
            }
            Code::PermissionDenied => format!(
                "Permission {} denied (or the resource may not exist).",
                method.permission()
            ),
            code => format!("simulated {} for {method}", code.name()),
        });
        Some(GcpError::new(f.code, message))
    }
}

impl Ticks for GcpState {
    /// Ends every open increase whose time has come, stamped with the time it was due, so what
    /// a reader sees does not depend on when it looked.
    fn tick(&mut self, now: Timestamp) {
        for idx in 0..self.prefs.len() {
            if let Some(at) = self.prefs[idx].due()
                && at <= now
                && let Some(verdict) = self.prefs[idx].scheduled_verdict()
            {
                self.resolve(idx, verdict, at);
            }
        }
    }
}

/// The key of a project's own entry (not an every-project one).
fn own_key(project: &str, service: &str, quota_id: &str, dims: &Dims) -> ValueKey {
    (
        Some(project.into()),
        service.into(),
        quota_id.into(),
        dims.clone(),
    )
}

fn lookup<V: Clone>(
    map: &HashMap<ValueKey, V>,
    project: &str,
    def: &QuotaDef,
    dims: &Dims,
) -> Option<V> {
    map.iter()
        .filter(|((p, s, q, d), _)| {
            *s == def.service
                && *q == def.quota_id
                && p.as_deref().is_none_or(|p| p == project)
                && d.iter().all(|(k, v)| dims.get(k) == Some(v))
        })
        // Most dimensions first, then a project's own entry; the dimensions break ties so the
        // answer never depends on hash order.
        .max_by(|((pa, _, _, da), _), ((pb, _, _, db), _)| {
            (da.len(), pa.is_some(), da).cmp(&(db.len(), pb.is_some(), db))
        })
        .map(|(_, v)| v.clone())
}

/// Preference ids end up in resource names: letters, digits, `-` and `_`, at most 63.
pub fn check_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 63
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{id}` is not a valid quota preference id: use 1 to 63 letters, digits, `-` or `_`"
        ))
    }
}
