//! The other objects on a quota: the largest `desiredValue` that may push it up, the capacity
//! that adds up with this object's, what each one's `spec.headroom` asks over the quota's usage,
//! and a request one of them recorded for exactly this object's need. Also how a request for the
//! quota is owned, which both sides compare.
//!
//! Only objects whose namespace may use the account count, and only once a reconcile of their
//! own has seen their current generation (so when their need was declared is known). A need
//! that a refusal settled, or that would carry the filed value past the account's guardrails,
//! does not count either: one team's number never blocks or inflates another's request.

use std::sync::Arc;

use jiff::Timestamp;
use kube::{Api, ResourceExt, runtime::reflector::ObjectRef};

use super::{
    aggregate::Contribution,
    context::Context,
    decide::{guardrails, refusals, requests::Tracked},
    needs, object, record, resolve, usage,
};
use crate::{
    api::{CapacityStatus, CloudAccount, FiledBy, QuotaRequirement, RequestOwner},
    capacity::{self, Share, nodepools::NodePools},
    cloud::{CloudError, QuotaProvider, QuotaRef, QuotaView, RequestView, Target, UsageView},
};

/// The request as it would be recorded now: this quota, filed by this object at its generation.
pub fn owner(
    obj: &QuotaRequirement,
    account: &CloudAccount,
    target: &Target,
    view: &QuotaView,
) -> RequestOwner {
    RequestOwner {
        account_ref: obj.spec.account_ref.clone(),
        account: account.cloud_id().to_string(),
        service: target.quota.service().to_string(),
        quota: view.id.clone(),
        scope: scope(target, view),
        filed_by: Some(FiledBy {
            uid: obj.uid().unwrap_or_default(),
            generation: obj.metadata.generation.unwrap_or_default(),
        }),
    }
}

/// Where one value of the quota applies: a region (or everywhere), narrowed by GCP dimensions,
/// each written `/key=value` with `%`, `/` and `=` percent-encoded, so no two dimension sets
/// share a scope.
pub fn scope(target: &Target, view: &QuotaView) -> String {
    let mut scope = if view.global {
        "global".to_string()
    } else {
        target.region.clone()
    };
    if let QuotaRef::Gcp { dimensions, .. } = &target.quota {
        for (k, v) in dimensions {
            scope.push_str(&format!("/{}={}", escape(k), escape(v)));
        }
    }
    scope
}

fn escape(part: &str) -> String {
    part.replace('%', "%25")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

/// What the other objects on the quota say: the largest need that may push it up, and a request
/// one of them recorded for exactly this object's need.
pub struct Peers {
    pub best: Vec<Contribution>,
    pub request: Option<Tracked>,
}

/// Where this object stands on the quota: the keys the needs index files it under, the
/// account, and the refusals the cloud's history holds (none before the history is read).
pub struct OnQuota<'a> {
    pub ctx: &'a Context,
    pub obj: &'a QuotaRequirement,
    pub account: &'a CloudAccount,
    pub target: &'a Target,
    pub view: &'a QuotaView,
    pub refusals: &'a [RequestView],
}

impl OnQuota<'_> {
    /// The CloudAccounts that name the same cloud account (AWS account or GCP project) as this
    /// object's: a quota is the cloud's, so objects reaching it through two CloudAccounts (one
    /// per team, say) are needs on one quota.
    fn same_cloud(&self) -> Vec<String> {
        let (id, aws) = (self.account.cloud_id(), self.account.spec.aws.is_some());
        let mut names: Vec<String> = self
            .ctx
            .accounts
            .state()
            .iter()
            .filter(|a| a.cloud_id() == id && a.spec.aws.is_some() == aws)
            .map(|a| a.name_any())
            .collect();
        if !names.contains(&self.obj.spec.account_ref) {
            names.push(self.obj.spec.account_ref.clone());
        }
        names
    }

    fn keys(&self) -> Vec<needs::NeedKey> {
        let (t, v) = (self.target, self.view);
        self.same_cloud()
            .iter()
            .flat_map(|name| {
                needs::lookup_keys(name, &t.quota, &t.region, &v.id, &v.name, v.global)
            })
            .collect()
    }

    fn me(&self) -> String {
        object::key(self.obj)
    }

    fn created(&self) -> Option<Timestamp> {
        self.obj.metadata.creation_timestamp.as_ref().map(|t| t.0)
    }

    /// Why the account's guardrails would refuse a request for `value`: a need past them
    /// does not count, this object's or another's.
    pub fn violates(&self, value: i64) -> Option<String> {
        let guardrails = self.account.spec.guardrails.as_ref();
        guardrails::violation(guardrails, &self.view.id, value, self.view.value)
    }

    /// Another object by `namespace/name`, if its namespace may use its own CloudAccount, and
    /// that account names the same cloud account as this one (a namespace the operator does not
    /// know yet may not).
    fn peer(&self, name: &str) -> Option<Arc<QuotaRequirement>> {
        let (namespace, n) = name.split_once('/')?;
        let o = self
            .ctx
            .requirements
            .get(&ObjectRef::new(n).within(namespace))?;
        self.admits(&o).then_some(o)
    }

    /// Whether `o` counts on this quota: its namespace may use its own CloudAccount, which names
    /// the same cloud account as this object's.
    fn admits(&self, o: &QuotaRequirement) -> bool {
        if o.spec.account_ref == self.obj.spec.account_ref {
            return allowed(self.ctx, o, self.account);
        }
        let Some(theirs) = self.ctx.accounts.get(&ObjectRef::new(&o.spec.account_ref)) else {
            return false;
        };
        theirs.cloud_id() == self.account.cloud_id()
            && theirs.spec.aws.is_some() == self.account.spec.aws.is_some()
            && allowed(self.ctx, o, &theirs)
    }

    /// The region under which another object's status records this quota: its first region
    /// for a global quota, else this one.
    fn region_of<'o>(&'o self, o: &'o QuotaRequirement) -> &'o str {
        if self.view.global {
            o.spec
                .regions
                .first()
                .map(String::as_str)
                .unwrap_or_default()
        } else {
            self.target.region.as_str()
        }
    }

    /// The request another object's status records for the quota, as freshly as this process
    /// knows it (its status may not show a refusal yet).
    fn recorded(&self, o: &QuotaRequirement) -> Option<Tracked> {
        let region = self.region_of(o);
        let owner = owner(o, self.account, self.target, self.view);
        let mut tracked = object::previous(o, region)
            .and_then(|t| t.request.as_ref())
            .and_then(|r| record::tracked(r, &owner))?;
        if let Some(fresh) = self
            .ctx
            .ledger
            .cached(self.account.cloud_id(), &tracked.view.id)
        {
            tracked.view = fresh;
        }
        Some(tracked)
    }

    /// Whether a refusal settles another object's need of `value`: one its status records at
    /// its generation, or one in the cloud's history made since the need was declared.
    fn settled(&self, o: &QuotaRequirement, recorded: Option<&Tracked>, value: i64) -> bool {
        let generation = o.metadata.generation.unwrap_or_default();
        recorded.is_some_and(|t| refusals::settles(t, value, generation))
            || object::need_since(o)
                .is_some_and(|since| refusals::settling(self.refusals, value, since).is_some())
    }
}

/// Whether `o`'s namespace may use `account`, as the stores hold them.
fn allowed(ctx: &Context, o: &QuotaRequirement, account: &CloudAccount) -> bool {
    let namespace = o.namespace().unwrap_or_default();
    let labels = ctx
        .namespaces
        .get(&ObjectRef::new(&namespace))
        .map(|ns| ns.labels().clone());
    resolve::check_account(&o.spec, &namespace, labels.as_ref(), Some(account)).is_ok()
}

/// The largest need of another object that may push this quota up: found through the needs
/// index (largest first), so only objects that could drive the quota are looked at. On the way
/// it notes a request another object recorded for exactly this object's need, made since this
/// object exists: if that combined request, which this object never recorded (it was not
/// reconciled, or the operator stopped), is refused, the refusal is this object's too.
pub fn floors(q: &OnQuota<'_>, need: i64) -> Peers {
    let created = q.created();
    let mut request = None;
    let mut declared_at = std::collections::HashMap::new();
    let mut eligible = |name: &str| {
        let Some(o) = q.peer(name) else {
            return false;
        };
        let recorded = q.recorded(&o);
        if request.is_none() {
            request = recorded.clone().filter(|r| same_need(r, need, created));
        }
        let floor = o.spec.desired_value.unwrap_or_default();
        let Some(since) = object::need_since(&o) else {
            return false;
        };
        declared_at.insert(name.to_string(), since);
        !q.settled(&o, recorded.as_ref(), floor) && q.violates(floor).is_none()
    };
    let best = q.ctx.needs.best_other(&q.keys(), &q.me(), &mut eligible);
    let best = best
        .and_then(|(value, object)| {
            let since = *declared_at.get(&object)?;
            Some(Contribution {
                object,
                value,
                eligible: true,
                since,
            })
        })
        .into_iter()
        .collect();
    Peers { best, request }
}

/// What every other object's `spec.headroom` asks of the quota, from the same usage `read` and
/// by the same function as this object's own: a need like a floor, so two teams' headroom on one
/// quota make one request at the larger, and no decrease goes under either. A need a refusal
/// settled, or one past the guardrails, does not count (as for floors).
pub fn headroom(
    q: &OnQuota<'_>,
    read: &Result<UsageView, CloudError>,
    now: Timestamp,
) -> Vec<Contribution> {
    let mut asked = vec![];
    // One reading per window, whatever the number of objects (most share the default window).
    let mut readings = std::collections::HashMap::new();
    for name in q.ctx.needs.headroom_others(&q.keys(), &q.me()) {
        let Some(o) = q.peer(&name) else {
            continue;
        };
        let (Some(since), Some(h)) = (object::need_since(&o), o.spec.headroom.as_ref()) else {
            continue;
        };
        let window = h.window();
        let reading = readings.entry(window).or_insert_with(|| {
            read.as_ref()
                .ok()
                .and_then(|v| crate::usage::reading(v, window))
        });
        let region = q.region_of(&o);
        let value = usage::asked_by(&o, region, q.account, q.view, reading.as_ref(), now);
        let Some(value) = value else {
            continue;
        };
        let recorded = q.recorded(&o);
        if q.settled(&o, recorded.as_ref(), value) || q.violates(value).is_some() {
            continue;
        }
        asked.push(Contribution {
            object: name,
            value,
            eligible: true,
            since,
        });
    }
    asked
}

/// A request for exactly `need`, made since this object exists, that another object on the quota
/// records, read from the API server rather than the cache. Asked only when this object is about
/// to file (rarely): a copy of another object that the watch has not brought up to date (after
/// an API server restart) must not hide a refusal that is this object's too. Objects whose
/// namespace may not use the account are not read.
pub async fn fresh_request(q: &OnQuota<'_>, need: i64) -> kube::Result<Option<Tracked>> {
    let created = q.created();
    for name in q.ctx.needs.others(&q.keys(), &q.me()) {
        let Some((namespace, n)) = name.split_once('/') else {
            continue;
        };
        let api: Api<QuotaRequirement> = Api::namespaced(q.ctx.client.clone(), namespace);
        let Some(o) = api.get_opt(n).await? else {
            continue;
        };
        if !q.admits(&o) {
            continue;
        }
        let request = q.recorded(&o).filter(|r| same_need(r, need, created));
        if request.is_some() {
            return Ok(request);
        }
    }
    Ok(None)
}

/// A request for exactly `need`, made since the object was created.
fn same_need(r: &Tracked, need: i64, created: Option<Timestamp>) -> bool {
    r.view.requested_value == need as f64
        && r.view
            .submitted_at
            .zip(created)
            .is_some_and(|(at, born)| at >= born)
}

/// Another object's capacity share on the quota, as read before it is judged.
pub struct PeerShare {
    name: String,
    value: i64,
    obj: Arc<QuotaRequirement>,
    recorded: Option<Tracked>,
}

/// Every capacity share on the quota: this object's and the other allowed objects'.
pub struct Shares {
    pub own: Option<Share>,
    others: Vec<PeerShare>,
}

/// The other objects that give a `capacity` on this quota, with their shares in this region
/// (from the same cached catalog, so every object computes the same total). An object whose
/// share cannot be computed shows that in its own status and counts for nothing here.
pub async fn shares(
    q: &OnQuota<'_>,
    provider: &dyn QuotaProvider,
    pools: &NodePools,
    own: Option<Share>,
) -> Shares {
    let mut others = Vec::new();
    for name in q.ctx.needs.capacity_others(&q.keys(), &q.me()) {
        let Some(o) = q.peer(&name) else {
            continue;
        };
        match capacity::share(&o.spec, provider, &q.target.region, &q.view.id, pools).await {
            Ok(Some(share)) => {
                let recorded = q.recorded(&o);
                others.push(PeerShare {
                    name,
                    value: share.value,
                    obj: o,
                    recorded,
                });
            }
            Ok(None) => {}
            Err(e) => tracing::debug!(object = %name, error = %e, "capacity share not counted"),
        }
    }
    Shares { own, others }
}

/// Why a share does not count in the total.
#[derive(Clone, Debug, PartialEq)]
pub enum Left {
    /// A refusal settled its object's need.
    Refused,
    /// Its object's current generation has not been reconciled yet.
    Unseen,
    /// Added to the shares counted before it, it would break a guardrail.
    Guardrail(String),
}

/// One share as judged: counted in the total, or left out and why.
pub struct Judged {
    pub name: String,
    pub value: i64,
    pub since: Option<Timestamp>,
    pub left: Option<Left>,
}

/// The capacity on the quota, judged: which shares count, in the order their objects were
/// created (ties by name), while the sum stays within the guardrails.
pub struct Capacity {
    pub own: Option<Share>,
    /// Why this object's own share does not count, when it does not.
    pub own_left: Option<String>,
    pub others: Vec<Judged>,
    /// A request another capacity object recorded for exactly this object's total.
    pub request: Option<Tracked>,
}

/// The objects' shares in the order they are counted: by creation, then name (`None` is this
/// object's own).
type Order<'a> = Vec<(Option<Timestamp>, String, Option<&'a PeerShare>)>;

impl Shares {
    /// Every capacity on the quota counted in creation order: what counts, what is left out
    /// (unseen, refused, or past a guardrail once added), and a request another object recorded
    /// for exactly this object's total.
    pub fn judge(&self, q: &OnQuota<'_>, own_since: Timestamp) -> Capacity {
        let all: i64 = self.own.as_ref().map_or(0, |s| s.value)
            + self.others.iter().map(|p| p.value).sum::<i64>();
        let mut running = 0;
        let mut own_left = None;
        let mut others = Vec::new();
        for (_, name, peer) in self.order(q) {
            let (value, since, left) = match peer {
                None => (
                    self.own.as_ref().map_or(0, |s| s.value),
                    Some(own_since),
                    None,
                ),
                Some(p) => Self::peer_need(q, p, all),
            };
            let left = left.or_else(|| q.violates(running + value).map(Left::Guardrail));
            match (&left, peer) {
                (None, _) => running += value,
                (Some(Left::Guardrail(why)), None) => {
                    own_left = Some(format!(
                        "this object's capacity of {value}, added to the {running} counted before it: {why}"
                    ));
                }
                _ => {}
            }
            if peer.is_some() {
                others.push(Judged {
                    name,
                    value,
                    since,
                    left,
                });
            }
        }
        self.with_request(
            q,
            Capacity {
                own: self.own.clone(),
                own_left,
                others,
                request: None,
            },
        )
    }

    fn order(&self, q: &OnQuota<'_>) -> Order<'_> {
        let mut order: Order<'_> = self
            .others
            .iter()
            .map(|p| {
                let created = p.obj.metadata.creation_timestamp.as_ref().map(|t| t.0);
                (created, p.name.clone(), Some(p))
            })
            .collect();
        if self.own.is_some() {
            order.push((q.created(), q.me(), None));
        }
        order.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        order
    }

    /// Another object's share: its value, when its need was declared, and why it is left out
    /// before any guardrail is asked (never seen by a reconcile of its own, or refused).
    fn peer_need(
        q: &OnQuota<'_>,
        p: &PeerShare,
        all: i64,
    ) -> (i64, Option<Timestamp>, Option<Left>) {
        let since = object::need_since(&p.obj);
        let left = if since.is_none() {
            Some(Left::Unseen)
        } else if q.settled(&p.obj, p.recorded.as_ref(), all) {
            Some(Left::Refused)
        } else {
            None
        };
        (p.value, since, left)
    }

    /// A request another capacity object recorded for exactly this object's total.
    fn with_request(&self, q: &OnQuota<'_>, mut judged: Capacity) -> Capacity {
        if judged.own.is_some() {
            let (total, created) = (judged.total(), q.created());
            judged.request = self
                .others
                .iter()
                .filter_map(|p| p.recorded.clone())
                .find(|r| same_need(r, total, created));
        }
        judged
    }
}

/// How many other objects' shares a status lists by name; the rest are summed up.
const LISTED: usize = 20;

impl Capacity {
    /// The shares that count, added up (this object's own included when it counts): what a
    /// capacity object needs the quota to be (its workloads run beside the others').
    pub fn total(&self) -> i64 {
        let own = self.own.as_ref().map_or(0, |s| s.value);
        own + self.counted().map(|j| j.value).sum::<i64>()
    }

    fn counted(&self) -> impl Iterator<Item = &Judged> {
        self.others.iter().filter(|j| j.left.is_none())
    }

    /// What the other objects' capacity asks of the quota: the shares that count, named by the
    /// first of them; declared when the newest of them was.
    pub fn others_ask(&self) -> Option<Contribution> {
        let first = self.counted().next()?;
        Some(Contribution {
            object: first.name.clone(),
            value: self.counted().map(|j| j.value).sum(),
            eligible: true,
            since: self.counted().filter_map(|j| j.since).max()?,
        })
    }

    pub fn status(&self, me: &str) -> Option<CapacityStatus> {
        let own = self.own.as_ref()?;
        let mut others: Vec<String> = self
            .others
            .iter()
            .take(LISTED)
            .map(|j| {
                let note = match &j.left {
                    None => String::new(),
                    Some(Left::Refused) => " (refused)".into(),
                    Some(Left::Unseen) => " (not reconciled yet)".into(),
                    Some(Left::Guardrail(_)) => " (not counted: over a guardrail)".into(),
                };
                format!("{}: {}{note}", object::shown_name(me, &j.name), j.value)
            })
            .collect();
        if self.others.len() > LISTED {
            let rest = &self.others[LISTED..];
            let sum: i64 = rest
                .iter()
                .filter(|j| j.left.is_none())
                .map(|j| j.value)
                .sum();
            others.push(format!("{} more objects: {sum} counted", rest.len()));
        }
        Some(CapacityStatus {
            share: own.value,
            total: self.total(),
            arithmetic: own.arithmetic.clone(),
            others,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gcp(dimensions: &[(&str, &str)]) -> Target {
        Target {
            quota: QuotaRef::Gcp {
                service: "compute.googleapis.com".into(),
                quota_id: "GPUS".into(),
                dimensions: dimensions
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            },
            region: "us-central1".into(),
        }
    }

    #[test]
    fn dimension_sets_never_share_a_scope() {
        let view = QuotaView {
            id: "GPUS".into(),
            name: "GPUs".into(),
            value: 8.0,
            adjustable: true,
            global: false,
        };
        let one = scope(&gcp(&[("a", "b/c=d")]), &view);
        let two = scope(&gcp(&[("a", "b"), ("c", "d")]), &view);
        assert_ne!(one, two);
        assert_eq!(one, "us-central1/a=b%2Fc%3Dd");
        assert_eq!(two, "us-central1/a=b/c=d");
        assert_eq!(scope(&gcp(&[("a", "100%")]), &view), "us-central1/a=100%25");
    }
}
