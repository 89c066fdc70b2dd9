//! Per (account, region, operation) token buckets at AWS's documented rates, plus throttles
//! injected by the scenario or an admin call, and the call counters.

use std::{
    collections::{BTreeMap, HashMap},
    time::Instant,
};

use serde::Serialize;

use crate::aws::{
    operation::{Operation, Rate},
    scenario::{Rates, ThrottleInjection},
};

struct Bucket {
    tokens: f64,
    last: Instant,
}

pub struct Limiter {
    rates: Rates,
    buckets: HashMap<(String, String, Operation), Bucket>,
    /// Injected throttles, each with the matching calls it has seen (for `every`).
    injected: Vec<(ThrottleInjection, u32)>,
}

impl Limiter {
    pub fn new(rates: Rates, injected: Vec<ThrottleInjection>) -> Self {
        Self {
            rates,
            buckets: HashMap::new(),
            injected: injected.into_iter().map(|t| (t, 0)).collect(),
        }
    }

    pub fn inject(&mut self, t: ThrottleInjection) {
        self.injected.push((t, 0));
    }

    /// Drops every injected throttle still to answer (the scenario's too).
    pub fn clear_injected(&mut self) {
        self.injected.clear();
    }

    fn rate(&self, op: Operation) -> Rate {
        let base = self
            .rates
            .overrides
            .get(op.name())
            .copied()
            .unwrap_or_else(|| op.documented_rate());
        Rate {
            rate: base.rate * self.rates.scale,
            // A bucket smaller than one token would refuse everything.
            burst: (base.burst * self.rates.scale).max(1.0),
        }
    }

    /// Whether this call may proceed; false means answer TooManyRequestsException.
    pub fn admit(&mut self, account: &str, region: &str, op: Operation, now: Instant) -> bool {
        let injected = self.injected.iter_mut().find(|(t, _)| {
            t.count > 0
                && t.operation == op.name()
                && t.account.as_deref().is_none_or(|a| a == account)
                && t.region.as_deref().is_none_or(|r| r == region)
        });
        if let Some((t, seen)) = injected {
            *seen += 1;
            // `every: n` throttles the nth matching call of each n; the others go on to the
            // rate limiter as usual.
            if *seen % t.every.unwrap_or(1).max(1) == 0 {
                t.count -= 1;
                return false;
            }
        }
        if !self.rates.enabled {
            return true;
        }
        let Rate { rate, burst } = self.rate(op);
        let key = (account.to_string(), region.to_string(), op);
        let b = self.buckets.entry(key).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Calls received for one (account, region, operation), throttled ones included.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallCount {
    pub account: String,
    pub region: String,
    pub operation: String,
    pub calls: u64,
    pub throttled: u64,
    /// Error answers of any kind, throttles included.
    pub errors: u64,
}

#[derive(Default)]
pub struct Counters {
    by_scope: BTreeMap<(String, String, Operation), CallCount>,
}

impl Counters {
    pub fn record(&mut self, account: &str, region: &str, op: Operation, error: Option<&str>) {
        let action = format!("{}:{}", op.iam_prefix(), op.name());
        crate::call_log::record("aws", &action, op.name());
        let key = (account.to_string(), region.to_string(), op);
        let c = self.by_scope.entry(key).or_insert_with(|| CallCount {
            account: account.into(),
            region: region.into(),
            operation: op.name().into(),
            ..CallCount::default()
        });
        c.calls += 1;
        if let Some(code) = error {
            c.errors += 1;
            // Service Quotas' throttle, EC2's and CloudWatch's.
            if matches!(
                code,
                "TooManyRequestsException" | "RequestLimitExceeded" | "Throttling"
            ) {
                c.throttled += 1;
            }
        }
    }

    pub fn all(&self) -> Vec<CallCount> {
        self.by_scope.values().cloned().collect()
    }

    pub fn total(&self, op: Operation) -> u64 {
        self.by_scope
            .iter()
            .filter(|((_, _, o), _)| *o == op)
            .map(|(_, c)| c.calls)
            .sum()
    }

    pub fn reset(&mut self) {
        self.by_scope.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn bucket_allows_burst_then_the_steady_rate() {
        let mut l = Limiter::new(Rates::default(), Vec::new());
        let t0 = Instant::now();
        let op = Operation::RequestServiceQuotaIncrease;
        let admitted = (0..10).filter(|_| l.admit("a", "r", op, t0)).count();
        assert_eq!(admitted, 3, "burst of 3");
        // 3 per second: one token every 333ms.
        assert!(!l.admit("a", "r", op, t0 + Duration::from_millis(300)));
        assert!(l.admit("a", "r", op, t0 + Duration::from_millis(340)));
        // Other regions and accounts have their own buckets.
        assert!(l.admit("a", "r2", op, t0));
        assert!(l.admit("b", "r", op, t0));
    }

    #[test]
    fn injected_throttles_come_first_and_run_out() {
        let inj = ThrottleInjection {
            operation: "GetServiceQuota".into(),
            count: 2,
            account: None,
            region: Some("eu-west-1".into()),
            every: None,
        };
        let mut l = Limiter::new(Rates::default(), vec![inj]);
        let t0 = Instant::now();
        let op = Operation::GetServiceQuota;
        assert!(l.admit("a", "us-east-1", op, t0));
        assert!(!l.admit("a", "eu-west-1", op, t0));
        assert!(!l.admit("b", "eu-west-1", op, t0));
        assert!(l.admit("a", "eu-west-1", op, t0));
    }

    #[test]
    fn every_second_call_throttled_until_cleared() {
        let inj = ThrottleInjection {
            operation: "GetServiceQuota".into(),
            count: u32::MAX,
            account: None,
            region: None,
            every: Some(2),
        };
        let mut l = Limiter::new(
            Rates {
                enabled: false,
                ..Rates::default()
            },
            vec![inj],
        );
        let t0 = Instant::now();
        let op = Operation::GetServiceQuota;
        let admitted: Vec<bool> = (0..6).map(|_| l.admit("a", "r", op, t0)).collect();
        assert_eq!(admitted, [true, false, true, false, true, false]);
        assert!(
            l.admit("a", "r", Operation::ListServiceQuotas, t0),
            "other operations pass"
        );
        l.clear_injected();
        assert!((0..4).all(|_| l.admit("a", "r", op, t0)));
    }
}
