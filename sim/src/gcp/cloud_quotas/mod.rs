//! Cloud Quotas v1 (REST+JSON under `/v1/`): routes and handlers (`responses`), list filters
//! and pages (`listing`), the JSON shapes in both enum encodings (`wire`) and the rules of a
//! QuotaPreference write (`write`); QuotaAdjusterSettings in `adjuster`. What they read and
//! change lives in `gcp::model`.

pub mod adjuster;
pub mod listing;
pub mod responses;
pub mod wire;
pub mod write;
