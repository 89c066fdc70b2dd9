//! Simulated GCP Cloud Quotas v1, speaking its REST+JSON surface so the official Rust client
//! (`with_endpoint`) and gcloud (`CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDQUOTAS`) work against it
//! unchanged.
//!
//! Every project in a path exists (unless the scenario lists `projects`); values, usage and
//! preferences are per project. Increases reconcile on the scenario's schedule and end granted,
//! partly granted or refused; decreases apply at once, behind Google's safety checks.
//!
//! Choices where Google's documentation is silent (kept in one place so they are easy to
//! revisit): while reconciling, `grantedValue` shows the value in force; any change to a
//! preference, the end of its increase included, gives it a new etag; a second preference for
//! the same quota and dimensions, under any id, answers ALREADY_EXISTS (the API documents one
//! preference per quota and set of dimensions, not its refusal of a second); an update keeps
//! the preference's requestOrigin; -1 (unlimited) ranks above every value; safety-check, fixed
//! and ineligible refusals are FAILED_PRECONDITION, a missing contact email INVALID_ARGUMENT;
//! a decrease carries no trace id. Only `projects/` containers are served (folders and organizations
//! answer UNIMPLEMENTED), QuotaAdjusterSettings included; a project that never set it inherits
//! from `default`, disabled. Cloud Monitoring's quota metrics are served under `/v3/`.

// Layers, each using only those below it: `router()` below merges the services
// (`cloud_quotas`, `compute`, one folder each) -> `model` -> `scenario` (plain data, with
// `vocab` and the `machine_types` catalog it shares with the model) -> `params`, `method`,
// `error`. `validate` checks the scenario against the model, which is built from it. `control`
// and `admin` steer the model from Rust and over HTTP.
mod admin;
mod cloud_quotas;
mod compute;
mod control;
mod error;
mod machine_types;
mod method;
mod model;
mod monitoring;
mod params;
pub(crate) mod scenario;
mod usage_control;
mod validate;
mod vocab;

use std::sync::{Arc, Mutex};

use axum::Router;

pub use admin::ROUTES as ADMIN_ROUTES;
pub use control::{GcpControl, dims};
pub use error::{Code, GcpError};
pub use machine_types::{Accelerator, ComputeScenario, MachineTypeDef, MachineTypes};
pub use method::{CallCount, Method};
pub use model::adjuster::Settings as AdjusterSettings;
pub use model::catalog::{Catalog, QuotaDef, REGIONS};
pub use model::preference::Preference;
pub use model::state::{Change, PreferenceWrite};
pub use scenario::{
    AdjusterSetting, Enablement, Fault, GcpScenario, Outcome, QuotaInfoDef, Rule, Schedule,
    SeedPreference, ValueSetting,
};
pub use usage_control::{AdjusterRaise, UsageNow};
pub use vocab::{COMPUTE, Dims, IneligibilityReason, Origin, UNLIMITED};

/// The simulated Cloud Quotas of every project in a scenario.
pub struct GcpSim {
    control: GcpControl,
}

impl GcpSim {
    /// Builds the simulator from a scenario that came from `Scenario::from_yaml` or `Default`.
    pub fn new(scenario: crate::scenario::Scenario) -> Self {
        Self::from_section(scenario.gcp)
    }

    pub fn from_section(scenario: GcpScenario) -> Self {
        Self {
            control: GcpControl {
                shared: Arc::new(Mutex::new(model::seed::seeded(scenario))),
            },
        }
    }

    /// The control handle (counters, write log, admin moves) for in-process use.
    pub fn control(&self) -> GcpControl {
        self.control.clone()
    }

    /// `/v1/...` (Cloud Quotas), `/compute/v1/...` (machine types, regions) plus `/_sim/gcp/...`
    /// (admin), ready to merge with other clouds'
    /// routers on one server.
    pub fn router(&self) -> Router {
        cloud_quotas::responses::router(self.control.shared.clone())
            .merge(cloud_quotas::adjuster::router(self.control.shared.clone()))
            .merge(compute::router(self.control.shared.clone()))
            .merge(monitoring::responses::router(self.control.shared.clone()))
            .merge(admin::router(self.control.clone()))
    }
}
