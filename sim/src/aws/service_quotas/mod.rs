//! Service Quotas (awsJson1_1, `X-Amz-Target: ServiceQuotasV20190624.<Operation>`): the
//! operations (`responses`, with the usage ones in `utilization`), their wire shapes (`wire`)
//! and page tokens (`paging`). What they
//! read and change lives in `aws::model`; the router calls `responses` once the caller is known.

pub mod paging;
pub mod responses;
pub mod utilization;
pub mod wire;
