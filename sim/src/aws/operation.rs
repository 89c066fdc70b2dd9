//! The AWS operations the simulator answers (Service Quotas, EC2's DescribeInstanceTypes and
//! DescribeRegions, CloudWatch's GetMetricData, and AWS Support's case calls),
//! and AWS's documented rate for each. STS is counted apart (it has no rate limit here).

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
    StartQuotaUtilizationReport,
    GetQuotaUtilizationReport,
    GetAutoManagementConfiguration,
    /// The Organizations quota request template (from the management account).
    GetAssociationForServiceQuotaTemplate,
    ListServiceQuotaIncreaseRequestsInTemplate,
    PutServiceQuotaIncreaseRequestIntoTemplate,
    DeleteServiceQuotaIncreaseRequestFromTemplate,
    /// EC2 (query protocol), for capacity arithmetic: vCPUs per instance type.
    DescribeInstanceTypes,
    /// EC2 (query protocol): the regions the account has.
    DescribeRegions,
    /// CloudWatch (rpcv2Cbor for the SDK, awsJson1_0 for the CLI): AWS/Usage metrics.
    GetMetricData,
    /// AWS Support (awsJson1_1, `AWSSupport_20130415.<name>`): the cases of increase requests.
    DescribeCases,
    DescribeCommunications,
    AddCommunicationToCase,
}

/// Steady requests per second and burst size of a token bucket.
#[derive(Clone, Copy, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub rate: f64,
    pub burst: f64,
}

impl Operation {
    /// The Service Quotas operations (`X-Amz-Target: ServiceQuotasV20190624.<name>`).
    pub const ALL: [Operation; 16] = [
        Operation::ListServices,
        Operation::GetServiceQuota,
        Operation::GetAWSDefaultServiceQuota,
        Operation::ListServiceQuotas,
        Operation::ListAWSDefaultServiceQuotas,
        Operation::RequestServiceQuotaIncrease,
        Operation::GetRequestedServiceQuotaChange,
        Operation::ListRequestedServiceQuotaChangeHistory,
        Operation::ListRequestedServiceQuotaChangeHistoryByQuota,
        Operation::StartQuotaUtilizationReport,
        Operation::GetQuotaUtilizationReport,
        Operation::GetAutoManagementConfiguration,
        Operation::GetAssociationForServiceQuotaTemplate,
        Operation::ListServiceQuotaIncreaseRequestsInTemplate,
        Operation::PutServiceQuotaIncreaseRequestIntoTemplate,
        Operation::DeleteServiceQuotaIncreaseRequestFromTemplate,
    ];

    /// The EC2 actions (`Action=<name>` in a form body).
    pub const EC2: [Operation; 2] = [Operation::DescribeInstanceTypes, Operation::DescribeRegions];

    /// The CloudWatch operations (`GraniteServiceVersion20100801.<name>`).
    pub const CLOUDWATCH: [Operation; 1] = [Operation::GetMetricData];

    /// The AWS Support operations (`AWSSupport_20130415.<name>`).
    pub const SUPPORT: [Operation; 3] = [
        Operation::DescribeCases,
        Operation::DescribeCommunications,
        Operation::AddCommunicationToCase,
    ];

    /// Every operation served, Service Quotas, EC2 and CloudWatch: what throttles, faults and
    /// counters may name.
    pub fn served() -> impl Iterator<Item = Operation> {
        Self::ALL
            .into_iter()
            .chain(Self::EC2)
            .chain(Self::CLOUDWATCH)
            .chain(Self::SUPPORT)
    }

    /// The IAM service prefix of the action (`servicequotas:GetServiceQuota`).
    pub fn iam_prefix(self) -> &'static str {
        if Self::EC2.contains(&self) {
            "ec2"
        } else if Self::CLOUDWATCH.contains(&self) {
            "cloudwatch"
        } else if Self::SUPPORT.contains(&self) {
            "support"
        } else {
            "servicequotas"
        }
    }

    /// The name in `X-Amz-Target: ServiceQuotasV20190624.<name>` or EC2's `Action=<name>`.
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
            Operation::StartQuotaUtilizationReport => "StartQuotaUtilizationReport",
            Operation::GetQuotaUtilizationReport => "GetQuotaUtilizationReport",
            Operation::GetAutoManagementConfiguration => "GetAutoManagementConfiguration",
            Operation::GetAssociationForServiceQuotaTemplate => {
                "GetAssociationForServiceQuotaTemplate"
            }
            Operation::ListServiceQuotaIncreaseRequestsInTemplate => {
                "ListServiceQuotaIncreaseRequestsInTemplate"
            }
            Operation::PutServiceQuotaIncreaseRequestIntoTemplate => {
                "PutServiceQuotaIncreaseRequestIntoTemplate"
            }
            Operation::DeleteServiceQuotaIncreaseRequestFromTemplate => {
                "DeleteServiceQuotaIncreaseRequestFromTemplate"
            }
            Operation::DescribeInstanceTypes => "DescribeInstanceTypes",
            Operation::DescribeRegions => "DescribeRegions",
            Operation::GetMetricData => "GetMetricData",
            Operation::DescribeCases => "DescribeCases",
            Operation::DescribeCommunications => "DescribeCommunications",
            Operation::AddCommunicationToCase => "AddCommunicationToCase",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::served().find(|op| op.name() == name)
    }

    /// AWS's documented per-account, per-region rates (reference/aws-service-quotas.md; EC2's
    /// non-mutating actions: a bucket of 100, refilled at 20 per second, per the EC2 API's
    /// "Request throttling" page; CloudWatch GetMetricData: 50 per second). The newer Service
    /// Quotas operations have no documented rate here: they get the Get* one. AWS documents no
    /// per-operation rate for the Support API's case calls: they get the one the operator
    /// allows itself (1 per second, burst 3).
    pub fn documented_rate(self) -> Rate {
        let (rate, burst) = match self {
            Operation::GetServiceQuota
            | Operation::GetAWSDefaultServiceQuota
            | Operation::GetRequestedServiceQuotaChange
            | Operation::StartQuotaUtilizationReport
            | Operation::GetQuotaUtilizationReport
            | Operation::GetAutoManagementConfiguration
            | Operation::GetAssociationForServiceQuotaTemplate => (5.0, 5.0),
            Operation::ListServiceQuotaIncreaseRequestsInTemplate => (10.0, 10.0),
            Operation::PutServiceQuotaIncreaseRequestIntoTemplate
            | Operation::DeleteServiceQuotaIncreaseRequestFromTemplate => (3.0, 3.0),
            Operation::ListRequestedServiceQuotaChangeHistory
            | Operation::ListRequestedServiceQuotaChangeHistoryByQuota => (5.0, 5.0),
            Operation::ListServices
            | Operation::ListServiceQuotas
            | Operation::ListAWSDefaultServiceQuotas => (10.0, 10.0),
            Operation::RequestServiceQuotaIncrease => (3.0, 3.0),
            Operation::DescribeInstanceTypes | Operation::DescribeRegions => (20.0, 100.0),
            Operation::GetMetricData => (50.0, 50.0),
            Operation::DescribeCases
            | Operation::DescribeCommunications
            | Operation::AddCommunicationToCase => (1.0, 3.0),
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
            let names: Vec<_> = Self::served().map(|o| o.name()).collect();
            format!(
                "unknown operation `{s}`; expected one of {}",
                names.join(", ")
            )
        })
    }
}
