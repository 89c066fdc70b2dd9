//! The desiredValue to propose: strictly above any limit the error states, with room for the
//! need it states; the quota's current value (with `--live`) when the text states none.

use super::finding::Finding;
use crate::cloud::UNLIMITED;

/// The largest desiredValue the CRD accepts (AWS's maximum).
const MAX: f64 = 10_000_000_000.0;

/// What the proposed value rests on, so the explanation can say it.
#[derive(Clone, Debug, PartialEq)]
pub enum Basis {
    /// The error states the limit and how much more was needed: limit + need.
    LimitPlusNeed { limit: f64, need: f64 },
    /// The error states the limit only: twice it (at least one more).
    DoubleLimit { limit: f64 },
    /// The error states no limit: twice the quota's documented default.
    DoubleDefault { default: f64 },
    /// The current value read with --live, plus the stated need (else doubled), and at least
    /// what the text alone gives.
    Live { current: f64, need: Option<f64> },
    /// The current value read with --live is unlimited: nothing to raise.
    Unlimited,
    /// Nothing to go on: a placeholder the user must change.
    Placeholder,
}

/// The proposed desiredValue and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Proposal {
    pub value: i64,
    pub basis: Basis,
}

/// Rounds up to a whole unit, within the CRD's range. Values stay exact (twice 64 is 128, not a
/// "rounder" 130): reviewers check the arithmetic in the comment, and vCPU counts are often
/// powers of two.
pub fn round_up(x: f64) -> i64 {
    x.clamp(1.0, MAX).ceil() as i64
}

/// Twice `limit`, and at least one more than it (a limit of 0 becomes 1).
fn double(limit: f64) -> i64 {
    round_up((2.0 * limit).max(limit + 1.0))
}

/// The offline proposal from the text alone, then raised to the live view when there is one.
pub fn propose(f: &Finding, current: Option<f64>) -> Proposal {
    let offline = match (f.limit, f.need, f.documented_default) {
        (Some(limit), Some(need), _) => Proposal {
            value: round_up((limit + need).max(limit + 1.0)),
            basis: Basis::LimitPlusNeed { limit, need },
        },
        (Some(limit), None, _) => Proposal {
            value: double(limit),
            basis: Basis::DoubleLimit { limit },
        },
        (None, _, Some(default)) => Proposal {
            value: double(default),
            basis: Basis::DoubleDefault { default },
        },
        (None, _, None) => Proposal {
            value: 1,
            basis: Basis::Placeholder,
        },
    };
    let Some(current) = current else {
        return offline;
    };
    if current == UNLIMITED {
        return Proposal {
            value: offline.value,
            basis: Basis::Unlimited,
        };
    }
    let live = match f.need {
        Some(need) => round_up((current + need).max(current + 1.0)),
        None => double(current),
    };
    // A value the text states is a fact; a documented default or a placeholder is not, and the
    // live value replaces it.
    let stated = matches!(
        offline.basis,
        Basis::LimitPlusNeed { .. } | Basis::DoubleLimit { .. }
    );
    Proposal {
        value: if stated {
            live.max(offline.value)
        } else {
            live
        },
        basis: Basis::Live {
            current,
            need: f.need,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::finding::QuotaId;

    fn finding(limit: Option<f64>, need: Option<f64>, default: Option<f64>) -> Finding {
        Finding {
            error_code: "X".into(),
            quota: QuotaId::aws("ec2", "L-34B43A08"),
            quota_name: String::new(),
            region: "us-east-1".into(),
            limit,
            need,
            documented_default: default,
            unit: "vCPUs",
            why: String::new(),
            advice: None,
            project: None,
            quoted: String::new(),
            slug: "x".into(),
        }
    }

    #[test]
    fn rounding_is_upwards_and_readable() {
        assert_eq!(round_up(16.0), 16);
        assert_eq!(round_up(0.2), 1);
        assert_eq!(round_up(64.5), 65);
        assert_eq!(round_up(1283.0), 1283);
        assert_eq!(round_up(2000.0), 2000);
        assert_eq!(round_up(1e12), 10_000_000_000);
    }

    #[test]
    fn always_strictly_above_a_stated_limit() {
        for limit in [0.0, 1.0, 8.0, 32.0, 99.5, 500.0, 1000.0, 4_999_999_999.0] {
            let p = propose(&finding(Some(limit), None, None), None);
            assert!(p.value as f64 > limit, "{limit} -> {}", p.value);
            let p = propose(&finding(Some(limit), Some(0.0), None), None);
            assert!(p.value as f64 > limit, "{limit} + 0 -> {}", p.value);
        }
        assert_eq!(propose(&finding(Some(8.0), None, None), None).value, 16);
        assert_eq!(
            propose(&finding(Some(24.0), Some(24.0), None), None).value,
            48
        );
    }

    #[test]
    fn defaults_then_placeholder_when_nothing_is_stated() {
        let p = propose(&finding(None, None, Some(500.0)), None);
        assert_eq!(
            (p.value, p.basis),
            (1000, Basis::DoubleDefault { default: 500.0 })
        );
        assert_eq!(
            propose(&finding(None, None, None), None).basis,
            Basis::Placeholder
        );
    }

    #[test]
    fn live_current_plus_need_or_doubled_never_below_the_text() {
        // current 640 with no stated need: doubled.
        let p = propose(&finding(None, None, None), Some(640.0));
        assert_eq!(p.value, 1280);
        // A stated limit above the live value still wins.
        assert_eq!(
            propose(&finding(Some(1000.0), None, None), Some(640.0)).value,
            2000
        );
        // current + stated need.
        assert_eq!(
            propose(&finding(Some(24.0), Some(24.0), None), Some(96.0)).value,
            120
        );
        // The live value replaces a documented default.
        assert_eq!(
            propose(&finding(None, None, Some(500.0)), Some(100.0)).value,
            200
        );
        assert_eq!(
            propose(&finding(None, None, None), Some(-1.0)).basis,
            Basis::Unlimited
        );
    }
}
