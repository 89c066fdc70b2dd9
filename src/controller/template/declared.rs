//! What the QuotaRequirements aimed at a template account declare: one value per (service,
//! quota, region), the largest eligible need, chosen by the same aggregation as a real
//! account's requests (`aggregate::effective`).

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use crate::{
    api::{CloudAccount, QuotaRequirement},
    controller::{
        aggregate::{self, Contribution},
        object, resolve,
    },
};

/// (service code, quota code, region).
pub type Key = (String, String, String);

/// The value an entry must hold and the object whose need sets it.
#[derive(Clone, Debug, PartialEq)]
pub struct Declared {
    pub value: i64,
    pub driven_by: String,
}

/// Why an object's need cannot be a template entry (None: it can). Spec-only, so the same
/// answer on the object and in the account's count.
pub fn unfit(obj: &QuotaRequirement) -> Option<&'static str> {
    let spec = &obj.spec;
    let aws = spec.aws.as_ref()?;
    if aws.quota_code.is_none() {
        return Some(
            "a template entry names its quota by code: set spec.aws.quotaCode (the template \
             API takes no quota names)",
        );
    }
    if spec.capacity.is_some() || spec.headroom.is_some() {
        return Some(
            "a template entry is a number: spec.capacity and spec.headroom need the cloud's \
             catalog and usage, which an account not yet created does not have; set \
             spec.desiredValue",
        );
    }
    spec.desired_value
        .is_none()
        .then_some("a template entry needs spec.desiredValue")
}

/// Every entry the objects declare. `allowed(obj)` says whether the object may use the account
/// (its namespace): an object that may not cannot push an entry up, as everywhere else.
pub fn entries<'a>(
    account: &CloudAccount,
    objects: impl IntoIterator<Item = &'a QuotaRequirement>,
    allowed: impl Fn(&QuotaRequirement) -> bool,
) -> BTreeMap<Key, Declared> {
    let name = kube::ResourceExt::name_any(account);
    let mut by_key: BTreeMap<Key, Vec<Contribution>> = BTreeMap::new();
    for obj in objects {
        if obj.spec.account_ref != name || unfit(obj).is_some() || !allowed(obj) {
            continue;
        }
        let (Some(aws), Some(value)) = (obj.spec.aws.as_ref(), obj.spec.desired_value) else {
            continue;
        };
        let code = aws.quota_code.clone().unwrap_or_default();
        let regions: BTreeSet<&String> = obj.spec.regions.iter().collect();
        for region in regions {
            let key = (aws.service_code.clone(), code.clone(), region.clone());
            by_key.entry(key).or_default().push(Contribution {
                object: object::key(obj),
                value: aggregate::own_value(value, None),
                eligible: true,
                since: Timestamp::UNIX_EPOCH,
            });
        }
    }
    by_key
        .into_iter()
        .filter_map(|(key, all)| {
            let (first, rest) = all.split_first()?;
            let e = aggregate::effective(first, rest);
            Some((
                key,
                Declared {
                    value: e.value,
                    driven_by: e.driven_by,
                },
            ))
        })
        .collect()
}

/// Whether the object's namespace may use the account, as the object's own reconcile judges it.
pub fn allowed_by(
    account: &CloudAccount,
    labels: impl Fn(&str) -> Option<BTreeMap<String, String>>,
) -> impl Fn(&QuotaRequirement) -> bool {
    move |obj| {
        let ns = kube::ResourceExt::namespace(obj).unwrap_or_default();
        resolve::check_account(&obj.spec, &ns, labels(&ns).as_ref(), Some(account)).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn qr(ns: &str, name: &str, account: &str, code: &str, value: i64) -> QuotaRequirement {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "accountRef": account,
                "aws": {"serviceCode": "ec2", "quotaCode": code},
                "regions": ["us-east-1", "eu-west-1"],
                "desiredValue": value
            }
        }))
        .unwrap()
    }

    fn org() -> CloudAccount {
        serde_json::from_value(json!({
            "metadata": {"name": "org"},
            "spec": {"aws": {"accountId": "111111111111", "quotaTemplate": true}}
        }))
        .unwrap()
    }

    #[test]
    fn two_teams_on_one_quota_make_one_entry_per_region_at_the_larger_need() {
        let objects = [
            qr("a", "x", "org", "L-1", 2000),
            qr("b", "y", "org", "L-1", 3000),
            qr("c", "z", "org", "L-1", 9000),
            qr("d", "w", "other", "L-1", 9000),
            qr("a", "v", "org", "L-2", 5),
        ];
        let allowed = |obj: &QuotaRequirement| obj.metadata.namespace.as_deref() != Some("c");
        let got = entries(&org(), &objects, allowed);
        let k =
            |code: &str, region: &str| ("ec2".to_string(), code.to_string(), region.to_string());
        assert_eq!(got.len(), 4);
        assert_eq!(
            got[&k("L-1", "us-east-1")],
            Declared {
                value: 3000,
                driven_by: "b/y".into()
            },
            "the namespace not allowed cannot push the entry up"
        );
        assert_eq!(got[&k("L-1", "eu-west-1")].value, 3000);
        assert_eq!(got[&k("L-2", "us-east-1")].value, 5);
    }
}
