//! What the recognisers work with: the user's options, the [`Finding`] they produce, and why
//! none could be made. The facade `explain/mod.rs` re-exports these and calls the recognisers,
//! so they import from here, not from it (tools/import-cycles).

use std::collections::BTreeMap;

use super::{exit, text};
use crate::capacity::families::Market;

/// What the user told us besides the error text.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub instance_type: Option<String>,
    pub region: Option<String>,
    pub market: Option<Market>,
}

/// The quota a finding names, as the spec will name it.
#[derive(Clone, Debug, PartialEq)]
pub enum QuotaId {
    Aws {
        service_code: String,
        quota_code: String,
    },
    Gcp {
        service: String,
        quota_id: String,
        dimensions: BTreeMap<String, String>,
    },
}

impl QuotaId {
    pub fn aws(service_code: &str, quota_code: &str) -> Self {
        Self::Aws {
            service_code: service_code.into(),
            quota_code: quota_code.into(),
        }
    }

    pub fn gcp(service: &str, quota_id: &str) -> Self {
        Self::Gcp {
            service: service.into(),
            quota_id: quota_id.into(),
            dimensions: BTreeMap::new(),
        }
    }

    /// `ec2/L-34B43A08`, `compute.googleapis.com/CPUS-per-project-region`.
    pub fn label(&self) -> String {
        match self {
            Self::Aws {
                service_code,
                quota_code,
            } => format!("{service_code}/{quota_code}"),
            Self::Gcp {
                service, quota_id, ..
            } => format!("{service}/{quota_id}"),
        }
    }
}

/// A recognised quota error.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// The cloud's error code or reason (`MaxSpotInstanceCountExceeded`, `QUOTA_EXCEEDED`, ...).
    pub error_code: String,
    pub quota: QuotaId,
    /// The quota's name, for people.
    pub quota_name: String,
    /// The region, or `global` for a GCP quota without one.
    pub region: String,
    /// The limit the text states, in the quota's unit.
    pub limit: Option<f64>,
    /// How much more the failed operation needed, when the text says, in the quota's unit.
    pub need: Option<f64>,
    /// The documented default, used when the text states no limit (and said so).
    pub documented_default: Option<f64>,
    /// The quota's unit, plural (`vCPUs`, `targets`, `addresses`).
    pub unit: &'static str,
    /// Why the error happened, in a sentence or two.
    pub why: String,
    /// Further advice (a concurrency limit: back off first).
    pub advice: Option<String>,
    /// The GCP project the error names (ErrorInfo containerId).
    pub project: Option<String>,
    /// A line of the error, quoted in the justification.
    pub quoted: String,
    /// For metadata.name: short and DNS-safe.
    pub slug: String,
}

/// Why no QuotaRequirement could be written.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error(
        "not a quota error quota-operator explain knows (src/explain/catalog.yaml lists them: \
         EC2 vCPUs and Elastic IPs, VPC, ELB, ECS and Fargate, Cloud Map, EBS, EKS, Lambda, GCP Compute quotas \
         and concurrent operations){0}"
    )]
    NotRecognised(String),
    #[error("not a quota ({kind}): {code} is {explanation}")]
    NotAQuota {
        /// One of `catalog::NOT_QUOTA_KINDS`.
        kind: String,
        code: String,
        explanation: String,
    },
    #[error(
        "{code} is counted per instance family, and the text names no instance type: pass \
         --instance-type (e.g. --instance-type m5.2xlarge)"
    )]
    NeedsInstanceType { code: String },
    #[error(
        "{code} names no region: pass --region (e.g. --region us-east-1); the quota is per region"
    )]
    NeedsRegion { code: String },
    #[error("{0}")]
    UnknownFamily(String),
    #[error("--live: {0}")]
    Live(String),
    #[error(
        "--count gives capacity in instances, which only EC2 vCPU quotas count (this error is about {quota}); drop --count to get a desiredValue"
    )]
    CountNotApplicable { quota: String },
}

impl ExplainError {
    /// The exit code `explain --help` lists for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::NotRecognised(_) | Self::NotAQuota { .. } | Self::UnknownFamily(_) => {
                exit::NOT_RECOGNISED
            }
            Self::NeedsInstanceType { .. }
            | Self::NeedsRegion { .. }
            | Self::CountNotApplicable { .. } => exit::FLAG_NEEDED,
            Self::Live(_) => exit::LIVE_FAILED,
        }
    }
}

/// The region an AWS finding applies to: --region, else one the text names (an ARN, a region or
/// zone), else the one the AWS CLI would have used.
pub(super) fn aws_region_for(
    text: &str,
    options: &Options,
    code: &str,
) -> Result<String, ExplainError> {
    options
        .region
        .clone()
        .or_else(|| text::aws_region(text))
        .or_else(|| {
            ["AWS_REGION", "AWS_DEFAULT_REGION"]
                .iter()
                .find_map(|v| std::env::var(v).ok().filter(|r| text::is_aws_region(r)))
        })
        .ok_or_else(|| ExplainError::NeedsRegion { code: code.into() })
}
