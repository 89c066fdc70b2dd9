//! The current values, one ListServiceQuotas walk per (account, region, service) per TTL, shared
//! by every object and every reconcile: the cost of a resync follows the distinct combinations,
//! not the number of QuotaRequirements. When the listing is refused, the refusal is what is
//! cached for the TTL, together with the quotas read one by one meanwhile. AWS's answer that a
//! service, quota code or quota name does not exist is cached for the TTL too: an object naming
//! one costs one call chain per TTL, not one per reconcile.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use super::convert::{Entry, UsageMetric};
use crate::cloud::boundary::CloudError;

/// How a service's quotas are known in one region of one account.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Mode {
    /// ListServiceQuotas answered: every quota with a value is in `by_code`.
    #[default]
    Listed,
    /// ListServiceQuotas was refused or failed (the error says how): quotas are read one by
    /// one, and `by_code` holds those read so far.
    SingleReads(CloudError),
    /// AWS answered that the service does not exist (its error, given to every read).
    NoSuchService(CloudError),
}

/// A quota as a spec names it: by code, else by name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Asked {
    Code(String),
    Name(String),
}

/// The quotas of one service in one region of one account, by code.
#[derive(Clone, Debug, Default)]
pub struct ServiceQuotas {
    pub mode: Mode,
    pub by_code: HashMap<String, Entry>,
    /// Quota name -> code, from ListAWSDefaultServiceQuotas (filled in single-read mode).
    pub names: HashMap<String, String>,
    /// Quotas AWS answered it does not have, with its answer.
    pub missing: HashMap<Asked, CloudError>,
}

impl ServiceQuotas {
    pub fn listed(entries: Vec<Entry>) -> Self {
        let by_code = entries
            .into_iter()
            .map(|e| (e.view.id.clone(), e))
            .collect();
        Self {
            by_code,
            ..Self::default()
        }
    }

    pub fn single_reads(why: CloudError) -> Self {
        Self {
            mode: Mode::SingleReads(why),
            ..Self::default()
        }
    }

    pub fn no_such_service(answer: CloudError) -> Self {
        Self {
            mode: Mode::NoSuchService(answer),
            ..Self::default()
        }
    }

    pub fn find(&self, asked: &Asked) -> Option<&Entry> {
        match asked {
            Asked::Code(code) => self.by_code.get(code),
            Asked::Name(name) => self.by_code.values().find(|q| &q.view.name == name),
        }
    }
}

struct Slot {
    fetched: Option<(Instant, ServiceQuotas)>,
}

type Key = (String, String);

/// Per (region, service) for one account; the async lock makes concurrent misses wait for one
/// fetch instead of each making their own.
pub struct QuotaCache {
    ttl: Duration,
    slots: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<Slot>>>>,
}

impl QuotaCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            slots: Mutex::default(),
        }
    }

    /// A new key first drops the slots expired and in no one's hands: a service named once
    /// (a bogus one from a deleted object) does not stay for the process's life.
    fn slot(&self, region: &str, service: &str) -> Arc<tokio::sync::Mutex<Slot>> {
        let mut slots = self.slots.lock().expect("cache lock");
        let key = (region.to_string(), service.to_string());
        if !slots.contains_key(&key) {
            slots.retain(|_, slot| Arc::strong_count(slot) > 1 || !self.expired(slot));
        }
        slots
            .entry(key)
            .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(Slot { fetched: None })))
            .clone()
    }

    /// Unlocked and empty or older than the TTL.
    fn expired(&self, slot: &tokio::sync::Mutex<Slot>) -> bool {
        slot.try_lock().is_ok_and(|slot| {
            slot.fetched
                .as_ref()
                .is_none_or(|(at, _)| at.elapsed() >= self.ttl)
        })
    }

    /// The service's quotas, fetched with `fetch` when absent or older than the TTL.
    pub async fn get<F, Fut, E>(
        &self,
        region: &str,
        service: &str,
        fetch: F,
    ) -> Result<ServiceQuotas, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<ServiceQuotas, E>>,
    {
        let slot = self.slot(region, service);
        let mut slot = slot.lock().await;
        if let Some((at, quotas)) = &slot.fetched
            && at.elapsed() < self.ttl
        {
            return Ok(quotas.clone());
        }
        let quotas = fetch().await?;
        slot.fetched = Some((Instant::now(), quotas.clone()));
        Ok(quotas)
    }

    /// Adds a quota learnt another way (a single read, a default value) to a fresh entry.
    pub async fn add(&self, region: &str, service: &str, entry: Entry) {
        let slot = self.slot(region, service);
        let mut slot = slot.lock().await;
        if let Some((_, quotas)) = &mut slot.fetched {
            quotas.by_code.insert(entry.view.id.clone(), entry);
        }
    }

    /// Adds quota names (name -> code) to a fresh entry.
    pub async fn add_names(&self, region: &str, service: &str, names: HashMap<String, String>) {
        let slot = self.slot(region, service);
        let mut slot = slot.lock().await;
        if let Some((_, quotas)) = &mut slot.fetched {
            quotas.names.extend(names);
        }
    }

    /// Remembers, until the entry expires, that AWS has no such quota.
    pub async fn add_missing(&self, region: &str, service: &str, asked: Asked, answer: CloudError) {
        let slot = self.slot(region, service);
        let mut slot = slot.lock().await;
        if let Some((_, quotas)) = &mut slot.fetched {
            quotas.missing.insert(asked, answer);
        }
    }

    /// The usage metrics of the quotas known in `region`, with their service and code: what one
    /// batched usage read covers; and the services whose every quota is known (listed, not read
    /// one by one), which a later read need not look at again this period.
    pub async fn usage_metrics(
        &self,
        region: &str,
    ) -> (Vec<String>, Vec<(String, String, UsageMetric)>) {
        let slots: Vec<(String, Arc<tokio::sync::Mutex<Slot>>)> = {
            let slots = self.slots.lock().expect("cache lock");
            slots
                .iter()
                .filter(|((r, _), _)| r == region)
                .map(|((_, s), slot)| (s.clone(), slot.clone()))
                .collect()
        };
        let mut complete = Vec::new();
        let mut metrics = Vec::new();
        for (service, slot) in slots {
            let slot = slot.lock().await;
            let Some((_, quotas)) = &slot.fetched else {
                continue;
            };
            for (code, entry) in &quotas.by_code {
                if let Some(m) = &entry.usage_metric {
                    metrics.push((service.clone(), code.clone(), m.clone()));
                }
            }
            if !matches!(quotas.mode, Mode::SingleReads(_)) {
                complete.push(service);
            }
        }
        complete.sort();
        metrics.sort();
        (complete, metrics)
    }

    /// Forgets a service's values, after a request that may change them. A refused listing
    /// stays remembered until the TTL: asking again now would only be refused again.
    pub async fn invalidate(&self, region: &str, service: &str) {
        let slot = self.slot(region, service);
        let mut slot = slot.lock().await;
        match &mut slot.fetched {
            Some((_, quotas)) if quotas.mode != Mode::Listed => quotas.by_code.clear(),
            _ => slot.fetched = None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::cloud::boundary::{ErrorKind, QuotaView};

    fn entry(code: &str, name: &str) -> Entry {
        Entry {
            usage_metric: None,
            view: QuotaView {
                id: code.into(),
                name: name.into(),
                value: 5.0,
                adjustable: true,
                global: false,
            },
            problem: None,
        }
    }

    #[tokio::test]
    async fn concurrent_misses_fetch_once_and_ttl_refetches() {
        let cache = Arc::new(QuotaCache::new(Duration::from_millis(200)));
        let fetches = Arc::new(AtomicU32::new(0));
        let mut tasks = vec![];
        for _ in 0..20 {
            let (cache, fetches) = (cache.clone(), fetches.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get("us-east-1", "ec2", || async {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok::<_, ()>(ServiceQuotas::listed(vec![entry("L-1", "one")]))
                    })
                    .await
                    .unwrap()
            }));
        }
        for t in tasks {
            let quotas = t.await.unwrap();
            assert!(quotas.find(&Asked::Name("one".into())).is_some());
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_millis(250)).await;
        cache
            .get("us-east-1", "ec2", || async {
                fetches.fetch_add(1, Ordering::SeqCst);
                Ok::<_, ()>(ServiceQuotas::default())
            })
            .await
            .unwrap();
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn services_named_once_are_dropped_when_expired() {
        let cache = QuotaCache::new(Duration::from_millis(50));
        let fetch = || async { Ok::<_, ()>(ServiceQuotas::default()) };
        for i in 0..100 {
            cache.get("r", &format!("bogus{i}"), fetch).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(60)).await;
        cache.get("r", "ec2", fetch).await.unwrap();
        assert_eq!(cache.slots.lock().unwrap().len(), 1, "only ec2 is left");
    }

    #[tokio::test]
    async fn a_refused_listing_survives_invalidation_until_the_ttl() {
        let cache = QuotaCache::new(Duration::from_millis(200));
        let refused = CloudError::new(ErrorKind::AccessDenied, "AccessDeniedException", "no");
        let fetch = || async { Ok::<_, ()>(ServiceQuotas::single_reads(refused.clone())) };
        cache.get("r", "ec2", fetch).await.unwrap();
        cache.add("r", "ec2", entry("L-1", "one")).await;
        cache.invalidate("r", "ec2").await;
        let again = cache
            .get("r", "ec2", || async { Err::<ServiceQuotas, ()>(()) })
            .await
            .expect("no new listing before the TTL");
        assert_eq!(again.mode, Mode::SingleReads(refused.clone()));
        assert!(
            again.by_code.is_empty(),
            "values read before the request are forgotten"
        );
    }
}
