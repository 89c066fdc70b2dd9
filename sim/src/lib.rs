#![forbid(unsafe_code)]

//! quota-sim: cloud simulators speaking the real AWS and GCP wire protocols (tests, demo, benchmarks).
//!
//! Layout, top down; a module uses only those below it, never one that uses it back
//! (`tools/import-cycles` keeps it so):
//!
//! - `cli`, `handle`: the binary's arguments; `Sim` serves every cloud of a scenario on one
//!   address, `AwsSim::serve` / `GcpSim::serve` one section (the other cloud runs beside it on
//!   its defaults).
//! - `aws`, `gcp`: one module per cloud, each with a `router()` merged on that one server and
//!   laid out alike: the router, then one folder per service (Service Quotas, STS, EC2; Cloud
//!   Quotas, Compute) answering on the real wire protocol, then `model` (what the cloud
//!   remembers), then errors. A control handle steers the model from Rust and over
//!   `/_sim/<cloud>/...`.
//! - `scenario`: the YAML file, one section per cloud (`aws::scenario`, `gcp::scenario`): plain
//!   data, validated against each cloud's model before the model is built from it.
//! - `schedule`, `delay`, `paging`, `shared`, `admin`, `invalid`, `usage`: what both clouds
//!   share, so they behave alike where the real ones do (`usage`: usage over time as a shape).
//!   `call_log`: who called which IAM action, for the test of the operator's IAM policy.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use quota_sim::{Scenario, Sim};
//! let sim = Sim::new(Scenario::default()).serve("127.0.0.1:0".parse()?).await?;
//! // AWS: --endpoint-url for the CLI, endpoint_url for the SDK. GCP: with_endpoint for the
//! // Cloud Quotas client, CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDQUOTAS=<endpoint>/ for gcloud.
//! println!("{}", sim.endpoint());
//! # Ok(()) }
//! ```

mod admin;
pub mod aws;
mod call_log;
mod cli;
mod delay;
pub mod gcp;
mod handle;
mod invalid;
mod paging;
mod scenario;
mod schedule;
mod shared;
mod usage;

pub use admin::SimError;
pub use aws::{AwsControl, AwsSim, FiledRequest, Operation, Request, RequestStatus};
pub use call_log::ENV as CALL_LOG_ENV;
pub use cli::{SimArgs, run_cli};
pub use delay::Delay;
pub use gcp::{GcpControl, GcpSim};
pub use handle::{Sim, SimHandle};
pub use scenario::{EXAMPLE_SCENARIO, Scenario, ScenarioError};
pub use usage::{Shape, Span, Usage};
