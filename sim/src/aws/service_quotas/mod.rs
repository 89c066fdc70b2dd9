//! Service Quotas (awsJson1_1, `X-Amz-Target: ServiceQuotasV20190624.<Operation>`): the
//! operations (`responses`, with the usage ones in `utilization` and the quota request template's in
//! `templates`), their wire shapes (`wire`)
//! and page tokens (`paging`). What they
//! read and change lives in `aws::model`; the router calls `responses` once the caller is known.

pub mod paging;
pub mod responses;
pub mod templates;
pub mod utilization;
pub mod wire;
