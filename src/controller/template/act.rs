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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::{api::template::IN_TEMPLATE, cloud::TemplateEntry};

    /// Refuses puts of `refused` with `error`, and every delete.
    struct Refusing {
        refused: &'static str,
        error: CloudError,
        calls: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl QuotaTemplate for Refusing {
        async fn associated(&self) -> Result<bool, CloudError> {
            Ok(true)
        }
        async fn entries(&self) -> Result<Vec<TemplateEntry>, CloudError> {
            Ok(vec![])
        }
        async fn put(&self, entry: &TemplateEntry) -> Result<(), CloudError> {
            self.calls
                .lock()
                .unwrap()
                .push(format!("put {}", entry.quota_code));
            if entry.quota_code == self.refused {
                return Err(self.error.clone());
            }
            Ok(())
        }
        async fn delete(&self, _: &str, quota: &str, _: &str) -> Result<(), CloudError> {
            self.calls.lock().unwrap().push(format!("delete {quota}"));
            Err(CloudError::new(
                ErrorKind::AccessDenied,
                "AccessDeniedException",
                "no",
            ))
        }
    }

    fn put(code: &str) -> TemplateEntry {
        TemplateEntry {
            service_code: "ec2".into(),
            quota_code: code.into(),
            region: "us-east-1".into(),
            value: 10.0,
        }
    }

    fn shown(code: &str) -> TemplateEntryStatus {
        TemplateEntryStatus {
            service_code: "ec2".into(),
            quota_code: code.into(),
            region: "us-east-1".into(),
            value: 10,
            state: IN_TEMPLATE.into(),
            driven_by: Some("a/x".into()),
            message: None,
        }
    }

    async fn applied(error: CloudError) -> (Vec<TemplateEntryStatus>, Vec<String>) {
        let template = Refusing {
            refused: "B",
            error,
            calls: Mutex::default(),
        };
        let plan = Plan {
            puts: vec![put("A"), put("B")],
            deletes: vec![("ec2".into(), "OLD".into(), "us-east-1".into())],
            entries: vec![shown("A"), shown("B")],
        };
        let entries = apply(&template, plan).await;
        (entries, template.calls.into_inner().unwrap())
    }

    #[tokio::test]
    async fn deletions_go_first_and_a_refused_one_stays_listed_as_the_operators() {
        let denied = CloudError::new(ErrorKind::Other, "IllegalArgumentException", "bad");
        let (entries, calls) = applied(denied).await;
        assert_eq!(calls, ["delete OLD", "put A", "put B"]);
        let old = entries.iter().find(|e| e.quota_code == "OLD").unwrap();
        assert!(old.managed() && old.state == ENTRY_ERROR, "{old:?}");
        assert!(
            old.message
                .as_deref()
                .unwrap()
                .contains("AccessDeniedException")
        );
    }

    #[tokio::test]
    async fn a_refused_put_shows_awss_answer_and_a_full_template_is_blocked() {
        let bad = CloudError::new(
            ErrorKind::InvalidArgument,
            "IllegalArgumentException",
            "bad",
        );
        let (entries, _) = applied(bad).await;
        let b = entries.iter().find(|e| e.quota_code == "B").unwrap();
        assert_eq!(b.state, ENTRY_ERROR);
        assert!(
            b.message
                .as_deref()
                .unwrap()
                .contains("IllegalArgumentException: bad")
        );
        let a = entries.iter().find(|e| e.quota_code == "A").unwrap();
        assert_eq!(a.state, IN_TEMPLATE);

        let full = CloudError::new(ErrorKind::LimitExceeded, "QuotaExceededException", "full");
        let (entries, _) = applied(full).await;
        let b = entries.iter().find(|e| e.quota_code == "B").unwrap();
        assert_eq!(b.state, ENTRY_BLOCKED);
    }
}
