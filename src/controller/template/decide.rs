//! What the template must become: which entries to put and delete, and each entry's state,
//! from what is declared, what the template holds and which entries the operator wrote. Pure.

use std::collections::{BTreeMap, BTreeSet};

use super::declared::{Declared, Key};
use crate::{
    api::{
        Guardrails, TemplateEntryStatus,
        template::{ENTRY_BLOCKED, IN_TEMPLATE, TEMPLATE_ENTRY_LIMIT, UNMANAGED},
    },
    cloud::TemplateEntry,
};

/// The writes to make, and every entry as status shows it before they are made.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    pub puts: Vec<TemplateEntry>,
    pub deletes: Vec<Key>,
    pub entries: Vec<TemplateEntryStatus>,
}

/// `managed`: the entries the operator wrote (the last status's), the only ones it deletes;
/// an entry no object declares and the operator did not write is `Unmanaged` and stays.
/// Entries already in the template keep their place under AWS's limit; new ones take what is
/// left in key order, and those that do not fit are `Blocked` naming the limit.
pub fn plan(
    declared: &BTreeMap<Key, Declared>,
    current: &[TemplateEntry],
    managed: &BTreeSet<Key>,
    guardrails: Option<&Guardrails>,
) -> Plan {
    let current: BTreeMap<Key, f64> = current.iter().map(|e| (key(e), e.value)).collect();
    let mut plan = undeclared(declared, &current, managed);
    let mut room = TEMPLATE_ENTRY_LIMIT.saturating_sub(plan.entries.len());
    // In the template first: an entry already there never loses its place to a new one.
    let (present, new): (Vec<_>, Vec<_>) =
        declared.iter().partition(|(k, _)| current.contains_key(*k));
    for (k, d) in present.into_iter().chain(new) {
        let driven = Some(d.driven_by.clone());
        if let Some(max) = guardrails.and_then(|g| g.max_values.get(&k.1))
            && d.value > *max
        {
            let why = format!(
                "{} asks {} but spec.guardrails.maxValues allows at most {max}",
                d.driven_by, d.value
            );
            plan.entries
                .push(status(k, d.value, ENTRY_BLOCKED, driven, Some(why)));
            continue;
        }
        if room == 0 {
            let why = format!(
                "the template is full: AWS allows at most {TEMPLATE_ENTRY_LIMIT} quota increase \
                 requests in an organization's template; remove a QuotaRequirement (or an \
                 entry made outside the operator) to make room"
            );
            plan.entries
                .push(status(k, d.value, ENTRY_BLOCKED, driven, Some(why)));
            continue;
        }
        room -= 1;
        if current.get(k) != Some(&(d.value as f64)) {
            plan.puts.push(TemplateEntry {
                service_code: k.0.clone(),
                quota_code: k.1.clone(),
                region: k.2.clone(),
                value: d.value as f64,
            });
        }
        plan.entries
            .push(status(k, d.value, IN_TEMPLATE, driven, None));
    }
    plan.entries.sort_by(|a, b| a.key().cmp(&b.key()));
    plan
}

/// What no object declares: deleted when the operator wrote it, else shown `Unmanaged`.
fn undeclared(
    declared: &BTreeMap<Key, Declared>,
    current: &BTreeMap<Key, f64>,
    managed: &BTreeSet<Key>,
) -> Plan {
    let mut plan = Plan::default();
    for (k, value) in current {
        if declared.contains_key(k) {
            continue;
        }
        if managed.contains(k) {
            plan.deletes.push(k.clone());
        } else {
            plan.entries
                .push(status(k, *value as i64, UNMANAGED, None, None));
        }
    }
    plan
}

pub fn key(e: &TemplateEntry) -> Key {
    (
        e.service_code.clone(),
        e.quota_code.clone(),
        e.region.clone(),
    )
}

fn status(
    k: &Key,
    value: i64,
    state: &str,
    driven_by: Option<String>,
    message: Option<String>,
) -> TemplateEntryStatus {
    TemplateEntryStatus {
        service_code: k.0.clone(),
        quota_code: k.1.clone(),
        region: k.2.clone(),
        value,
        state: state.into(),
        driven_by,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: &str, region: &str) -> Key {
        ("ec2".into(), code.into(), region.into())
    }

    fn d(value: i64, by: &str) -> Declared {
        Declared {
            value,
            driven_by: by.into(),
        }
    }

    fn entry(code: &str, region: &str, value: f64) -> TemplateEntry {
        TemplateEntry {
            service_code: "ec2".into(),
            quota_code: code.into(),
            region: region.into(),
            value,
        }
    }

    fn states(p: &Plan) -> Vec<(&str, &str)> {
        p.entries
            .iter()
            .map(|e| (e.quota_code.as_str(), e.state.as_str()))
            .collect()
    }

    #[test]
    fn a_missing_entry_is_put_and_an_equal_one_left_alone() {
        let declared = [
            (k("A", "us-east-1"), d(2000, "a/x")),
            (k("B", "us-east-1"), d(5, "b/y")),
        ];
        let p = plan(
            &declared.into_iter().collect(),
            &[entry("B", "us-east-1", 5.0)],
            &BTreeSet::new(),
            None,
        );
        assert_eq!(p.puts, vec![entry("A", "us-east-1", 2000.0)]);
        assert!(p.deletes.is_empty());
        assert_eq!(states(&p), vec![("A", IN_TEMPLATE), ("B", IN_TEMPLATE)]);
        assert_eq!(p.entries[0].driven_by.as_deref(), Some("a/x"));
    }

    #[test]
    fn a_changed_value_is_put_again() {
        let declared = [(k("A", "us-east-1"), d(3000, "a/x"))]
            .into_iter()
            .collect();
        let managed = [k("A", "us-east-1")].into_iter().collect();
        let p = plan(
            &declared,
            &[entry("A", "us-east-1", 2000.0)],
            &managed,
            None,
        );
        assert_eq!(p.puts, vec![entry("A", "us-east-1", 3000.0)]);
    }

    #[test]
    fn only_entries_the_operator_wrote_are_deleted_and_others_shown_unmanaged() {
        let managed = [k("A", "us-east-1")].into_iter().collect();
        let current = [
            entry("A", "us-east-1", 2000.0),
            entry("Z", "eu-west-1", 7.0),
        ];
        let p = plan(&BTreeMap::new(), &current, &managed, None);
        assert_eq!(p.deletes, vec![k("A", "us-east-1")]);
        assert!(p.puts.is_empty());
        assert_eq!(states(&p), vec![("Z", UNMANAGED)]);
        assert_eq!(p.entries[0].value, 7);
    }

    #[test]
    fn entries_beyond_awss_limit_are_blocked_naming_it_and_unmanaged_ones_count() {
        let current = [entry("Z", "eu-west-1", 7.0)];
        let declared: BTreeMap<Key, Declared> = (0..TEMPLATE_ENTRY_LIMIT)
            .map(|i| (k(&format!("Q{i:02}"), "us-east-1"), d(10, "a/x")))
            .collect();
        let p = plan(&declared, &current, &BTreeSet::new(), None);
        assert_eq!(p.puts.len(), TEMPLATE_ENTRY_LIMIT - 1);
        let blocked: Vec<_> = p
            .entries
            .iter()
            .filter(|e| e.state == ENTRY_BLOCKED)
            .collect();
        assert_eq!(blocked.len(), 1);
        assert_eq!(
            blocked[0].quota_code,
            format!("Q{:02}", TEMPLATE_ENTRY_LIMIT - 1)
        );
        let message = blocked[0].message.as_deref().unwrap();
        assert!(message.contains("at most 10"), "{message}");
    }

    #[test]
    fn an_entry_already_in_the_template_keeps_its_place_over_a_new_one() {
        let mut declared: BTreeMap<Key, Declared> = (0..TEMPLATE_ENTRY_LIMIT)
            .map(|i| (k(&format!("Q{i:02}"), "us-east-1"), d(10, "a/x")))
            .collect();
        declared.insert(k("ZZ", "us-east-1"), d(10, "a/x"));
        let current: Vec<_> = (1..TEMPLATE_ENTRY_LIMIT)
            .map(|i| entry(&format!("Q{i:02}"), "us-east-1", 10.0))
            .chain([entry("ZZ", "us-east-1", 10.0)])
            .collect();
        let p = plan(&declared, &current, &BTreeSet::new(), None);
        let blocked: Vec<_> = p
            .entries
            .iter()
            .filter(|e| e.state == ENTRY_BLOCKED)
            .collect();
        assert_eq!(blocked.len(), 1);
        assert_eq!(blocked[0].quota_code, "Q00", "the new one waits");
        assert!(p.puts.is_empty());
    }

    #[test]
    fn a_value_above_the_guardrail_is_blocked_and_not_written() {
        let declared = [(k("A", "us-east-1"), d(3000, "a/x"))]
            .into_iter()
            .collect();
        let g = Guardrails {
            max_values: [("A".to_string(), 1000)].into(),
            ..Default::default()
        };
        let p = plan(&declared, &[], &BTreeSet::new(), Some(&g));
        assert!(p.puts.is_empty());
        assert_eq!(states(&p), vec![("A", ENTRY_BLOCKED)]);
        assert!(
            p.entries[0]
                .message
                .as_deref()
                .unwrap()
                .contains("maxValues")
        );
    }
}
