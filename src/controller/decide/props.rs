//! Property tests of the decision and aggregation core: random fleets of objects on one quota key
//! (floors, capacity totals and headroom from several namespaces, refusals in the cloud's history,
//! a guardrail, a cooldown, decrease consent), each object's need added up as the controller adds
//! it (`aggregate::effective` over the contributions `refusals` and the guardrails let count) and
//! decided through the controller's own loop (`drive::run`). Whatever the fleet and whatever order
//! its objects arrive in: at most one value is filed, the largest allowed need; never above a
//! guardrail; never below any team's need; a refused value is never asked again for the need it
//! settled; and a quota refused within the cooldown is not asked at all.

use jiff::{SignedDuration, Timestamp};
use proptest::{
    prelude::*,
    test_runner::{TestCaseError, TestRunner},
};

use super::{
    Ask, Need, Observed,
    drive::{self, Outside},
    outcome::{Filed, Verdict},
    refusals,
    requests::History,
};
use crate::{
    api::{Guardrails, TargetState},
    cloud::{CloudError, Phase, RequestView},
    controller::aggregate::{self, Contribution},
};

/// One object of the fleet: its namespace, its need of any kind (floor, capacity total or
/// headroom: the controller makes them one number before they meet), and when it was declared.
#[derive(Clone, Debug)]
struct Member {
    name: String,
    need: i64,
    declared_hours_ago: i64,
}

#[derive(Clone, Debug)]
struct Fleet {
    current: i64,
    members: Vec<Member>,
    /// Refused values and how many hours ago.
    refusals: Vec<(i64, i64)>,
    max_value: Option<i64>,
    cooldown_hours: i64,
    /// (lowest value the account consents to, the first member asks to lower).
    decrease: Option<i64>,
}

fn member() -> impl Strategy<Value = (u8, i64, i64)> {
    (0u8..6, 1i64..3000, 0i64..72)
}

fn fleet() -> impl Strategy<Value = Fleet> {
    (
        0i64..2500,
        prop::collection::vec(member(), 1..16),
        prop::collection::vec((1i64..3000, 0i64..72), 0..3),
        prop::option::of(500i64..4000),
        0i64..48,
        prop::option::of(0i64..500),
    )
        .prop_map(
            |(current, members, refusals, max_value, cooldown_hours, decrease)| Fleet {
                current,
                members: members
                    .into_iter()
                    .enumerate()
                    .map(|(i, (ns, need, ago))| Member {
                        name: format!("team-{ns}/o{i:02}"),
                        need,
                        declared_hours_ago: ago,
                    })
                    .collect(),
                refusals,
                max_value,
                cooldown_hours,
                decrease,
            },
        )
}

fn now() -> Timestamp {
    Timestamp::from_second(1_900_000_000).unwrap()
}

fn hours_ago(h: i64) -> Timestamp {
    now() - SignedDuration::from_hours(h)
}

impl Fleet {
    fn history(&self) -> Vec<RequestView> {
        self.refusals
            .iter()
            .enumerate()
            .map(|(i, (value, ago))| RequestView {
                id: format!("r{i}"),
                case_id: None,
                status: "DENIED".into(),
                phase: Phase::Denied,
                requested_value: *value as f64,
                granted_value: None,
                submitted_at: Some(hours_ago(*ago)),
                updated_at: Some(hours_ago(*ago)),
                message: None,
                origin: None,
                justification: None,
            })
            .collect()
    }

    fn guardrails(&self) -> Guardrails {
        Guardrails {
            max_values: self
                .max_value
                .map(|m| ("L-1".to_string(), m))
                .into_iter()
                .collect(),
            refusal_cooldown: Some(format!("{}h", self.cooldown_hours)),
            decrease: self.decrease.map(|floor| crate::api::DecreasePolicy {
                min_values: [("L-1".to_string(), floor)].into(),
                ignore_safety_checks: false,
            }),
            ..Guardrails::default()
        }
    }

    /// Whether `m`'s need counts, as `peers` judges another object: not settled by a refusal
    /// made since it was declared, and within the guardrail.
    fn counts(&self, m: &Member, history: &[RequestView]) -> bool {
        let since = hours_ago(m.declared_hours_ago);
        refusals::settling(history, m.need, since).is_none()
            && self.max_value.is_none_or(|max| m.need <= max)
    }

    fn contribution(&self, m: &Member, history: &[RequestView]) -> Contribution {
        Contribution {
            object: m.name.clone(),
            value: m.need,
            eligible: self.counts(m, history),
            since: hours_ago(m.declared_hours_ago),
        }
    }

    /// What `me` decides, with every other member as its peers.
    fn decide(&self, me: usize, order: &[usize]) -> Verdict {
        let history = self.history();
        let m = &self.members[me];
        let own = self.contribution(m, &history);
        let others: Vec<Contribution> = order
            .iter()
            .filter(|i| **i != me)
            .map(|i| self.contribution(&self.members[*i], &history))
            .collect();
        let effective = aggregate::effective(&own, &others);
        let need = Need {
            blocked: self
                .max_value
                .filter(|max| m.need > *max)
                .map(|max| format!("over maxValues {max}")),
            ..Need::new(m.name.clone(), m.need, effective)
        };
        let since = hours_ago(m.declared_hours_ago);
        let observed = Observed::new(now(), self.current as f64, "L-1".into(), since, need)
            .governed(Some(&self.guardrails()), me == 0 && self.decrease.is_some());
        let mut o = observed;
        let mut world = Story { history };
        futures::executor::block_on(drive::run(&mut o, &mut world)).expect("no read fails")
    }

    fn largest_allowed(&self) -> Option<i64> {
        let history = self.history();
        self.members
            .iter()
            .filter(|m| self.counts(m, &history))
            .map(|m| m.need)
            .max()
    }

    fn cooling(&self) -> bool {
        let history = self.history();
        let cooldown = SignedDuration::from_hours(self.cooldown_hours);
        refusals::cooling(&history, cooldown, now()).is_some()
    }
}

struct Story {
    history: Vec<RequestView>,
}

impl Outside for Story {
    async fn read(&mut self, ask: Ask, o: &mut Observed) -> Result<(), CloudError> {
        match ask {
            Ask::History => o.history = Some(History::of(self.history.clone())),
            Ask::Peers => o.peers_fresh = true,
        }
        Ok(())
    }

    async fn file(&mut self, _: &Observed, _: i64) -> Result<Filed, CloudError> {
        Ok(Filed::Dry)
    }
}

fn filed(v: &Verdict) -> Option<i64> {
    v.filed.as_ref().map(|(value, _)| *value)
}

/// Runs `test` on `cases` cases of `strategy` and says how many passed (CI's output shows it).
fn check<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let mut runner = TestRunner::new(ProptestConfig::with_cases(cases));
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{name}: {e}");
    }
    println!("property {name}: {cases} cases passed");
}

const CASES: u32 = 512;

fn one_value_the_largest_allowed(f: Fleet) -> Result<(), TestCaseError> {
    let order: Vec<usize> = (0..f.members.len()).collect();
    let verdicts: Vec<Verdict> = order.iter().map(|i| f.decide(*i, &order)).collect();
    let values: std::collections::BTreeSet<i64> = verdicts.iter().filter_map(filed).collect();
    prop_assert!(values.len() <= 1, "one request per quota key: {values:?}");
    let (largest, history) = (f.largest_allowed(), f.history());
    for (v, m) in verdicts.iter().zip(&f.members) {
        let Some(value) = filed(v).filter(|value| *value >= f.current) else {
            continue; // nothing filed, or a decrease (judged in its own property)
        };
        prop_assert_eq!(Some(value), largest, "the largest allowed need");
        prop_assert!(
            f.max_value.is_none_or(|max| value <= max),
            "above the guardrail"
        );
        prop_assert!(
            value >= m.need || !f.counts(m, &history),
            "below its own need"
        );
        prop_assert!(!f.cooling(), "asked within the cooldown of a refusal");
        let settled = history.iter().any(|r| {
            r.requested_value == value as f64
                && r.submitted_at >= Some(hours_ago(m.declared_hours_ago))
                && r.requested_value <= m.need as f64
        });
        prop_assert!(
            !settled,
            "a refused value asked again for the need it settled"
        );
    }
    Ok(())
}

#[test]
fn a_fleet_files_at_most_one_value_the_largest_allowed_need_within_the_guardrails() {
    check(
        "one value, the largest allowed need",
        CASES,
        fleet(),
        one_value_the_largest_allowed,
    );
}

#[test]
fn no_decrease_goes_under_any_teams_allowed_need() {
    check("no decrease under a need", CASES, fleet(), |f| {
        let order: Vec<usize> = (0..f.members.len()).collect();
        let v = f.decide(0, &order);
        if let Some(value) = filed(&v).filter(|value| *value < f.current) {
            let largest = f.largest_allowed().unwrap_or_default();
            prop_assert!(
                value >= largest,
                "lowered to {value} under a need of {largest}"
            );
            prop_assert!(
                f.decrease.is_some_and(|floor| value >= floor),
                "without consent"
            );
        }
        Ok(())
    });
}

fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut state = seed;
    for i in (1..n).rev() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        order.swap(i, (state >> 33) as usize % (i + 1));
    }
    order
}

#[test]
fn every_object_comes_to_the_same_verdict_whatever_order_the_others_arrive_in() {
    check(
        "arrival order",
        CASES,
        (fleet(), any::<u64>()),
        |(f, seed)| {
            let order: Vec<usize> = (0..f.members.len()).collect();
            let other = shuffled(order.len(), seed);
            for me in &order {
                let (a, b) = (f.decide(*me, &order), f.decide(*me, &other));
                prop_assert_eq!((a.state, filed(&a)), (b.state, filed(&b)));
            }
            Ok(())
        },
    );
}

#[test]
fn a_refused_quota_is_asked_at_most_once_per_cooldown_whatever_needs_are_added() {
    let added = prop::collection::vec((1i64..5000, 0i64..3000), 1..8);
    check("cooldown", CASES, (fleet(), added), |(f, added)| {
        // Refused just now: every need, old or new, waits out the cooldown.
        let mut more = f.clone();
        more.refusals.push((added[0].1, 0));
        more.cooldown_hours = more.cooldown_hours.max(1);
        for (i, (need, _)) in added.into_iter().enumerate() {
            more.members.push(Member {
                name: format!("team-new/n{i}"),
                need,
                declared_hours_ago: 0,
            });
            let order: Vec<usize> = (0..more.members.len()).collect();
            for me in &order {
                let v = more.decide(*me, &order);
                prop_assert_eq!(filed(&v), None, "asked within the cooldown");
                prop_assert!(v.state != TargetState::Requested);
            }
        }
        Ok(())
    });
}
