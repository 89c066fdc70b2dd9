//! What the simulated AWS remembers, below every service: the state behind its lock (`state`),
//! the quota catalog (`catalog`), increase requests and their status (`request`, `status`) and
//! the rate limiter with its call counters (`limiter`). Built from a validated scenario; knows
//! nothing of HTTP except the errors it answers.

pub mod catalog;
pub mod limiter;
pub mod request;
pub mod state;
pub mod status;
