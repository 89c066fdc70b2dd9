//! Client-side rate limiting per (account, region, operation) at the rates a cloud's table
//! gives, slowing down further when the cloud throttles anyway (several operators, other tools).

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use super::boundary::{CloudError, ErrorKind};

/// An operation's steady rate and burst per second.
pub type Rates = fn(&str) -> (f64, f64);

struct Bucket {
    tokens: f64,
    rate: f64,
    max_rate: f64,
    burst: f64,
    last: Instant,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let elapsed = now.duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = now;
    }
}

type Key = (String, String, &'static str);

pub struct Limiter {
    buckets: Mutex<HashMap<Key, Bucket>>,
    rates: Rates,
    /// Multiplies every rate (below 1 leaves room for other clients of the account).
    scale: f64,
}

impl Limiter {
    pub fn new(rates: Rates, scale: f64) -> Self {
        Self {
            buckets: Mutex::default(),
            rates,
            scale,
        }
    }

    /// Sends `call` once the limiter allows it, and learns from the answer: a throttle slows
    /// the operation down, a success wins back rate. Each answer is counted in the metrics.
    pub async fn run<T>(
        &self,
        (cloud, account, region): (&'static str, &str, &str),
        operation: &'static str,
        call: impl Future<Output = Result<T, CloudError>>,
    ) -> Result<T, CloudError> {
        self.acquire(account, region, operation).await;
        let result = call.await;
        crate::metrics::cloud_result(cloud, operation, &result);
        match &result {
            Err(e) if e.kind == ErrorKind::Throttled => {
                self.throttled(account, region, operation);
                tracing::info!(
                    cloud,
                    account,
                    region,
                    operation,
                    "throttled by the cloud; slowing down"
                );
            }
            Ok(_) => self.succeeded(account, region, operation),
            Err(_) => {}
        }
        result
    }

    /// Waits until a call of `operation` may be made in (account, region).
    async fn acquire(&self, account: &str, region: &str, operation: &'static str) {
        loop {
            let wait = self.try_take((account.into(), region.into(), operation), Instant::now());
            match wait {
                None => return,
                Some(d) => tokio::time::sleep(d).await,
            }
        }
    }

    fn try_take(&self, key: Key, now: Instant) -> Option<Duration> {
        let mut buckets = self.buckets.lock().expect("limiter lock");
        let (rate, burst) = (self.rates)(key.2);
        let (rate, burst) = (rate * self.scale, (burst * self.scale).max(1.0));
        let bucket = buckets.entry(key).or_insert_with(|| Bucket {
            tokens: burst,
            rate,
            max_rate: rate,
            burst,
            last: now,
        });
        bucket.refill(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            None
        } else {
            Some(Duration::from_secs_f64((1.0 - bucket.tokens) / bucket.rate))
        }
    }

    /// The cloud throttled a call: halve the rate (down to an eighth of the table's) and drop
    /// the tokens banked, so the next calls spread out.
    fn throttled(&self, account: &str, region: &str, operation: &'static str) {
        let key = (account.to_string(), region.to_string(), operation);
        if let Some(b) = self.buckets.lock().expect("limiter lock").get_mut(&key) {
            b.rate = (b.rate / 2.0).max(b.max_rate / 8.0);
            b.tokens = 0.0;
        }
    }

    /// A call went through: win back a tenth of the table's rate.
    fn succeeded(&self, account: &str, region: &str, operation: &'static str) {
        let key = (account.to_string(), region.to_string(), operation);
        if let Some(b) = self.buckets.lock().expect("limiter lock").get_mut(&key) {
            b.rate = (b.rate + b.max_rate / 10.0).min(b.max_rate);
        }
    }

    #[cfg(test)]
    fn rate(&self, account: &str, region: &str, operation: &'static str) -> Option<f64> {
        let key = (account.to_string(), region.to_string(), operation);
        self.buckets
            .lock()
            .expect("limiter lock")
            .get(&key)
            .map(|b| b.rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::aws::rates::documented_rate;

    fn key(op: &'static str) -> Key {
        ("a".into(), "us-east-1".into(), op)
    }

    #[test]
    fn burst_then_steady_rate() {
        let l = Limiter::new(documented_rate, 1.0);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.try_take(key("RequestServiceQuotaIncrease"), t0), None);
        }
        let wait = l.try_take(key("RequestServiceQuotaIncrease"), t0).unwrap();
        assert!(
            wait > Duration::from_millis(300) && wait <= Duration::from_millis(334),
            "{wait:?}"
        );
        assert_eq!(
            l.try_take(
                key("RequestServiceQuotaIncrease"),
                t0 + Duration::from_millis(334)
            ),
            None
        );
    }

    #[test]
    fn throttling_halves_the_rate_and_success_wins_it_back() {
        let l = Limiter::new(documented_rate, 1.0);
        let _ = l.try_take(key("GetServiceQuota"), Instant::now());
        l.throttled("a", "us-east-1", "GetServiceQuota");
        assert_eq!(l.rate("a", "us-east-1", "GetServiceQuota"), Some(2.5));
        for _ in 0..10 {
            l.throttled("a", "us-east-1", "GetServiceQuota");
        }
        assert_eq!(l.rate("a", "us-east-1", "GetServiceQuota"), Some(5.0 / 8.0));
        for _ in 0..20 {
            l.succeeded("a", "us-east-1", "GetServiceQuota");
        }
        assert_eq!(l.rate("a", "us-east-1", "GetServiceQuota"), Some(5.0));
    }
}
