//! From Cloud Quotas types to the operator's: QuotaInfo values by dimension, QuotaPreferences as
//! requests, google.rpc codes as error kinds.

use std::collections::HashMap;

use google_cloud_api_cloudquotas_v1::model::{QuotaInfo, QuotaPreference, quota_config::Origin};
use google_cloud_gax::error::rpc::Code;
use jiff::Timestamp;

use super::marks::Mark;
use crate::cloud::boundary::{CloudError, ErrorKind, Phase, RequestView, UNLIMITED, meets};

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
    // Compute's REST errors carry an HTTP code and no google.rpc status word.
    if status.code == Code::Unknown
        && let Some(http) = err.http_status_code()
    {
        let kind = match http {
            404 => ErrorKind::NotFound,
            401 | 403 => ErrorKind::AccessDenied,
            429 => ErrorKind::Throttled,
            400 => ErrorKind::InvalidArgument,
            500.. => ErrorKind::Unavailable,
            _ => ErrorKind::Other,
        };
        return CloudError::new(kind, format!("HTTP {http}"), status.message.clone());
    }
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

/// Whether `granted` is all that `preferred` asked: -1 (unlimited) grants anything, and only -1
/// grants a preferred -1.
fn grants(granted: i64, preferred: i64) -> bool {
    if preferred == UNLIMITED as i64 {
        granted == UNLIMITED as i64
    } else {
        meets(granted as f64, preferred as f64)
    }
}

/// A preference as the operator's request view. `own_id` is the id the operator gives its own
/// preference for this quota; any other id is someone else's preference that the operator keeps
/// up to date, and the message says who made it (`requestOrigin`).
pub fn preference(p: &QuotaPreference, own_id: &str) -> RequestView {
    let config = p.quota_config.clone().unwrap_or_default();
    let preferred = config.preferred_value;
    let granted = config.granted_value;
    let mark = Mark::read(&config.annotations, preferred);
    let from = mark.map(|m| m.from);
    let (status, phase) = match granted {
        _ if p.reconciling => ("RECONCILING", Phase::Open),
        Some(g) if grants(g, preferred) => ("GRANTED", Phase::Approved),
        // Above the value it was raised from, below the one asked: a partial grant.
        Some(g) if from.is_some_and(|f| g > f && f != UNLIMITED as i64) => {
            ("PARTIALLY_GRANTED", Phase::PartiallyGranted)
        }
        Some(_) => ("REFUSED", Phase::Denied),
        // Not reconciling and nothing granted yet: treat as still in flight, never as success.
        None => ("PENDING", Phase::Unknown),
    };
    let id = p.name.rsplit('/').next().unwrap_or_default();
    let made_elsewhere = (id != own_id).then(|| {
        let origin = config.request_origin.name().unwrap_or("UNKNOWN");
        let who = match config.request_origin {
            Origin::CloudConsole => "in the Cloud Console",
            Origin::AutoAdjuster => "by Google's Quota Adjuster",
            _ => "through the API (gcloud, Terraform or another client)",
        };
        format!(
            "preference {id} was made {who} (requestOrigin {origin}); the operator updates it \
             rather than making a second"
        )
    });
    let detail = Some(config.state_detail.clone()).filter(|s| !s.is_empty());
    let message = match (detail, made_elsewhere) {
        (Some(d), Some(m)) => Some(format!("{d}; {m}")),
        (d, m) => d.or(m),
    };
    let updated_at = timestamp(p.update_time.as_ref());
    RequestView {
        id: p.name.clone(),
        case_id: Some(config.trace_id.clone()).filter(|t| !t.is_empty()),
        status: status.into(),
        phase,
        requested_value: preferred as f64,
        granted_value: granted.map(|g| g as f64),
        // When the value in force was written: the operator's own record of its write, else the
        // last change Google reports (a preference made long ago was not filed then).
        submitted_at: mark.and_then(|m| m.at).or(updated_at),
        updated_at,
        message,
        // Once the operator has written the value, the request is its own.
        origin: (config.request_origin == Origin::AutoAdjuster && mark.is_none())
            .then_some(crate::cloud::boundary::Origin::GcpQuotaAdjuster),
        justification: Some(p.justification.clone()).filter(|j| !j.is_empty()),
    }
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

    const OWN: &str = "qo-own";

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
            let mark = Mark {
                from: f,
                value: preferred,
                at: None,
            };
            config = config.set_annotations(mark.merged_into(&HashMap::new()));
        }
        QuotaPreference::new()
            .set_name(format!(
                "projects/p/locations/global/quotaPreferences/{OWN}"
            ))
            .set_reconciling(reconciling)
            .set_quota_config(config)
    }

    fn phase(p: &QuotaPreference) -> Phase {
        preference(p, OWN).phase
    }

    #[test]
    fn preference_phases() {
        assert_eq!(phase(&pref(true, 100, Some(24), Some(24))), Phase::Open);
        assert_eq!(
            phase(&pref(false, 100, Some(100), Some(24))),
            Phase::Approved
        );
        let partial = preference(&pref(false, 100, Some(60), Some(24)), OWN);
        assert_eq!(
            (partial.phase, partial.status.as_str()),
            (Phase::PartiallyGranted, "PARTIALLY_GRANTED")
        );
        assert_eq!(partial.granted_value, Some(60.0));
        assert_eq!(partial.message.as_deref(), Some("why"));
        assert_eq!(phase(&pref(false, 100, Some(24), Some(24))), Phase::Denied);
        assert_eq!(phase(&pref(false, 100, None, None)), Phase::Unknown);
    }

    #[test]
    fn unlimited_grants_are_approved_never_refused_or_partial() {
        let unlimited = preference(&pref(false, 1000, Some(-1), Some(24)), OWN);
        assert_eq!(
            (unlimited.phase, unlimited.status.as_str()),
            (Phase::Approved, "GRANTED")
        );
        assert_eq!(unlimited.granted_value, Some(-1.0));
        assert_eq!(phase(&pref(false, -1, Some(-1), Some(24))), Phase::Approved);
        assert_eq!(
            phase(&pref(false, -1, Some(500), Some(24))),
            Phase::PartiallyGranted,
            "asked unlimited, got a limit above the old value"
        );
        assert_eq!(phase(&pref(false, -1, Some(24), Some(24))), Phase::Denied);
    }

    #[test]
    fn the_trace_id_and_justification_google_recorded_are_shown() {
        let mut p = pref(true, 512, None, None);
        assert_eq!(preference(&p, OWN).case_id, None, "no trace id yet");
        assert_eq!(preference(&p, OWN).justification, None, "none given");
        p.justification = "nightly batch grows".into();
        let mut config = p.quota_config.clone().unwrap();
        config.trace_id = "trace-123".into();
        p.quota_config = Some(config);
        let view = preference(&p, OWN);
        assert_eq!(view.case_id.as_deref(), Some("trace-123"));
        assert_eq!(view.justification.as_deref(), Some("nightly batch grows"));
    }

    #[test]
    fn someone_elses_preference_says_who_made_it() {
        let mut console = pref(true, 512, Some(24), None);
        console.name = "projects/p/locations/global/quotaPreferences/console-made".into();
        let mut config = console.quota_config.clone().unwrap();
        config.request_origin = Origin::CloudConsole;
        console.quota_config = Some(config);
        let view = preference(&console, OWN);
        let message = view.message.unwrap();
        assert!(
            message.contains("console-made")
                && message.contains("Cloud Console")
                && message.contains("CLOUD_CONSOLE"),
            "{message}"
        );
        assert_eq!(
            preference(&pref(true, 512, None, None), OWN)
                .message
                .as_deref(),
            Some("why")
        );
    }

    #[test]
    fn submitted_at_is_the_operators_write_else_the_last_update() {
        let written: Timestamp = "2025-03-01T00:00:00Z".parse().unwrap();
        let changed = google_cloud_wkt::Timestamp::clamp(1_750_000_000, 0);
        let mut p = pref(false, 100, Some(24), None).set_update_time(changed);
        let view = preference(&p, OWN);
        assert_eq!(
            view.submitted_at,
            Timestamp::from_second(1_750_000_000).ok()
        );
        assert_eq!(view.updated_at, view.submitted_at);
        let mark = Mark {
            from: 24,
            value: 100,
            at: Some(written),
        };
        let mut config = p.quota_config.clone().unwrap();
        config.annotations = mark.merged_into(&HashMap::new());
        p.quota_config = Some(config);
        assert_eq!(preference(&p, OWN).submitted_at, Some(written));
    }
}
