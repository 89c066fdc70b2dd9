//! Compute Engine machine types (REST+JSON under `/compute/v1/`): routes and handlers in
//! `responses`, the machine-type catalog (built in, plus the scenario's `compute` section) in
//! `machine_types`.

pub mod machine_types;
pub mod responses;
