//! Simulated AWS Service Quotas (awsJson1_1), AWS Support's case calls (awsJson1_1), STS (awsQuery) and EC2's DescribeInstanceTypes
//! and DescribeRegions (ec2 query), so the AWS CLI and the Rust SDKs work against it unchanged
//! (`--endpoint-url` / `endpoint_url`).
//!
//! Accounts come from the SigV4 access key id (temporary credentials from AssumeRole, then
//! scenario `accounts`, else `defaultAccount`), regions from the credential scope; signatures
//! are not verified.

// Layers, each using only those below it: `router` (the one endpoint) -> the services
// (`service_quotas`, `support`, `sts`, `ec2`, one folder each; `xml` for the two that answer XML) ->
// `model` -> `scenario` (plain data, with `status` and the `instance_types` catalog it shares
// with the model) -> `fault`, `operation`, `error`. `validate` checks the scenario against the
// model, which is built from it. `control` and `admin` steer the model from Rust and over HTTP.
mod admin;
pub(crate) mod caller;
mod case_control;
mod cloudwatch;
mod control;
mod ec2;
mod error;
mod fault;
mod instance_types;
mod model;
mod operation;
mod router;
pub(crate) mod scenario;
mod service_quotas;
mod status;
mod sts;
mod support;
pub(crate) mod template_settings;
mod usage_control;
pub(crate) mod usage_settings;
mod validate;
mod xml;

use std::sync::{Arc, Mutex};

use axum::{Router, routing::post};
use jiff::Timestamp;

pub use admin::ROUTES as ADMIN_ROUTES;
pub use control::AwsControl;
pub use error::AwsError;
pub use fault::{Fault, FaultInjection};
pub use instance_types::{Ec2Scenario, InstanceTypeDef, InstanceTypes};
pub use model::cases::{AWS_SENDER, Case, Communication};
pub use model::catalog::{
    CLOUD_MAP_INSTANCES_PER_SERVICE, Catalog, OPENSEARCH_INSTANCES_PER_DOMAIN, QuotaDef,
};
pub use model::limiter::CallCount;
pub use model::request::{FiledRequest, Request, Source};
pub use operation::{Operation, Rate};
pub use scenario::{
    AwsScenario, DEFAULT_ACCOUNT, ERROR_REASON_CODES, ErrorReason, OpenLimits, Outcome,
    QuotaSetting, Rates, RoleSetting, Rule, Schedule, SeedRequest, ThrottleInjection,
};
pub use status::RequestStatus;
pub use template_settings::{DEFAULT_TEMPLATE_LIMIT, TemplateSeed, TemplateSettings};
pub use usage_control::{AutoAdjustRequest, UsageNow};
pub use usage_settings::{
    AutoAdjust, AutoManagementSetting, NeverStarted, OptInStatus, OptInType, ReportSettings,
    UsageMetric,
};

pub use crate::admin::SimError;

/// The simulated Service Quotas of every account in a scenario.
pub struct AwsSim {
    control: AwsControl,
}

impl AwsSim {
    /// Builds the simulator; `scenario` should come from `Scenario::from_yaml` or be
    /// `Default`, which are validated.
    pub fn new(scenario: crate::scenario::Scenario) -> Self {
        Self::from_section(scenario.aws)
    }

    pub fn from_section(scenario: AwsScenario) -> Self {
        let state = model::state::AwsState::new(scenario, Timestamp::now());
        Self {
            control: AwsControl {
                shared: Arc::new(Mutex::new(state)),
            },
        }
    }

    /// The control handle (counters, filing log, admin moves) for in-process use.
    pub fn control(&self) -> AwsControl {
        self.control.clone()
    }

    /// `POST /` (the AWS API) plus `/_sim/aws/...` (admin), ready to merge with other clouds'
    /// routers on one server.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/", post(router::handle))
            .route("/service/{service}/operation/{op}", post(router::cbor))
            .with_state(self.control.shared.clone())
            .merge(admin::router(self.control.clone()))
    }
}
