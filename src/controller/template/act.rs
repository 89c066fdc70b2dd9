//! Makes the plan's writes, deletions first (they free room under AWS's limit), and turns each
//! refusal into its entry's state with what AWS answered.

use super::decide::{Plan, key};
use crate::{
    api::{
        TemplateEntryStatus,
        template::{ENTRY_BLOCKED, ENTRY_ERROR},
    },
    cloud::{CloudError, ErrorKind, QuotaTemplate},
};

/// The entries as they stand after the writes. A deletion that failed keeps its entry (as
/// `Error`), so the next pass still knows the operator wrote it.
pub async fn apply(template: &dyn QuotaTemplate, plan: Plan) -> Vec<TemplateEntryStatus> {
    let mut entries = plan.entries;
    for (service, quota, region) in &plan.deletes {
        if let Err(e) = template.delete(service, quota, region).await {
            entries.push(TemplateEntryStatus {
                service_code: service.clone(),
                quota_code: quota.clone(),
                region: region.clone(),
                value: 0,
                state: ENTRY_ERROR.into(),
                driven_by: None,
                message: Some(format!(
                    "no QuotaRequirement declares it any more, but AWS refused to delete it: {e}"
                )),
            });
        }
    }
    for put in &plan.puts {
        let Err(e) = template.put(put).await else {
            continue;
        };
        if let Some(entry) = entries.iter_mut().find(|s| s.key() == as_ref(&key(put))) {
            entry.state = state_of(&e).into();
            entry.message = Some(format!("AWS refused the template entry: {e}"));
        }
    }
    entries.sort_by(|a, b| a.key().cmp(&b.key()));
    entries
}

/// AWS's QuotaExceededException on a put is the template's size limit: nothing retries it
/// until an entry leaves.
fn state_of(e: &CloudError) -> &'static str {
    match e.kind {
        ErrorKind::LimitExceeded => ENTRY_BLOCKED,
        _ => ENTRY_ERROR,
    }
}

fn as_ref(k: &(String, String, String)) -> (&str, &str, &str) {
    (&k.0, &k.1, &k.2)
}
