//! What `plan` found, in one serializable shape that every output format renders.

use serde::Serialize;

use super::field::FieldError;

/// Everything `plan` found.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Whether current values were read (`--live`).
    pub live: bool,
    pub objects: Vec<ObjectReport>,
    /// Karpenter NodePools and the quotas they can exceed (`--live --nodepools`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodepools: Option<NodePoolReport>,
}

/// Whether an object would be admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    Valid,
    Invalid,
    /// Not one of quota-operator's kinds (a Namespace): passed over.
    Skipped,
    /// Also defined by `--account-file`: that copy is used, this one is not.
    Refused,
}

/// One object of one file.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReport {
    pub file: String,
    /// Which document of the file (from 1); absent when the file was not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<usize>,
    /// `QuotaRequirement`, `CloudAccount`, another kind, or empty when unreadable.
    pub kind: String,
    /// `namespace/name` for namespaced objects, `name` otherwise.
    pub name: String,
    pub verdict: Verdict,
    /// The API server's errors, when invalid.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ReportedError>,
    /// What the operator would do per region (`--live`, valid QuotaRequirements).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<TargetPlan>,
}

/// One admission error.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportedError {
    /// The field it names (`<nil>` for a note about the whole object).
    pub field: String,
    /// The line `kubectl apply` would print.
    pub message: String,
}

impl From<&FieldError> for ReportedError {
    fn from(e: &FieldError) -> Self {
        Self {
            field: e.field.clone(),
            message: e.to_string(),
        }
    }
}

/// What the operator would do in one region.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetPlan {
    pub region: String,
    /// `ec2/L-34B43A08`, `compute.googleapis.com/CPUS-per-project-region`.
    pub quota: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<f64>,
    /// The value the operator would hold the quota to (the largest of the files' objects on
    /// this quota and region, with their capacity added up); absent when a capacity could not
    /// be computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired: Option<i64>,
    /// How this object's `capacity` came to a value here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<String>,
    /// The quota's usage as the cloud reports it (`--live` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<String>,
    /// What `spec.headroom` would ask for, and how (`--live` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headroom: Option<String>,
    pub action: Action,
    /// Why, in the planner's words (or the cloud's error).
    pub message: String,
}

/// The operator's next step for a target.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Action {
    /// Nothing: the current value meets the need.
    Satisfied,
    /// An increase request for `value` would be filed.
    File { value: i64 },
    /// A request for enough is already open (it would be adopted, not filed again).
    Requested,
    /// An open request for less must close first.
    Queued,
    /// A guardrail of the CloudAccount forbids the value.
    Blocked,
    /// The quota cannot be raised.
    NotAdjustable,
    /// The account keeps the Organizations quota request template: the entry would hold
    /// `value` (new accounts start with it); nothing is filed.
    Template { value: i64 },
    /// The account in the files does not serve this object.
    AccountProblem,
    /// The cloud could not be read.
    Error,
}

impl Action {
    /// How the action reads in a table: `satisfied`, `file 2000`, `blocked`.
    pub fn word(&self) -> String {
        match self {
            Self::Satisfied => "satisfied".into(),
            Self::File { value } => format!("file {value}"),
            Self::Requested => "requested".into(),
            Self::Queued => "queued".into(),
            Self::Blocked => "blocked".into(),
            Self::NotAdjustable => "not adjustable".into(),
            Self::Template { value } => format!("template {value}"),
            Self::AccountProblem => "account problem".into(),
            Self::Error => "error".into(),
        }
    }
}

impl Report {
    pub fn invalid(&self) -> impl Iterator<Item = &ObjectReport> {
        self.objects
            .iter()
            .filter(|o| o.verdict == Verdict::Invalid)
    }

    pub fn refused(&self) -> impl Iterator<Item = &ObjectReport> {
        self.objects
            .iter()
            .filter(|o| o.verdict == Verdict::Refused)
    }

    /// One line: `14 objects in 12 files: 13 valid, 1 invalid, 2 skipped; 3 to file, 4 satisfied`.
    pub fn summary(&self) -> String {
        let count = |v| self.objects.iter().filter(|o| o.verdict == v).count();
        let mut files: Vec<&str> = self.objects.iter().map(|o| o.file.as_str()).collect();
        files.dedup();
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        let mut line = format!(
            "{} in {}: {} valid, {} invalid",
            plural(self.objects.len(), "object"),
            plural(files.len(), "file"),
            count(Verdict::Valid),
            count(Verdict::Invalid)
        );
        let refused = count(Verdict::Refused);
        if refused > 0 {
            line.push_str(&format!(", {refused} refused"));
        }
        let skipped = count(Verdict::Skipped);
        if skipped > 0 {
            line.push_str(&format!(", {skipped} skipped"));
        }
        if self.live {
            let targets: Vec<&TargetPlan> = self.objects.iter().flat_map(|o| &o.targets).collect();
            let mut words: Vec<(String, usize)> = vec![];
            for t in &targets {
                let word = match t.action {
                    Action::File { .. } => "to file".to_string(),
                    ref a => a.word(),
                };
                match words.iter_mut().find(|(w, _)| *w == word) {
                    Some((_, n)) => *n += 1,
                    None => words.push((word, 1)),
                }
            }
            let parts: Vec<String> = words.iter().map(|(w, n)| format!("{n} {w}")).collect();
            line.push_str(&format!("; {}", plural(targets.len(), "target")));
            if !parts.is_empty() {
                line.push_str(&format!(": {}", parts.join(", ")));
            }
        }
        line
    }

    /// `INVALID` when any object is invalid or refused, else `VALID`.
    pub fn exit_code(&self) -> u8 {
        if self.invalid().next().is_some() || self.refused().next().is_some() {
            super::exit::INVALID
        } else {
            super::exit::VALID
        }
    }
}

/// The NodePool report.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodePoolReport {
    pub pools: Vec<PoolRow>,
    pub quotas: Vec<QuotaRow>,
}

/// One NodePool: its limit and where it can launch.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolRow {
    pub name: String,
    /// `spec.limits.cpu` in vCPUs; absent when it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits_cpu: Option<i64>,
    /// Its requirements as read (`spot, categories c/m/r`).
    pub launches: String,
    /// The vCPU quotas it can launch into, `ec2/L-34B43A08 (Standard Spot)`.
    pub quotas: Vec<String>,
    /// Why it cannot be counted (no CPU limit, requirements that cannot be mapped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// One quota in one account and region that NodePools draw on.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaRow {
    /// The CloudAccount it was read through.
    pub account: String,
    pub region: String,
    /// `ec2/L-34B43A08`.
    pub quota: String,
    /// `Standard Spot`.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<f64>,
    /// The NodePools that can launch into it, `batch (2000)`.
    pub node_pools: Vec<String>,
    /// Their limits added up (what Karpenter may launch into it at once).
    pub total: i64,
    /// The NodePools whose limit alone is above the current value.
    pub exceeded_by: Vec<String>,
    /// Whether all of them together are above it.
    pub together_exceed: bool,
    /// Why the value could not be read, in the cloud's words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
