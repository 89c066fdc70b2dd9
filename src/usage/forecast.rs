//! When the usage trend reaches the quota's value.

use jiff::{SignedDuration, Timestamp};

use super::reading::Reading;

/// How far ahead a trend is followed: beyond this, "not within 90 days".
pub const HORIZON: SignedDuration = SignedDuration::from_hours(90 * 24);

#[derive(Clone, Debug, PartialEq)]
pub enum Forecast {
    /// Usage is at or above the value now.
    Reached,
    /// The trend reaches the value then.
    At(Timestamp),
    /// Not within the horizon (or usage is not growing): why.
    NotWithin(String),
}

impl Forecast {
    pub fn of(r: &Reading, value: f64, now: Timestamp) -> Self {
        if value < 0.0 {
            return Self::NotWithin("the quota is unlimited".into());
        }
        if r.current >= value {
            return Self::Reached;
        }
        let days = HORIZON.as_hours() / 24;
        let Some(per_day) = r.per_day.filter(|g| *g > 0.0) else {
            return Self::NotWithin(format!("usage is not growing: not within {days} days"));
        };
        let secs = (value - r.current) / per_day * 86_400.0;
        if secs > HORIZON.as_secs_f64() {
            return Self::NotWithin(format!("not within {days} days"));
        }
        match now.checked_add(SignedDuration::from_secs(secs.ceil() as i64)) {
            Ok(at) => Self::At(at),
            Err(_) => Self::NotWithin(format!("not within {days} days")),
        }
    }

    pub fn at(&self) -> Option<Timestamp> {
        match self {
            Self::At(t) => Some(*t),
            _ => None,
        }
    }

    /// As status says it.
    pub fn describe(&self, value: f64, now: Timestamp) -> String {
        let value = super::reading::number(value);
        match self {
            Self::Reached => format!("usage is at the quota's value {value} now"),
            Self::At(t) => {
                let days = t.duration_since(now).as_secs_f64() / 86_400.0;
                format!(
                    "the trend reaches {value} in about {} (on {})",
                    if days < 1.0 {
                        format!("{} hours", (days * 24.0).ceil() as i64)
                    } else {
                        format!("{} days", days.round() as i64)
                    },
                    t.strftime("%Y-%m-%d")
                )
            }
            Self::NotWithin(why) => why.clone(),
        }
    }
}
