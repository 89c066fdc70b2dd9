//! Cloud Monitoring v3 `projects.timeSeries.list` (REST+JSON under `/v3/`), for the quota
//! metrics Google publishes per consumer project: `serviceruntime.googleapis.com/quota/
//! allocation/usage` (GAUGE, allocation quotas), `.../quota/rate/net_usage` (DELTA, rate
//! quotas) and `.../quota/limit` (GAUGE), on resource type `consumer_quota`. Routes and the
//! call (`responses`), the filter subset (`filter`) and the series built from the usage shapes
//! (`series`).

pub mod filter;
pub mod responses;
pub mod series;

pub const USAGE: &str = "serviceruntime.googleapis.com/quota/allocation/usage";
pub const NET_USAGE: &str = "serviceruntime.googleapis.com/quota/rate/net_usage";
pub const LIMIT: &str = "serviceruntime.googleapis.com/quota/limit";
pub const RESOURCE: &str = "consumer_quota";
