//! The fault harness's checks on the objects themselves: converged where the schedule puts them,
//! and reconciled again before anyone concludes that nothing more was filed.

use std::{collections::BTreeMap, time::Duration};

use quota_operator::api::{QuotaRequirement, TargetState};

use crate::process::OperatorProcess;

/// What an object must come to.
pub struct Expect {
    pub state: TargetState,
    pub value: i64,
}

/// Ok when every expected object is in its state for its current generation, with no filing
/// intent left; otherwise the first one that is not, and why. A Denied object must show a
/// refusal from the cloud: an error of a transient fault is never an acceptable end.
pub fn converged(
    expected: &BTreeMap<String, Expect>,
    items: &[QuotaRequirement],
) -> Result<(), String> {
    let by_name: BTreeMap<&str, &QuotaRequirement> = items
        .iter()
        .filter_map(|o| Some((o.metadata.name.as_deref()?, o)))
        .collect();
    for (name, want) in expected {
        let obj = by_name
            .get(name.as_str())
            .ok_or(format!("{name} missing"))?;
        let Some(status) = &obj.status else {
            return Err(format!("{name} has no status"));
        };
        let show = || serde_json::to_string(status).unwrap_or_default();
        if status.observed_generation != obj.metadata.generation {
            return Err(format!("{name}: generation not observed yet"));
        }
        if !status.filings.is_empty() {
            return Err(format!("{name}: filing intents left: {}", show()));
        }
        let [target] = status.targets.as_slice() else {
            return Err(format!("{name}: expected one target: {}", show()));
        };
        if target.state != want.state {
            return Err(format!(
                "{name}: {:?}, expected {:?}: {}",
                target.state,
                want.state,
                show()
            ));
        }
        let ok = match want.state {
            TargetState::Satisfied => target.current_value.is_some_and(|v| v >= want.value as f64),
            // Behind a refusal of a larger need: waiting out the cooldown, saying until when.
            TargetState::Queued => target
                .message
                .as_deref()
                .is_some_and(|m| m.contains("asked again at most once per")),
            _ => target
                .request
                .as_ref()
                .is_some_and(|r| matches!(r.status.as_str(), "DENIED" | "CASE_CLOSED")),
        };
        if !ok {
            return Err(format!(
                "{name}: {:?} but not as expected: {}",
                want.state,
                show()
            ));
        }
    }
    Ok(())
}

/// Waits until `op` has begun reconciling each of `names` `times` times since this call (a later
/// start means the earlier reconcile finished: one object is never reconciled twice at once).
/// Needs the operator's debug log, which names every reconcile.
pub async fn reconciled_again(op: &OperatorProcess, ns: &str, names: &[&String], times: usize) {
    let from = op.log().len();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let log = op.log();
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for line in log.get(from..).unwrap_or_default().lines() {
            if !line.contains(" reconciling ") {
                continue;
            }
            let Some(rest) = line.split("object=").nth(1) else {
                continue;
            };
            let object = rest.split_whitespace().next().unwrap_or_default();
            if let Some(name) = object.strip_prefix(ns).and_then(|o| o.strip_prefix('/')) {
                *counts.entry(name).or_default() += 1;
            }
        }
        let behind: Vec<&&String> = names
            .iter()
            .filter(|n| counts.get(n.as_str()).copied().unwrap_or(0) < times)
            .collect();
        if behind.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not reconciled {times} more times within 60s: {behind:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
