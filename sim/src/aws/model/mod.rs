//! What the simulated AWS remembers, below every service: the state behind its lock (`state`),
//! the quota catalog (`catalog`), increase requests (`request`) and the rate limiter with its
//! call counters (`limiter`). Built from a validated scenario.

pub mod catalog;
pub mod limiter;
pub mod request;
pub mod state;
