//! How many times each object has been reconciled by this process: what a test reads to prove
//! that the operator looked at an object in a window before asserting that nothing happened.

use std::{collections::HashMap, sync::Mutex};

#[derive(Debug, Default)]
pub struct Reconciles {
    counts: Mutex<HashMap<String, u64>>,
}

impl Reconciles {
    pub fn record(&self, key: &str) {
        let mut counts = self.counts.lock().expect("reconcile counts");
        *counts.entry(key.to_string()).or_default() += 1;
    }

    /// Reconciles of `namespace/name` that ran to the end (status written or found unchanged).
    pub fn count(&self, key: &str) -> u64 {
        let counts = self.counts.lock().expect("reconcile counts");
        counts.get(key).copied().unwrap_or(0)
    }

    pub fn forget(&self, key: &str) {
        self.counts.lock().expect("reconcile counts").remove(key);
    }
}
