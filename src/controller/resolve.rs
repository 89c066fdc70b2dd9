//! Resolve: which CloudAccount an object uses, and whether its namespace and the account's
//! guardrails allow what it asks. Pure functions over what the stores hold.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::api::{CloudAccount, Guardrails, QuotaRequirementSpec, reasons};

/// Why an object cannot use its account at all; each is a `Ready=False` reason.
#[derive(Clone, Debug, PartialEq)]
pub enum AccountProblem {
    NotFound(String),
    NotAllowed(String),
    Mismatch(String),
}

impl AccountProblem {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::NotFound(_) => reasons::ACCOUNT_NOT_FOUND,
            Self::NotAllowed(_) => reasons::ACCOUNT_NOT_ALLOWED,
            Self::Mismatch(_) => reasons::ACCOUNT_MISMATCH,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Self::NotFound(m) | Self::NotAllowed(m) | Self::Mismatch(m) => m,
        }
    }
}

/// Checks that `account` exists, serves the spec's cloud, and admits `namespace`.
pub fn check_account<'a>(
    spec: &QuotaRequirementSpec,
    namespace: &str,
    namespace_labels: Option<&BTreeMap<String, String>>,
    account: Option<&'a CloudAccount>,
) -> Result<&'a CloudAccount, AccountProblem> {
    let name = &spec.account_ref;
    let account = account.ok_or_else(|| {
        AccountProblem::NotFound(format!(
            "CloudAccount {name} (spec.accountRef) does not exist"
        ))
    })?;
    if spec.aws.is_some() != account.spec.aws.is_some() {
        let (wants, has) = if spec.aws.is_some() {
            ("aws", "gcp")
        } else {
            ("gcp", "aws")
        };
        return Err(AccountProblem::Mismatch(format!(
            "spec.{wants} is set but CloudAccount {name} is a {has} account"
        )));
    }
    // A namespace the operator has not seen has no known labels, which a NotIn or DoesNotExist
    // selector would admit: it is not allowed until its labels are known.
    let Some(labels) = namespace_labels else {
        return Err(AccountProblem::NotAllowed(format!(
            "namespace {namespace} is not known to the operator yet, so CloudAccount {name} cannot judge it (spec.namespaceSelector)"
        )));
    };
    if !selector_matches(account.spec.namespace_selector.as_ref(), labels) {
        let needs = crate::api::admits::unmet(account.spec.namespace_selector.as_ref(), labels);
        return Err(AccountProblem::NotAllowed(format!(
            "namespace {namespace} is not allowed to use CloudAccount {name}: its \
             spec.namespaceSelector needs {}; the account's admins label namespaces",
            needs.join("; ")
        )));
    }
    Ok(account)
}

/// Label selector semantics of Kubernetes, except that an absent selector admits nothing: an
/// account is closed until an admin opens it.
pub fn selector_matches(
    selector: Option<&LabelSelector>,
    labels: &BTreeMap<String, String>,
) -> bool {
    let Some(selector) = selector else {
        return false;
    };
    let labels_match = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let expressions_match = selector.match_expressions.iter().flatten().all(|e| {
        let values = e.values.as_deref().unwrap_or_default();
        let value = labels.get(&e.key);
        match e.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        }
    });
    labels_match && expressions_match
}

/// Why `value` may not be requested for `quota_id` in an account with these guardrails, if it
/// may not.
pub fn guardrail_violation(
    guardrails: Option<&Guardrails>,
    quota_id: &str,
    value: i64,
    current: f64,
) -> Option<String> {
    let g = guardrails?;
    if let Some(max) = g.max_values.get(quota_id)
        && value > *max
    {
        return Some(format!(
            "{value} exceeds the account's guardrail spec.guardrails.maxValues[{quota_id}] = {max}"
        ));
    }
    // A quota at 0 could otherwise be raised without bound; an unlimited one needs no request.
    let base = current.max(1.0);
    if let Some(factor) = g.max_increase_factor
        && current != crate::cloud::UNLIMITED
        && value as f64 > base * factor
    {
        return Some(format!(
            "{value} is more than spec.guardrails.maxIncreaseFactor ({factor}) times the current value {current}"
        ));
    }
    None
}

/// The largest value the guardrails let a request reach from `current`, and which guardrail
/// says so: what an automatic number (headroom) is capped at, where a declared one is Blocked.
/// What the account allows `spec.headroom` on `quota_id`: the guardrails' cap, and the least
/// time between raises.
pub fn headroom_bounds(
    guardrails: Option<&Guardrails>,
    quota_id: &str,
    current: f64,
) -> crate::usage::Bounds {
    crate::usage::Bounds {
        cap: guardrail_cap(guardrails, quota_id, current),
        min_cooldown: Guardrails::headroom_min_cooldown(guardrails),
    }
}

fn guardrail_cap(
    guardrails: Option<&Guardrails>,
    quota_id: &str,
    current: f64,
) -> Option<crate::usage::Cap> {
    let g = guardrails?;
    let by_value = g.max_values.get(quota_id).map(|max| crate::usage::Cap {
        value: *max,
        why: format!("spec.guardrails.maxValues[{quota_id}] = {max}"),
    });
    let by_factor = g
        .max_increase_factor
        .filter(|_| current != crate::cloud::UNLIMITED)
        .map(|factor| crate::usage::Cap {
            value: (current.max(1.0) * factor).floor() as i64,
            why: format!(
                "spec.guardrails.maxIncreaseFactor ({factor}) times the current value {current}"
            ),
        });
    by_value
        .into_iter()
        .chain(by_factor)
        .min_by_key(|c| c.value)
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn absent_selector_admits_nothing_and_empty_selector_admits_everything() {
        assert!(!selector_matches(None, &labels(&[("a", "b")])));
        assert!(selector_matches(
            Some(&LabelSelector::default()),
            &labels(&[])
        ));
    }

    #[test]
    fn match_labels_and_expressions_must_all_hold() {
        let selector = LabelSelector {
            match_labels: Some(labels(&[("team", "batch")])),
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "env".into(),
                operator: "In".into(),
                values: Some(vec!["prod".into(), "staging".into()]),
            }]),
        };
        assert!(selector_matches(
            Some(&selector),
            &labels(&[("team", "batch"), ("env", "prod")])
        ));
        assert!(!selector_matches(
            Some(&selector),
            &labels(&[("team", "batch"), ("env", "dev")])
        ));
        assert!(!selector_matches(
            Some(&selector),
            &labels(&[("env", "prod")])
        ));
    }

    #[test]
    fn not_in_and_does_not_exist_admit_missing_labels() {
        let selector = LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "NotIn".into(),
                    values: Some(vec!["sandbox".into()]),
                },
                LabelSelectorRequirement {
                    key: "frozen".into(),
                    operator: "DoesNotExist".into(),
                    values: None,
                },
            ]),
        };
        assert!(selector_matches(Some(&selector), &labels(&[])));
        assert!(!selector_matches(
            Some(&selector),
            &labels(&[("tier", "sandbox")])
        ));
        assert!(!selector_matches(
            Some(&selector),
            &labels(&[("frozen", "yes")])
        ));
    }

    #[test]
    fn a_namespace_the_operator_has_not_seen_is_not_allowed_even_by_not_in() {
        let account: CloudAccount = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "prod"},
            "spec": {"aws": {"accountId": "111111111111"},
                     "namespaceSelector": {"matchExpressions": [
                         {"key": "tier", "operator": "NotIn", "values": ["sandbox"]}]}}
        }))
        .unwrap();
        let spec: QuotaRequirementSpec = serde_json::from_value(serde_json::json!({
            "accountRef": "prod", "aws": {"serviceCode": "ec2", "quotaCode": "L-1"},
            "regions": ["us-east-1"], "desiredValue": 1
        }))
        .unwrap();
        let missing = check_account(&spec, "team-a", None, Some(&account)).unwrap_err();
        assert_eq!(missing.reason(), "AccountNotAllowed");
        assert!(
            missing.message().contains("not known"),
            "{}",
            missing.message()
        );
        assert!(check_account(&spec, "team-a", Some(&labels(&[])), Some(&account)).is_ok());
    }

    #[test]
    fn guardrails_name_the_limit_they_enforce() {
        let g = Guardrails {
            max_increase_factor: Some(4.0),
            max_values: [("L-34B43A08".to_string(), 10_000)].into(),
            ..Default::default()
        };
        assert_eq!(
            guardrail_violation(Some(&g), "L-34B43A08", 2000, 640.0),
            None
        );
        let too_big = guardrail_violation(Some(&g), "L-34B43A08", 20_000, 10_000.0).unwrap();
        assert!(too_big.contains("maxValues[L-34B43A08]"), "{too_big}");
        let too_fast = guardrail_violation(Some(&g), "L-1216C47A", 3000, 640.0).unwrap();
        assert!(too_fast.contains("maxIncreaseFactor"), "{too_fast}");
        assert_eq!(guardrail_violation(None, "L-1", 1_000_000, 1.0), None);
    }

    #[test]
    fn the_increase_factor_counts_from_at_least_one_so_a_zero_quota_is_bounded_too() {
        let g = Guardrails {
            max_increase_factor: Some(4.0),
            ..Default::default()
        };
        assert_eq!(guardrail_violation(Some(&g), "L-1", 4, 0.0), None);
        let unbounded = guardrail_violation(Some(&g), "L-1", 5, 0.0).unwrap();
        assert!(unbounded.contains("maxIncreaseFactor"), "{unbounded}");
        assert_eq!(guardrail_violation(Some(&g), "L-1", 1_000_000, -1.0), None);
    }
}
