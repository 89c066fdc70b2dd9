//! What the simulated GCP remembers, below every service: the state behind its lock (`state`),
//! the QuotaInfo catalog (`catalog`), preferences and how their increases end (`preference`),
//! and preferences made outside the API (`seed`). Built from a validated scenario.

pub mod adjuster;
pub mod catalog;
pub mod preference;
pub mod seed;
pub mod state;
