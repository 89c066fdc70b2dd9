//! From Cloud Quotas types to the operator's: QuotaInfo values by dimension, QuotaPreferences as
//! requests, google.rpc codes as error kinds.

use std::collections::HashMap;

use google_cloud_api_cloudquotas_v1::model::{QuotaInfo, QuotaPreference};
use google_cloud_gax::error::rpc::Code;
use jiff::Timestamp;

use crate::cloud::{CloudError, ErrorKind, Phase, RequestView};

/// Annotation that records the value a preference was raised from, so a later
/// `grantedValue < preferredValue` can be told apart: above it is a partial grant, at it a refusal.
pub const FROM_ANNOTATION: &str = "quota-operator.dev/from-value";

pub fn error(err: google_cloud_gax::error::Error) -> CloudError {
    let Some(status) = err.status() else {
        let kind = if err.is_timeout() || err.is_io() || err.is_connect() || err.is_transport() {
            ErrorKind::Unavailable
        } else if err.is_authentication() {
            ErrorKind::AccessDenied
        } else {
            ErrorKind::Other
        };
        return CloudError::new(kind, "TRANSPORT", err.to_string());
    };
    let kind = match status.code {
        Code::NotFound => ErrorKind::NotFound,
        Code::AlreadyExists => ErrorKind::AlreadyOpen,
        Code::ResourceExhausted => ErrorKind::Throttled,
        Code::PermissionDenied | Code::Unauthenticated => ErrorKind::AccessDenied,
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            ErrorKind::InvalidArgument
        }
        Code::Aborted | Code::Unavailable | Code::Internal | Code::DeadlineExceeded => {
            ErrorKind::Unavailable
        }
        _ => ErrorKind::Other,
    };
    CloudError::new(kind, status.code.name(), status.message.clone())
}

/// The value for `wanted` dimensions: the most specific dimensionsInfo whose dimensions all match
/// (an entry with no dimensions is the default for every location).
pub fn value_for(info: &QuotaInfo, wanted: &HashMap<String, String>) -> Option<i64> {
    info.dimensions_infos
        .iter()
        .filter(|d| d.dimensions.iter().all(|(k, v)| wanted.get(k) == Some(v)))
        .max_by_key(|d| d.dimensions.len())
        .and_then(|d| d.details.as_ref())
        .map(|d| d.value)
}

fn timestamp(t: Option<&google_cloud_wkt::Timestamp>) -> Option<Timestamp> {
    t.and_then(|t| Timestamp::from_second(t.seconds()).ok())
}

pub fn preference(p: &QuotaPreference) -> RequestView {
    let config = p.quota_config.clone().unwrap_or_default();
    let preferred = config.preferred_value;
    let granted = config.granted_value;
    let from = config
        .annotations
        .get(FROM_ANNOTATION)
        .and_then(|v| v.parse::<i64>().ok());
    let (status, phase) = match granted {
        _ if p.reconciling => ("RECONCILING", Phase::Open),
        Some(g) if g >= preferred => ("GRANTED", Phase::Approved),
        Some(g) if from.is_some_and(|f| g > f) => ("PARTIALLY_GRANTED", Phase::PartiallyGranted),
        Some(_) => ("REFUSED", Phase::Denied),
        // Not reconciling and nothing granted yet: treat as still in flight, never as success.
        None => ("PENDING", Phase::Unknown),
    };
    RequestView {
        id: p.name.clone(),
        case_id: Some(config.trace_id.clone()).filter(|t| !t.is_empty()),
        status: status.into(),
        phase,
        requested_value: preferred as f64,
        granted_value: granted.map(|g| g as f64),
        submitted_at: timestamp(p.create_time.as_ref()),
        updated_at: timestamp(p.update_time.as_ref()),
        message: Some(config.state_detail.clone()).filter(|s| !s.is_empty()),
    }
}

/// A QuotaPreference id that says what it is for and is the same on every run:
/// `qo-cpus-per-project-region-us-central1`, lowercase, at most 63 characters. When too long the
/// quota id is shortened (the region and dimensions are kept whole) and a hash keeps it unique.
pub fn preference_id(quota_id: &str, region: &str, dimensions: &[(String, String)]) -> String {
    let clean = |s: &str| -> String {
        s.to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect()
    };
    let mut place: Vec<String> = vec![];
    if region != "global" {
        place.push(clean(region));
    }
    place.extend(dimensions.iter().map(|(_, v)| clean(v)));
    let place = place.join("-");
    let head = format!("qo-{}", clean(quota_id));
    let whole = [head.as_str(), place.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("-");
    if whole.len() <= 63 {
        return whole;
    }
    use sha2::{Digest, Sha256};
    let hash = hex::encode(&Sha256::digest(whole.as_bytes())[..4]);
    let room = 63usize.saturating_sub(place.len() + hash.len() + 2).max(4);
    let head = head[..room.min(head.len())].trim_end_matches('-');
    let id = [head, hash.as_str(), place.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("-");
    id.chars()
        .take(63)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

#[cfg(test)]
mod tests {
    use google_cloud_api_cloudquotas_v1::model::{DimensionsInfo, QuotaConfig, QuotaDetails};

    use super::*;

    fn info(entries: &[(&[(&str, &str)], i64)]) -> QuotaInfo {
        QuotaInfo::new().set_dimensions_infos(entries.iter().map(|(dims, value)| {
            DimensionsInfo::new()
                .set_dimensions(dims.iter().map(|(k, v)| (k.to_string(), v.to_string())))
                .set_details(QuotaDetails::new().set_value(*value))
        }))
    }

    fn dims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_most_specific_dimensions_win_and_the_default_covers_the_rest() {
        let i = info(&[(&[], 24), (&[("region", "us-central1")], 100)]);
        assert_eq!(
            value_for(&i, &dims(&[("region", "us-central1")])),
            Some(100)
        );
        assert_eq!(
            value_for(&i, &dims(&[("region", "europe-west4")])),
            Some(24)
        );
    }

    fn pref(
        reconciling: bool,
        preferred: i64,
        granted: Option<i64>,
        from: Option<i64>,
    ) -> QuotaPreference {
        let mut config = QuotaConfig::new()
            .set_preferred_value(preferred)
            .set_state_detail("why");
        if let Some(g) = granted {
            config = config.set_granted_value(g);
        }
        if let Some(f) = from {
            config = config.set_annotations([(FROM_ANNOTATION, f.to_string())]);
        }
        QuotaPreference::new()
            .set_name("projects/p/locations/global/quotaPreferences/x")
            .set_reconciling(reconciling)
            .set_quota_config(config)
    }

    #[test]
    fn preference_phases() {
        assert_eq!(
            preference(&pref(true, 100, Some(24), Some(24))).phase,
            Phase::Open
        );
        assert_eq!(
            preference(&pref(false, 100, Some(100), Some(24))).phase,
            Phase::Approved
        );
        let partial = preference(&pref(false, 100, Some(60), Some(24)));
        assert_eq!(
            (partial.phase, partial.status.as_str()),
            (Phase::PartiallyGranted, "PARTIALLY_GRANTED")
        );
        assert_eq!(partial.granted_value, Some(60.0));
        assert_eq!(partial.message.as_deref(), Some("why"));
        assert_eq!(
            preference(&pref(false, 100, Some(24), Some(24))).phase,
            Phase::Denied
        );
        assert_eq!(
            preference(&pref(false, 100, None, None)).phase,
            Phase::Unknown
        );
    }

    #[test]
    fn preference_ids_are_readable_stable_and_short() {
        assert_eq!(
            preference_id("CPUS-per-project-region", "us-central1", &[]),
            "qo-cpus-per-project-region-us-central1"
        );
        assert_eq!(
            preference_id("GPUS-ALL-REGIONS-per-project", "global", &[]),
            "qo-gpus-all-regions-per-project"
        );
        let dims = [("gpu_family".to_string(), "NVIDIA_L4".to_string())];
        assert_eq!(
            preference_id("GPUS-per-gpu-family-per-project-region", "us-east4", &dims).len(),
            63.min("qo-gpus-per-gpu-family-per-project-region-us-east4-nvidia-l4".len())
        );
        let long = preference_id(&"X".repeat(80), "us-central1", &[]);
        assert!(
            long.len() <= 63 && long.starts_with("qo-xxx") && long.ends_with("-us-central1"),
            "{long}"
        );
        let ops = preference_id(
            "REGIONAL-CONCURRENT-OPERATIONS-per-project-region",
            "us-central1",
            &[],
        );
        assert!(
            ops.len() <= 63
                && ops.starts_with("qo-regional-concurrent")
                && ops.ends_with("-us-central1"),
            "{ops}"
        );
        assert_eq!(long, preference_id(&"X".repeat(80), "us-central1", &[]));
    }
}
