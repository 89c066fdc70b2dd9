//! Aggregation: several QuotaRequirements may need the same quota in the same account and region.
//! The value asked of the cloud is the largest of those that may ask, and every object says which
//! one drives it.

use jiff::Timestamp;

/// One object's need for a quota, with whether it may count.
#[derive(Clone, Debug, PartialEq)]
pub struct Contribution {
    /// `namespace/name`.
    pub object: String,
    pub value: i64,
    /// False when its namespace is not allowed, a guardrail blocks it, or it was denied at its
    /// current generation: such an object cannot push another object's request up.
    pub eligible: bool,
    /// When the need was declared (a refusal made before it does not hold it back).
    pub since: Timestamp,
}

/// The effective desired value and the object that drives it.
#[derive(Clone, Debug, PartialEq)]
pub struct Effective {
    pub value: i64,
    pub driven_by: String,
    /// When the driving need was declared.
    pub since: Timestamp,
}

/// One object's need on a quota as one number, whatever kinds it declares: the largest of its
/// floor (a `desiredValue`, or the capacity total it counts in) and what its `spec.headroom` asks
/// over usage. The controller (`observe::need`, `peers`) and `plan --live` both make an object's
/// contribution with it, so they add the same needs up.
pub fn own_value(floor: i64, headroom: Option<i64>) -> i64 {
    floor.max(headroom.unwrap_or_default())
}

/// The largest eligible contribution (ties go to the first name, so the driver is stable). When
/// none is eligible, `own` drives, so the object still shows its own need.
pub fn effective(own: &Contribution, others: &[Contribution]) -> Effective {
    std::iter::once(own)
        .chain(others)
        .filter(|c| c.eligible)
        .max_by(|a, b| a.value.cmp(&b.value).then_with(|| b.object.cmp(&a.object)))
        .map(|c| Effective {
            value: c.value,
            driven_by: c.object.clone(),
            since: c.since,
        })
        .unwrap_or_else(|| Effective {
            value: own.value,
            driven_by: own.object.clone(),
            since: own.since,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(object: &str, value: i64, eligible: bool) -> Contribution {
        Contribution {
            object: object.into(),
            value,
            eligible,
            since: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn largest_eligible_value_drives() {
        let e = effective(
            &c("a/x", 1000, true),
            &[c("b/y", 2000, true), c("c/z", 1500, true)],
        );
        assert_eq!(
            e,
            Effective {
                value: 2000,
                driven_by: "b/y".into(),
                since: Timestamp::UNIX_EPOCH,
            }
        );
    }

    #[test]
    fn ineligible_objects_cannot_push_the_value_up() {
        let e = effective(&c("a/x", 1000, true), &[c("b/y", 9000, false)]);
        assert_eq!(
            e,
            Effective {
                value: 1000,
                driven_by: "a/x".into(),
                since: Timestamp::UNIX_EPOCH,
            }
        );
    }

    #[test]
    fn ties_go_to_the_first_name_whichever_object_asks() {
        let from_a = effective(&c("a/x", 500, true), &[c("b/y", 500, true)]);
        let from_b = effective(&c("b/y", 500, true), &[c("a/x", 500, true)]);
        assert_eq!(from_a.driven_by, "a/x");
        assert_eq!(from_b.driven_by, "a/x");
    }

    #[test]
    fn an_ineligible_object_alone_shows_its_own_need() {
        let e = effective(&c("a/x", 700, false), &[]);
        assert_eq!(
            e,
            Effective {
                value: 700,
                driven_by: "a/x".into(),
                since: Timestamp::UNIX_EPOCH,
            }
        );
    }
}
