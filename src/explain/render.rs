//! What `explain` prints: the QuotaRequirement YAML (stdout, ready for `kubectl apply -f -` or a
//! GitOps repo, with comments where a person must look) and the explanation (stderr).

use std::fmt::Write as _;

use super::{
    Finding, QuotaId,
    value::{Basis, Proposal},
};

/// The accountRef written when `--account` is not given: valid for the CRD, obviously not a
/// real CloudAccount, so applying it unchanged fails to resolve instead of using some account.
pub const ACCOUNT_PLACEHOLDER: &str = "CHANGE-ME";

/// What the live read found (`--live`).
#[derive(Clone, Debug, PartialEq)]
pub struct Current {
    pub value: f64,
    pub name: String,
    pub adjustable: bool,
}

/// Everything `explain` prints.
pub struct Report<'a> {
    pub finding: &'a Finding,
    pub proposal: &'a Proposal,
    pub account: Option<&'a str>,
    pub current: Option<&'a Current>,
    /// `--count`: the instance type and how many must run, written as `capacity`.
    pub capacity: Option<(&'a str, i64)>,
}

/// A scalar as YAML writes it (quoted when it must be).
fn scalar(s: &str) -> String {
    serde_yaml::to_string(s)
        .expect("a string serializes")
        .trim_end()
        .to_string()
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The object name: the quota's slug and the region (`ec2-spot-standard-vcpu-us-east-1`).
pub fn object_name(f: &Finding) -> String {
    let name = if f.region == "global" {
        f.slug.clone()
    } else {
        format!("{}-{}", f.slug, f.region)
    };
    name.chars()
        .take(253)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// The justification: the error quoted, within the CRD's 1024 characters.
pub fn justification(f: &Finding) -> String {
    // The quoted line usually carries the code already (the AWS CLI's "An error occurred (X)").
    let text = if f.quoted.contains(&f.error_code) {
        format!("quota-operator explain: {}", f.quoted)
    } else {
        format!("quota-operator explain: {}: {}", f.error_code, f.quoted)
    };
    text.chars().take(1024).collect()
}

fn basis_comment(p: &Proposal, unit: &str) -> String {
    match &p.basis {
        Basis::LimitPlusNeed { limit, need } => {
            format!(
                "the stated limit {} + the {} more needed",
                number(*limit),
                number(*need)
            )
        }
        Basis::DoubleLimit { limit } => {
            format!("twice the stated limit of {} {unit}", number(*limit))
        }
        Basis::DoubleDefault { default } => format!(
            "twice the documented default ({}); the error states no limit: check the current \
             value (--live)",
            number(*default)
        ),
        Basis::Live {
            current,
            need: Some(need),
        } => {
            format!(
                "current {} + the {} more needed",
                number(*current),
                number(*need)
            )
        }
        Basis::Live {
            current,
            need: None,
        } => format!("twice the current {}", number(*current)),
        Basis::Unlimited => "the quota is unlimited now; kept only as a floor".into(),
        Basis::Placeholder => format!(
            "CHANGE-ME: the error states no limit; set the {unit} you need, or rerun with --live"
        ),
    }
}

/// The QuotaRequirement YAML.
pub fn yaml(r: &Report<'_>) -> String {
    let f = r.finding;
    let mut y = String::new();
    let _ = writeln!(y, "# From {} (quota-operator explain).", f.error_code);
    let _ = writeln!(
        y,
        "# {}: {} in {}.",
        f.quota.label(),
        f.quota_name,
        f.region
    );
    y.push_str("apiVersion: quota-operator.dev/v1alpha1\nkind: QuotaRequirement\nmetadata:\n");
    let _ = writeln!(y, "  name: {}", scalar(&object_name(f)));
    y.push_str("spec:\n");
    match r.account {
        Some(account) => {
            let _ = writeln!(y, "  accountRef: {}", scalar(account));
        }
        None => {
            let _ = writeln!(
                y,
                "  accountRef: {ACCOUNT_PLACEHOLDER}  # the CloudAccount of this {} (kubectl get cloudaccounts); or pass --account NAME",
                if matches!(f.quota, QuotaId::Gcp { .. }) {
                    "project"
                } else {
                    "account"
                }
            );
        }
    }
    match &f.quota {
        QuotaId::Aws {
            service_code,
            quota_code,
        } => {
            let _ = writeln!(y, "  aws:\n    serviceCode: {}", scalar(service_code));
            let _ = writeln!(
                y,
                "    quotaCode: {}  # {}",
                scalar(quota_code),
                f.quota_name
            );
        }
        QuotaId::Gcp {
            service,
            quota_id,
            dimensions,
        } => {
            let _ = writeln!(y, "  gcp:\n    service: {}", scalar(service));
            let _ = writeln!(y, "    quotaId: {}", scalar(quota_id));
            if !dimensions.is_empty() {
                y.push_str("    dimensions:\n");
                for (k, v) in dimensions {
                    let _ = writeln!(y, "      {}: {}", scalar(k), scalar(v));
                }
            }
        }
    }
    let _ = writeln!(y, "  regions:\n  - {}", scalar(&f.region));
    match r.capacity {
        Some((instance_type, count)) => {
            let _ = writeln!(
                y,
                "  capacity:  # the operator reads {instance_type}'s vCPUs from EC2 DescribeInstanceTypes and asks for count x vCPUs"
            );
            let _ = writeln!(
                y,
                "  - instanceType: {}\n    count: {count}",
                scalar(instance_type)
            );
        }
        None => {
            let _ = writeln!(
                y,
                "  desiredValue: {}  # {}",
                r.proposal.value,
                basis_comment(r.proposal, f.unit)
            );
        }
    }
    let _ = writeln!(y, "  justification: {}", scalar(&justification(f)));
    y
}

/// The explanation for stderr.
pub fn explanation(r: &Report<'_>) -> String {
    let f = r.finding;
    let mut e = String::new();
    let _ = writeln!(
        e,
        "{} -> {} ({}) in {}",
        f.error_code,
        f.quota.label(),
        f.quota_name,
        f.region
    );
    let _ = writeln!(e, "Why: {}", f.why);
    if let Some(advice) = &f.advice {
        let _ = writeln!(e, "Note: {advice}");
    }
    if let Some(project) = &f.project {
        let _ = writeln!(
            e,
            "Project: {project} (the CloudAccount for it goes in accountRef)."
        );
    }
    if let Some(c) = r.current {
        let shown = if c.value == crate::cloud::UNLIMITED {
            "unlimited".to_string()
        } else {
            format!("{} {}", number(c.value), f.unit)
        };
        let _ = writeln!(e, "Current value (--live): {shown} ({}).", c.name);
        if !c.adjustable {
            let _ = writeln!(
                e,
                "This quota is not adjustable: the operator will show NotAdjustable and file \
                 nothing; reduce the usage instead."
            );
        }
    }
    if let Some((instance_type, count)) = r.capacity {
        let _ = writeln!(
            e,
            "The YAML on stdout gives capacity, {count} x {instance_type}: the operator reads the \
             type's vCPUs from EC2 DescribeInstanceTypes in each region and keeps the quota at \
             count x vCPUs (added to any other capacity on the quota)."
        );
        if r.proposal.basis != Basis::Placeholder {
            let _ = writeln!(
                e,
                "The error suggests {} or more ({}).",
                r.proposal.value,
                basis_comment(r.proposal, f.unit)
            );
        }
    } else if r.proposal.basis == Basis::Placeholder {
        let _ = writeln!(
            e,
            "The error states no limit, so desiredValue in the YAML on stdout is a placeholder \
             ({}): set it to the {} you need, or rerun with --live to start from the current \
             value.",
            r.proposal.value, f.unit
        );
    } else {
        let _ = writeln!(
            e,
            "The YAML on stdout keeps it at {} or more ({}): the operator files one increase \
             when the current value is lower and follows it to the end.",
            r.proposal.value,
            basis_comment(r.proposal, f.unit)
        );
    }
    if r.account.is_none() {
        let _ = writeln!(
            e,
            "accountRef is {ACCOUNT_PLACEHOLDER}: set it to your CloudAccount, or pass --account NAME."
        );
    }
    e
}
