//! Decide: the one place that turns what was observed of a region into its state and the next
//! action. The pipeline of one region is
//!
//! 1. `observe` gathers one [`Observed`]: the quota's value, this object's recorded request and
//!    filing intent, what this process filed and follows, and the needs of every object on the
//!    quota added up (`aggregate`, `peers`);
//! 2. [`drive::run`] asks [`plan`] what to do; a plan may ask for one more read (the cloud's
//!    history of the quota under its filing lock, then the other objects as the API server has
//!    them), which the caller's [`drive::Outside`] adds to the `Observed`, and is asked again;
//! 3. a filing is made by `act` (the intent recorded first), and [`outcome::after_filing`] says
//!    what its answer means;
//! 4. `target` turns the [`outcome::Verdict`] into the region's status, which `status`, `events`
//!    and `metrics` only read.
//!
//! Pure: no clients and no clock of its own, so every rule is unit-tested in `tests.rs`, through
//! the same loop (`drive::run`) that the controller and `plan --live` use.

pub mod consent;
pub mod drive;
pub mod guardrails;
pub mod outcome;
mod plan;
pub mod refusals;
pub mod requests;
mod rules;
mod types;

pub use plan::plan;
pub use types::{Ask, Need, Observed, Plan};

#[cfg(test)]
mod cases;
#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
