//! The support cases this process read, each at most once per poll interval: many reconciles
//! of the objects on one request, and every resync, cost one read per case per interval.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use crate::cloud::{CaseView, CloudError, QuotaProvider};

type Read = Result<CaseView, CloudError>;

pub struct CaseReads {
    reads: Mutex<HashMap<(String, String), (Instant, Read)>>,
    ttl: Duration,
}

impl CaseReads {
    pub fn new(ttl: Duration) -> Self {
        Self {
            reads: Mutex::default(),
            ttl,
        }
    }

    /// Case `id` of `account`, read afresh only when the last read is older than the interval.
    pub async fn read(&self, account: &str, provider: &dyn QuotaProvider, id: &str) -> Read {
        let key = (account.to_string(), id.to_string());
        if let Some((at, read)) = self.reads.lock().expect("case reads").get(&key)
            && at.elapsed() < self.ttl
        {
            return read.clone();
        }
        let read = provider.case(id).await;
        let mut reads = self.reads.lock().expect("case reads");
        reads.insert(key, (Instant::now(), read.clone()));
        read
    }
}
