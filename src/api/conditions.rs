//! Condition types and reasons, and the rules that keep lastTransitionTime stable.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::shared::Condition;

// Types in kstatus terms (what Flux and Argo CD read): Ready only when every region is
// satisfied; Reconciling while the operator is still working (a request open or queued, a cloud
// error being retried); Stalled when nothing will change until the spec or account does.
// Satisfied stays for `kubectl wait --for=condition=Satisfied`.
pub const READY: &str = "Ready";
pub const SATISFIED: &str = "Satisfied";
pub const RECONCILING: &str = "Reconciling";
pub const STALLED: &str = "Stalled";
// Usage at or above the CloudAccount's threshold in some region; beside the kstatus three.
pub const NEAR_LIMIT: &str = "NearLimit";

/// A condition as the controller wants it now, before timestamps.
#[derive(Clone, Debug, PartialEq)]
pub struct Desired {
    pub type_: &'static str,
    pub status: bool,
    pub reason: String,
    pub message: String,
}

/// Builds the conditions, keeping each one's lastTransitionTime from `old` unless its status flips.
pub fn merge(
    old: &[Condition],
    desired: Vec<Desired>,
    generation: Option<i64>,
    now: &Time,
) -> Vec<Condition> {
    desired
        .into_iter()
        .map(|d| {
            let status = if d.status { "True" } else { "False" };
            let last_transition_time = old
                .iter()
                .find(|c| c.type_ == d.type_ && c.status == status)
                .map(|c| c.last_transition_time.clone())
                .unwrap_or_else(|| now.clone());
            Condition {
                type_: d.type_.into(),
                status: status.into(),
                reason: d.reason.into(),
                message: d.message.into(),
                observed_generation: generation,
                last_transition_time,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Time {
        Time(jiff::Timestamp::from_second(secs).unwrap())
    }

    fn ready(status: bool, reason: &str) -> Desired {
        Desired {
            type_: READY,
            status,
            reason: reason.into(),
            message: "m".into(),
        }
    }

    #[test]
    fn transition_time_moves_only_when_status_flips() {
        let first = merge(&[], vec![ready(true, "A")], Some(1), &at(100));
        assert_eq!(first[0].last_transition_time, at(100));
        let same = merge(&first, vec![ready(true, "B")], Some(2), &at(200));
        assert_eq!(same[0].last_transition_time, at(100));
        assert_eq!(same[0].reason, "B");
        assert_eq!(same[0].observed_generation, Some(2));
        let flipped = merge(&same, vec![ready(false, "C")], Some(2), &at(300));
        assert_eq!(flipped[0].last_transition_time, at(300));
        assert_eq!(flipped[0].status, "False");
    }
}
