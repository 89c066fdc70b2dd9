//! A QuotaRequirement aimed at a template account: each region shows its entry in the
//! organization's template as the account's `status.template` last showed it. Nothing is read
//! from or filed in the cloud here; the template writer (`template::run`) does that, and its
//! status change reconciles the object again.

use crate::{
    api::{
        CloudAccount, QuotaRequirement, TargetState, TargetStatus, TemplateEntryStatus,
        template::{ENTRY_BLOCKED, ENTRY_ERROR, IN_TEMPLATE},
    },
    cloud::QuotaRef,
    controller::report::{Regions, TargetResult},
};

use super::declared;

/// Every region of the object, from the template's status.
pub fn regions(obj: &QuotaRequirement, account: &CloudAccount, quota: &QuotaRef) -> Regions {
    let template = account.status.as_ref().and_then(|s| s.template.as_ref());
    let results = obj
        .spec
        .regions
        .iter()
        .map(|region| {
            let (state, message, entry) = match declared::unfit(obj) {
                Some(why) => (TargetState::Blocked, why.to_string(), None),
                None => {
                    let entry = template.and_then(|t| find(&t.entries, quota, region));
                    let (state, message) = shown(obj, entry, template);
                    (state, message, entry)
                }
            };
            result(obj, region, quota, state, message, entry)
        })
        .collect();
    Regions::of(obj, account, quota, results)
}

fn find<'a>(
    entries: &'a [TemplateEntryStatus],
    quota: &QuotaRef,
    region: &str,
) -> Option<&'a TemplateEntryStatus> {
    let code = quota.direct_id()?;
    entries
        .iter()
        .find(|e| e.key() == (quota.service(), code, region))
}

/// The region's state: Satisfied once the entry holds at least this object's need (kstatus
/// Current), Queued until the template writer has put it (an entry made elsewhere is not yet
/// this object's).
fn shown(
    obj: &QuotaRequirement,
    entry: Option<&TemplateEntryStatus>,
    template: Option<&crate::api::TemplateStatus>,
) -> (TargetState, String) {
    let need = obj.spec.desired_value.unwrap_or_default();
    let unassociated = template
        .and_then(|t| t.message.as_deref())
        .map(|m| format!("; {m}"))
        .unwrap_or_default();
    match entry {
        Some(e) if e.state == IN_TEMPLATE && e.value >= need => (
            TargetState::Satisfied,
            format!(
                "in the organization's template at {} (new accounts start with it){unassociated}",
                e.value
            ),
        ),
        Some(e) if e.state == ENTRY_BLOCKED => {
            (TargetState::Blocked, e.message.clone().unwrap_or_default())
        }
        Some(e) if e.state == ENTRY_ERROR => {
            (TargetState::Error, e.message.clone().unwrap_or_default())
        }
        _ if template.is_some_and(|t| t.associated.is_none()) => (
            TargetState::Error,
            template.and_then(|t| t.message.clone()).unwrap_or_default(),
        ),
        _ => (
            TargetState::Queued,
            format!("waiting for the organization's template to hold {need}"),
        ),
    }
}

fn result(
    obj: &QuotaRequirement,
    region: &str,
    quota: &QuotaRef,
    state: TargetState,
    message: String,
    entry: Option<&TemplateEntryStatus>,
) -> TargetResult {
    TargetResult {
        status: TargetStatus {
            region: region.to_string(),
            current_value: entry.map(|e| e.value as f64),
            desired_value: obj.spec.desired_value,
            driven_by: entry.and_then(|e| e.driven_by.clone()),
            state,
            request: None,
            capacity: None,
            usage: None,
            headroom: None,
            message: Some(message),
        },
        note: None,
        quota_id: quota.direct_id().map(str::to_string),
        global: false,
        // Nothing is filed here: no filing intent to keep.
        scope: Some("template".into()),
        keep_intent: false,
        wake_at: None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::{TemplateStatus, template::UNMANAGED};

    fn qr(aws: serde_json::Value, extra: serde_json::Value) -> QuotaRequirement {
        let mut spec =
            json!({"accountRef": "org", "aws": aws, "regions": ["us-east-1", "eu-west-1"]});
        spec.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::from_value(json!({
            "metadata": {"name": "x", "namespace": "a"},
            "spec": spec
        }))
        .unwrap()
    }

    fn spot(value: i64) -> QuotaRequirement {
        qr(
            json!({"serviceCode": "ec2", "quotaCode": "L-34B43A08"}),
            json!({"desiredValue": value}),
        )
    }

    fn account(template: Option<TemplateStatus>) -> CloudAccount {
        let mut a: CloudAccount = serde_json::from_value(json!({
            "metadata": {"name": "org"},
            "spec": {"aws": {"accountId": "111111111111", "quotaTemplate": true}}
        }))
        .unwrap();
        a.status = Some(crate::api::CloudAccountStatus {
            template,
            ..Default::default()
        });
        a
    }

    fn entry(state: &str, value: i64, message: Option<&str>) -> TemplateEntryStatus {
        TemplateEntryStatus {
            service_code: "ec2".into(),
            quota_code: "L-34B43A08".into(),
            region: "us-east-1".into(),
            value,
            state: state.into(),
            driven_by: Some("b/y".into()),
            message: message.map(str::to_string),
        }
    }

    fn states(
        obj: &QuotaRequirement,
        template: Option<TemplateStatus>,
    ) -> Vec<(TargetState, String)> {
        let quota = QuotaRef::from_spec(&obj.spec).unwrap();
        regions(obj, &account(template), &quota)
            .targets
            .into_iter()
            .map(|t| (t.state, t.message.unwrap_or_default()))
            .collect()
    }

    fn template(entries: Vec<TemplateEntryStatus>, associated: bool) -> Option<TemplateStatus> {
        Some(TemplateStatus {
            associated: Some(associated),
            message: crate::controller::template::report::association_message(associated),
            entries,
        })
    }

    #[test]
    fn a_region_is_satisfied_once_the_entry_holds_its_need_and_queued_before() {
        let t = template(vec![entry(IN_TEMPLATE, 3000, None)], true);
        let s = states(&spot(2000), t.clone());
        assert_eq!(s[0].0, TargetState::Satisfied);
        assert!(
            s[0].1
                .contains("in the organization's template at 3000 (new accounts"),
            "{}",
            s[0].1
        );
        // No entry for eu-west-1 yet.
        assert_eq!(s[1].0, TargetState::Queued);
        assert_eq!(states(&spot(4000), t)[0].0, TargetState::Queued);
    }

    #[test]
    fn blocked_and_refused_entries_and_an_unreadable_template_show_why() {
        let t = template(
            vec![entry(ENTRY_BLOCKED, 3000, Some("the template is full"))],
            true,
        );
        assert_eq!(
            states(&spot(2000), t)[0],
            (TargetState::Blocked, "the template is full".into())
        );
        let t = template(vec![entry(ENTRY_ERROR, 3000, Some("AWS refused"))], true);
        assert_eq!(states(&spot(2000), t)[0].0, TargetState::Error);
        let unreadable = Some(TemplateStatus {
            associated: None,
            message: Some(
                "ListServiceQuotaIncreaseRequestsInTemplate: AccessDeniedException".into(),
            ),
            entries: vec![],
        });
        let s = states(&spot(2000), unreadable);
        assert_eq!(s[0].0, TargetState::Error);
        assert!(s[0].1.contains("AccessDeniedException"));
        // An entry made elsewhere does not count as this object's.
        let t = template(vec![entry(UNMANAGED, 3000, None)], true);
        assert_eq!(states(&spot(2000), t)[0].0, TargetState::Queued);
    }

    #[test]
    fn an_unassociated_template_is_named_on_a_satisfied_region() {
        let t = template(vec![entry(IN_TEMPLATE, 3000, None)], false);
        let s = states(&spot(2000), t);
        assert_eq!(s[0].0, TargetState::Satisfied);
        assert!(s[0].1.contains("not associated"), "{}", s[0].1);
    }

    #[test]
    fn specs_a_template_cannot_hold_are_blocked_saying_what_to_set() {
        let by_name = qr(
            json!({"serviceCode": "ec2", "quotaName": "All Standard Spot Instance Requests"}),
            json!({"desiredValue": 10}),
        );
        let s = states(&by_name, None);
        assert_eq!(s[0].0, TargetState::Blocked);
        assert!(s[0].1.contains("spec.aws.quotaCode"), "{}", s[0].1);
        let headroom = qr(
            json!({"serviceCode": "ec2", "quotaCode": "L-34B43A08"}),
            json!({"headroom": {"percent": 20, "max": 100}}),
        );
        let s = states(&headroom, None);
        assert_eq!(s[0].0, TargetState::Blocked);
        assert!(s[0].1.contains("spec.desiredValue"), "{}", s[0].1);
    }
}
