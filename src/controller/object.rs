//! Small facts about one QuotaRequirement that every step needs: its key and what its status
//! last said of a region.

use jiff::Timestamp;
use kube::ResourceExt;

use crate::api::{QuotaRequirement, TargetStatus};

/// `namespace/name`: how logs, backoff and `drivenBy` name an object.
pub fn key(obj: &QuotaRequirement) -> String {
    format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any())
}

/// The target the object's status last recorded for `region`.
pub fn previous<'a>(obj: &'a QuotaRequirement, region: &str) -> Option<&'a TargetStatus> {
    obj.status
        .as_ref()?
        .targets
        .iter()
        .find(|t| t.region == region)
}

/// When the object's current need (its generation) was declared, as the operator can tell: when
/// a reconcile first saw that generation, else its creation for a first generation. None for a
/// later generation no reconcile has seen yet: nothing is known of when it changed, so other
/// objects do not count it until its own reconcile has.
pub fn need_since(obj: &QuotaRequirement) -> Option<Timestamp> {
    let generation = obj.metadata.generation.unwrap_or(1);
    let seen = obj
        .status
        .as_ref()
        .filter(|s| s.observed_generation == Some(generation))
        .and_then(|s| s.generation_observed_at.as_ref());
    match seen {
        Some(at) => Some(at.0),
        None if generation <= 1 => obj.metadata.creation_timestamp.as_ref().map(|t| t.0),
        None => None,
    }
}

/// The name another object is shown by in this object's status: its own when it is in the same
/// namespace, else only that it is elsewhere (a team sees no other team's objects).
pub fn shown_name(me: &str, other: &str) -> String {
    let namespace = |key: &str| key.split_once('/').map(|(ns, _)| ns.to_string());
    if namespace(me) == namespace(other) {
        other.to_string()
    } else {
        OTHER_NAMESPACE.to_string()
    }
}

/// How status names an object of another namespace.
pub const OTHER_NAMESPACE: &str = "(another namespace)";
