//! What a CloudAccount's `namespaceSelector` asks of a namespace it refuses, in words: a team
//! cannot read CloudAccounts (the tenant model keeps account ids, roles and guardrails from
//! them), so the refusal on its own object says which labels would admit it. Other
//! namespaces are never named: a list of namespace names (`kubernetes.io/metadata.name`) is
//! told by its size only.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// The label the API server sets to a namespace's own name.
const NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Each requirement of `selector` that `labels` do not meet, with what the namespace has.
pub fn unmet(selector: Option<&LabelSelector>, labels: &BTreeMap<String, String>) -> Vec<String> {
    let Some(selector) = selector else {
        return vec![
            "a namespaceSelector, which the account does not have yet (it admits no \
                     namespace until an admin sets one)"
                .into(),
        ];
    };
    let has = |key: &str| match labels.get(key) {
        Some(v) => format!("it has {key}={v}"),
        None => format!("it has no {key} label"),
    };
    let mut unmet = Vec::new();
    for (key, want) in selector.match_labels.iter().flatten() {
        if labels.get(key) != Some(want) {
            unmet.push(format!("label {key}={} ({})", shown(key, want), has(key)));
        }
    }
    for e in selector.match_expressions.iter().flatten() {
        let values = e.values.as_deref().unwrap_or_default();
        let value = labels.get(&e.key);
        let (met, wanted) = match e.operator.as_str() {
            "In" => (
                value.is_some_and(|v| values.contains(v)),
                format!("label {} in {}", e.key, listed(&e.key, values)),
            ),
            "NotIn" => (
                value.is_none_or(|v| !values.contains(v)),
                format!("label {} not in {}", e.key, listed(&e.key, values)),
            ),
            "Exists" => (value.is_some(), format!("a label {}", e.key)),
            "DoesNotExist" => (value.is_none(), format!("no label {}", e.key)),
            other => (
                false,
                format!("an operator Kubernetes has ({other:?} is none)"),
            ),
        };
        if !met {
            unmet.push(format!("{wanted} ({})", has(&e.key)));
        }
    }
    unmet
}

fn shown(key: &str, value: &str) -> String {
    if key == NAME_LABEL {
        "(another namespace's name)".into()
    } else {
        value.to_string()
    }
}

fn listed(key: &str, values: &[String]) -> String {
    if key == NAME_LABEL {
        format!("the account's list of {} namespace names", values.len())
    } else {
        format!("({})", values.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selector(json: serde_json::Value) -> LabelSelector {
        serde_json::from_value(json).unwrap()
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        (pairs.iter())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn each_unmet_label_is_named_with_what_the_namespace_has() {
        let s = selector(serde_json::json!({
            "matchLabels": {"quota-operator.dev/tier": "prod"},
            "matchExpressions": [
                {"key": "team", "operator": "Exists"},
                {"key": "env", "operator": "In", "values": ["prod", "staging"]}
            ]
        }));
        let ns = labels(&[("quota-operator.dev/tier", "dev"), ("env", "dev")]);
        assert_eq!(
            unmet(Some(&s), &ns),
            [
                "label quota-operator.dev/tier=prod (it has quota-operator.dev/tier=dev)",
                "a label team (it has no team label)",
                "label env in (prod, staging) (it has env=dev)",
            ]
        );
        let admitted = labels(&[
            ("quota-operator.dev/tier", "prod"),
            ("team", "a"),
            ("env", "prod"),
        ]);
        assert!(unmet(Some(&s), &admitted).is_empty());
    }

    #[test]
    fn other_namespaces_are_never_named_and_no_selector_says_so() {
        let s = selector(serde_json::json!({"matchExpressions": [
            {"key": NAME_LABEL, "operator": "In", "values": ["payments", "search"]}
        ]}));
        let said = unmet(Some(&s), &labels(&[(NAME_LABEL, "team-b")])).join("; ");
        assert_eq!(
            said,
            "label kubernetes.io/metadata.name in the account's list of 2 namespace names \
             (it has kubernetes.io/metadata.name=team-b)"
        );
        assert!(!said.contains("payments"), "{said}");
        assert!(unmet(None, &labels(&[]))[0].contains("does not have yet"));
    }
}
