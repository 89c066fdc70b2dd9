//! Guardrails: what a CloudAccount lets be asked of a quota. Every value that is filed, whoever's
//! need it is, is judged here, and so is what headroom may reach automatically.

use crate::api::Guardrails;

/// Why `value` may not be requested for `quota_id` in an account with these guardrails, if it
/// may not.
pub fn violation(
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
    use super::*;

    #[test]
    fn guardrails_name_the_limit_they_enforce() {
        let g = Guardrails {
            max_increase_factor: Some(4.0),
            max_values: [("L-34B43A08".to_string(), 10_000)].into(),
            ..Default::default()
        };
        assert_eq!(violation(Some(&g), "L-34B43A08", 2000, 640.0), None);
        let too_big = violation(Some(&g), "L-34B43A08", 20_000, 10_000.0).unwrap();
        assert!(too_big.contains("maxValues[L-34B43A08]"), "{too_big}");
        let too_fast = violation(Some(&g), "L-1216C47A", 3000, 640.0).unwrap();
        assert!(too_fast.contains("maxIncreaseFactor"), "{too_fast}");
        assert_eq!(violation(None, "L-1", 1_000_000, 1.0), None);
    }

    #[test]
    fn the_increase_factor_counts_from_at_least_one_so_a_zero_quota_is_bounded_too() {
        let g = Guardrails {
            max_increase_factor: Some(4.0),
            ..Default::default()
        };
        assert_eq!(violation(Some(&g), "L-1", 4, 0.0), None);
        let unbounded = violation(Some(&g), "L-1", 5, 0.0).unwrap();
        assert!(unbounded.contains("maxIncreaseFactor"), "{unbounded}");
        assert_eq!(violation(Some(&g), "L-1", 1_000_000, -1.0), None);
    }
}
