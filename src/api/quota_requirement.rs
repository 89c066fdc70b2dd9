use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    case_status::{CaseReply, CaseStatus},
    shared::{Condition, Shared},
};

/// One quota, in one account or project, that must reach what the spec declares in every listed
/// region: `desiredValue`, room for `capacity`, or `headroom` over usage (the largest of those
/// given).
// The derive's repeated printcolumn(type_ = ...) entries trip this lint; they are distinct columns.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "quota-operator.dev",
    version = "v1alpha1",
    kind = "QuotaRequirement",
    namespaced,
    status = "QuotaRequirementStatus",
    shortname = "qr",
    category = "quotas",
    doc = "A quota that must reach what its spec declares (desiredValue, capacity, or headroom over usage) in every listed region of an account.",
    printcolumn(name = "Account", type_ = "string", json_path = ".spec.accountRef"),
    printcolumn(name = "Quota", type_ = "string", json_path = ".status.quota"),
    printcolumn(
        name = "Desired",
        type_ = "integer",
        json_path = ".status.targets[0].desiredValue"
    ),
    printcolumn(name = "State", type_ = "string", json_path = ".status.summary"),
    printcolumn(
        name = "Used%",
        type_ = "number",
        json_path = ".status.targets[0].usage.utilizationPercent"
    ),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        priority = 1,
        description = "Why Ready is what it is (-o wide)",
        json_path = ".status.conditions[?(@.type==\"Ready\")].reason"
    ),
    printcolumn(
        name = "Message",
        type_ = "string",
        priority = 1,
        description = "What the operator says of each region (-o wide)",
        json_path = ".status.conditions[?(@.type==\"Ready\")].message"
    )
)]
#[x_kube(validation = Rule::new("has(self.aws) != has(self.gcp)").message("exactly one of spec.aws or spec.gcp must be set").reason(Reason::FieldValueInvalid))]
#[x_kube(validation = Rule::new("!has(self.aws) || self.regions.all(r, r.matches('^[a-z]{2}(-[a-z]+)+-[0-9]+$'))").message("spec.regions: every AWS region must look like us-east-1").field_path(".regions"))]
#[x_kube(validation = Rule::new("!has(self.gcp) || self.regions.all(r, r == 'global' || r.matches('^[a-z]+-[a-z]+[0-9]+$'))").message("spec.regions: every GCP region must look like us-central1 (or be 'global')").field_path(".regions"))]
#[x_kube(validation = Rule::new("!(has(self.desiredValue) && has(self.capacity))").message("at most one of spec.desiredValue or spec.capacity may be set").reason(Reason::FieldValueInvalid))]
#[x_kube(validation = Rule::new("has(self.desiredValue) || has(self.capacity) || has(self.headroom)").message("one of spec.desiredValue, spec.capacity or spec.headroom must be set").reason(Reason::FieldValueInvalid))]
#[x_kube(validation = Rule::new("!has(self.headroom) || !has(self.desiredValue) || self.headroom.max >= self.desiredValue").message("spec.headroom.max must be at least spec.desiredValue").field_path(".headroom.max"))]
#[x_kube(validation = Rule::new("!has(self.headroomPercent) || has(self.capacity)").message("spec.headroomPercent applies only to spec.capacity").field_path(".headroomPercent"))]
#[x_kube(validation = Rule::new("!has(self.capacity) || !has(self.aws) || self.capacity.all(c, !has(c.machineType))").message("spec.capacity: machineType is for GCP quotas; AWS capacity is instanceType (EC2) or vcpu (Fargate)").field_path(".capacity"))]
#[x_kube(validation = Rule::new("!has(self.capacity) || !has(self.gcp) || self.capacity.all(c, has(c.machineType))").message("spec.capacity: a GCP quota's capacity is machineType entries").field_path(".capacity"))]
#[x_kube(validation = Rule::new("!has(self.capacity) || self.capacity.all(c, has(c.vcpu)) || self.capacity.all(c, !has(c.vcpu))").message("spec.capacity: vcpu entries (Fargate tasks) cannot be mixed with instance types on one quota").field_path(".capacity"))]
#[x_kube(validation = Rule::new("!has(self.allowDecrease) || !self.allowDecrease || has(self.gcp)").message("spec.allowDecrease is only supported for gcp quotas (AWS never lowers a quota)").field_path(".allowDecrease"))]
#[serde(rename_all = "camelCase")]
pub struct QuotaRequirementSpec {
    /// Name of the CloudAccount to raise the quota in. Its namespaceSelector must allow this
    /// object's namespace.
    #[schemars(length(min = 1, max = 253))]
    pub account_ref: String,
    /// An AWS Service Quotas quota. Exactly one of `aws` and `gcp` must be set.
    // Boxed, both: one of the two is always empty in each of the objects the operator caches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<Box<AwsQuota>>,
    /// A GCP Cloud Quotas quota. Exactly one of `aws` and `gcp` must be set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcp: Option<Box<GcpQuota>>,
    /// Regions in which the quota must hold (e.g. us-east-1, or us-central1 for GCP). Non-empty,
    /// no duplicates.
    #[x_kube(merge_strategy = ListMerge::Set)]
    #[schemars(length(min = 1, max = 40), inner(length(min = 1, max = 32)))]
    pub regions: Vec<String>,
    /// The value the quota must reach, in the quota's own unit (vCPUs, count, ...). At most
    /// 10,000,000,000, the largest value AWS's RequestServiceQuotaIncrease accepts. At most one
    /// of `desiredValue` and `capacity` may be set, and `headroom` may stand alone; several
    /// objects' values on one quota take the largest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10_000_000_000_i64))]
    pub desired_value: Option<i64>,
    /// What must run at the same time, instead of a number: EC2 instances (`instanceType`),
    /// GCP machines (`machineType`) or Fargate tasks (`vcpu`), each with a count. The operator
    /// reads each type's vCPUs from the cloud's catalog in each region, checks that the type
    /// counts against this quota, and asks for the sum; the capacity of several objects on one
    /// quota adds up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 50))]
    pub capacity: Option<Vec<CapacityItem>>,
    /// Extra room on top of `capacity`, in percent (0 to 1000): 10 asks for 110% of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1000))]
    pub headroom_percent: Option<i32>,
    /// Keep the quota this far above what is used: the need becomes the larger of the declared
    /// floor (`desiredValue` or `capacity`, optional with headroom) and usage plus `percent`,
    /// rounded up, never above `max` or the CloudAccount's guardrails, raised at most once per
    /// `cooldown`, and never lowered when usage falls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headroom: Option<Headroom>,
    /// Why the increase is needed. Sent to GCP as the QuotaPreference's justification; AWS's
    /// increase request has no such field, so on AWS it is shown in status and events only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub justification: Option<String>,
    /// Allow lowering the quota to `desiredValue` when it is higher (GCP only; GCP applies
    /// decreases at once). Default false: a higher current value always counts as satisfied.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_decrease: bool,
}

/// Room over usage, as desired state.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Headroom {
    /// How far above usage, in percent (1 to 1000): 30 asks for 130 % of it.
    #[schemars(range(min = 1, max = 1000))]
    pub percent: i32,
    /// Which usage: the peak over `window` (default) or the usage now.
    #[serde(default)]
    pub of: UsageBasis,
    /// How far back the peak is looked for: whole days, hours and minutes such as `168h` or
    /// `7d`, at most 7 days (the usage read covers a week). Default `168h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.matches('^([0-9]{1,4}[dhm])+$')").message("spec.headroom.window must be a duration such as 168h or 7d"))]
    #[schemars(length(max = 32))]
    pub window: Option<String>,
    /// The largest value headroom may ask for. Required: an automatic raise without a ceiling
    /// is not something an admin gets by default.
    #[schemars(range(min = 1, max = 10_000_000_000_i64))]
    pub max: i64,
    /// At most one raise for headroom per this long (`24h`, `1h30m`). Default `24h`. The
    /// declared floor is filed whenever it is unmet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.matches('^([0-9]{1,6}[dhms])+$')").message("spec.headroom.cooldown must be a duration such as 24h or 1h30m"))]
    #[schemars(length(max = 32))]
    pub cooldown: Option<String>,
}

/// Which usage headroom is added to.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UsageBasis {
    /// The highest usage over the window.
    #[default]
    #[serde(rename = "peak")]
    Peak,
    /// The usage now.
    #[serde(rename = "current")]
    Current,
}

/// The default headroom window and cooldown.
pub const DEFAULT_HEADROOM_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_hours(168);
pub const DEFAULT_HEADROOM_COOLDOWN: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

impl Headroom {
    /// The window as a duration: the default when absent, at most the week usage covers.
    pub fn window(&self) -> jiff::SignedDuration {
        self.window
            .as_deref()
            .and_then(super::cloud_account::parse_duration)
            .unwrap_or(DEFAULT_HEADROOM_WINDOW)
            .min(DEFAULT_HEADROOM_WINDOW)
    }

    pub fn cooldown(&self) -> jiff::SignedDuration {
        self.cooldown
            .as_deref()
            .and_then(super::cloud_account::parse_duration)
            .unwrap_or(DEFAULT_HEADROOM_COOLDOWN)
    }
}

/// Instances, machines or tasks that must run at the same time: exactly one of `instanceType`,
/// `machineType` and `vcpu`, and a count; or Karpenter NodePools (`nodePools`), whose
/// `spec.limits.cpu` is the capacity, without a count.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(validation = Rule::new("(has(self.instanceType) ? 1 : 0) + (has(self.machineType) ? 1 : 0) + (has(self.vcpu) ? 1 : 0) + (has(self.nodePools) ? 1 : 0) == 1").message("spec.capacity[]: exactly one of instanceType, machineType, vcpu or nodePools must be set").reason(Reason::FieldValueInvalid))]
#[x_kube(validation = Rule::new("has(self.nodePools) != has(self.count)").message("spec.capacity[]: count goes with instanceType, machineType or vcpu; a nodePools entry takes its vCPUs from the NodePools' spec.limits.cpu and has no count").reason(Reason::FieldValueInvalid))]
#[serde(rename_all = "camelCase")]
pub struct CapacityItem {
    /// An EC2 instance type, e.g. `m5.2xlarge` (its vCPUs come from DescribeInstanceTypes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.matches('^[a-z][a-z0-9-]*[.][a-z0-9-]+$')").message("spec.capacity[].instanceType must look like m5.2xlarge"))]
    #[schemars(length(max = 64))]
    pub instance_type: Option<String>,
    /// A GCP machine type, e.g. `n2-standard-8` (its vCPUs come from the Compute API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.matches('^[a-z][a-z0-9]*(-[a-z0-9]+)+$')").message("spec.capacity[].machineType must look like n2-standard-8"))]
    #[schemars(length(max = 64))]
    pub machine_type: Option<String>,
    /// vCPUs of one Fargate task (0.25 to 16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.25, max = 16))]
    pub vcpu: Option<f64>,
    /// Karpenter NodePools (`karpenter.sh/v1`) whose `spec.limits.cpu` is the capacity: each
    /// selected NodePool that can launch into this quota's family group and market (from its
    /// `karpenter.sh/capacity-type` and instance category, family or type requirements) counts
    /// its whole limit. The operator must run with NodePools on (chart value
    /// `karpenter.nodePools`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_pools: Option<NodePoolSelector>,
    /// How many run at the same time (not with `nodePools`).
    #[serde(default, skip_serializing_if = "is_zero")]
    #[schemars(range(min = 1, max = 1_000_000))]
    pub count: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Which NodePools: those named, and those whose labels match `selector` (`selector: {}` is
/// every NodePool).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[x_kube(validation = Rule::new("has(self.names) || has(self.selector)").message("spec.capacity[].nodePools: name NodePools (names) or select them by label (selector)").reason(Reason::FieldValueInvalid))]
#[serde(rename_all = "camelCase")]
pub struct NodePoolSelector {
    /// NodePool names (cluster-scoped objects).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    #[x_kube(validation = Rule::new("self.all(n, n.matches('^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$'))").message("spec.capacity[].nodePools.names: every name must be a NodePool name such as batch"))]
    #[schemars(length(min = 1, max = 50), inner(length(min = 1, max = 253)))]
    pub names: Vec<String>,
    /// NodePools by label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
}

/// An AWS Service Quotas quota, by code or by name.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(validation = Rule::new("has(self.quotaCode) != has(self.quotaName)").message("exactly one of spec.aws.quotaCode or spec.aws.quotaName must be set").reason(Reason::FieldValueInvalid))]
#[serde(rename_all = "camelCase")]
pub struct AwsQuota {
    /// Service code, e.g. `ec2`, `fargate`, `vpc`, `ecs`, `elasticloadbalancing`.
    #[x_kube(validation = Rule::new("self.matches('^[A-Za-z0-9-]+$')").message("spec.aws.serviceCode must be a service code such as ec2"))]
    #[x_kube(validation = Rule::new("!self.endsWith('.googleapis.com')").message("spec.aws.serviceCode names a GCP service: a GCP quota goes in spec.gcp, with a GCP CloudAccount"))]
    #[schemars(length(min = 1, max = 63))]
    pub service_code: String,
    /// Quota code, e.g. `L-34B43A08`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.matches('^L-[0-9A-F]{8}$')").message("spec.aws.quotaCode must look like L-34B43A08 (a GCP quota id such as CPUS-per-project-region goes in spec.gcp)"))]
    // Longer than a code may be, so that a GCP quota id put here meets the rule that says so
    // rather than only "too long".
    #[schemars(length(max = 128))]
    pub quota_code: Option<String>,
    /// Quota name as Service Quotas shows it; resolved to a code at run time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub quota_name: Option<String>,
    /// Sent once, as your answer, when AWS asks a question in the support case of a request
    /// this object filed (the case waits for the customer): e.g. the use case and instance
    /// types AWS usually asks about. Never sent twice to one case; without it, status says
    /// that AWS waits and the answer is given in the Support Center. Needs the optional
    /// `support:` permissions and a Business or Enterprise support plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 8000))]
    pub case_reply: Option<String>,
}

/// A GCP Cloud Quotas quota; the project comes from the CloudAccount.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GcpQuota {
    /// Service name, e.g. `compute.googleapis.com`.
    #[x_kube(validation = Rule::new("self.matches('^[a-z0-9.-]+$')").message("spec.gcp.service must be a service name such as compute.googleapis.com"))]
    #[x_kube(validation = Rule::new("self.contains('.')").message("spec.gcp.service must be a GCP service name such as compute.googleapis.com; a code such as ec2 is an AWS service (spec.aws.serviceCode)"))]
    #[schemars(length(min = 1, max = 253))]
    pub service: String,
    /// Quota id, e.g. `CPUS-per-project-region`.
    #[x_kube(validation = Rule::new("self.matches('^[A-Za-z0-9-]+$')").message("spec.gcp.quotaId must be a quota id such as CPUS-per-project-region"))]
    #[x_kube(validation = Rule::new("!self.matches('^L-[0-9A-F]{8}$')").message("spec.gcp.quotaId is an AWS quota code (L-...): an AWS quota goes in spec.aws, with an AWS CloudAccount; a GCP quota id reads like CPUS-per-project-region"))]
    #[schemars(length(min = 1, max = 128))]
    pub quota_id: String,
    /// Dimensions other than the region (e.g. `gpu_family: NVIDIA_L4`): at most 8, keys of
    /// lowercase letters, digits and `_` (up to 63), values of letters, digits, `_`, `.` and `-`
    /// (up to 128). The region is named in `spec.regions`, never here, so a quota has one name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[x_kube(validation = Rule::new("!('region' in self)").message("spec.gcp.dimensions: name the region in spec.regions (regions: [us-central1]), not as a dimension: one quota, one name"))]
    #[x_kube(validation = Rule::new("self.all(k, k.matches('^[a-z][a-z0-9_]{0,62}$'))").message("spec.gcp.dimensions: every key must be lowercase letters, digits and _ (at most 63), such as gpu_family"))]
    #[x_kube(validation = Rule::new("self.all(k, self[k].matches('^[A-Za-z0-9_.-]{1,128}$'))").message("spec.gcp.dimensions: every value must be 1 to 128 letters, digits, _, . or -, such as NVIDIA_L4"))]
    #[schemars(extend("maxProperties" = 8, "additionalProperties" = {"type": "string", "maxLength": 128}))]
    pub dimensions: BTreeMap<String, String>,
}

/// What the operator last observed and did, per region.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct QuotaRequirementStatus {
    /// The metadata.generation this status was computed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` (every region satisfied), `Satisfied` (the same, for `kubectl wait`),
    /// `NearLimit` (some region's usage at or above the threshold; False, `UsageUnknown`, when
    /// the cloud was read and reported no usage; absent below the threshold or before any
    /// read), and, only while true,
    /// `Reconciling` (a request open or queued, or a cloud error being retried) and `Stalled`
    /// (nothing changes until the spec or account does), in kstatus terms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition>")]
    pub conditions: Vec<Condition>,
    /// The quota as the cloud names it (`ec2/L-34B43A08`,
    /// `compute.googleapis.com/CPUS-per-project-region`); as the spec names it until the cloud
    /// has answered (a quota named by `quotaName` shows that name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<Shared>,
    /// One word or a count for `kubectl get`: `Satisfied`, `Requested`, `2/3 satisfied`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Shared>,
    /// One entry per region.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<TargetStatus>,
    /// Increases this object is about to file, by scope (region, or `global`, with GCP
    /// dimensions), written before the cloud is called and cleared once the request is recorded
    /// in `targets`: after a crash in between, the request found in the cloud's history is known
    /// to be this object's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub filings: BTreeMap<String, FilingIntent>,
    /// The reply (`spec.aws.caseReply`) sent to each support case, by case id: recorded
    /// before it is sent, so that no case ever gets it twice.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub case_replies: BTreeMap<String, CaseReply>,
    /// When the operator first saw `observedGeneration`: the object's need dates from then. A
    /// refusal made earlier was of an earlier need and does not settle this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation_observed_at: Option<Time>,
}

/// An increase this object began to file.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FilingIntent {
    /// The value about to be asked for.
    pub value: i64,
    /// When the operator decided to file (before calling the cloud).
    pub at: Time,
    /// The quota and the object the request is for.
    pub owner: RequestOwner,
}

/// Whose request a tracked request is: the quota it is for and the object that filed it. A
/// request is used only while this matches the object's current spec and account.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RequestOwner {
    /// The CloudAccount (spec.accountRef) it was filed through.
    pub account_ref: String,
    /// The AWS account id or GCP project it was filed in.
    pub account: String,
    /// The service code (AWS) or service name (GCP).
    pub service: String,
    /// The quota code (AWS) or quota id (GCP).
    pub quota: String,
    /// The region (or `global`), followed by GCP dimensions as `/key=value`.
    pub scope: String,
    /// The object that filed it; absent when it was adopted (filed by someone else).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filed_by: Option<FiledBy>,
}

/// The object and generation that filed a request.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FiledBy {
    /// metadata.uid of the QuotaRequirement.
    pub uid: String,
    /// Its metadata.generation when it filed.
    pub generation: i64,
}

/// How far a request has come, in the operator's terms (the cloud's own word is in `status`).
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestPhase {
    /// Waiting for the cloud (AWS PENDING or CASE_OPENED; a reconciling GCP preference).
    Open,
    /// Granted in full (or the quota became unlimited).
    Approved,
    /// Closed without a grant (DENIED, NOT_APPROVED, CASE_CLOSED, INVALID_REQUEST, refused).
    ClosedWithoutGrant,
    /// Granted less than asked (GCP).
    PartiallyGranted,
    /// A status word the operator does not know; followed like an open request.
    Unknown,
}

/// The state of the quota in one region.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TargetStatus {
    /// The region.
    pub region: String,
    /// The quota's current (applied, or default) value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_value: Option<f64>,
    /// The effective desired value: the largest desiredValue of all QuotaRequirements naming
    /// this quota, or their capacity added up when that is larger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_value: Option<i64>,
    /// `namespace/name` of the QuotaRequirement whose value is the effective one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driven_by: Option<String>,
    /// Where this target stands.
    pub state: TargetState,
    /// The last increase request for this quota, as the cloud reports it.
    // Boxed, as is `capacity`: most targets have neither, and the operator caches every object
    // (a RequestStatus inline is 344 bytes per target, 3.4 MB at 10,000 objects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Box<RequestStatus>>,
    /// How `spec.capacity` came to a value here: this object's share, the total of every
    /// object's capacity on the quota, and the arithmetic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Box<CapacityStatus>>,
    /// How much of the quota is used, as the cloud reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Box<UsageStatus>>,
    /// How `spec.headroom` came to a value here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headroom: Option<Box<HeadroomStatus>>,
    /// A human explanation, with the cloud's error code and message when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Usage of the quota in one region. Usage the cloud does not report is `unknown`, with why;
/// never 0.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct UsageStatus {
    /// Usage now, in the quota's unit, to hundredths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<f64>,
    /// The highest usage over `window`, to hundredths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak: Option<f64>,
    /// The window the peak is over, e.g. `168h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Shared>,
    /// Usage now as a percentage of the quota's current value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilization_percent: Option<f64>,
    /// Where the numbers come from (e.g. `CloudWatch AWS/Usage ResourceCount, Maximum per hour`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Shared>,
    /// When the cloud was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<Time>,
    /// When the trend over the window reaches the quota's current value, or why it does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast: Option<Shared>,
    /// The forecast's time, when the trend reaches the value within the horizon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exhaustion_at: Option<Time>,
    /// Why usage is unknown: the cloud's answer, or that it reports none for this quota.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown: Option<Shared>,
}

/// `spec.headroom` in one region.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HeadroomStatus {
    /// What headroom asks the quota to be (never lower than it asked before).
    pub value: i64,
    /// How, e.g. `peak 812 over 168h + 30 % = 1,056`.
    pub arithmetic: String,
    /// When the value last went up: the next raise waits for the cooldown after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raised_at: Option<Time>,
    /// What holds the value below what usage asks (`max`, a guardrail, the cooldown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<String>,
}

/// `spec.capacity` in the quota's unit, in one region.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CapacityStatus {
    /// This object's capacity, headroom included.
    pub share: i64,
    /// The capacity of every object on this quota that may ask for it, added up (they run at
    /// the same time): what this object needs the quota to be.
    pub total: i64,
    /// How the share was computed, e.g. `200 x m5.2xlarge (8 vCPU) = 1600 vCPU`.
    pub arithmetic: String,
    /// The other objects' shares in the total, as `namespace/name: N`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub others: Vec<String>,
}

/// Where one target stands.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TargetState {
    /// The current value meets the effective desired value.
    Satisfied,
    /// An increase is needed but a cloud limit holds it; it is filed when a slot frees.
    Queued,
    /// An increase request is open.
    Requested,
    /// The cloud closed the request without granting it; nothing is re-filed until the spec changes.
    Denied,
    /// The cloud granted less than asked.
    PartiallyGranted,
    /// The quota cannot be raised.
    NotAdjustable,
    /// A CloudAccount guardrail or namespace rule forbids the request, the spec cannot be met
    /// as written (an instance type that does not count against this quota; a region, service,
    /// quota code or quota name the cloud does not have), or the operator has no credentials.
    Blocked,
    /// The cloud or the credentials failed; retried with backoff.
    Error,
}

impl TargetState {
    /// Terminal states wait for a spec (or account) change; nothing is retried on its own.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Denied | Self::PartiallyGranted | Self::NotAdjustable | Self::Blocked
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Satisfied => "Satisfied",
            Self::Queued => "Queued",
            Self::Requested => "Requested",
            Self::Denied => "Denied",
            Self::PartiallyGranted => "PartiallyGranted",
            Self::NotAdjustable => "NotAdjustable",
            Self::Blocked => "Blocked",
            Self::Error => "Error",
        }
    }
}

/// An increase request (AWS) or QuotaPreference (GCP) as the cloud reports it.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RequestStatus {
    /// The cloud's request id (AWS request id, GCP QuotaPreference name).
    pub id: String,
    /// AWS: the support case id, when AWS opened one. GCP: the preference's `traceId`, the id
    /// Google's support asks for about the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<String>,
    /// The cloud's status word (PENDING, CASE_OPENED, APPROVED, DENIED, ..., or RECONCILING).
    pub status: String,
    /// The value asked for.
    pub requested_value: f64,
    /// The value granted, when the cloud says (GCP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted_value: Option<f64>,
    /// When the request was filed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<Time>,
    /// The cloud's explanation of the status (a denial reason, GCP stateDetail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// When the cloud last changed the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Time>,
    /// The metadata.generation of this object when the request closed without a full grant; a
    /// new request is filed only once the generation moves past it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at_generation: Option<i64>,
    /// Where the request stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<RequestPhase>,
    /// The quota and object the request belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<RequestOwner>,
    /// The justification the cloud recorded with the request (GCP: the preference's
    /// `justification`, as Google keeps it). AWS records none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    /// Who made it, when it was the cloud's own auto-adjuster (`AWS automatic management`,
    /// `GCP Quota Adjuster`): adopted, never duplicated; its refusal does not settle the need.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_by: Option<String>,
    /// AWS: the support case, as AWS Support reports it (read at most once per poll interval
    /// while the request is open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<Box<CaseStatus>>,
}
