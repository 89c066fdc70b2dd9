//! A region's usage as status shows it, and what headroom asks: one function for the
//! controller, `plan --live` and `explain --live`.

use jiff::Timestamp;

use super::{
    forecast::Forecast,
    headroom::{Bounds, headroom},
    reading::{Reading, duration_text, hundredths, number, reading, utilization_percent},
};
use crate::{
    api::{DEFAULT_HEADROOM_WINDOW, Headroom, HeadroomStatus, UsageStatus},
    cloud::{CloudError, UsageView},
};

/// Usage in one region, with what `spec.headroom` makes of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    pub usage: UsageStatus,
    /// None without `spec.headroom`, or with it while usage was never read.
    pub headroom: Option<HeadroomStatus>,
}

/// What the cloud's usage `read` comes to for a quota now at `value`. `previous` is what
/// headroom asked before (it never lowers); `bounds` the account's guardrails.
pub fn observation(
    read: &Result<UsageView, CloudError>,
    spec: Option<&Headroom>,
    value: f64,
    previous: Option<&HeadroomStatus>,
    bounds: &Bounds,
    now: Timestamp,
) -> Observation {
    let window = spec.map_or(DEFAULT_HEADROOM_WINDOW, Headroom::window);
    let r = read.as_ref().ok().and_then(|v| reading(v, window));
    Observation {
        usage: shown(read, r.as_ref(), value),
        headroom: spec.and_then(|h| headroom(h, r.as_ref(), previous, value, bounds, now)),
    }
}

/// Usage as status shows it.
fn shown(read: &Result<UsageView, CloudError>, r: Option<&Reading>, value: f64) -> UsageStatus {
    let view = match read {
        Ok(v) => v,
        Err(e) => {
            return UsageStatus {
                unknown: Some(format!("{}: {}", e.code, e.message).into()),
                ..UsageStatus::default()
            };
        }
    };
    let read_at = Some(time(view.read_at));
    let Some(r) = r else {
        return UsageStatus {
            source: Some(view.source.as_str().into()),
            read_at,
            unknown: Some(format!("{} has no sample in the window", view.source).into()),
            ..UsageStatus::default()
        };
    };
    // Dated from the read, not the reconcile: the same reading writes the same status.
    let forecast = Forecast::of(r, value, view.read_at);
    UsageStatus {
        current: Some(hundredths(r.current)),
        peak: Some(hundredths(r.peak)),
        window: Some(duration_text(r.window).into()),
        utilization_percent: utilization_percent(r.current, value),
        source: Some(view.source.as_str().into()),
        read_at,
        forecast: Some(forecast.describe(value, view.read_at).into()),
        exhaustion_at: forecast.at().map(time),
        unknown: None,
    }
}

/// Whole seconds, as the API server keeps a time.
fn time(t: Timestamp) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Time {
    k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        Timestamp::from_second(t.as_second()).unwrap_or(t),
    )
}

/// Usage in one line: `812 of 1,000 (81.2 %), peak 900 over 168h; the trend reaches ...`.
pub fn describe(u: &crate::api::UsageStatus) -> String {
    if let Some(why) = &u.unknown {
        return format!("unknown: {why}");
    }
    let mut out = u.current.map(number).unwrap_or_default();
    if let Some(p) = u.utilization_percent {
        out.push_str(&format!(" ({p} % of the quota)"));
    }
    if let (Some(peak), Some(w)) = (u.peak, &u.window) {
        out.push_str(&format!(", peak {} over {w}", number(peak)));
    }
    if let Some(f) = &u.forecast {
        out.push_str(&format!("; {f}"));
    }
    out
}
