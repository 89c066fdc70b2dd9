//! The mutex each cloud's state lives behind, shared by its API handlers and its control
//! handle; one lock per call keeps every call atomic without finer bookkeeping.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use jiff::Timestamp;

pub type Shared<S> = Arc<Mutex<S>>;

/// A panic in one handler must not wedge every later call, so a poisoned lock is still used.
pub fn lock<S>(shared: &Shared<S>) -> MutexGuard<'_, S> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A cloud's state, whose open requests move with time.
pub trait Ticks {
    /// Makes every move whose time has come by `now`.
    fn tick(&mut self, now: Timestamp);
}

/// Runs `f` on the state after due moves are made, so what it sees is current.
pub fn current<S: Ticks, T>(shared: &Shared<S>, f: impl FnOnce(&mut S, Timestamp) -> T) -> T {
    let now = Timestamp::now();
    let mut st = lock(shared);
    st.tick(now);
    f(&mut st, now)
}
