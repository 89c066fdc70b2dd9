#![forbid(unsafe_code)]

//! quota-sim: cloud simulators speaking the real AWS and GCP wire protocols (tests, demo, benchmarks).
//!
//! Layout: `scenario` (the YAML file, one section per cloud, and the schedule shape), `delay`,
//! `paging` (page tokens), `shared` (the state's lock) and `admin` (admin answers) serve both
//! clouds, so they behave alike where the real ones do; each cloud lives in its own module
//! (`aws`, `gcp`) with a `router()` merged with the others on one server, and a control handle
//! usable from Rust and over `/_sim/<cloud>/...`. `Sim` serves every cloud of a scenario;
//! `AwsSim` / `GcpSim` serve one scenario section (the other cloud runs beside it on its
//! defaults).
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
mod cli;
mod delay;
pub mod gcp;
mod handle;
mod invalid;
mod paging;
mod scenario;
mod schedule;
mod shared;

pub use admin::SimError;
pub use aws::{AwsControl, AwsSim, FiledRequest, Operation, Request, RequestStatus};
pub use cli::{SimArgs, run_cli};
pub use delay::Delay;
pub use gcp::{GcpControl, GcpSim};
pub use handle::{Sim, SimHandle};
pub use scenario::{EXAMPLE_SCENARIO, Scenario, ScenarioError};
