//! Small facts about one QuotaRequirement that every step needs: its key and what its status
//! last said of a region.

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
