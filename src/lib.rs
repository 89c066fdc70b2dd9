//! quota-operator: keeps AWS and GCP quotas at or above what QuotaRequirements declare.
#![forbid(unsafe_code)]

pub mod api;
pub mod capacity;
pub mod cli;
pub mod cloud;
pub mod controller;
pub mod explain;
pub mod leader;
pub mod metrics;
pub mod plan;
pub mod probes;
pub mod shutdown;
pub mod telemetry;
pub mod usage;
