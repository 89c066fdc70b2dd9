//! The API rates the operator allows itself in one AWS account and region, per operation.

/// Steady rate and burst per second, from the Service Quotas documentation.
pub fn documented_rate(operation: &str) -> (f64, f64) {
    match operation {
        // The template writes have no documented rate: taken as writes like an increase.
        "RequestServiceQuotaIncrease"
        | "PutServiceQuotaIncreaseRequestIntoTemplate"
        | "DeleteServiceQuotaIncreaseRequestFromTemplate" => (3.0, 3.0),
        op if op.starts_with("ListRequestedServiceQuotaChangeHistory") => (5.0, 5.0),
        op if op.starts_with("List") => (10.0, 10.0),
        _ => (5.0, 5.0),
    }
}

/// The operator's own rates: Service Quotas' documented ones, and for EC2's
/// DescribeInstanceTypes and DescribeRegions a quarter of the refill and a tenth of the bucket EC2
/// gives an account's non-mutating calls (20/s, 100): that bucket is shared with Karpenter,
/// autoscalers and every other EC2 client of the account, and the operator needs a type's vCPUs
/// only once, the account's regions once in hours.
///
/// AWS Support's case calls: AWS documents no per-operation rate for them (its Support
/// authorization API, the only Support API with published rates, allows 3 per second on its
/// single-item calls); the operator keeps well under that, [`SUPPORT_CASE_RATE`], and reads each
/// case at most once per poll interval besides.
pub fn allowed_rate(operation: &str) -> (f64, f64) {
    match operation {
        "DescribeInstanceTypes" | "DescribeRegions" => (5.0, 10.0),
        "DescribeCases" | "DescribeCommunications" | "AddCommunicationToCase" => SUPPORT_CASE_RATE,
        op => documented_rate(op),
    }
}

/// Steady rate and burst per second for the AWS Support case calls, per account.
pub const SUPPORT_CASE_RATE: (f64, f64) = (1.0, 3.0);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_rates_per_operation() {
        assert_eq!(documented_rate("ListServiceQuotas"), (10.0, 10.0));
        assert_eq!(
            documented_rate("ListRequestedServiceQuotaChangeHistoryByQuota"),
            (5.0, 5.0)
        );
        assert_eq!(documented_rate("GetServiceQuota"), (5.0, 5.0));
        assert_eq!(documented_rate("RequestServiceQuotaIncrease"), (3.0, 3.0));
    }

    #[test]
    fn ec2_gets_a_share_of_its_bucket_service_quotas_its_documented_rates() {
        assert_eq!(allowed_rate("DescribeInstanceTypes"), (5.0, 10.0));
        assert_eq!(allowed_rate("DescribeRegions"), (5.0, 10.0));
        assert_eq!(allowed_rate("ListServiceQuotas"), (10.0, 10.0));
    }
}
