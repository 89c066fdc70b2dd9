//! What the simulated AWS remembers, below every service: the state behind its lock (`state`),
//! the quota catalog (`catalog`), support cases (`cases`), increase requests (`request`), the rate limiter with its
//! call counters (`limiter`), the regions DescribeRegions lists (`regions`), usage over time
//! (`usage`) and utilisation reports (`report`).
//! Built from a validated scenario.

mod auto;
pub mod cases;
pub mod catalog;
pub mod limiter;
pub mod regions;
pub mod report;
pub mod request;
pub mod state;
pub mod usage;
