//! Usage inside a window, and how status writes its numbers.

use jiff::{SignedDuration, Timestamp};

use crate::cloud::UsageView;

/// Usage inside one window.
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    /// The latest sample.
    pub current: f64,
    pub peak: f64,
    /// Least-squares growth, per day (None with fewer than two samples).
    pub per_day: Option<f64>,
    pub window: SignedDuration,
}

/// The samples of `view` inside `window` before its read; None when there are none.
pub fn reading(view: &UsageView, window: SignedDuration) -> Option<Reading> {
    let from = view.read_at.checked_sub(window).unwrap_or(Timestamp::MIN);
    let points: Vec<(Timestamp, f64)> = view
        .points
        .iter()
        .copied()
        .filter(|(at, _)| *at >= from)
        .collect();
    let (_, current) = *points.last()?;
    let peak = points.iter().map(|(_, v)| *v).fold(f64::MIN, f64::max);
    Some(Reading {
        current,
        peak,
        per_day: slope_per_day(&points),
        window,
    })
}

/// The least-squares slope of the samples, per day.
fn slope_per_day(points: &[(Timestamp, f64)]) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let t0 = points[0].0;
    let xs: Vec<f64> = points
        .iter()
        .map(|(at, _)| at.duration_since(t0).as_secs_f64() / 86_400.0)
        .collect();
    let n = points.len() as f64;
    let mean_x = xs.iter().sum::<f64>() / n;
    let mean_y = points.iter().map(|(_, v)| v).sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (x, (_, y)) in xs.iter().zip(points) {
        num += (x - mean_x) * (y - mean_y);
        den += (x - mean_x) * (x - mean_x);
    }
    (den > 0.0).then(|| num / den)
}

/// Usage as a percentage of the quota's value, to one decimal; None for a quota without a
/// positive value (unlimited, or 0).
pub fn utilization_percent(usage: f64, value: f64) -> Option<f64> {
    (value > 0.0).then(|| (usage / value * 1000.0).round() / 10.0)
}

/// A usage figure as status keeps it: to hundredths. CloudWatch's per-hour statistics and the
/// simulator's shapes come as doubles like 300.0002314814815, whose tail says nothing and costs
/// every write of the status its bytes.
pub fn hundredths(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// A number as status writes it: whole numbers with thousands separators (`1,056`).
pub fn number(v: f64) -> String {
    if v.fract() != 0.0 {
        return format!("{v:.1}");
    }
    let digits = format!("{}", v.abs() as i64);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 { format!("-{out}") } else { out }
}

/// A duration as the spec writes one (`168h`, `30m`).
pub fn duration_text(d: SignedDuration) -> String {
    let mins = d.as_mins();
    if mins % 60 == 0 {
        format!("{}h", mins / 60)
    } else {
        format!("{mins}m")
    }
}
