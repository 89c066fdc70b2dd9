//! Status: turn the targets' outcomes into conditions and a summary, and write them with one
//! server-side apply patch, only when something changed.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{
    Api, ResourceExt,
    api::{Patch, PatchParams},
};
use serde_json::json;

use crate::api::{
    FilingIntent, QuotaRequirement, QuotaRequirementStatus, TargetState, TargetStatus,
    conditions::{self, Desired},
};

pub const FIELD_MANAGER: &str = "quota-operator";

/// A reason the whole object cannot proceed (account missing, not allowed, ...).
#[derive(Clone, Debug, PartialEq)]
pub struct Blocker {
    pub reason: &'static str,
    pub message: String,
}

/// The status the object should have, given its targets (or a blocker that stops them all).
pub fn build(
    obj: &QuotaRequirement,
    quota: Option<String>,
    targets: Vec<TargetStatus>,
    blocker: Option<&Blocker>,
) -> QuotaRequirementStatus {
    let old = obj.status.clone().unwrap_or_default();
    let generation = obj.metadata.generation;
    let desired = desired_conditions(&targets, blocker);
    let now = time(jiff::Timestamp::now());
    let summary = match blocker {
        Some(b) if targets.iter().all(|t| t.state == TargetState::Blocked) => b.reason.to_string(),
        _ => summary(&targets),
    };
    QuotaRequirementStatus {
        observed_generation: generation,
        conditions: conditions::merge(&old.conditions, desired, generation, &now),
        quota: quota.or(old.quota),
        summary: Some(summary),
        targets,
        filings: old.filings,
    }
}

/// A timestamp as the API server keeps it (whole seconds), so a status read back compares equal
/// to the one written and no patch is sent for nothing.
pub fn time(t: jiff::Timestamp) -> Time {
    Time(jiff::Timestamp::from_second(t.as_second()).unwrap_or(t))
}

/// One word when every target agrees, else how many are satisfied.
pub fn summary(targets: &[TargetStatus]) -> String {
    let Some(first) = targets.first() else {
        return "Pending".into();
    };
    if targets.iter().all(|t| t.state == first.state) {
        return first.state.as_str().into();
    }
    let satisfied = targets
        .iter()
        .filter(|t| t.state == TargetState::Satisfied)
        .count();
    format!("{satisfied}/{} satisfied", targets.len())
}

fn desired_conditions(targets: &[TargetStatus], blocker: Option<&Blocker>) -> Vec<Desired> {
    let describe = |states: &[TargetState]| {
        targets
            .iter()
            .filter(|t| states.contains(&t.state))
            .map(|t| {
                format!(
                    "{}: {}",
                    t.region,
                    t.message.as_deref().unwrap_or(t.state.as_str())
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let ready = match blocker {
        Some(b) => Desired {
            type_: conditions::READY,
            status: false,
            reason: b.reason.into(),
            message: b.message.clone(),
        },
        None if targets.iter().any(|t| t.state == TargetState::Error) => Desired {
            type_: conditions::READY,
            status: false,
            reason: conditions::REASON_CLOUD_ERROR.into(),
            message: describe(&[TargetState::Error]),
        },
        None => Desired {
            type_: conditions::READY,
            status: true,
            reason: conditions::REASON_OBSERVED.into(),
            message: format!("current values read in {} region(s)", targets.len()),
        },
    };

    let all_satisfied =
        !targets.is_empty() && targets.iter().all(|t| t.state == TargetState::Satisfied);
    // The most telling state names the reason: a terminal outcome outranks work in flight.
    let rank = [
        TargetState::Denied,
        TargetState::PartiallyGranted,
        TargetState::NotAdjustable,
        TargetState::Blocked,
        TargetState::Error,
        TargetState::Requested,
        TargetState::Queued,
    ];
    let worst = rank.iter().find(|s| targets.iter().any(|t| t.state == **s));
    let satisfied = match (all_satisfied, worst, blocker) {
        (true, _, _) => Desired {
            type_: conditions::SATISFIED,
            status: true,
            reason: conditions::REASON_ALL_SATISFIED.into(),
            message: describe(&[TargetState::Satisfied]),
        },
        (false, Some(state), _) => Desired {
            type_: conditions::SATISFIED,
            status: false,
            reason: state.as_str().into(),
            message: describe(&rank),
        },
        (false, None, b) => Desired {
            type_: conditions::SATISFIED,
            status: false,
            reason: b.map_or("Pending", |b| b.reason).into(),
            message: b.map_or_else(|| "not yet observed".into(), |b| b.message.clone()),
        },
    };

    let open = [TargetState::Requested, TargetState::Queued];
    let progressing = if targets.iter().any(|t| t.state == TargetState::Requested) {
        Desired {
            type_: conditions::PROGRESSING,
            status: true,
            reason: conditions::REASON_REQUEST_OPEN.into(),
            message: describe(&open),
        }
    } else if targets.iter().any(|t| t.state == TargetState::Queued) {
        Desired {
            type_: conditions::PROGRESSING,
            status: true,
            reason: conditions::REASON_QUEUED.into(),
            message: describe(&open),
        }
    } else {
        Desired {
            type_: conditions::PROGRESSING,
            status: false,
            reason: conditions::REASON_IDLE.into(),
            message: "no request open or queued".into(),
        }
    };
    vec![ready, satisfied, progressing]
}

/// Writes `status` with server-side apply unless it equals what the object already has.
/// Returns whether a patch was sent. `filings` are left alone: they are written (and cleared)
/// one key at a time by [`record_intent`] and [`clear_intents`], so that regions filing at once
/// never overwrite each other's, and this apply never owns them.
pub async fn write(
    api: &Api<QuotaRequirement>,
    obj: &QuotaRequirement,
    status: &QuotaRequirementStatus,
) -> kube::Result<bool> {
    let mut status = status.clone();
    status.filings.clear();
    let mut old = obj.status.clone();
    if let Some(old) = &mut old {
        old.filings.clear();
    }
    if old.as_ref() == Some(&status) {
        return Ok(false);
    }
    let patch = json!({
        "apiVersion": "quota-operator.dev/v1alpha1",
        "kind": "QuotaRequirement",
        "status": status,
    });
    let params = PatchParams::apply(FIELD_MANAGER).force();
    api.patch_status(&obj.name_any(), &params, &Patch::Apply(&patch))
        .await?;
    Ok(true)
}

/// Records, before the cloud is called, that this object is about to file for `scope`.
pub async fn record_intent(
    api: &Api<QuotaRequirement>,
    obj: &QuotaRequirement,
    scope: &str,
    intent: &FilingIntent,
) -> kube::Result<()> {
    let patch = json!({"status": {"filings": {scope: intent}}});
    api.patch_status(
        &obj.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}

/// Removes the intents whose requests are now recorded (or were never made).
pub async fn clear_intents(
    api: &Api<QuotaRequirement>,
    obj: &QuotaRequirement,
    scopes: &[String],
) -> kube::Result<()> {
    if scopes.is_empty() {
        return Ok(());
    }
    let nulls: serde_json::Map<String, serde_json::Value> = scopes
        .iter()
        .map(|s| (s.clone(), serde_json::Value::Null))
        .collect();
    let patch = json!({"status": {"filings": nulls}});
    api.patch_status(
        &obj.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}
