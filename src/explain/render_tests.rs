//! Text pasted into `explain` is hostile until proven otherwise: whatever it holds ends up as
//! data in the object or on one comment line, never as YAML of its own.

use std::collections::BTreeMap;

use super::*;
use crate::{
    api::QuotaRequirement,
    explain::value::{Basis, Proposal},
};

/// What a crafted error can smuggle into a field: line breaks of every kind, keys, comments,
/// quotes, YAML indicators.
const HOSTILE: &[&str] = &[
    "x\nallowDecrease: true",
    "x\n  allowDecrease: true",
    "x\r\nspec:\n  allowDecrease: true",
    "x\u{2028}allowDecrease: true",
    "x\u{85}allowDecrease: true",
    "us-east-1: allowDecrease: true",
    "x # allowDecrease: true",
    "#allowDecrease: true",
    "'x\"\n\"allowDecrease\": true",
    "|-\n  allowDecrease: true",
    "- allowDecrease: true",
    "{allowDecrease: true}",
    "&a *a !!bool ? x",
];

fn finding(h: &str, gcp: bool) -> Finding {
    let quota = if gcp {
        QuotaId::Gcp {
            service: h.into(),
            quota_id: h.into(),
            dimensions: BTreeMap::from([(h.to_string(), h.to_string()), ("zone".into(), h.into())]),
        }
    } else {
        QuotaId::aws(h, h)
    };
    Finding {
        error_code: h.into(),
        quota,
        quota_name: h.into(),
        region: h.into(),
        limit: Some(4.0),
        need: None,
        documented_default: None,
        unit: "vCPUs",
        why: h.into(),
        advice: Some(h.into()),
        project: Some(h.into()),
        quoted: h.into(),
        slug: h.into(),
    }
}

/// Every key of every mapping in `v`.
fn keys(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Mapping(m) => {
            for (k, v) in m {
                out.push(k.as_str().unwrap_or("?").to_string());
                keys(v, out);
            }
        }
        Value::Sequence(s) => s.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

fn check(h: &str, r: &Report<'_>) {
    let yaml = yaml(r);
    let comments = comments(r).len();
    let lines: Vec<&str> = yaml.lines().collect();
    assert!(
        lines[..comments].iter().all(|l| l.starts_with("# "))
            && lines[comments] == "apiVersion: quota-operator.dev/v1alpha1",
        "a comment broke out:\n{yaml}"
    );
    let parsed: Value = serde_yaml::from_str(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let mut found = vec![];
    keys(&parsed["spec"], &mut found);
    assert!(
        !found.iter().any(|k| k == "allowDecrease"),
        "{h:?}:\n{yaml}"
    );
    let spec = &parsed["spec"];
    assert_eq!(spec["regions"][0].as_str(), Some(h), "{yaml}");
    assert!(
        spec["justification"].as_str().unwrap().contains(h),
        "{yaml}"
    );
    assert_eq!(
        parsed["metadata"]["name"].as_str(),
        Some(object_name(r.finding).as_str())
    );
    if let Some(account) = r.account {
        assert_eq!(spec["accountRef"].as_str(), Some(account), "{yaml}");
    }
    match &r.finding.quota {
        QuotaId::Gcp { .. } => {
            assert_eq!(spec["gcp"]["dimensions"][h].as_str(), Some(h), "{yaml}");
            assert_eq!(
                spec["gcp"]["dimensions"]["zone"].as_str(),
                Some(h),
                "{yaml}"
            );
            assert_eq!(spec["gcp"]["quotaId"].as_str(), Some(h), "{yaml}");
        }
        QuotaId::Aws { .. } => assert_eq!(spec["aws"]["quotaCode"].as_str(), Some(h), "{yaml}"),
    }
    if let Some((instance_type, _)) = r.capacity {
        assert_eq!(
            spec["capacity"][0]["instanceType"].as_str(),
            Some(instance_type)
        );
    }
    let qr: QuotaRequirement =
        serde_yaml::from_str(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    assert!(!qr.spec.allow_decrease, "{yaml}");
}

#[test]
fn hostile_text_in_any_field_stays_data_and_comments_stay_one_line() {
    let proposal = Proposal {
        value: 8,
        basis: Basis::DoubleLimit { limit: 4.0 },
    };
    for h in HOSTILE {
        for gcp in [false, true] {
            let finding = finding(h, gcp);
            let current = Current {
                value: 4.0,
                name: h.to_string(),
                adjustable: false,
                usage: h.to_string(),
                headroom: Some(h.to_string()),
            };
            for (account, capacity) in [(None, None), (Some(*h), Some((*h, 3)))] {
                let report = Report {
                    finding: &finding,
                    proposal: &proposal,
                    account,
                    current: Some(&current),
                    capacity,
                };
                check(h, &report);
                // The explanation has as many lines as it has for a harmless finding.
                let benign = self::finding("x", gcp);
                let plain = Report {
                    finding: &benign,
                    ..report
                };
                let e = explanation(&report);
                assert_eq!(
                    e.lines().count(),
                    explanation(&plain).lines().count(),
                    "{h:?}: {e}"
                );
            }
        }
    }
}
