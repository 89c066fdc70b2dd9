//! The needs index: which objects ask for which quota, kept up to date from the watch, so
//! aggregation looks at the few objects that can drive a quota instead of scanning the whole
//! store for every region of every object (which made the cost per object grow with the fleet).
//!
//! Objects are filed under (account, service, dimensions, quota as the spec names it, region),
//! and also under region `*` for quotas that turn out to be global. A `desiredValue` is ranked
//! by value (largest first, ties by name), so the driver is usually the first object looked at;
//! a `capacity` has no value until the cloud's catalog is read, so those objects are listed by
//! name (their shares add up: every one of them counts). Objects with `spec.headroom` are also
//! listed by name: what headroom asks comes from the quota's usage, read at reconcile time, and
//! every object on the quota must see it (one team's headroom is another's need).

use std::{
    cmp::Reverse,
    collections::{BTreeSet, HashMap},
    sync::{Arc, RwLock},
};

use kube::runtime::watcher;

use super::object;
use crate::api::QuotaRequirement;

/// How the spec names the quota: by code (or GCP quota id), or by AWS quota name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Quota {
    Id(String),
    Name(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NeedKey {
    /// Shared by every region the object lists: an object's keys cost one copy of its account,
    /// service, dimensions and quota name, however many regions it names.
    pub quota: Arc<QuotaOf>,
    /// A region, or `*` for every region (how a global quota is looked up).
    pub region: String,
}

/// The quota part of a key, the same for every region.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct QuotaOf {
    pub account_ref: String,
    pub service: String,
    pub dimensions: Vec<(String, String)>,
    pub quota: Quota,
}

pub const ANY_REGION: &str = "*";

/// An object's `namespace/name`, shared by every place the index files it.
type Name = Arc<str>;
/// Where one object is filed: its keys, its floor (None: a capacity), whether with headroom.
type Filed = (Vec<Arc<NeedKey>>, Option<i64>, bool);
type Ranked = BTreeSet<(Reverse<i64>, Name)>;

/// Keys and names are shared, not copied per object and per key: 10,000 objects share a few
/// hundred keys, and the index is held for the operator's life.
#[derive(Default)]
struct State {
    /// Objects with a `desiredValue`, largest first.
    by_key: HashMap<Arc<NeedKey>, Ranked>,
    /// Objects with a `capacity`, by name.
    capacity: HashMap<Arc<NeedKey>, BTreeSet<Name>>,
    /// Objects with `spec.headroom`, by name (also filed above, by their floor or capacity).
    headroom: HashMap<Arc<NeedKey>, BTreeSet<Name>>,
    /// Where each object is filed, at what value (None: capacity), and whether with headroom.
    by_object: HashMap<Name, Filed>,
    /// Where the objects listed since the watch (re)started go, swapped in when the listing is
    /// complete (only their keys: a copy of 10,000 objects would double the operator's memory).
    relisting: Option<Vec<Indexed>>,
}

#[derive(Default)]
pub struct Needs {
    state: RwLock<State>,
}

/// Where an object is filed.
fn keys(obj: &QuotaRequirement) -> Vec<NeedKey> {
    let spec = &obj.spec;
    let (service, quota, dimensions) = match (&spec.aws, &spec.gcp) {
        (Some(aws), None) => {
            let quota = match (&aws.quota_code, &aws.quota_name) {
                (Some(code), _) => Quota::Id(code.clone()),
                (None, Some(name)) => Quota::Name(name.clone()),
                (None, None) => return vec![],
            };
            (aws.service_code.clone(), quota, vec![])
        }
        (None, Some(gcp)) => (
            gcp.service.clone(),
            Quota::Id(gcp.quota_id.clone()),
            gcp.dimensions.clone().into_iter().collect(),
        ),
        _ => return vec![],
    };
    let quota = Arc::new(QuotaOf {
        account_ref: spec.account_ref.clone(),
        service,
        dimensions,
        quota,
    });
    spec.regions
        .iter()
        .map(String::as_str)
        .chain([ANY_REGION])
        .map(|region| NeedKey {
            quota: quota.clone(),
            region: region.to_string(),
        })
        .collect()
}

/// One object as the index files it.
struct Indexed {
    name: String,
    keys: Vec<NeedKey>,
    value: Option<i64>,
    headroom: bool,
}

impl Indexed {
    fn of(obj: &QuotaRequirement) -> Self {
        Self {
            name: object::key(obj),
            keys: keys(obj),
            // Headroom alone declares no floor: 0, not a capacity.
            value: match (obj.spec.desired_value, &obj.spec.capacity) {
                (Some(v), None) => Some(v),
                (None, None) => Some(0),
                _ => None,
            },
            headroom: obj.spec.headroom.is_some(),
        }
    }
}

impl State {
    fn insert(&mut self, indexed: Indexed) {
        let Indexed {
            name,
            keys,
            value,
            headroom,
        } = indexed;
        // Most watch events are status writes: nothing the index files changed.
        if let Some((filed_keys, filed_value, filed_headroom)) = self.by_object.get(name.as_str())
            && *filed_value == value
            && *filed_headroom == headroom
            && filed_keys.len() == keys.len()
            && filed_keys.iter().zip(&keys).all(|(a, b)| **a == *b)
        {
            return;
        }
        self.remove(&name);
        let name: Name = name.into();
        let keys: Vec<Arc<NeedKey>> = keys.into_iter().map(|k| self.shared(k)).collect();
        for k in &keys {
            match value {
                Some(v) => {
                    self.by_key
                        .entry(k.clone())
                        .or_default()
                        .insert((Reverse(v), name.clone()));
                }
                None => {
                    self.capacity
                        .entry(k.clone())
                        .or_default()
                        .insert(name.clone());
                }
            }
            if headroom {
                self.headroom
                    .entry(k.clone())
                    .or_default()
                    .insert(name.clone());
            }
        }
        self.by_object.insert(name, (keys, value, headroom));
    }

    /// The key as already filed, or a new one.
    fn shared(&self, k: NeedKey) -> Arc<NeedKey> {
        self.by_key
            .get_key_value(&k)
            .map(|(k, _)| k)
            .or_else(|| self.capacity.get_key_value(&k).map(|(k, _)| k))
            .cloned()
            .unwrap_or_else(|| Arc::new(k))
    }

    fn remove(&mut self, name: &str) {
        let Some((name, (keys, value, headroom))) = self.by_object.remove_entry(name) else {
            return;
        };
        for k in keys {
            match value {
                Some(v) => {
                    if let Some(ranked) = self.by_key.get_mut(&k) {
                        ranked.remove(&(Reverse(v), name.clone()));
                        if ranked.is_empty() {
                            self.by_key.remove(&k);
                        }
                    }
                }
                None => unlist(&mut self.capacity, &k, &name),
            }
            if headroom {
                unlist(&mut self.headroom, &k, &name);
            }
        }
    }
}

/// Takes `name` off the list under `k`, and the list once empty.
fn unlist(lists: &mut HashMap<Arc<NeedKey>, BTreeSet<Name>>, k: &Arc<NeedKey>, name: &Name) {
    if let Some(names) = lists.get_mut(k) {
        names.remove(name);
        if names.is_empty() {
            lists.remove(k);
        }
    }
}

impl Needs {
    /// Follows the watch: what the controller's store sees, the index sees.
    pub fn apply(&self, event: &watcher::Event<QuotaRequirement>) {
        let mut state = self.state.write().expect("needs index");
        match event {
            watcher::Event::Apply(obj) => state.insert(Indexed::of(obj)),
            watcher::Event::Delete(obj) => state.remove(&object::key(obj)),
            watcher::Event::Init => state.relisting = Some(vec![]),
            watcher::Event::InitApply(obj) => {
                if let Some(list) = state.relisting.as_mut() {
                    list.push(Indexed::of(obj));
                }
            }
            watcher::Event::InitDone => {
                let listed = state.relisting.take().unwrap_or_default();
                state.by_key.clear();
                state.capacity.clear();
                state.headroom.clear();
                state.by_object.clear();
                for filed in listed {
                    state.insert(filed);
                }
            }
        }
    }

    /// The largest need under any of `keys`, other than `me`'s, that `eligible` accepts:
    /// `(value, namespace/name)`. Looks at objects from the largest value down and stops at the
    /// first eligible one, so the cost does not grow with the number of objects.
    pub fn best_other(
        &self,
        keys: &[NeedKey],
        me: &str,
        mut eligible: impl FnMut(&str) -> bool,
    ) -> Option<(i64, String)> {
        let state = self.state.read().expect("needs index");
        keys.iter()
            .filter_map(|k| state.by_key.get(k))
            .filter_map(|ranked| {
                ranked
                    .iter()
                    .filter(|(_, name)| &**name != me)
                    .find(|(_, name)| eligible(name))
                    .map(|(Reverse(v), name)| (*v, name.to_string()))
            })
            .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(&a.1)))
    }
}

impl Needs {
    /// Every other object under any of `keys`, by name: those that give a `desiredValue` and
    /// those that give a `capacity`.
    pub fn others(&self, keys: &[NeedKey], me: &str) -> Vec<String> {
        let state = self.state.read().expect("needs index");
        let floors = keys
            .iter()
            .filter_map(|k| state.by_key.get(k))
            .flatten()
            .map(|(_, name)| name);
        let capacity = keys.iter().filter_map(|k| state.capacity.get(k)).flatten();
        let names: BTreeSet<&Name> = floors
            .chain(capacity)
            .filter(|name| &***name != me)
            .collect();
        names.into_iter().map(|n| n.to_string()).collect()
    }

    /// Every other object that gives a `capacity` under any of `keys`, by name.
    pub fn capacity_others(&self, keys: &[NeedKey], me: &str) -> Vec<String> {
        let state = self.state.read().expect("needs index");
        listed(&state.capacity, keys, me)
    }

    /// Every other object with `spec.headroom` under any of `keys`, by name.
    pub fn headroom_others(&self, keys: &[NeedKey], me: &str) -> Vec<String> {
        let state = self.state.read().expect("needs index");
        listed(&state.headroom, keys, me)
    }
}

fn listed(
    lists: &HashMap<Arc<NeedKey>, BTreeSet<Name>>,
    keys: &[NeedKey],
    me: &str,
) -> Vec<String> {
    let names: BTreeSet<&Name> = keys
        .iter()
        .filter_map(|k| lists.get(k))
        .flatten()
        .filter(|name| &***name != me)
        .collect();
    names.into_iter().map(|n| n.to_string()).collect()
}

impl Needs {
    /// The services the objects of (account, region) ask for, each once: what a usage read at
    /// the start of a cache period covers. Walks the distinct keys (a few hundred for 10,000
    /// objects), not the objects.
    pub fn services(&self, account_ref: &str, region: &str) -> Vec<String> {
        let state = self.state.read().expect("needs index");
        let services: BTreeSet<&str> = state
            .by_key
            .keys()
            .chain(state.capacity.keys())
            .filter(|k| k.region == region && k.quota.account_ref == account_ref)
            .map(|k| k.quota.service.as_str())
            .collect();
        services.into_iter().map(str::to_string).collect()
    }
}

/// The keys to look a target's quota up under, once the cloud has named it.
pub fn lookup_keys(
    account_ref: &str,
    quota: &crate::cloud::QuotaRef,
    region: &str,
    id: &str,
    name: &str,
    global: bool,
) -> Vec<NeedKey> {
    let dimensions = match quota {
        crate::cloud::QuotaRef::Gcp { dimensions, .. } => dimensions.clone(),
        crate::cloud::QuotaRef::Aws { .. } => vec![],
    };
    let region = if global { ANY_REGION } else { region };
    [Quota::Id(id.to_string()), Quota::Name(name.to_string())]
        .into_iter()
        .map(|q| NeedKey {
            quota: Arc::new(QuotaOf {
                account_ref: account_ref.to_string(),
                service: quota.service().to_string(),
                dimensions: dimensions.clone(),
                quota: q,
            }),
            region: region.to_string(),
        })
        .collect()
}

#[cfg(test)]
impl Needs {
    fn len(&self) -> usize {
        self.state.read().expect("needs index").by_object.len()
    }

    /// How many distinct key allocations the filed objects hold.
    fn distinct_keys(&self) -> usize {
        let state = self.state.read().expect("needs index");
        let mut seen: Vec<*const NeedKey> = state
            .by_object
            .values()
            .flat_map(|(keys, _, _)| keys.iter().map(Arc::as_ptr))
            .collect();
        seen.sort();
        seen.dedup();
        seen.len()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::cloud::QuotaRef;

    fn qr(ns: &str, name: &str, code: &str, regions: &[&str], value: i64) -> QuotaRequirement {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": ns},
            "spec": {"accountRef": "prod", "aws": {"serviceCode": "ec2", "quotaCode": code},
                     "regions": regions, "desiredValue": value}
        }))
        .unwrap()
    }

    fn spot(region: &str, global: bool) -> Vec<NeedKey> {
        let quota = QuotaRef::Aws {
            service_code: "ec2".into(),
            quota_code: Some("L-1".into()),
            quota_name: None,
        };
        lookup_keys("prod", &quota, region, "L-1", "Spot", global)
    }

    #[test]
    fn the_largest_eligible_other_need_is_found_and_deletes_are_followed() {
        let needs = Needs::default();
        needs.apply(&watcher::Event::Apply(qr(
            "a",
            "small",
            "L-1",
            &["us-east-1"],
            100,
        )));
        needs.apply(&watcher::Event::Apply(qr(
            "b",
            "big",
            "L-1",
            &["us-east-1"],
            900,
        )));
        needs.apply(&watcher::Event::Apply(qr(
            "c",
            "other",
            "L-2",
            &["us-east-1"],
            5000,
        )));
        needs.apply(&watcher::Event::Apply(qr(
            "d",
            "elsewhere",
            "L-1",
            &["eu-west-1"],
            7000,
        )));
        let keys = spot("us-east-1", false);
        assert_eq!(
            needs.best_other(&keys, "a/small", |_| true),
            Some((900, "b/big".into()))
        );
        assert_eq!(
            needs.best_other(&keys, "b/big", |_| true),
            Some((100, "a/small".into()))
        );
        // Ineligible objects are skipped, not counted.
        assert_eq!(needs.best_other(&keys, "a/small", |n| n != "b/big"), None);
        // A value change moves the object; a delete removes it.
        needs.apply(&watcher::Event::Apply(qr(
            "b",
            "big",
            "L-1",
            &["us-east-1"],
            50,
        )));
        assert_eq!(
            needs.best_other(&keys, "x/y", |_| true),
            Some((100, "a/small".into()))
        );
        needs.apply(&watcher::Event::Delete(qr(
            "a",
            "small",
            "L-1",
            &["us-east-1"],
            100,
        )));
        assert_eq!(
            needs.best_other(&keys, "x/y", |_| true),
            Some((50, "b/big".into()))
        );
    }

    #[test]
    fn a_global_quota_is_one_need_whatever_region_an_object_lists() {
        let needs = Needs::default();
        needs.apply(&watcher::Event::Apply(qr(
            "a",
            "x",
            "L-1",
            &["eu-west-1", "us-east-1"],
            300,
        )));
        needs.apply(&watcher::Event::Apply(qr(
            "b",
            "y",
            "L-1",
            &["ap-south-1"],
            800,
        )));
        assert_eq!(
            needs.best_other(&spot("us-east-1", true), "a/x", |_| true),
            Some((800, "b/y".into()))
        );
        assert_eq!(
            needs.best_other(&spot("us-east-1", false), "a/x", |_| true),
            None
        );
    }

    #[test]
    fn a_relist_replaces_what_the_index_held() {
        let needs = Needs::default();
        needs.apply(&watcher::Event::Apply(qr(
            "a",
            "gone",
            "L-1",
            &["us-east-1"],
            100,
        )));
        needs.apply(&watcher::Event::Init);
        needs.apply(&watcher::Event::InitApply(qr(
            "b",
            "kept",
            "L-1",
            &["us-east-1"],
            200,
        )));
        needs.apply(&watcher::Event::InitApply(qr(
            "c",
            "also",
            "L-2",
            &["us-east-1"],
            300,
        )));
        needs.apply(&watcher::Event::InitDone);
        assert_eq!(needs.len(), 2);
        assert_eq!(
            needs.best_other(&spot("us-east-1", false), "z/z", |_| true),
            Some((200, "b/kept".into()))
        );
    }

    #[test]
    fn gcp_needs_are_filed_by_quota_id_and_dimensions() {
        let gcp = |name: &str, family: &str, value: i64| -> QuotaRequirement {
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "ns"},
                "spec": {"accountRef": "prod",
                         "gcp": {"service": "compute.googleapis.com", "quotaId": "GPUS",
                                 "dimensions": {"gpu_family": family}},
                         "regions": ["us-central1"], "desiredValue": value}
            }))
            .unwrap()
        };
        let needs = Needs::default();
        needs.apply(&watcher::Event::Apply(gcp("l4", "NVIDIA_L4", 8)));
        needs.apply(&watcher::Event::Apply(gcp("a100", "NVIDIA_A100", 64)));
        let quota = QuotaRef::Gcp {
            service: "compute.googleapis.com".into(),
            quota_id: "GPUS".into(),
            dimensions: vec![("gpu_family".into(), "NVIDIA_L4".into())],
        };
        let keys = lookup_keys("prod", &quota, "us-central1", "GPUS", "GPUs", false);
        assert_eq!(
            needs.best_other(&keys, "ns/other", |_| true),
            Some((8, "ns/l4".into())),
            "another GPU family is another quota"
        );
    }

    #[test]
    fn a_quota_named_by_name_is_found_under_its_name() {
        let needs = Needs::default();
        let by_name: QuotaRequirement = serde_json::from_value(json!({
            "metadata": {"name": "named", "namespace": "ns"},
            "spec": {"accountRef": "prod", "aws": {"serviceCode": "ec2", "quotaName": "Spot"},
                     "regions": ["us-east-1"], "desiredValue": 700}
        }))
        .unwrap();
        needs.apply(&watcher::Event::Apply(by_name));
        assert_eq!(
            needs.best_other(&spot("us-east-1", false), "a/b", |_| true),
            Some((700, "ns/named".into()))
        );
        assert_eq!(needs.len(), 1);
    }

    #[test]
    fn capacity_objects_are_listed_by_name_and_never_ranked() {
        let needs = Needs::default();
        let capacity = |ns: &str, name: &str| -> QuotaRequirement {
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": ns},
                "spec": {"accountRef": "prod", "aws": {"serviceCode": "ec2", "quotaCode": "L-1"},
                         "regions": ["us-east-1"],
                         "capacity": [{"instanceType": "m5.2xlarge", "count": 200}]}
            }))
            .unwrap()
        };
        needs.apply(&watcher::Event::Apply(capacity("b", "spot")));
        needs.apply(&watcher::Event::Apply(capacity("a", "spot")));
        needs.apply(&watcher::Event::Apply(qr(
            "c",
            "floor",
            "L-1",
            &["us-east-1"],
            100,
        )));
        let keys = spot("us-east-1", false);
        assert_eq!(
            needs.capacity_others(&keys, "a/spot"),
            vec!["b/spot".to_string()]
        );
        assert_eq!(
            needs.capacity_others(&keys, "c/floor"),
            vec!["a/spot".to_string(), "b/spot".to_string()]
        );
        assert_eq!(
            needs.others(&keys, "a/spot"),
            vec!["b/spot".to_string(), "c/floor".to_string()],
            "others lists floors and capacities alike"
        );
        assert!(needs.others(&spot("eu-west-1", false), "a/spot").is_empty());
        assert_eq!(
            needs.best_other(&keys, "a/spot", |_| true),
            Some((100, "c/floor".into())),
            "a capacity has no value to rank"
        );
        // A capacity that becomes a desiredValue moves from one list to the other.
        needs.apply(&watcher::Event::Apply(qr(
            "b",
            "spot",
            "L-1",
            &["us-east-1"],
            50,
        )));
        assert_eq!(
            needs.capacity_others(&keys, "c/floor"),
            vec!["a/spot".to_string()]
        );
        needs.apply(&watcher::Event::Delete(capacity("a", "spot")));
        assert!(needs.capacity_others(&keys, "c/floor").is_empty());
    }

    #[test]
    fn objects_on_one_quota_share_its_keys_and_a_status_write_changes_nothing() {
        let needs = Needs::default();
        for i in 0..50 {
            needs.apply(&watcher::Event::Apply(qr(
                "a",
                &format!("o{i}"),
                "L-1",
                &["us-east-1"],
                100 + i,
            )));
        }
        // us-east-1 and the any-region key.
        assert_eq!(needs.distinct_keys(), 2);
        let mut written = qr("a", "o7", "L-1", &["us-east-1"], 107);
        written.status = Some(Default::default());
        needs.apply(&watcher::Event::Apply(written));
        assert_eq!(needs.len(), 50);
        assert_eq!(
            needs.best_other(&spot("us-east-1", false), "a/o49", |_| true),
            Some((148, "a/o48".into()))
        );
        // A value change refiles the object.
        needs.apply(&watcher::Event::Apply(qr(
            "a",
            "o7",
            "L-1",
            &["us-east-1"],
            900,
        )));
        assert_eq!(
            needs.best_other(&spot("us-east-1", false), "a/o49", |_| true),
            Some((900, "a/o7".into()))
        );
        assert_eq!(needs.distinct_keys(), 2);
    }

    #[test]
    fn an_objects_keys_share_one_copy_of_its_quota_and_dimensions_whatever_its_regions() {
        let regions: Vec<String> = (0..40).map(|i| format!("us-east-{i}")).collect();
        let obj: QuotaRequirement = serde_json::from_value(json!({
            "metadata": {"name": "wide", "namespace": "ns"},
            "spec": {"accountRef": "prod",
                     "gcp": {"service": "compute.googleapis.com", "quotaId": "GPUS",
                             "dimensions": {"gpu_family": "X".repeat(128)}},
                     "regions": regions, "desiredValue": 1}
        }))
        .unwrap();
        let keys = keys(&obj);
        assert_eq!(keys.len(), 41);
        assert!(keys.iter().all(|k| Arc::ptr_eq(&k.quota, &keys[0].quota)));
    }

    #[test]
    fn the_services_of_an_account_and_region_are_named_once_each() {
        let needs = Needs::default();
        let obj = |name: &str, account: &str, service: &str, region: &str| -> QuotaRequirement {
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "ns"},
                "spec": {"accountRef": account, "aws": {"serviceCode": service, "quotaCode": "L-1"},
                         "regions": [region], "desiredValue": 1}
            }))
            .unwrap()
        };
        needs.apply(&watcher::Event::Apply(obj("a", "prod", "ec2", "us-east-1")));
        needs.apply(&watcher::Event::Apply(obj("b", "prod", "ec2", "us-east-1")));
        needs.apply(&watcher::Event::Apply(obj("c", "prod", "ebs", "us-east-1")));
        needs.apply(&watcher::Event::Apply(obj("d", "prod", "elb", "eu-west-1")));
        needs.apply(&watcher::Event::Apply(obj(
            "e",
            "dev",
            "lambda",
            "us-east-1",
        )));
        assert_eq!(needs.services("prod", "us-east-1"), vec!["ebs", "ec2"]);
        assert_eq!(needs.services("prod", "eu-west-1"), vec!["elb"]);
        needs.apply(&watcher::Event::Delete(obj(
            "c",
            "prod",
            "ebs",
            "us-east-1",
        )));
        assert_eq!(needs.services("prod", "us-east-1"), vec!["ec2"]);
        assert!(needs.services("prod", "ap-south-1").is_empty());
    }

    #[test]
    fn headroom_objects_are_listed_for_their_peers_and_leave_with_their_headroom() {
        let needs = Needs::default();
        let with_headroom = |name: &str, floor: Option<i64>| -> QuotaRequirement {
            let mut spec = json!({"accountRef": "prod",
                "aws": {"serviceCode": "ec2", "quotaCode": "L-1"},
                "regions": ["us-east-1"], "headroom": {"percent": 20, "max": 1000}});
            if let Some(v) = floor {
                spec["desiredValue"] = json!(v);
            }
            serde_json::from_value(
                json!({"metadata": {"name": name, "namespace": "t"}, "spec": spec}),
            )
            .unwrap()
        };
        needs.apply(&watcher::Event::Apply(with_headroom("only", None)));
        needs.apply(&watcher::Event::Apply(with_headroom("floored", Some(50))));
        needs.apply(&watcher::Event::Apply(qr(
            "t",
            "plain",
            "L-1",
            &["us-east-1"],
            70,
        )));
        let keys = spot("us-east-1", false);
        assert_eq!(
            needs.headroom_others(&keys, "t/plain"),
            vec!["t/floored".to_string(), "t/only".to_string()]
        );
        assert_eq!(needs.headroom_others(&keys, "t/only"), vec!["t/floored"]);
        // The floor still ranks: a headroom-only object is a floor of 0.
        assert_eq!(
            needs.best_other(&keys, "t/plain", |_| true),
            Some((50, "t/floored".into()))
        );
        // Its headroom removed, an object is no longer listed; deleted, neither.
        needs.apply(&watcher::Event::Apply(qr(
            "t",
            "floored",
            "L-1",
            &["us-east-1"],
            50,
        )));
        assert_eq!(needs.headroom_others(&keys, "t/plain"), vec!["t/only"]);
        needs.apply(&watcher::Event::Delete(with_headroom("only", None)));
        assert!(needs.headroom_others(&keys, "t/plain").is_empty());
    }

    /// Random watch events on a few quotas and regions: whatever their order, the index answers
    /// as a scan of the objects that remain would (the largest eligible floor, every capacity
    /// and headroom object by name).
    #[test]
    fn the_index_answers_as_a_scan_of_the_live_objects_would() {
        use proptest::{prelude::*, test_runner::TestRunner};
        // (object, quota, region, floor or capacity, headroom, delete)
        let event = (
            0u8..8,
            0u8..2,
            0u8..2,
            prop::option::of(0i64..50),
            any::<bool>(),
            any::<bool>(),
        );
        let mut runner = TestRunner::new(ProptestConfig::with_cases(256));
        let cases = runner.config().cases;
        let result = runner.run(&prop::collection::vec(event, 1..40), |events| {
            let needs = Needs::default();
            let mut live: HashMap<String, QuotaRequirement> = HashMap::new();
            for (o, quota, region, floor, headroom, delete) in events {
                let obj = indexed_object(o, quota, region, floor, headroom);
                let name = object::key(&obj);
                if delete {
                    needs.apply(&watcher::Event::Delete(obj));
                    live.remove(&name);
                } else {
                    needs.apply(&watcher::Event::Apply(obj.clone()));
                    live.insert(name, obj);
                }
            }
            for quota in ["L-0", "L-1"] {
                for region in ["r-0", "r-1"] {
                    let keys = spot_of(quota, region);
                    let on = |o: &&QuotaRequirement| {
                        let aws = o.spec.aws.as_ref().unwrap();
                        aws.quota_code.as_deref() == Some(quota) && o.spec.regions[0] == region
                    };
                    let objects: Vec<&QuotaRequirement> = live.values().filter(on).collect();
                    let best = objects
                        .iter()
                        .filter(|o| o.spec.capacity.is_none())
                        .map(|o| (o.spec.desired_value.unwrap_or(0), object::key(o)))
                        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(&a.1)));
                    prop_assert_eq!(needs.best_other(&keys, "x/none", |_| true), best);
                    let mut capacity: Vec<String> = objects
                        .iter()
                        .filter(|o| o.spec.capacity.is_some())
                        .map(|o| object::key(o))
                        .collect();
                    capacity.sort();
                    prop_assert_eq!(needs.capacity_others(&keys, "x/none"), capacity);
                    let mut headroom: Vec<String> = objects
                        .iter()
                        .filter(|o| o.spec.headroom.is_some())
                        .map(|o| object::key(o))
                        .collect();
                    headroom.sort();
                    prop_assert_eq!(needs.headroom_others(&keys, "x/none"), headroom);
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
        println!("property the needs index answers as a scan: {cases} cases passed");
    }

    fn indexed_object(
        o: u8,
        quota: u8,
        region: u8,
        floor: Option<i64>,
        headroom: bool,
    ) -> QuotaRequirement {
        let mut spec = json!({"accountRef": "prod",
            "aws": {"serviceCode": "ec2", "quotaCode": format!("L-{quota}")},
            "regions": [format!("r-{region}")]});
        match floor {
            Some(v) => spec["desiredValue"] = json!(v),
            None => spec["capacity"] = json!([{"instanceType": "m5.large", "count": 1}]),
        }
        if headroom {
            spec["headroom"] = json!({"percent": 10, "max": 100});
        }
        serde_json::from_value(
            json!({"metadata": {"name": format!("o{o}"), "namespace": "ns"}, "spec": spec}),
        )
        .unwrap()
    }

    fn spot_of(code: &str, region: &str) -> Vec<NeedKey> {
        let quota = QuotaRef::Aws {
            service_code: "ec2".into(),
            quota_code: Some(code.into()),
            quota_name: None,
        };
        lookup_keys("prod", &quota, region, code, "Spot", false)
    }

    #[test]
    fn ties_go_to_the_first_name() {
        let needs = Needs::default();
        needs.apply(&watcher::Event::Apply(qr(
            "b",
            "y",
            "L-1",
            &["us-east-1"],
            500,
        )));
        needs.apply(&watcher::Event::Apply(qr(
            "a",
            "x",
            "L-1",
            &["us-east-1"],
            500,
        )));
        assert_eq!(
            needs.best_other(&spot("us-east-1", false), "z/z", |_| true),
            Some((500, "a/x".into()))
        );
    }
}
