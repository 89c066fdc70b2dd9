//! Refusals: what the cloud's refusals of a quota mean for the needs on it. A refusal settles
//! every need it asked no more than, declared before it was made, whoever filed it; and a refused
//! quota is asked again only once the cooldown since its latest refusal has passed, for every
//! need, old or new: a need declared after the refusal (a new object, a spec change) waits too,
//! or a team could walk around the cooldown by creating an object after each refusal. Pure: the
//! planner and the aggregation both ask here, from the cloud's own history, so peers, replicas
//! and restarts all see the same answer.

use jiff::{SignedDuration, Timestamp};

use super::requests::{Tracked, counts};
use crate::cloud::RequestView;

/// Whether a request that closed without a full grant settles this object's need at its current
/// generation: it asked for no more than the object needs, and the spec has not changed since.
/// A refused combined request for more than the object needs leaves the object free to ask for
/// its own need, once: that request, if refused too, settles it.
pub fn settles(t: &Tracked, own_value: i64, generation: i64) -> bool {
    counts(&t.view)
        && t.closed_at_generation.unwrap_or(generation) >= generation
        && t.view.requested_value <= own_value as f64
}

/// When a refused request closed, as the cloud dates it.
pub fn closed_at(r: &RequestView) -> Option<Timestamp> {
    r.updated_at.or(r.submitted_at)
}

/// The latest refusal that settles a need of `value` declared at `since`: it asked for no more
/// than the need (the cloud would not grant more), and it was made once the need existed.
pub fn settling(refusals: &[RequestView], value: i64, since: Timestamp) -> Option<&RequestView> {
    refusals
        .iter()
        .filter(|r| counts(r) && r.requested_value <= value as f64)
        .filter(|r| r.submitted_at.is_some_and(|at| at >= since))
        .max_by_key(|r| r.submitted_at)
}

/// A refused quota waits: until when, and the refusal it waits after.
#[derive(Clone, Debug, PartialEq)]
pub struct Cooling<'a> {
    pub until: Timestamp,
    pub after: &'a RequestView,
}

/// Whether the quota must wait before it is asked again, whatever need asks: its latest refusal
/// is less than `cooldown` old. The key is the quota, not the need, so no number of new objects
/// or spec changes asks a refused quota more than once per cooldown.
pub fn cooling<'a>(
    refusals: impl IntoIterator<Item = &'a RequestView>,
    cooldown: SignedDuration,
    now: Timestamp,
) -> Option<Cooling<'a>> {
    refusals
        .into_iter()
        .filter(|r| counts(r))
        .filter_map(|r| closed_at(r).map(|at| (at, r)))
        .max_by_key(|(at, _)| *at)
        .and_then(|(at, after)| {
            let until = at.checked_add(cooldown).ok()?;
            (until > now).then_some(Cooling { until, after })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::Phase;

    fn refused(id: &str, value: f64, at: Timestamp) -> RequestView {
        RequestView {
            id: id.into(),
            case_id: None,
            status: "DENIED".into(),
            phase: Phase::Denied,
            requested_value: value,
            granted_value: None,
            submitted_at: Some(at),
            updated_at: Some(at + SignedDuration::from_secs(2)),
            message: None,
            origin: None,
            justification: None,
        }
    }

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    #[test]
    fn a_refusal_settles_every_need_it_asked_no_more_than_made_since_the_need() {
        let refusals = [
            refused("big", 1180.0, t(100)),
            refused("mid", 1150.0, t(200)),
        ];
        assert_eq!(settling(&refusals, 1180, t(0)).unwrap().id, "mid");
        assert_eq!(settling(&refusals, 1150, t(0)).unwrap().id, "mid");
        assert_eq!(settling(&refusals, 1160, t(150)).unwrap().id, "mid");
        assert_eq!(
            settling(&refusals, 1120, t(0)),
            None,
            "below every refused value"
        );
        assert_eq!(
            settling(&refusals, 1180, t(300)),
            None,
            "a need declared after the refusals is a new need"
        );
    }

    #[test]
    fn an_approval_settles_nothing_and_starts_no_cooldown() {
        let mut approved = refused("ok", 100.0, t(0));
        approved.phase = Phase::Approved;
        let refusals = [approved];
        assert_eq!(settling(&refusals, 500, t(-10)), None);
        assert_eq!(
            cooling(&refusals, SignedDuration::from_hours(24), t(10)),
            None
        );
    }

    #[test]
    fn a_refused_quota_waits_out_the_cooldown_whatever_need_asks() {
        let day = SignedDuration::from_hours(24);
        let refusals = [refused("a", 1180.0, t(0)), refused("b", 1150.0, t(1000))];
        let waits = cooling(&refusals, day, t(2000)).unwrap();
        assert_eq!(waits.after.id, "b", "the latest refusal counts");
        assert_eq!(waits.until, t(1002) + day);
        assert_eq!(cooling(&refusals, day, t(1002) + day), None, "over");
        assert_eq!(
            cooling(&refusals, SignedDuration::ZERO, t(2000)),
            None,
            "no cooldown"
        );
    }
}
