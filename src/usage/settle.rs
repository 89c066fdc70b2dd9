//! Which usage status to write: the one already written while the new reading says the same
//! within a percentage point, so that usage creeping up writes no status on every resync of
//! every object (10,000 objects would be 10,000 writes a period). A move of a point or more, a
//! crossed threshold, a changed forecast, source or knowledge, a new headroom value, or a
//! written reading older than [`HOLD`] writes the new one. `/metrics` has the fresh numbers.

use jiff::{SignedDuration, Timestamp};

use super::observed::Observation;
use crate::api::{HeadroomStatus, UsageStatus};

/// The longest a written reading stands for newer ones that say the same.
pub const HOLD: SignedDuration = SignedDuration::from_hours(1);

/// `new`, or what status says already (`old`) where that still tells the same. `value` is the
/// quota's value now: a headroom creeping up by less than a percent below it asks for nothing.
pub fn settle(
    old_usage: Option<&UsageStatus>,
    old_headroom: Option<&HeadroomStatus>,
    new: Observation,
    value: f64,
    threshold: f64,
    now: Timestamp,
) -> Observation {
    let headroom_stands = match (old_headroom, &new.headroom) {
        (Some(o), Some(n)) => {
            o.raised_at == n.raised_at
                && (o.value == n.value
                    || (n.value as f64 <= value
                        && within_a_percent(Some(o.value as f64), Some(n.value as f64))))
        }
        (o, n) => o.is_none() && n.is_none(),
    };
    match old_usage {
        Some(old) if headroom_stands && same(old, &new.usage, threshold, now) => Observation {
            usage: old.clone(),
            headroom: old_headroom.cloned(),
        },
        _ => new,
    }
}

fn same(old: &UsageStatus, new: &UsageStatus, threshold: f64, now: Timestamp) -> bool {
    let fresh = old
        .read_at
        .as_ref()
        .is_some_and(|at| now.duration_since(at.0) < HOLD);
    let near = |u: &UsageStatus| u.utilization_percent.map(|p| p >= threshold);
    fresh
        && old.unknown.is_none()
        && new.unknown.is_none()
        && old.source == new.source
        && old.window == new.window
        && old.forecast == new.forecast
        && near(old) == near(new)
        && within_a_point(old.utilization_percent, new.utilization_percent)
        && within_a_percent(old.current, new.current)
        && within_a_percent(old.peak, new.peak)
}

fn within_a_point(old: Option<f64>, new: Option<f64>) -> bool {
    match (old, new) {
        (Some(a), Some(b)) => (a - b).abs() < 1.0,
        (a, b) => a == b,
    }
}

fn within_a_percent(old: Option<f64>, new: Option<f64>) -> bool {
    match (old, new) {
        (Some(a), Some(b)) => (a - b).abs() < 0.01 * a.abs().max(b.abs()).max(1.0),
        (a, b) => a == b,
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    use super::*;

    fn at(minutes: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + minutes * 60).unwrap()
    }

    fn usage(current: f64, read_minutes: i64) -> UsageStatus {
        UsageStatus {
            current: Some(current),
            peak: Some(current),
            window: Some("168h".into()),
            utilization_percent: Some(current / 10.0),
            source: Some("CloudWatch".into()),
            read_at: Some(Time(at(read_minutes))),
            forecast: Some("usage is not growing: not within 90 days".into()),
            exhaustion_at: None,
            unknown: None,
        }
    }

    fn seen(current: f64, read_minutes: i64) -> Observation {
        Observation {
            usage: usage(current, read_minutes),
            headroom: None,
        }
    }

    #[test]
    fn a_reading_within_a_point_keeps_what_status_says() {
        let old = usage(600.0, 0);
        let got = settle(Some(&old), None, seen(604.0, 5), 1000.0, 80.0, at(5));
        assert_eq!(got.usage, old, "60.4 % against 60.0 %: the same status");
        let got = settle(Some(&old), None, seen(611.0, 5), 1000.0, 80.0, at(5));
        assert_eq!(
            got.usage.current,
            Some(611.0),
            "a point and more is written"
        );
    }

    #[test]
    fn a_crossed_threshold_a_new_forecast_or_an_old_reading_is_written() {
        let old = usage(798.0, 0);
        let crossed = settle(Some(&old), None, seen(801.0, 5), 1000.0, 80.0, at(5));
        assert_eq!(
            crossed.usage.current,
            Some(801.0),
            "79.8 % to 80.1 % crosses 80"
        );

        let old = usage(600.0, 0);
        let mut other = seen(601.0, 5);
        other.usage.forecast = Some("reaches 1,000 in about 40 days".into());
        let got = settle(Some(&old), None, other, 1000.0, 80.0, at(5));
        assert_eq!(got.usage.current, Some(601.0));

        let late = settle(Some(&old), None, seen(601.0, 61), 1000.0, 80.0, at(61));
        assert_eq!(
            late.usage.current,
            Some(601.0),
            "an hour on, the new reading"
        );

        let mut unknown = seen(0.0, 5);
        unknown.usage = UsageStatus {
            unknown: Some("AccessDenied".into()),
            ..UsageStatus::default()
        };
        let got = settle(Some(&old), None, unknown.clone(), 1000.0, 80.0, at(5));
        assert_eq!(
            got.usage, unknown.usage,
            "knowledge lost is written at once"
        );
    }

    #[test]
    fn headroom_keeps_its_text_while_its_value_stands() {
        let old = usage(600.0, 0);
        let old_h = HeadroomStatus {
            value: 780,
            arithmetic: "peak 600 over 168h + 30 % = 780".into(),
            raised_at: None,
            held: None,
        };
        let mut new = seen(603.0, 5);
        new.headroom = Some(HeadroomStatus {
            arithmetic: "peak 603 over 168h + 30 % = 784".into(),
            held: Some("usage asks 784; held at 780 until ...".into()),
            ..old_h.clone()
        });
        let got = settle(Some(&old), Some(&old_h), new.clone(), 1000.0, 80.0, at(5));
        assert_eq!(got.headroom.as_ref(), Some(&old_h));
        // Creeping up by less than a percent, below the quota's 1,000: nothing to ask for yet.
        new.headroom.as_mut().unwrap().value = 784;
        let got = settle(Some(&old), Some(&old_h), new.clone(), 1000.0, 80.0, at(5));
        assert_eq!(got.headroom.as_ref(), Some(&old_h));
        // Above the quota's value it asks for a raise: written, with the reading it came from.
        let got = settle(Some(&old), Some(&old_h), new, 781.0, 80.0, at(5));
        assert_eq!(got.headroom.unwrap().value, 784, "a raise is written");
        assert_eq!(
            got.usage.current,
            Some(603.0),
            "with the reading it came from"
        );
    }
}
