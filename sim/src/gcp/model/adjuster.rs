//! QuotaAdjusterSettings per project: what the scenario's `adjuster` says, then what updates
//! set. A project never set inherits from `default`, disabled (Google's field docs name
//! `default` as the source when no ancestor sets it; the simulator takes it as disabled).

use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::gcp::scenario::{AdjusterSetting, Enablement};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub project: String,
    /// The value in force (the ancestor's when inherited).
    pub enabled: bool,
    pub inherited: bool,
    /// Empty when set on the project itself.
    pub inherited_from: String,
    pub etag: String,
    pub update_time: Option<Timestamp>,
    /// What the project inherits when it sets nothing itself.
    #[serde(skip)]
    ancestor: (bool, String),
}

impl Settings {
    /// The project's settings as the scenario gives them (or Google's default).
    pub fn initial(project: &str, setting: Option<&AdjusterSetting>) -> Self {
        let ancestor = setting.map_or((false, "default".to_string()), |s| {
            let from = s.inherited_from.clone().unwrap_or_else(|| "default".into());
            (s.ancestor_enablement == Enablement::Enabled, from)
        });
        let mut out = Self {
            project: project.into(),
            enabled: ancestor.0,
            inherited: true,
            inherited_from: ancestor.1.clone(),
            etag: String::new(),
            update_time: None,
            ancestor,
        };
        match setting.map(|s| s.enablement) {
            Some(Enablement::Enabled) => out.set_here(true),
            Some(Enablement::Disabled) => out.set_here(false),
            Some(Enablement::Inherited) | None => {}
        }
        out.etag = out.digest(0);
        out
    }

    fn set_here(&mut self, enabled: bool) {
        self.enabled = enabled;
        self.inherited = false;
        self.inherited_from.clear();
    }

    /// Sets the enablement on the project itself, or (None) goes back to inheriting.
    pub fn update(&mut self, enabled: Option<bool>, now: Timestamp, seq: u64) {
        match enabled {
            Some(e) => self.set_here(e),
            None => {
                self.enabled = self.ancestor.0;
                self.inherited = true;
                self.inherited_from = self.ancestor.1.clone();
            }
        }
        self.update_time = Some(now);
        self.etag = self.digest(seq);
    }

    fn digest(&self, seq: u64) -> String {
        let text = format!("{}/{}/{}/{seq}", self.project, self.enabled, self.inherited);
        hex::encode(&Sha256::digest(text)[..8])
    }
}
