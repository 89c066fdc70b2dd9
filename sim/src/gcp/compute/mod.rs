//! Compute Engine machine types (REST+JSON under `/compute/v1/`): routes and handlers in
//! `responses`, answered from the machine-type catalog (`gcp::machine_types`, a leaf the
//! scenario and the model use too).

pub mod responses;
