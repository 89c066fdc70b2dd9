//! AWS's documented Service Quotas API rates, transcribed here by hand from
//! shared/reference/aws-service-quotas.md ("API rates (steady + burst per second)"), not computed
//! from the code they check: the operator's limiter and the simulator's throttling must both
//! follow them, for every operation either one knows.

use quota_operator::cloud::aws::documented_rate;
use quota_sim::Operation;

/// (operation, steady per second, burst), as AWS documents them. The reference gives "Get* 5+5";
/// StartQuotaUtilizationReport has no documented rate, and both sides treat it as a Get*. The
/// template calls have none either: both sides treat the association as a Get*, the listing as a
/// List*, and a put or delete as a write like RequestServiceQuotaIncrease.
const DOCUMENTED: [(&str, f64, f64); 16] = [
    ("GetServiceQuota", 5.0, 5.0),
    ("GetAWSDefaultServiceQuota", 5.0, 5.0),
    ("GetRequestedServiceQuotaChange", 5.0, 5.0),
    ("ListRequestedServiceQuotaChangeHistory", 5.0, 5.0),
    ("ListRequestedServiceQuotaChangeHistoryByQuota", 5.0, 5.0),
    ("ListServiceQuotas", 10.0, 10.0),
    ("ListAWSDefaultServiceQuotas", 10.0, 10.0),
    ("ListServices", 10.0, 10.0),
    ("RequestServiceQuotaIncrease", 3.0, 3.0),
    ("GetQuotaUtilizationReport", 5.0, 5.0),
    ("GetAutoManagementConfiguration", 5.0, 5.0),
    ("StartQuotaUtilizationReport", 5.0, 5.0),
    ("GetAssociationForServiceQuotaTemplate", 5.0, 5.0),
    ("ListServiceQuotaIncreaseRequestsInTemplate", 10.0, 10.0),
    ("PutServiceQuotaIncreaseRequestIntoTemplate", 3.0, 3.0),
    ("DeleteServiceQuotaIncreaseRequestFromTemplate", 3.0, 3.0),
];

#[test]
fn the_operators_limiter_uses_the_documented_rates() {
    for (operation, rate, burst) in DOCUMENTED {
        assert_eq!(documented_rate(operation), (rate, burst), "{operation}");
    }
}

#[test]
fn the_simulator_throttles_at_the_documented_rates_for_every_operation_it_serves() {
    for op in Operation::ALL {
        let (_, rate, burst) = DOCUMENTED
            .iter()
            .find(|(name, ..)| *name == op.name())
            .unwrap_or_else(|| panic!("{} is not in the documented table", op.name()));
        let r = op.documented_rate();
        assert_eq!((r.rate, r.burst), (*rate, *burst), "{}", op.name());
    }
    assert_eq!(
        Operation::ALL.len(),
        DOCUMENTED.len(),
        "every documented operation is served"
    );
}

/// AWS documents no per-operation rate for the Support API's case calls: the operator allows
/// itself 1 per second (burst 3) per account, below the 3 per second AWS documents for its
/// Support authorization API's single-item calls, and the simulator throttles at the same.
#[test]
fn the_support_case_calls_keep_to_one_per_second_on_both_sides() {
    use quota_operator::cloud::aws::{SUPPORT_CASE_RATE, allowed_rate};
    assert_eq!(SUPPORT_CASE_RATE, (1.0, 3.0));
    for op in Operation::SUPPORT {
        assert_eq!(allowed_rate(op.name()), SUPPORT_CASE_RATE, "{}", op.name());
        let r = op.documented_rate();
        assert_eq!((r.rate, r.burst), SUPPORT_CASE_RATE, "{}", op.name());
    }
}
