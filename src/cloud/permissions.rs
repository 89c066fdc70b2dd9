//! Every cloud API call the operator makes, with the IAM permission it needs, the feature that
//! makes it, whether `plan --live` makes it, and why: the one list `deploy/iam/` is generated
//! from (by `iam_files`; `QO_UPDATE_IAM=1 cargo test --test iam_files`). The simulator logs who called what
//! (`QUOTA_SIM_CALL_LOG`), and `tests/iam_files.rs` holds this list to that log: whatever the
//! operator calls in the test suite is here, and whatever is here it calls, unless an entry
//! says why the simulator cannot see it.
//!
//! The operator names itself to the clouds (the AWS SDK's app name, the GCP user agent) as
//! [`Client::name`], which is also how CloudTrail and Cloud Audit Logs tell its calls apart.

use std::sync::OnceLock;

use Feature::*;

/// Who makes the calls: the running operator or one of its read-only commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Client {
    Operator,
    /// `quota-operator plan --live`.
    Plan,
    /// `quota-operator explain --live`.
    Explain,
}

impl Client {
    /// The AWS SDK's app name and the GCP user agent's product.
    pub fn name(self) -> &'static str {
        match self {
            Client::Operator => "quota-operator",
            Client::Plan => "quota-operator-plan",
            Client::Explain => "quota-operator-explain",
        }
    }

    /// This process makes its calls as `self` from now on (the first claim stands: a process is
    /// one command). Called before the first cloud client is built.
    pub fn claim(self) {
        let _ = CLIENT.set(self);
    }

    /// Who this process calls as: the operator unless a command claimed otherwise.
    pub fn current() -> Client {
        CLIENT.get().copied().unwrap_or(Client::Operator)
    }

    /// `quota-operator/0.1.0`: the GCP user agent.
    pub fn user_agent(self) -> String {
        format!("{}/{}", self.name(), env!("CARGO_PKG_VERSION"))
    }
}

static CLIENT: OnceLock<Client> = OnceLock::new();

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cloud {
    Aws,
    Gcp,
}

/// What a call is for; a feature not used can be left out of the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Feature {
    /// Who the credentials are, and the role a CloudAccount names.
    Accounts,
    /// Which regions the account or project has.
    Regions,
    /// Reading quota values.
    Quotas,
    /// Reading and filing increase requests (AWS) or quota preferences (GCP).
    Requests,
    /// Usage, for `headroom`.
    Usage,
    /// vCPUs per instance or machine type, for `capacity`.
    Capacity,
    /// The clouds' own automatic quota management (AWS), Quota Adjuster (GCP).
    AutoAdjuster,
    /// The Organizations quota request template (AWS), for CloudAccounts with
    /// `spec.aws.quotaTemplate`.
    Templates,
    /// The support case of an AWS increase request, read and (when the spec says so) answered
    /// once: optional; without it, or without a Business or Enterprise support plan, status
    /// points to the console instead.
    SupportCases,
}

impl Feature {
    /// The policy statement's Sid.
    pub fn sid(self) -> &'static str {
        match self {
            Feature::Accounts => "Accounts",
            Feature::Regions => "Regions",
            Feature::Quotas => "ReadQuotas",
            Feature::Requests => "IncreaseRequests",
            Feature::Usage => "Usage",
            Feature::Capacity => "Capacity",
            Feature::AutoAdjuster => "AutoAdjuster",
            Feature::Templates => "QuotaTemplates",
            Feature::SupportCases => "SupportCases",
        }
    }
}

/// Whether the test suite can see the call in the simulator's log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// The simulator serves it: the suite must call it.
    BySimulator,
    /// Needed in the real cloud, invisible to the simulator, for the reason given.
    NotBySimulator(&'static str),
}

/// One call: `method` as the cloud's API names it (the simulator logs the same name).
#[derive(Clone, Copy, Debug)]
pub struct Call {
    pub cloud: Cloud,
    pub method: &'static str,
    /// `servicequotas:GetServiceQuota`; on GCP the IAM permission, `cloudquotas.quotas.get`.
    pub permission: &'static str,
    pub feature: Feature,
    /// `plan --live` (and `explain --live`) make it: it is in the read-only policy.
    pub plan: bool,
    /// Where the permission is needed, when not on every resource (`*`).
    pub resource: Option<&'static str>,
    /// A condition on the grant: (operator, key, value).
    pub condition: Option<(&'static str, &'static str, &'static str)>,
    /// The narrowest predefined GCP role that holds the permission.
    pub role: Option<&'static str>,
    /// A policy must grant it (false: the cloud answers it for every identity).
    pub granted: bool,
    pub seen: Seen,
    pub why: &'static str,
}

/// The AWS operation names the call sites pass to the rate limiter and the metrics, so the
/// code names each call as this list does.
pub mod aws {
    pub const GET_CALLER_IDENTITY: &str = "GetCallerIdentity";
    pub const ASSUME_ROLE: &str = "AssumeRole";
    pub const DESCRIBE_REGIONS: &str = "DescribeRegions";
    pub const LIST_SERVICE_QUOTAS: &str = "ListServiceQuotas";
    pub const LIST_DEFAULTS: &str = "ListAWSDefaultServiceQuotas";
    pub const LIST_SERVICES: &str = "ListServices";
    pub const GET_SERVICE_QUOTA: &str = "GetServiceQuota";
    pub const GET_DEFAULT: &str = "GetAWSDefaultServiceQuota";
    pub const HISTORY: &str = "ListRequestedServiceQuotaChangeHistoryByQuota";
    pub const GET_REQUEST: &str = "GetRequestedServiceQuotaChange";
    pub const REQUEST_INCREASE: &str = "RequestServiceQuotaIncrease";
    pub const AUTO_MANAGEMENT: &str = "GetAutoManagementConfiguration";
    pub const START_REPORT: &str = "StartQuotaUtilizationReport";
    pub const GET_REPORT: &str = "GetQuotaUtilizationReport";
    pub const GET_METRIC_DATA: &str = "GetMetricData";
    pub const DESCRIBE_INSTANCE_TYPES: &str = "DescribeInstanceTypes";
    pub const TEMPLATE_ASSOCIATION: &str = "GetAssociationForServiceQuotaTemplate";
    pub const TEMPLATE_LIST: &str = "ListServiceQuotaIncreaseRequestsInTemplate";
    pub const TEMPLATE_PUT: &str = "PutServiceQuotaIncreaseRequestIntoTemplate";
    pub const TEMPLATE_DELETE: &str = "DeleteServiceQuotaIncreaseRequestFromTemplate";
    pub const DESCRIBE_CASES: &str = "DescribeCases";
    pub const DESCRIBE_COMMUNICATIONS: &str = "DescribeCommunications";
    pub const ADD_COMMUNICATION: &str = "AddCommunicationToCase";
}

/// The role a CloudAccount's `spec.aws.roleArn` names, in any account: narrow `*` to the
/// accounts the operator manages.
pub const TARGET_ROLE: &str = "arn:aws:iam::*:role/quota-operator";
const SERVICE_LINKED_ROLE: &str = "arn:aws:iam::*:role/aws-service-role/servicequotas.amazonaws.com/AWSServiceRoleForServiceQuotas";

const fn aws(
    method: &'static str,
    permission: &'static str,
    feature: Feature,
    plan: bool,
    why: &'static str,
) -> Call {
    Call {
        cloud: Cloud::Aws,
        method,
        permission,
        feature,
        plan,
        resource: None,
        condition: None,
        role: None,
        granted: true,
        seen: Seen::BySimulator,
        why,
    }
}

const fn gcp(
    method: &'static str,
    permission: &'static str,
    feature: Feature,
    plan: bool,
    role: &'static str,
    why: &'static str,
) -> Call {
    Call {
        cloud: Cloud::Gcp,
        method,
        permission,
        feature,
        plan,
        resource: None,
        condition: None,
        role: Some(role),
        granted: true,
        seen: Seen::BySimulator,
        why,
    }
}

/// Every call, AWS then GCP.
pub const CALLS: &[Call] = &[
    // STS answers GetCallerIdentity for every identity: no policy grants or denies it.
    Call {
        granted: false,
        ..aws(
            aws::GET_CALLER_IDENTITY,
            "sts:GetCallerIdentity",
            Accounts,
            true,
            "checks that the credentials act in spec.aws.accountId before anything is read or filed",
        )
    },
    Call {
        resource: Some(TARGET_ROLE),
        ..aws(
            aws::ASSUME_ROLE,
            "sts:AssumeRole",
            Accounts,
            true,
            "a CloudAccount with spec.aws.roleArn: the operator's identity assumes that role (with \
             spec.aws.externalId when set); not needed when every account is the operator's own",
        )
    },
    aws(
        aws::DESCRIBE_REGIONS,
        "ec2:DescribeRegions",
        Regions,
        true,
        "the regions the account has: a quota is read only there (without it, regions are checked \
         by their shape only)",
    ),
    aws(
        aws::LIST_SERVICE_QUOTAS,
        "servicequotas:ListServiceQuotas",
        Quotas,
        true,
        "every quota of a service in one paged call, shared by all objects on it",
    ),
    aws(
        aws::LIST_DEFAULTS,
        "servicequotas:ListAWSDefaultServiceQuotas",
        Quotas,
        true,
        "quota names (spec.aws.quotaName) and default values when ListServiceQuotas is refused",
    ),
    aws(
        aws::LIST_SERVICES,
        "servicequotas:ListServices",
        Quotas,
        true,
        "the nearest service codes, named when a spec's spec.aws.serviceCode does not exist",
    ),
    aws(
        aws::GET_SERVICE_QUOTA,
        "servicequotas:GetServiceQuota",
        Quotas,
        true,
        "one quota's applied value when the listing is refused or fails",
    ),
    aws(
        aws::GET_DEFAULT,
        "servicequotas:GetAWSDefaultServiceQuota",
        Quotas,
        true,
        "one quota's default value when none was ever applied",
    ),
    aws(
        aws::HISTORY,
        "servicequotas:ListRequestedServiceQuotaChangeHistoryByQuota",
        Requests,
        true,
        "open and past requests for a quota: an open one is adopted, never duplicated",
    ),
    aws(
        aws::GET_REQUEST,
        "servicequotas:GetRequestedServiceQuotaChange",
        Requests,
        false,
        "follows a filed request to its end",
    ),
    aws(
        aws::REQUEST_INCREASE,
        "servicequotas:RequestServiceQuotaIncrease",
        Requests,
        false,
        "files an increase; the only call that changes anything in an AWS account",
    ),
    Call {
        resource: Some(SERVICE_LINKED_ROLE),
        condition: Some((
            "StringLike",
            "iam:AWSServiceName",
            "servicequotas.amazonaws.com",
        )),
        seen: Seen::NotBySimulator(
            "the simulator has no IAM: on an account's first increase request AWS creates the \
             AWSServiceRoleForServiceQuotas service-linked role as the caller",
        ),
        ..aws(
            "CreateServiceLinkedRole",
            "iam:CreateServiceLinkedRole",
            Requests,
            false,
            "Service Quotas' own role (it opens support cases), created on the account's first \
             increase request; only that role, only for servicequotas.amazonaws.com",
        )
    },
    aws(
        aws::AUTO_MANAGEMENT,
        "servicequotas:GetAutoManagementConfiguration",
        AutoAdjuster,
        false,
        "whether AWS adjusts the account's quotas itself, shown beside the operator's own requests",
    ),
    aws(
        aws::GET_METRIC_DATA,
        "cloudwatch:GetMetricData",
        Usage,
        true,
        "usage of every quota with a usage metric, one batched call per account and region",
    ),
    aws(
        aws::START_REPORT,
        "servicequotas:StartQuotaUtilizationReport",
        Usage,
        true,
        "usage from AWS's utilization report where CloudWatch gives none",
    ),
    aws(
        aws::GET_REPORT,
        "servicequotas:GetQuotaUtilizationReport",
        Usage,
        true,
        "reads the utilization report started above",
    ),
    aws(
        aws::DESCRIBE_INSTANCE_TYPES,
        "ec2:DescribeInstanceTypes",
        Capacity,
        true,
        "vCPUs per instance type for spec.capacity",
    ),
    aws(
        aws::TEMPLATE_ASSOCIATION,
        "servicequotas:GetAssociationForServiceQuotaTemplate",
        Templates,
        false,
        "whether the organization's quota request template is associated (new accounts get its \
         entries only then), shown on a CloudAccount with spec.aws.quotaTemplate",
    ),
    aws(
        aws::TEMPLATE_LIST,
        "servicequotas:ListServiceQuotaIncreaseRequestsInTemplate",
        Templates,
        false,
        "the template's entries, read once per pass, to put, change or delete only what differs",
    ),
    aws(
        aws::TEMPLATE_PUT,
        "servicequotas:PutServiceQuotaIncreaseRequestIntoTemplate",
        Templates,
        false,
        "writes an entry at the largest need the QuotaRequirements on the template account declare",
    ),
    aws(
        aws::TEMPLATE_DELETE,
        "servicequotas:DeleteServiceQuotaIncreaseRequestFromTemplate",
        Templates,
        false,
        "removes an entry the operator wrote once no QuotaRequirement declares it",
    ),
    Call {
        seen: Seen::NotBySimulator(
            "the simulator has no Organizations: Service Quotas reads the organization with the \
             caller's permissions and answers DependencyAccessDeniedException without it",
        ),
        ..aws(
            "DescribeOrganization",
            "organizations:DescribeOrganization",
            Templates,
            false,
            "the template calls look up the caller's organization (Service Quotas does it as the \
             caller)",
        )
    },
    aws(
        aws::DESCRIBE_CASES,
        "support:DescribeCases",
        SupportCases,
        false,
        "the support case of an open increase request, with its latest messages (status shows \
         whether AWS waits for an answer)",
    ),
    aws(
        aws::DESCRIBE_COMMUNICATIONS,
        "support:DescribeCommunications",
        SupportCases,
        false,
        "the case's messages since the last one seen, when DescribeCases' recent ones are not \
         enough to find AWS's latest or the operator's reply",
    ),
    aws(
        aws::ADD_COMMUNICATION,
        "support:AddCommunicationToCase",
        SupportCases,
        false,
        "sends spec.aws.caseReply once per case, when AWS waits for the customer",
    ),
    gcp(
        "compute.regions.list",
        "compute.regions.list",
        Regions,
        true,
        "roles/compute.viewer",
        "the regions the project has: a quota is read only there (without it, regions are checked \
         by their shape only)",
    ),
    gcp(
        "GetQuotaInfo",
        "cloudquotas.quotas.get",
        Quotas,
        true,
        "roles/cloudquotas.viewer",
        "a quota's value in force, dimensions and eligibility",
    ),
    gcp(
        "ListQuotaInfos",
        "cloudquotas.quotas.get",
        Quotas,
        true,
        "roles/cloudquotas.viewer",
        "the nearest quota ids, named when a spec's spec.gcp.quotaId does not exist",
    ),
    gcp(
        "ListQuotaPreferences",
        "cloudquotas.quotas.get",
        Requests,
        true,
        "roles/cloudquotas.viewer",
        "finds the quota's one preference, whoever made it, to update it rather than add another",
    ),
    gcp(
        "GetQuotaPreference",
        "cloudquotas.quotas.get",
        Requests,
        false,
        "roles/cloudquotas.viewer",
        "follows a written preference until it is granted or refused",
    ),
    gcp(
        "UpdateQuotaPreference",
        "cloudquotas.quotas.update",
        Requests,
        false,
        "roles/cloudquotas.admin",
        "writes the preferred value (PATCH; with allowMissing it creates the operator's own)",
    ),
    gcp(
        "GetQuotaAdjusterSettings",
        "cloudquotas.quotas.get",
        AutoAdjuster,
        false,
        "roles/cloudquotas.viewer",
        "whether Google's Quota Adjuster raises the project's quotas itself (no permission of \
         its own: cloudquotas.quotas.get)",
    ),
    gcp(
        "ListTimeSeries",
        "monitoring.timeSeries.list",
        Usage,
        true,
        "roles/monitoring.viewer",
        "quota usage from Cloud Monitoring, one call per project and metric",
    ),
    gcp(
        "compute.machineTypes.aggregatedList",
        "compute.machineTypes.list",
        Capacity,
        true,
        "roles/compute.viewer",
        "vCPUs per machine type for spec.capacity",
    ),
];

/// The calls of `cloud`, in list order.
pub fn of(cloud: Cloud) -> impl Iterator<Item = &'static Call> {
    CALLS.iter().filter(move |c| c.cloud == cloud)
}
