//! What this process knows about open requests, per quota: a lock so that only one reconcile at a
//! time may file for a quota, and a short-lived cache so that many objects following the same
//! request cost one cloud call per interval.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use super::decide::requests::History;
use crate::cloud::{CloudError, QuotaProvider, RequestView, Target};

/// One quota in one cloud account (AWS account id or GCP project, so two CloudAccounts that name
/// the same account share it), in one scope (a region or `global`, with GCP dimensions).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct QuotaKey {
    pub account: String,
    pub service: String,
    pub quota: String,
    pub scope: String,
}

#[derive(Default)]
pub struct KeyEntry {
    /// Held while deciding to file and filing, so two reconciles never file for one quota.
    pub filing: tokio::sync::Mutex<()>,
    open: Mutex<Option<RequestView>>,
    /// The cloud's history as last read with no request open, so that the objects waiting out
    /// a refusal's cooldown do not each read it at every resync. Dropped whenever this process
    /// learns of a request for the quota (filed, followed, closed or forgotten).
    history: Mutex<Option<(History, Instant)>>,
}

impl KeyEntry {
    /// The open request this process filed or adopted for the quota, if still open when last seen.
    pub fn open(&self) -> Option<RequestView> {
        self.open.lock().expect("ledger lock").clone()
    }

    pub fn record(&self, view: &RequestView) {
        self.history.lock().expect("ledger lock").take();
        let mut open = self.open.lock().expect("ledger lock");
        if view.phase.is_open() {
            *open = Some(view.clone());
        } else if open.as_ref().is_some_and(|o| o.id == view.id) {
            *open = None;
        }
    }
}

impl KeyEntry {
    /// The cloud no longer knows the request: it is not open as far as this process knows.
    pub fn forget(&self, id: &str) {
        self.history.lock().expect("ledger lock").take();
        let mut open = self.open.lock().expect("ledger lock");
        if open.as_ref().is_some_and(|o| o.id == id) {
            *open = None;
        }
    }
}

impl KeyEntry {
    /// The history read less than `ttl` ago, if this process has learnt of no request since.
    pub fn history(&self, ttl: Duration) -> Option<History> {
        let cached = self.history.lock().expect("ledger lock");
        cached
            .as_ref()
            .filter(|(_, at)| at.elapsed() < ttl)
            .map(|(h, _)| h.clone())
    }

    /// Drops the history read: a filing may have made a request it does not show.
    pub fn history_outdated(&self) {
        self.history.lock().expect("ledger lock").take();
    }

    pub fn remember_history(&self, history: &History) {
        *self.history.lock().expect("ledger lock") = Some((history.clone(), Instant::now()));
    }
}

pub struct Ledger {
    keys: Mutex<HashMap<QuotaKey, Arc<KeyEntry>>>,
    /// Which object (uid) filed each request this process filed: a reconcile that runs on an
    /// object whose status does not show the request yet still knows it is its own.
    filers: Mutex<HashMap<(String, String), String>>,
    requests: Mutex<HashMap<(String, String), (RequestView, Instant)>>,
    ttl: Duration,
}

impl Ledger {
    /// `ttl` bounds how stale a request's status may be when objects share it.
    pub fn new(ttl: Duration) -> Self {
        Self {
            keys: Mutex::default(),
            filers: Mutex::default(),
            requests: Mutex::default(),
            ttl,
        }
    }

    /// How stale a quota's history may be when the objects on it share it: twice a request's.
    /// A request opened or refused elsewhere in that time is found at the next read (AWS refuses
    /// a second open request for a quota, and that answer queues the filing).
    pub fn history_ttl(&self) -> Duration {
        self.ttl * 2
    }

    pub fn entry(&self, key: &QuotaKey) -> Arc<KeyEntry> {
        let mut keys = self.keys.lock().expect("ledger lock");
        keys.entry(key.clone()).or_default().clone()
    }

    /// The request as the cloud reports it, fetched at most once per `ttl` per request.
    pub async fn refresh(
        &self,
        account: &str,
        provider: &dyn QuotaProvider,
        target: &Target,
        id: &str,
    ) -> Result<RequestView, CloudError> {
        let cache_key = (account.to_string(), id.to_string());
        if let Some((view, at)) = self.requests.lock().expect("ledger lock").get(&cache_key)
            && at.elapsed() < self.ttl
        {
            return Ok(view.clone());
        }
        let view = provider.request(target, id).await?;
        self.remember(account, &view);
        Ok(view)
    }

    pub fn remember_filer(&self, account: &str, id: &str, uid: &str) {
        let mut filers = self.filers.lock().expect("ledger lock");
        filers.insert((account.to_string(), id.to_string()), uid.to_string());
    }

    /// The uid of the object that filed request `id` in this process, if one did.
    pub fn filer(&self, account: &str, id: &str) -> Option<String> {
        let filers = self.filers.lock().expect("ledger lock");
        filers.get(&(account.to_string(), id.to_string())).cloned()
    }

    /// The request as last seen by this process, however old.
    pub fn cached(&self, account: &str, id: &str) -> Option<RequestView> {
        let requests = self.requests.lock().expect("ledger lock");
        requests
            .get(&(account.to_string(), id.to_string()))
            .map(|(view, _)| view.clone())
    }

    pub fn remember(&self, account: &str, view: &RequestView) {
        let key = (account.to_string(), view.id.clone());
        let mut requests = self.requests.lock().expect("ledger lock");
        requests.insert(key, (view.clone(), Instant::now()));
    }
}
