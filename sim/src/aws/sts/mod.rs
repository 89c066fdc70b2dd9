//! STS (awsQuery): AssumeRole and GetCallerIdentity in `responses`; the sessions they hand out
//! live in `aws::model::state`, where the router looks temporary credentials up.

pub mod responses;
