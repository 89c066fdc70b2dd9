//! AWS Support (awsJson1_1, `X-Amz-Target: AWSSupport_20130415.<Operation>`, one global
//! endpoint in us-east-1): the case calls a quota increase's case is followed with. The cases
//! live in `aws::model::cases`; the router calls `responses` once the caller is known.

pub mod responses;
