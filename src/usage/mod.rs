//! Usage arithmetic, pure: the peak and trend inside a window, the forecast of when the trend
//! reaches the quota's value, and what `spec.headroom` asks for. The clouds' readings come from
//! `cloud` (`UsageView`); status and the decision take the results.

mod forecast;
mod headroom;
mod observed;
mod reading;
mod settle;

pub use forecast::{Forecast, HORIZON};
pub use headroom::{Bounds, Cap, headroom};
pub use observed::{Observation, describe, observation};
pub use reading::{Reading, duration_text, number, reading, utilization_percent};
pub use settle::settle;

#[cfg(test)]
mod tests;
