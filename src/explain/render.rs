//! What `explain` prints: the QuotaRequirement YAML (stdout, ready for `kubectl apply -f -` or a
//! GitOps repo, with comments where a person must look) and the explanation (stderr).

use std::fmt::Write as _;

use serde_yaml::{Mapping, Value};

use super::{
    finding::{Finding, QuotaId},
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
    /// Usage in one line, or why it is unknown.
    pub usage: String,
    /// What `spec.headroom` of [`SUGGESTED_HEADROOM`] percent over the peak would ask for.
    pub headroom: Option<String>,
}

/// The headroom `explain --live` works out: the first figure of the README's example.
pub const SUGGESTED_HEADROOM: i32 = 30;

/// Everything `explain` prints.
pub struct Report<'a> {
    pub finding: &'a Finding,
    pub proposal: &'a Proposal,
    pub account: Option<&'a str>,
    pub current: Option<&'a Current>,
    /// `--count`: the instance type and how many must run, written as `capacity`.
    pub capacity: Option<(&'a str, i64)>,
}

/// A line of a `#` comment or of the explanation. Quota names, regions and codes come from the
/// pasted text: a line break in one must not end the comment and start YAML of its own.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect()
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

/// The QuotaRequirement YAML: comments for the person who applies it, then the object, built as
/// data and serialised once, so no text of the error can add or change a field.
pub fn yaml(r: &Report<'_>) -> String {
    let mut y = String::new();
    for line in comments(r) {
        let _ = writeln!(y, "# {}", one_line(&line));
    }
    y.push_str(&serde_yaml::to_string(&object(r)).expect("a YAML mapping serializes"));
    y
}

/// What the comments above the object say: where it comes from, and what a person must check.
fn comments(r: &Report<'_>) -> Vec<String> {
    let f = r.finding;
    let mut lines = vec![
        format!("From {} (quota-operator explain).", f.error_code),
        format!("{}: {} in {}.", f.quota.label(), f.quota_name, f.region),
    ];
    if r.account.is_none() {
        let of = if matches!(f.quota, QuotaId::Gcp { .. }) {
            "project"
        } else {
            "account"
        };
        lines.push(format!(
            "accountRef {ACCOUNT_PLACEHOLDER}: set the CloudAccount of this {of} (kubectl get \
             cloudaccounts), or pass --account NAME."
        ));
    }
    lines.push(match r.capacity {
        Some((instance_type, _)) => format!(
            "capacity: the operator reads {instance_type}'s vCPUs from EC2 \
             DescribeInstanceTypes and asks for count x vCPUs."
        ),
        None => format!(
            "desiredValue {}: {}.",
            r.proposal.value,
            basis_comment(r.proposal, f.unit)
        ),
    });
    lines
}

/// A YAML mapping with its keys in the order given.
fn mapping<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Mapping(
        entries
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect::<Mapping>(),
    )
}

/// `aws` or `gcp`, and the quota as the spec names it.
fn quota(quota: &QuotaId) -> (&'static str, Value) {
    match quota {
        QuotaId::Aws {
            service_code,
            quota_code,
        } => (
            "aws",
            mapping([
                ("serviceCode", service_code.as_str().into()),
                ("quotaCode", quota_code.as_str().into()),
            ]),
        ),
        QuotaId::Gcp {
            service,
            quota_id,
            dimensions,
        } => {
            let mut gcp = mapping([
                ("service", service.as_str().into()),
                ("quotaId", quota_id.as_str().into()),
            ]);
            if !dimensions.is_empty() {
                let dims: Mapping = dimensions
                    .iter()
                    .map(|(k, v)| (Value::from(k.as_str()), Value::from(v.as_str())))
                    .collect();
                gcp["dimensions"] = Value::Mapping(dims);
            }
            ("gcp", gcp)
        }
    }
}

fn object(r: &Report<'_>) -> Value {
    let f = r.finding;
    let need = match r.capacity {
        Some((instance_type, count)) => (
            "capacity",
            Value::Sequence(vec![mapping([
                ("instanceType", instance_type.into()),
                ("count", count.into()),
            ])]),
        ),
        None => ("desiredValue", r.proposal.value.into()),
    };
    let spec = mapping([
        (
            "accountRef",
            r.account.unwrap_or(ACCOUNT_PLACEHOLDER).into(),
        ),
        quota(&f.quota),
        ("regions", Value::Sequence(vec![f.region.as_str().into()])),
        need,
        ("justification", justification(f).into()),
    ]);
    mapping([
        ("apiVersion", "quota-operator.dev/v1alpha1".into()),
        ("kind", "QuotaRequirement".into()),
        ("metadata", mapping([("name", object_name(f).into())])),
        ("spec", spec),
    ])
}

/// The explanation for stderr.
pub fn explanation(r: &Report<'_>) -> String {
    let f = r.finding;
    let mut e: Vec<String> = vec![];
    e.push(format!(
        "{} -> {} ({}) in {}",
        f.error_code,
        f.quota.label(),
        f.quota_name,
        f.region
    ));
    e.push(format!("Why: {}", f.why));
    if let Some(advice) = &f.advice {
        e.push(format!("Note: {advice}"));
    }
    if let Some(project) = &f.project {
        e.push(format!(
            "Project: {project} (the CloudAccount for it goes in accountRef)."
        ));
    }
    if let Some(c) = r.current {
        let shown = if c.value == crate::cloud::UNLIMITED {
            "unlimited".to_string()
        } else {
            format!("{} {}", number(c.value), f.unit)
        };
        e.push(format!("Current value (--live): {shown} ({}).", c.name));
        e.push(format!("Usage (--live): {}.", c.usage));
        if let Some(h) = &c.headroom {
            e.push(format!(
                "With spec.headroom {{percent: {SUGGESTED_HEADROOM}, max: ...}} the operator would \
                 keep it at {h}, and raise it as usage grows."
            ));
        }
        if !c.adjustable {
            e.push(
                "This quota is not adjustable: the operator will show NotAdjustable and file \
                 nothing; reduce the usage instead."
                    .into(),
            );
        }
    }
    if let Some((instance_type, count)) = r.capacity {
        e.push(format!(
            "The YAML on stdout gives capacity, {count} x {instance_type}: the operator reads the \
             type's vCPUs from EC2 DescribeInstanceTypes in each region and keeps the quota at \
             count x vCPUs (added to any other capacity on the quota)."
        ));
        if r.proposal.basis != Basis::Placeholder {
            e.push(format!(
                "The error suggests {} or more ({}).",
                r.proposal.value,
                basis_comment(r.proposal, f.unit)
            ));
        }
    } else if r.proposal.basis == Basis::Placeholder {
        e.push(format!(
            "The error states no limit, so desiredValue in the YAML on stdout is a placeholder \
             ({}): set it to the {} you need, or rerun with --live to start from the current \
             value.",
            r.proposal.value, f.unit
        ));
    } else {
        e.push(format!(
            "The YAML on stdout keeps it at {} or more ({}): the operator files one increase \
             when the current value is lower and follows it to the end.",
            r.proposal.value,
            basis_comment(r.proposal, f.unit)
        ));
    }
    if r.account.is_none() {
        e.push(format!("accountRef is {ACCOUNT_PLACEHOLDER}: set it to your CloudAccount, or pass --account NAME."
        ));
    }
    // One line per entry: no text of the error can start a line of its own.
    e.iter().map(|line| one_line(line) + "\n").collect()
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
