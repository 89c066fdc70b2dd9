//! Usage over time, shared by both clouds: a quota's `usage:` in a scenario is a shape (flat,
//! growth, spike, daily) anchored at a time `t0` (the simulator's start, or the moment an admin
//! call replaced the shape). Usage at any time is a pure function of the shape, so what
//! CloudWatch and Cloud Monitoring answer never depends on when someone looked.
//!
//! Data exists from `t0 - history` (default 14 days) up to now, sampled once a minute (AWS/Usage
//! has 1-minute resolution; Google's quota usage metrics are sampled about as often).

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// Samples are a minute apart, on whole minutes.
pub const SAMPLE: i64 = 60;

const DAY: f64 = 86_400.0;

/// A length of time in whole seconds, written `90s`, `30m`, `1h`, `2d` (a bare number is
/// seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span(pub i64);

impl Span {
    pub const DEFAULT_HISTORY: Span = Span(14 * 86_400);

    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let (num, scale) = match t.char_indices().last() {
            Some((i, 's')) => (&t[..i], 1),
            Some((i, 'm')) => (&t[..i], 60),
            Some((i, 'h')) => (&t[..i], 3_600),
            Some((i, 'd')) => (&t[..i], 86_400),
            _ => (t, 1),
        };
        num.trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .and_then(|n| n.checked_mul(scale))
            .map(Span)
            .ok_or_else(|| format!("`{text}`: expected a length such as `90s`, `30m`, `1h`, `2d`"))
    }

    pub fn duration(self) -> SignedDuration {
        SignedDuration::from_secs(self.0)
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            s if s % 86_400 == 0 && s > 0 => write!(f, "{}d", s / 86_400),
            s if s % 3_600 == 0 && s > 0 => write!(f, "{}h", s / 3_600),
            s if s % 60 == 0 && s > 0 => write!(f, "{}m", s / 60),
            s => write!(f, "{s}s"),
        }
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Span;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("seconds, or `<n>s`, `<n>m`, `<n>h`, `<n>d`")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Span, E> {
                i64::try_from(v).map(Span).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Span, E> {
                (v >= 0)
                    .then_some(Span(v))
                    .ok_or_else(|| E::custom("a length cannot be negative"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Span, E> {
                Span::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// How usage moves with time; `t0` is the shape's anchor.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "shape", rename_all = "camelCase")]
pub enum Shape {
    /// `value` at all times.
    Flat { value: f64 },
    /// `start + perDay * (t - t0) / 1 day`: `start` at t0, lower before, higher after (never
    /// below 0).
    #[serde(rename_all = "camelCase")]
    Growth { start: f64, per_day: f64 },
    /// `peak` from `t0 - at` for `width`, `base` at every other time.
    Spike {
        base: f64,
        peak: f64,
        at: Span,
        width: Span,
    },
    /// `base + amplitude * cos(2π (hour - peakHour) / 24)`, hour of day in UTC: highest at
    /// `peakHour` (default 14), lowest twelve hours later (never below 0).
    #[serde(rename_all = "camelCase")]
    Daily {
        base: f64,
        amplitude: f64,
        peak_hour: f64,
    },
}

/// A quota's usage: a shape, and how far before t0 its data goes back.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Usage {
    #[serde(flatten)]
    pub shape: Shape,
    pub history: Span,
}

impl Usage {
    pub fn flat(value: f64) -> Self {
        Self {
            shape: Shape::Flat { value },
            history: Span::DEFAULT_HISTORY,
        }
    }

    /// Usage at `t` for a shape anchored at `t0` (defined at every time; see `sample` for
    /// where data exists).
    pub fn at(&self, t0: Timestamp, t: Timestamp) -> f64 {
        let since = (t.as_second() - t0.as_second()) as f64;
        let v = match self.shape {
            Shape::Flat { value } => value,
            Shape::Growth { start, per_day } => start + per_day * since / DAY,
            Shape::Spike {
                base,
                peak,
                at,
                width,
            } => {
                let from = t0.as_second() - at.0;
                let inside = (from..from + width.0.max(1)).contains(&t.as_second());
                if inside { peak } else { base }
            }
            Shape::Daily {
                base,
                amplitude,
                peak_hour,
            } => {
                let hour = t.as_second().rem_euclid(86_400) as f64 / 3_600.0;
                let phase = (hour - peak_hour) / 24.0 * std::f64::consts::TAU;
                base + amplitude * phase.cos()
            }
        };
        v.max(0.0)
    }

    /// When data begins: `history` before t0.
    pub fn first(&self, t0: Timestamp) -> Timestamp {
        Timestamp::from_second(t0.as_second() - self.history.0).unwrap_or(Timestamp::MIN)
    }

    /// The one-minute samples in `[from, to)`, clipped to where data exists (`t0 - history`
    /// up to `now`), oldest first.
    pub fn samples(
        &self,
        t0: Timestamp,
        now: Timestamp,
        from: Timestamp,
        to: Timestamp,
    ) -> Vec<(Timestamp, f64)> {
        let lo = from.max(self.first(t0)).as_second();
        let hi = to.min(now).as_second();
        let mut t = lo.div_euclid(SAMPLE) * SAMPLE;
        if t < lo {
            t += SAMPLE;
        }
        let mut out = Vec::new();
        while t < hi {
            if let Ok(ts) = Timestamp::from_second(t) {
                out.push((ts, self.at(t0, ts)));
            }
            t += SAMPLE;
        }
        out
    }

    /// The highest sample in `[from, to)`, None without data there.
    pub fn peak(
        &self,
        t0: Timestamp,
        now: Timestamp,
        from: Timestamp,
        to: Timestamp,
    ) -> Option<f64> {
        self.samples(t0, now, from, to)
            .into_iter()
            .map(|(_, v)| v)
            .reduce(f64::max)
    }
}

/// The fields a `usage:` map may carry; which ones a shape needs is checked after.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Fields {
    shape: String,
    value: Option<f64>,
    start: Option<f64>,
    per_day: Option<f64>,
    base: Option<f64>,
    peak: Option<f64>,
    at: Option<Span>,
    width: Option<Span>,
    amplitude: Option<f64>,
    peak_hour: Option<f64>,
    history: Option<Span>,
}

impl TryFrom<Fields> for Usage {
    type Error = String;

    fn try_from(f: Fields) -> Result<Self, String> {
        let need = |v: Option<f64>, name: &str| {
            v.filter(|x| x.is_finite())
                .ok_or_else(|| format!("a `{}` shape needs `{name}` (a number)", f.shape))
        };
        let shape = match f.shape.as_str() {
            "flat" => Shape::Flat {
                value: need(f.value, "value")?,
            },
            "growth" => Shape::Growth {
                start: need(f.start, "start")?,
                per_day: need(f.per_day, "perDay")?,
            },
            "spike" => Shape::Spike {
                base: need(f.base, "base")?,
                peak: need(f.peak, "peak")?,
                at: f
                    .at
                    .ok_or("a `spike` shape needs `at` (how long before t0, e.g. `2d`)")?,
                width: f.width.unwrap_or(Span(3_600)),
            },
            "daily" => Shape::Daily {
                base: need(f.base, "base")?,
                amplitude: need(f.amplitude, "amplitude")?,
                peak_hour: f.peak_hour.unwrap_or(14.0),
            },
            other => {
                return Err(format!(
                    "unknown shape `{other}`; expected flat, growth, spike or daily"
                ));
            }
        };
        Ok(Usage {
            shape,
            history: f.history.unwrap_or(Span::DEFAULT_HISTORY),
        })
    }
}

/// A bare number is a flat shape (`usage: 60`); a map names its shape.
impl<'de> Deserialize<'de> for Usage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = Usage;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number, or a map with a `shape` (flat, growth, spike, daily)")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Usage, E> {
                Ok(Usage::flat(v as f64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Usage, E> {
                Ok(Usage::flat(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Usage, E> {
                Ok(Usage::flat(v))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Usage, A::Error> {
                let fields = Fields::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Usage::try_from(fields).map_err(de::Error::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl Usage {
    /// Why the shape cannot describe usage, if it cannot: a negative level.
    pub fn check(&self) -> Result<(), String> {
        let levels: Vec<f64> = match self.shape {
            Shape::Flat { value } => vec![value],
            Shape::Growth { start, .. } => vec![start],
            Shape::Spike { base, peak, .. } => vec![base, peak],
            Shape::Daily { base, .. } => vec![base],
        };
        if levels.iter().any(|v| *v < 0.0) {
            return Err("usage cannot be negative".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> Timestamp {
        Timestamp::from_second(1_700_000_000 / 86_400 * 86_400).unwrap()
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(t0().as_second() + secs).unwrap()
    }

    fn parse(yaml: &str) -> Usage {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn flat_is_the_same_at_every_time() {
        let u = parse("{shape: flat, value: 300}");
        assert_eq!(u.at(t0(), at(-86_400)), 300.0);
        assert_eq!(u.at(t0(), at(3_600)), 300.0);
        assert_eq!(parse("60"), Usage::flat(60.0));
    }

    #[test]
    fn growth_is_start_at_t0_plus_per_day() {
        let u = parse("{shape: growth, start: 300, perDay: 40}");
        assert_eq!(u.at(t0(), t0()), 300.0);
        assert_eq!(u.at(t0(), at(86_400)), 340.0);
        assert_eq!(u.at(t0(), at(-2 * 86_400)), 220.0);
        assert_eq!(u.at(t0(), at(43_200)), 320.0);
        // Far enough back it would be negative: clipped at 0.
        assert_eq!(u.at(t0(), at(-30 * 86_400)), 0.0);
    }

    #[test]
    fn spike_is_peak_for_its_width_only() {
        let u = parse("{shape: spike, base: 100, peak: 800, at: 2d, width: 1h}");
        assert_eq!(u.at(t0(), at(-2 * 86_400 - 1)), 100.0);
        assert_eq!(u.at(t0(), at(-2 * 86_400)), 800.0);
        assert_eq!(u.at(t0(), at(-2 * 86_400 + 3_599)), 800.0);
        assert_eq!(u.at(t0(), at(-2 * 86_400 + 3_600)), 100.0);
        assert_eq!(u.at(t0(), t0()), 100.0);
    }

    #[test]
    fn daily_peaks_at_its_hour_and_dips_twelve_hours_later() {
        let u = parse("{shape: daily, base: 400, amplitude: 200}");
        // t0 is midnight UTC; the default peak is 14:00.
        assert!((u.at(t0(), at(14 * 3_600)) - 600.0).abs() < 1e-9);
        assert!((u.at(t0(), at(2 * 3_600)) - 200.0).abs() < 1e-9);
        assert!((u.at(t0(), at(8 * 3_600)) - 400.0).abs() < 1e-6);
    }

    #[test]
    fn samples_are_whole_minutes_within_history_and_before_now() {
        let u = parse("{shape: flat, value: 1, history: 1h}");
        let now = at(120);
        let s = u.samples(t0(), now, at(-7_200), at(7_200));
        assert_eq!(s.first().unwrap().0, at(-3_600));
        assert_eq!(s.last().unwrap().0, at(60));
        assert_eq!(s.len(), 62);
        let s = u.samples(t0(), now, at(-59), at(61));
        assert_eq!(
            s.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
            [t0(), at(60)]
        );
        assert!(u.samples(t0(), now, at(-9_000), at(-8_000)).is_empty());
    }

    #[test]
    fn peak_is_the_highest_sample() {
        let u = parse("{shape: spike, base: 100, peak: 800, at: 2d, width: 1h}");
        let now = t0();
        assert_eq!(u.peak(t0(), now, at(-3 * 86_400), now), Some(800.0));
        assert_eq!(u.peak(t0(), now, at(-86_400), now), Some(100.0));
    }

    #[test]
    fn bad_shapes_say_what_is_missing() {
        let err = serde_yaml::from_str::<Usage>("{shape: growth, start: 1}").unwrap_err();
        assert!(err.to_string().contains("perDay"), "{err}");
        let err = serde_yaml::from_str::<Usage>("{shape: wave, value: 1}").unwrap_err();
        assert!(err.to_string().contains("unknown shape"), "{err}");
        let err =
            serde_yaml::from_str::<Usage>("{shape: flat, value: 1, colour: red}").unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
        assert!(parse("{shape: flat, value: -1}").check().is_err());
    }

    #[test]
    fn spans_parse_every_unit() {
        assert_eq!(Span::parse("90s"), Ok(Span(90)));
        assert_eq!(Span::parse("30m"), Ok(Span(1_800)));
        assert_eq!(Span::parse("1h"), Ok(Span(3_600)));
        assert_eq!(Span::parse("14d"), Ok(Span(14 * 86_400)));
        assert_eq!(Span::parse("45"), Ok(Span(45)));
        assert!(Span::parse("soon").is_err());
        assert_eq!(Span(172_800).to_string(), "2d");
    }
}
