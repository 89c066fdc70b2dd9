//! The Service Quotas operations the simulator answers, and AWS's documented rate for each.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    ListServices,
    GetServiceQuota,
    GetAWSDefaultServiceQuota,
    ListServiceQuotas,
    ListAWSDefaultServiceQuotas,
    RequestServiceQuotaIncrease,
    GetRequestedServiceQuotaChange,
    ListRequestedServiceQuotaChangeHistory,
    ListRequestedServiceQuotaChangeHistoryByQuota,
}

/// Steady requests per second and burst size of a token bucket.
#[derive(Clone, Copy, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub rate: f64,
    pub burst: f64,
}

impl Operation {
    pub const ALL: [Operation; 9] = [
        Operation::ListServices,
        Operation::GetServiceQuota,
        Operation::GetAWSDefaultServiceQuota,
        Operation::ListServiceQuotas,
        Operation::ListAWSDefaultServiceQuotas,
        Operation::RequestServiceQuotaIncrease,
        Operation::GetRequestedServiceQuotaChange,
        Operation::ListRequestedServiceQuotaChangeHistory,
        Operation::ListRequestedServiceQuotaChangeHistoryByQuota,
    ];

    /// The name in `X-Amz-Target: ServiceQuotasV20190624.<name>`.
    pub fn name(self) -> &'static str {
        match self {
            Operation::ListServices => "ListServices",
            Operation::GetServiceQuota => "GetServiceQuota",
            Operation::GetAWSDefaultServiceQuota => "GetAWSDefaultServiceQuota",
            Operation::ListServiceQuotas => "ListServiceQuotas",
            Operation::ListAWSDefaultServiceQuotas => "ListAWSDefaultServiceQuotas",
            Operation::RequestServiceQuotaIncrease => "RequestServiceQuotaIncrease",
            Operation::GetRequestedServiceQuotaChange => "GetRequestedServiceQuotaChange",
            Operation::ListRequestedServiceQuotaChangeHistory => {
                "ListRequestedServiceQuotaChangeHistory"
            }
            Operation::ListRequestedServiceQuotaChangeHistoryByQuota => {
                "ListRequestedServiceQuotaChangeHistoryByQuota"
            }
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    /// AWS's documented per-account, per-region rates (reference/aws-service-quotas.md).
    pub fn documented_rate(self) -> Rate {
        let (rate, burst) = match self {
            Operation::GetServiceQuota
            | Operation::GetAWSDefaultServiceQuota
            | Operation::GetRequestedServiceQuotaChange => (5.0, 5.0),
            Operation::ListRequestedServiceQuotaChangeHistory
            | Operation::ListRequestedServiceQuotaChangeHistoryByQuota => (5.0, 5.0),
            Operation::ListServices
            | Operation::ListServiceQuotas
            | Operation::ListAWSDefaultServiceQuotas => (10.0, 10.0),
            Operation::RequestServiceQuotaIncrease => (3.0, 3.0),
        };
        Rate { rate, burst }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Operation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::from_name(s).ok_or_else(|| {
            let names: Vec<_> = Self::ALL.iter().map(|o| o.name()).collect();
            format!(
                "unknown operation `{s}`; expected one of {}",
                names.join(", ")
            )
        })
    }
}
