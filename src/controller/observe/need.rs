//! The needs on the quota, added up for one object: its own (a floor, every capacity on the
//! quota at once, or what its headroom asks) beside every other object's, with the refusals the
//! cloud's history holds. Which needs count is `decide`'s rule (`refusals`, `guardrails`); this
//! gathers them.

use jiff::Timestamp;

use super::{
    super::{
        aggregate::{self, Contribution},
        decide::{Need, refusals, requests::Tracked},
        object, peers,
        region::Region,
    },
    seen::{Seen, on_quota},
};
use crate::cloud::RequestView;

/// This object's need and the other objects' on the quota, added up as the rules say, with the
/// refusals the cloud's history holds (none before it is read).
pub fn need(
    r: &Region<'_>,
    seen: &Seen,
    refusals: &[RequestView],
    own_request: Option<&Tracked>,
) -> Need {
    let q = on_quota(r, &seen.view, refusals);
    let me = object::key(q.obj);
    let capacity = seen.shares.judge(&q, r.since);
    // A capacity object needs every capacity on the quota at once; a desiredValue is a floor.
    let floor = match capacity.own {
        Some(_) => capacity.total(),
        None => q.obj.spec.desired_value.unwrap_or_default(),
    };
    let value = aggregate::own_value(floor, seen.usage.headroom);
    let blocked = capacity.own_left.clone().or_else(|| q.violates(value));
    let generation = q.obj.metadata.generation.unwrap_or_default();
    let settled = own_request.is_some_and(|t| refusals::settles(t, value, generation))
        || refusals::settling(q.refusals, value, r.since).is_some();
    let own = Contribution {
        object: me.clone(),
        value,
        eligible: blocked.is_none() && !settled,
        since: r.since,
    };
    let floors = peers::floors(&q, value);
    let mut others = floors.best;
    others.extend(capacity.others_ask());
    others.extend(peers::headroom(&q, &seen.usage.read, Timestamp::now()));
    Need {
        blocked,
        peer_request: floors.request.or(capacity.request.clone()),
        capacity: capacity.status(&me),
        ..Need::new(me, value, aggregate::effective(&own, &others))
    }
}
