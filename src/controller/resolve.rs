//! Resolve: which CloudAccount an object uses, and whether its namespace may use it. Pure
//! functions over what the stores hold; what the account's guardrails allow is a rule of
//! `decide::guardrails`.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::api::{CloudAccount, QuotaRequirementSpec, reasons};

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
    crate::api::selector::matches(selector, labels)
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
}
