//! Per-object exponential backoff with jitter for recoverable errors.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use rand::Rng;

pub struct Backoff {
    base: Duration,
    max: Duration,
    attempts: Mutex<HashMap<String, u32>>,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max,
            attempts: Mutex::default(),
        }
    }

    /// The delay before the next try of `object`, growing with each failure in a row.
    pub fn next(&self, object: &str) -> Duration {
        let mut attempts = self.attempts.lock().expect("backoff lock");
        let n = attempts.entry(object.to_string()).or_default();
        let delay = delay_for(self.base, self.max, *n);
        *n = n.saturating_add(1);
        // Jitter in [0.5, 1.0] of the delay keeps objects that failed together from retrying together.
        delay.mul_f64(rand::rng().random_range(0.5..=1.0))
    }

    pub fn reset(&self, object: &str) {
        self.attempts.lock().expect("backoff lock").remove(object);
    }
}

fn delay_for(base: Duration, max: Duration, attempt: u32) -> Duration {
    base.saturating_mul(2u32.saturating_pow(attempt.min(31)))
        .min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_doubles_up_to_the_cap() {
        let (base, max) = (Duration::from_secs(1), Duration::from_secs(60));
        assert_eq!(delay_for(base, max, 0), Duration::from_secs(1));
        assert_eq!(delay_for(base, max, 3), Duration::from_secs(8));
        assert_eq!(delay_for(base, max, 10), max);
        assert_eq!(delay_for(base, max, 40), max);
    }

    #[test]
    fn jittered_delay_stays_within_half_and_full_and_resets() {
        let b = Backoff::new(Duration::from_secs(2), Duration::from_secs(60));
        for expected in [2, 4, 8] {
            let d = b.next("ns/a");
            assert!(d >= Duration::from_secs(expected) / 2 && d <= Duration::from_secs(expected));
        }
        b.reset("ns/a");
        assert!(b.next("ns/a") <= Duration::from_secs(2));
    }
}
