//! Turns at the cloud's scarce slots. AWS lets an account have two open increase requests per
//! region (and 20 in all); a support case keeps one open for days. Without turns, the namespace
//! that files first can hold every slot of a region while every other team's object waits
//! `Queued`. The rule: **while another namespace waits for a slot in a region, a namespace that
//! already holds one of that region's slots files nothing more there.** An open request is never
//! withdrawn, so a namespace that took both slots before anyone else came keeps them until they
//! close; the next free slot then goes to a namespace that holds none.
//!
//! What this process knows: the open requests its objects follow (each reconcile of a
//! `Requested` object says it still holds its slot; after a restart they are learnt again as
//! objects are reconciled), and the namespaces the cloud turned away for lack of a slot. Both
//! are forgotten when not heard of for `fresh` (a few polls), so a deleted object, or a request
//! nobody follows any more, does not hold anyone back for long.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// The slots of one (cloud account, region).
#[derive(Default)]
struct Slots {
    /// Open requests by id: the namespace that holds the slot, and when it was last heard of.
    held: HashMap<String, (String, Instant)>,
    /// Namespaces the cloud turned away for lack of a slot, and when last.
    waiting: HashMap<String, Instant>,
}

pub struct Turns {
    regions: Mutex<HashMap<(String, String), Slots>>,
    fresh: Duration,
}

/// A region's slots, as one namespace sees them: nothing but counts (a team never learns which
/// other namespaces there are).
#[derive(Clone, Debug, PartialEq)]
pub struct Turn {
    pub held: usize,
    pub others_waiting: usize,
}

impl Turns {
    /// What is not heard of for `fresh` is forgotten.
    pub fn new(fresh: Duration) -> Self {
        Self {
            regions: Mutex::default(),
            fresh,
        }
    }

    fn with<T>(&self, account: &str, region: &str, f: impl FnOnce(&mut Slots) -> T) -> T {
        let mut regions = self.regions.lock().expect("turns lock");
        let slots = regions
            .entry((account.to_string(), region.to_string()))
            .or_default();
        slots.held.retain(|_, (_, at)| at.elapsed() < self.fresh);
        slots.waiting.retain(|_, at| at.elapsed() < self.fresh);
        f(slots)
    }

    /// Request `id`, open, holds one of the region's slots for `namespace` (filed just now, or
    /// followed by a reconcile); a namespace that holds a slot no longer waits for one.
    pub fn holds(&self, account: &str, region: &str, namespace: &str, id: &str) {
        self.with(account, region, |s| {
            s.held
                .insert(id.to_string(), (namespace.to_string(), Instant::now()));
            s.waiting.remove(namespace);
        });
    }

    /// Request `id` closed: its slot is free.
    pub fn released(&self, account: &str, region: &str, id: &str) {
        self.with(account, region, |s| s.held.remove(id));
    }

    /// The cloud turned `namespace` away: every slot of the region is taken. A namespace that
    /// holds one of them is not starved, so it does not count as waiting.
    pub fn turned_away(&self, account: &str, region: &str, namespace: &str) {
        self.with(account, region, |s| {
            if !s.held.values().any(|(ns, _)| ns == namespace) {
                s.waiting.insert(namespace.to_string(), Instant::now());
            }
        });
    }

    /// How many of the region's slots `namespace` holds, and how many other namespaces wait.
    pub fn of(&self, account: &str, region: &str, namespace: &str) -> Turn {
        self.with(account, region, |s| Turn {
            held: s.held.values().filter(|(ns, _)| ns == namespace).count(),
            others_waiting: s.waiting.keys().filter(|ns| *ns != namespace).count(),
        })
    }
}

impl Turn {
    /// Why the namespace must let others go first, if it must.
    pub fn must_wait(&self, region: &str) -> Option<String> {
        (self.held >= 1 && self.others_waiting >= 1).then(|| {
            format!(
                "waiting its turn: this namespace holds {} of {region}'s open-request slots while {} other namespace{} wait{} for one (AWS allows 2 open increase requests per region); filed once it holds none or nobody else waits",
                self.held,
                self.others_waiting,
                if self.others_waiting == 1 { "" } else { "s" },
                if self.others_waiting == 1 { "s" } else { "" },
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_namespace_holding_a_slot_waits_while_another_namespace_waits() {
        let turns = Turns::new(Duration::from_secs(60));
        turns.holds("1", "us-east-1", "team-a", "r1");
        turns.holds("1", "us-east-1", "team-a", "r2");
        assert_eq!(
            turns.of("1", "us-east-1", "team-a").must_wait("us-east-1"),
            None,
            "nobody else waits: both slots may be one team's"
        );
        turns.turned_away("1", "us-east-1", "team-b");
        let a = turns.of("1", "us-east-1", "team-a");
        assert_eq!(
            a,
            Turn {
                held: 2,
                others_waiting: 1
            }
        );
        let why = a.must_wait("us-east-1").unwrap();
        assert!(why.contains("holds 2 of us-east-1's"), "{why}");
        assert_eq!(
            turns.of("1", "us-east-1", "team-b").must_wait("us-east-1"),
            None,
            "a namespace with no slot files when one frees"
        );
        // Another region, another account: other slots.
        assert_eq!(turns.of("1", "eu-west-1", "team-a").held, 0);
        assert_eq!(turns.of("2", "us-east-1", "team-a").held, 0);
        // team-b gets a slot: it no longer waits, and team-a may file again.
        turns.released("1", "us-east-1", "r1");
        turns.holds("1", "us-east-1", "team-b", "r3");
        assert_eq!(
            turns.of("1", "us-east-1", "team-a").must_wait("us-east-1"),
            None
        );
    }

    #[test]
    fn what_is_not_heard_of_is_forgotten() {
        let turns = Turns::new(Duration::from_millis(30));
        turns.holds("1", "us-east-1", "team-a", "r1");
        turns.turned_away("1", "us-east-1", "team-b");
        assert!(
            turns
                .of("1", "us-east-1", "team-a")
                .must_wait("us-east-1")
                .is_some()
        );
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(
            turns.of("1", "us-east-1", "team-a"),
            Turn {
                held: 0,
                others_waiting: 0
            }
        );
    }
}
