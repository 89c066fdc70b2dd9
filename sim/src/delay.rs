//! How long a simulated request stays in a state: a time, a number of polls, or until an admin
//! call moves it. Shared by every cloud the simulator speaks.

use std::{fmt, time::Duration};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// When a request leaves its current state.
///
/// In YAML: a bare number is milliseconds (`250`), a string takes a unit (`250ms`, `2s`, `1m`),
/// `"3 polls"` means three reads see the current state and the fourth sees the next one, and
/// `manual` means only an admin call (`advance`, `approve`, `deny`) moves it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delay {
    After(Duration),
    Polls(u32),
    Manual,
}

impl Delay {
    pub const IMMEDIATE: Delay = Delay::After(Duration::ZERO);

    pub fn millis(ms: u64) -> Self {
        Delay::After(Duration::from_millis(ms))
    }

    /// When a state entered at `since` ends by time alone; None when reads or an admin call
    /// must move it (`0 polls` needs no read, so it is due at once).
    pub fn due(self, since: Timestamp) -> Option<Timestamp> {
        match self {
            Delay::After(d) => Some(add(since, d)),
            Delay::Polls(0) => Some(since),
            Delay::Polls(_) | Delay::Manual => None,
        }
    }

    /// Parses the YAML string forms; the error says what was expected.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t == "manual" {
            return Ok(Delay::Manual);
        }
        if let Some(n) = t.strip_suffix("polls").or_else(|| t.strip_suffix("poll")) {
            return n
                .trim()
                .parse()
                .map(Delay::Polls)
                .map_err(|_| format!("`{text}`: expected `<n> polls`"));
        }
        let (num, scale_ms) = if let Some(n) = t.strip_suffix("ms") {
            (n, 1)
        } else if let Some(n) = t.strip_suffix('s') {
            (n, 1_000)
        } else if let Some(n) = t.strip_suffix('m') {
            (n, 60_000)
        } else {
            (t, 1)
        };
        num.trim()
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(scale_ms))
            .map(Delay::millis)
            .ok_or_else(|| {
                format!("`{text}`: expected milliseconds, `<n>ms`, `<n>s`, `<n>m`, `<n> polls` or `manual`")
            })
    }
}

/// Saturates, so a huge delay means "never" rather than a panic.
pub(crate) fn add(t: Timestamp, d: Duration) -> Timestamp {
    SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

/// Immediately: the next look at the request sees it moved.
impl Default for Delay {
    fn default() -> Self {
        Delay::IMMEDIATE
    }
}

impl fmt::Display for Delay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Delay::After(d) => write!(f, "{}ms", d.as_millis()),
            Delay::Polls(n) => write!(f, "{n} polls"),
            Delay::Manual => f.write_str("manual"),
        }
    }
}

impl Serialize for Delay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Delay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Delay;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("milliseconds, `<n>ms`, `<n>s`, `<n>m`, `<n> polls` or `manual`")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Delay, E> {
                Ok(Delay::millis(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Delay, E> {
                u64::try_from(v)
                    .map(Delay::millis)
                    .map_err(|_| E::custom("a delay cannot be negative"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Delay, E> {
                Delay::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!(Delay::parse("250ms"), Ok(Delay::millis(250)));
        assert_eq!(Delay::parse("2s"), Ok(Delay::millis(2_000)));
        assert_eq!(Delay::parse("1m"), Ok(Delay::millis(60_000)));
        assert_eq!(Delay::parse("40"), Ok(Delay::millis(40)));
        assert_eq!(Delay::parse("3 polls"), Ok(Delay::Polls(3)));
        assert_eq!(Delay::parse("1poll"), Ok(Delay::Polls(1)));
        assert_eq!(Delay::parse("manual"), Ok(Delay::Manual));
        assert!(Delay::parse("soon").is_err());
        assert!(Delay::parse("-1s").is_err());
    }

    #[test]
    fn yaml_numbers_are_milliseconds() {
        let d: Delay = serde_yaml::from_str("75").unwrap();
        assert_eq!(d, Delay::millis(75));
        let d: Delay = serde_yaml::from_str("\"2 polls\"").unwrap();
        assert_eq!(d, Delay::Polls(2));
    }
}
