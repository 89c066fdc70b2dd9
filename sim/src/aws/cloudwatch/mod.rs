//! CloudWatch's GetMetricData, for the `AWS/Usage` metrics Service Quotas names in UsageMetric.
//! The Rust SDK (aws-sdk-cloudwatch) speaks Smithy RPC v2 CBOR (`POST /service/
//! GraniteServiceVersion20100801/operation/GetMetricData`, `smithy-protocol: rpc-v2-cbor`); the
//! AWS CLI's botocore picks awsJson1_0 (`X-Amz-Target: GraniteServiceVersion20100801.
//! GetMetricData`) from the model's protocol list. Both decode into one input (`input`), are
//! answered by `metric_data`, and are rendered back in their own encoding (`cbor`, `json`).
//! CloudWatch is awsQuery-compatible: errors carry `x-amzn-query-error: <Code>;Sender`, and the
//! SDKs take the code from it.

pub mod cbor;
pub mod input;
pub mod json;
pub mod metric_data;

/// The JSON target prefix and the CBOR service name.
pub const SERVICE: &str = "GraniteServiceVersion20100801";
