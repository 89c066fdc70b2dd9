//! The current values, one ListServiceQuotas walk per (account, region, service) per TTL, shared
//! by every object and every reconcile: the cost of a resync follows the distinct combinations,
//! not the number of QuotaRequirements.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::cloud::QuotaView;

/// All quotas of one service in one region of one account, by code.
#[derive(Clone, Debug, Default)]
pub struct ServiceQuotas {
    pub by_code: HashMap<String, QuotaView>,
}

impl ServiceQuotas {
    pub fn find(&self, code: Option<&str>, name: Option<&str>) -> Option<&QuotaView> {
        match (code, name) {
            (Some(code), _) => self.by_code.get(code),
            (None, Some(name)) => self.by_code.values().find(|q| q.name == name),
            (None, None) => None,
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

    fn slot(&self, region: &str, service: &str) -> Arc<tokio::sync::Mutex<Slot>> {
        let mut slots = self.slots.lock().expect("cache lock");
        let key = (region.to_string(), service.to_string());
        slots
            .entry(key)
            .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(Slot { fetched: None })))
            .clone()
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

    /// Adds a quota learnt another way (a default value) to a fresh entry.
    pub async fn add(&self, region: &str, service: &str, view: QuotaView) {
        let slot = self.slot(region, service);
        let mut slot = slot.lock().await;
        if let Some((_, quotas)) = &mut slot.fetched {
            quotas.by_code.insert(view.id.clone(), view);
        }
    }

    /// Forgets a service's values, after a request that may change them.
    pub async fn invalidate(&self, region: &str, service: &str) {
        self.slot(region, service).lock().await.fetched = None;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn view(code: &str, name: &str) -> QuotaView {
        QuotaView {
            id: code.into(),
            name: name.into(),
            value: 5.0,
            adjustable: true,
            global: false,
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
                        Ok::<_, ()>(ServiceQuotas {
                            by_code: [("L-1".to_string(), view("L-1", "one"))].into(),
                        })
                    })
                    .await
                    .unwrap()
            }));
        }
        for t in tasks {
            assert!(t.await.unwrap().find(None, Some("one")).is_some());
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
}
