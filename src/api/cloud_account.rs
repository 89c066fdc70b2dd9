use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, LabelSelector};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An AWS account or GCP project that QuotaRequirements may raise quotas in, how to reach it, and
/// which namespaces may use it. Created by platform admins; it is the security boundary.
// The derive's repeated printcolumn(type_ = ...) entries trip this lint; they are distinct columns.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "quota-operator.dev",
    version = "v1alpha1",
    kind = "CloudAccount",
    status = "CloudAccountStatus",
    category = "quotas",
    doc = "An AWS account or GCP project that QuotaRequirements may raise quotas in.",
    printcolumn(
        name = "AWS Account",
        type_ = "string",
        json_path = ".spec.aws.accountId"
    ),
    printcolumn(
        name = "GCP Project",
        type_ = "string",
        json_path = ".spec.gcp.project"
    ),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].reason"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[x_kube(validation = Rule::new("has(self.aws) != has(self.gcp)").message("exactly one of spec.aws or spec.gcp must be set").reason(Reason::FieldValueInvalid))]
#[serde(rename_all = "camelCase")]
pub struct CloudAccountSpec {
    /// The AWS account. Exactly one of `aws` and `gcp` must be set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<AwsAccount>,
    /// The GCP project. Exactly one of `aws` and `gcp` must be set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcp: Option<GcpAccount>,
    /// Namespaces whose QuotaRequirements may use this account. Absent: no namespace may; `{}`:
    /// every namespace may.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    /// Limits on what may be requested in this account, whatever a QuotaRequirement asks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrails: Option<Guardrails>,
    /// API endpoint override (a simulator, a VPC endpoint), e.g. `http://127.0.0.1:4566`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.matches('^https?://[^ ]+$')").message("spec.endpoint must be an http:// or https:// URL"))]
    #[schemars(length(max = 512))]
    pub endpoint: Option<String>,
}

/// How to reach one AWS account.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(validation = Rule::new("!has(self.roleArn) || self.roleArn.split(':')[4] == self.accountId").message("spec.aws.roleArn must be a role in spec.aws.accountId (the ARN's account field differs)").field_path(".roleArn"))]
#[serde(rename_all = "camelCase")]
pub struct AwsAccount {
    /// The 12-digit AWS account id, as a string (e.g. "123456789012").
    #[x_kube(validation = Rule::new("self.matches('^[0-9]{12}$')").message("spec.aws.accountId must be a 12-digit AWS account id"))]
    #[schemars(length(max = 12))]
    pub account_id: String,
    /// IAM role to assume for this account (AssumeRole on top of the operator's own credentials).
    /// Absent: the operator's own credentials (IRSA, EKS Pod Identity, environment) are used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.matches('^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$')").message("spec.aws.roleArn must be an IAM role ARN such as arn:aws:iam::123456789012:role/quota-operator"))]
    #[schemars(length(max = 2048))]
    pub role_arn: Option<String>,
    /// External id passed to AssumeRole, when the role's trust policy requires one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = 1224))]
    pub external_id: Option<String>,
}

/// How to reach one GCP project.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GcpAccount {
    /// The GCP project id (e.g. "my-project").
    #[x_kube(validation = Rule::new("self.matches('^[a-z][a-z0-9-]{4,28}[a-z0-9]$')").message("spec.gcp.project must be a GCP project id (6-30 lowercase letters, digits and hyphens)"))]
    #[schemars(length(max = 30))]
    pub project: String,
    /// Email Google contacts about quota increase requests. Required: Cloud Quotas refuses an
    /// increase without one.
    #[x_kube(validation = Rule::new("self.matches('^[^@ ]+@[^@ ]+$')").message("spec.gcp.contactEmail must be an email address"))]
    #[schemars(length(min = 3, max = 254))]
    pub contact_email: String,
}

/// Limits an admin sets on what may be requested in an account.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Guardrails {
    /// The largest factor by which one request may raise a quota over its current value (e.g. 4:
    /// at most four times the current value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 1.0").message("spec.guardrails.maxIncreaseFactor must be at least 1"))]
    pub max_increase_factor: Option<f64>,
    /// The largest value that may be requested, by quota code (AWS) or quota id (GCP).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub max_values: BTreeMap<String, i64>,
}

/// What the operator last saw of the account.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CloudAccountStatus {
    /// The metadata.generation this status was computed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`: the credentials load and (AWS) STS confirms they act in spec.aws.accountId; its
    /// message is the last error otherwise. `Stalled`: the account is wrong (another account,
    /// an endpoint the operator may not use) and nothing changes until its spec does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

impl CloudAccount {
    /// The AWS account id or GCP project: what requests are filed in.
    pub fn cloud_id(&self) -> &str {
        match (&self.spec.aws, &self.spec.gcp) {
            (Some(aws), _) => &aws.account_id,
            (None, Some(gcp)) => &gcp.project,
            (None, None) => "",
        }
    }
}
