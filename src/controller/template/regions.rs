//! A QuotaRequirement aimed at a template account: each region shows its entry in the
//! organization's template as the account's `status.template` last showed it. Nothing is read
//! from or filed in the cloud here; the template writer (`template::run`) does that, and its
//! status change reconciles the object again.

use crate::{
    api::{
        CloudAccount, QuotaRequirement, TargetState, TargetStatus, TemplateEntryStatus,
        template::{ENTRY_BLOCKED, IN_TEMPLATE},
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
/// Current), Queued until the template writer has put it.
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
        Some(e) if e.state != IN_TEMPLATE => {
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
