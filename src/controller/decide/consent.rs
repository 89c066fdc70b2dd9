//! Consent: whether the account and the object, as the API server has them just before a
//! filing, still let `value` be filed. The decision was made from the controller's cache; an
//! admin's change the watch has not brought yet must not be crossed.

use super::guardrails;
use crate::api::{CloudAccount, Guardrails};

/// What observe read afresh for a filing.
pub struct Fresh {
    /// The CloudAccount as it is now, if the object's namespace may still use it; else why not.
    pub account: Result<CloudAccount, String>,
    /// For a decrease: whether the object as it is now still asks to lower the quota.
    pub still_asks_decrease: Option<bool>,
}

/// What a filing may go ahead with.
pub struct Consent {
    pub account: CloudAccount,
    /// The filing lowers the quota, and both the object and the account still consent to it.
    pub decrease: bool,
}

/// The consent to file `value` for `quota_id` (now `current`), or why there is none.
pub fn judge(fresh: Fresh, quota_id: &str, current: f64, value: i64) -> Result<Consent, String> {
    let account = fresh.account?;
    let g = account.spec.guardrails.as_ref();
    if let Some(why) = guardrails::violation(g, quota_id, value, current) {
        return Err(why);
    }
    let decrease = fresh.still_asks_decrease.is_some();
    if let Some(still_asks) = fresh.still_asks_decrease {
        decrease_consent(still_asks, g, quota_id, value)?;
    }
    Ok(Consent { account, decrease })
}

/// Lowering the quota to `value` needs the object's `allowDecrease` and the account's floor,
/// both as they are now.
fn decrease_consent(
    still_asks: bool,
    g: Option<&Guardrails>,
    id: &str,
    value: i64,
) -> Result<(), String> {
    if !still_asks {
        return Err("spec.allowDecrease is no longer set".into());
    }
    match Guardrails::decrease_floor(g, id) {
        Some(floor) if value >= floor => Ok(()),
        Some(floor) => Err(format!(
            "{value} is below the account's spec.guardrails.decrease.minValues[{id}] = {floor}"
        )),
        None => Err(format!(
            "the CloudAccount no longer consents to lowering {id} (spec.guardrails.decrease.minValues)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(guardrails: serde_json::Value) -> CloudAccount {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "prod"},
            "spec": {"gcp": {"project": "p", "contactEmail": "q@example.com"},
                     "guardrails": guardrails}
        }))
        .unwrap()
    }

    fn fresh(guardrails: serde_json::Value, still_asks: Option<bool>) -> Fresh {
        Fresh {
            account: Ok(account(guardrails)),
            still_asks_decrease: still_asks,
        }
    }

    #[test]
    fn an_account_the_namespace_may_no_longer_use_refuses_with_its_reason() {
        let gone = Fresh {
            account: Err("namespace a is not allowed".into()),
            still_asks_decrease: None,
        };
        let why = judge(gone, "CPUS", 96.0, 100).err().unwrap();
        assert_eq!(why, "namespace a is not allowed");
    }

    #[test]
    fn a_guardrail_set_since_the_cache_was_read_refuses() {
        let capped = fresh(serde_json::json!({"maxValues": {"CPUS": 99}}), None);
        let why = judge(capped, "CPUS", 96.0, 100).err().unwrap();
        assert!(why.contains("maxValues[CPUS]"), "{why}");
        let open = fresh(serde_json::json!({}), None);
        assert!(!judge(open, "CPUS", 96.0, 100).unwrap().decrease);
    }

    #[test]
    fn a_decrease_needs_both_consents_as_they_are_now() {
        let floor = || serde_json::json!({"decrease": {"minValues": {"CPUS": 64}}});
        assert!(
            judge(fresh(floor(), Some(true)), "CPUS", 96.0, 80)
                .unwrap()
                .decrease
        );
        let unasked = judge(fresh(floor(), Some(false)), "CPUS", 96.0, 80);
        assert_eq!(
            unasked.err().unwrap(),
            "spec.allowDecrease is no longer set"
        );
        let below = judge(fresh(floor(), Some(true)), "CPUS", 96.0, 10)
            .err()
            .unwrap();
        assert!(below.contains("minValues[CPUS] = 64"), "{below}");
        let withdrawn = judge(fresh(serde_json::json!({}), Some(true)), "CPUS", 96.0, 80);
        assert!(
            withdrawn
                .err()
                .unwrap()
                .contains("no longer consents to lowering CPUS")
        );
    }
}
