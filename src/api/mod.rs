//! The CRDs: `QuotaRequirement` (what a team needs) and `CloudAccount` (where, and who may ask).

pub mod admits;
mod case_status;
pub(crate) mod cloud_account;
pub mod conditions;
mod quota_requirement;
pub mod reasons;
pub mod selector;
mod shared;
pub mod template;

pub use case_status::{CaseReply, CaseStatus};
pub use cloud_account::*;
pub use quota_requirement::*;
pub use shared::{Condition, Shared};
pub use template::{TemplateEntryStatus, TemplateStatus};

use kube::CustomResourceExt;

/// API group of every resource the operator serves.
pub const GROUP: &str = "quota-operator.dev";

/// Every CRD the operator needs, as one multi-document YAML stream (what `quota-operator crd` prints
/// and what `crds/` holds).
pub fn crds_yaml() -> String {
    let crds = [CloudAccount::crd(), QuotaRequirement::crd()];
    crds.iter()
        .map(|crd| {
            // serde_yaml keeps the fields' order (serde_json's map may not, by feature).
            let mut crd = serde_yaml::to_value(crd).expect("a CRD always serializes");
            unwrap_descriptions(&mut crd);
            serde_yaml::to_string(&crd).expect("a CRD always serializes")
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

/// Every `description` in `value`, with the line breaks of the doc comments it came from
/// unwrapped: `kubectl explain` wraps text itself, and a break kept mid-sentence shows as a
/// short line. Paragraph breaks and list items stay.
fn unwrap_descriptions(value: &mut serde_yaml::Value) {
    use serde_yaml::Value;
    match value {
        Value::Mapping(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(text) if key.as_str() == Some("description") => {
                        *text = unwrap_lines(text);
                    }
                    v => unwrap_descriptions(v),
                }
            }
        }
        Value::Sequence(items) => items.iter_mut().for_each(unwrap_descriptions),
        _ => {}
    }
}

/// Single line breaks become spaces; a blank line, or a line starting a list item, keeps its
/// break.
fn unwrap_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        let keeps_break = line.is_empty()
            || line.starts_with("- ")
            || line.starts_with("* ")
            || out.ends_with('\n')
            || out.is_empty();
        if i > 0 {
            out.push(if keeps_break { '\n' } else { ' ' });
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[test]
    fn descriptions_read_as_sentences() {
        assert_eq!(
            unwrap_lines(
                "The value the quota must reach, in the\nquota's own unit.\n\nMore:\n- one\n- two"
            ),
            "The value the quota must reach, in the quota's own unit.\n\nMore:\n- one\n- two"
        );
        let yaml = crds_yaml();
        let crds: Vec<serde_json::Value> = serde_yaml::Deserializer::from_str(&yaml)
            .map(|d| serde_json::to_value(serde_yaml::Value::deserialize(d).unwrap()).unwrap())
            .collect();
        let mut descriptions = Vec::new();
        collect(&crds, &mut descriptions);
        assert!(descriptions.len() > 50, "{}", descriptions.len());
        for d in descriptions {
            for (before, after) in d.split('\n').zip(d.split('\n').skip(1)) {
                assert!(
                    before.is_empty() || after.is_empty() || after.starts_with("- "),
                    "a line break mid-paragraph: {d:?}"
                );
            }
        }
    }

    fn collect(value: &impl serde::Serialize, out: &mut Vec<String>) {
        fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| match v {
                    serde_json::Value::String(s) if k == "description" => out.push(s.clone()),
                    v => walk(v, out),
                }),
                serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
                _ => {}
            }
        }
        walk(&serde_json::to_value(value).unwrap(), out);
    }

    #[test]
    fn the_text_is_true_of_headroom_only_objects() {
        let yaml = crds_yaml();
        assert!(
            !yaml.contains("Exactly one of `desiredValue` and `capacity`"),
            "headroom alone is valid"
        );
        assert!(
            !yaml.contains("must be at least desiredValue in every"),
            "headroom alone is valid"
        );
    }
}
