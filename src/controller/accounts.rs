//! CloudAccount status: whether the operator can act in the account. Building an account's
//! provider is where credentials are loaded and (AWS) STS says which account they reach, so its
//! outcome is what `kubectl get cloudaccounts` shows.

use std::{sync::Arc, time::Duration};

use kube::{
    Api, ResourceExt,
    api::{Patch, PatchParams},
    runtime::controller::Action,
};
use serde_json::json;

use super::{context::Error, decide::outcome::AccountFailure, writes::FIELD_MANAGER};
use crate::{
    api::{
        AutoAdjusterStatus, CloudAccount, CloudAccountStatus,
        conditions::{self, Desired, READY, STALLED},
        reasons,
    },
    cloud::{AutoAdjuster, CloudError, ProviderFactory},
};

pub struct AccountContext {
    pub client: kube::Client,
    pub providers: Arc<dyn ProviderFactory>,
    pub resync: Duration,
    pub retry: Duration,
}

/// What the status should say after trying the account's provider. Pure, so it is unit-tested.
pub fn desired(account: &CloudAccount, built: &Result<(), CloudError>) -> Vec<Desired> {
    let id = account.cloud_id();
    let (ready, stalled) = match built {
        Ok(()) if account.spec.aws.is_some() => (
            Desired {
                type_: READY,
                status: true,
                reason: reasons::VERIFIED.into(),
                message: format!("STS confirms the credentials act in account {id}"),
            },
            None,
        ),
        Ok(()) => (
            Desired {
                type_: READY,
                status: true,
                reason: reasons::CREDENTIALS_LOADED.into(),
                message: format!("credentials for project {id} loaded"),
            },
            None,
        ),
        Err(e) => {
            let failure = AccountFailure::of(e);
            let ready = Desired {
                type_: READY,
                status: false,
                reason: failure.reason.into(),
                message: e.to_string(),
            };
            (ready.clone(), failure.terminal.then_some(ready))
        }
    };
    let stalled = match stalled {
        Some(r) => Desired {
            type_: STALLED,
            status: true,
            ..r
        },
        None => Desired {
            type_: STALLED,
            status: false,
            reason: reasons::NOT_STALLED.into(),
            message: "nothing waits for a spec change".into(),
        },
    };
    vec![ready, stalled]
}

pub async fn reconcile(
    account: Arc<CloudAccount>,
    ctx: Arc<AccountContext>,
) -> Result<Action, Error> {
    let provider = ctx.providers.provider(&account).await;
    let old = account.status.clone().unwrap_or_default();
    let auto_adjuster = match &provider {
        Ok(p) => Some(auto_adjuster(
            p.auto_adjuster().await,
            old.auto_adjuster.as_ref(),
        )),
        Err(_) => old.auto_adjuster.clone(),
    };
    let built = provider.map(|_| ());
    let generation = account.metadata.generation;
    let now = super::status::time(jiff::Timestamp::now());
    let status = CloudAccountStatus {
        observed_generation: generation,
        conditions: conditions::merge(&old.conditions, desired(&account, &built), generation, &now),
        auto_adjuster,
        // Written by the template writer (`template/`), under its own field manager.
        template: None,
    };
    let written = account.status.clone().map(|s| CloudAccountStatus {
        template: None,
        ..s
    });
    if written.as_ref() != Some(&status) {
        let api: Api<CloudAccount> = Api::all(ctx.client.clone());
        let patch = json!({
            "apiVersion": "quota-operator.dev/v1alpha1",
            "kind": "CloudAccount",
            "status": status,
        });
        api.patch_status(
            &account.name_any(),
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await?;
        tracing::info!(account = %account.name_any(), ready = built.is_ok(), "account status updated");
    }
    // What waits for an admin is looked at again at the resync pace, like a healthy account.
    let slow = match &built {
        Ok(()) => true,
        Err(e) => AccountFailure::of(e).terminal,
    };
    Ok(Action::requeue(if slow { ctx.resync } else { ctx.retry }))
}

/// The auto-adjuster as status shows it. The time it was read moves only when what was read
/// changes, so an unchanged setting writes no status.
pub fn auto_adjuster(
    read: Result<AutoAdjuster, CloudError>,
    old: Option<&AutoAdjusterStatus>,
) -> AutoAdjusterStatus {
    let new = match read {
        Ok(a) => AutoAdjusterStatus {
            name: a.origin.as_str().into(),
            setting: Some(a.setting),
            adjusts: Some(a.adjusts),
            details: a.details,
            read_at: None,
            unknown: None,
        },
        Err(e) => AutoAdjusterStatus {
            name: "the cloud's auto-adjuster".into(),
            unknown: Some(format!("{}: {}", e.code, e.message)),
            ..AutoAdjusterStatus::default()
        },
    };
    let read_at = match old {
        Some(o)
            if AutoAdjusterStatus {
                read_at: None,
                ..o.clone()
            } == new =>
        {
            o.read_at.clone()
        }
        _ => Some(super::status::time(jiff::Timestamp::now())),
    };
    AutoAdjusterStatus { read_at, ..new }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::ErrorKind;

    fn aws() -> CloudAccount {
        serde_json::from_value(json!({
            "metadata": {"name": "prod"},
            "spec": {"aws": {"accountId": "111111111111"}}
        }))
        .unwrap()
    }

    #[test]
    fn a_verified_account_is_ready_and_a_wrong_one_stalls_naming_both() {
        let ok = desired(&aws(), &Ok(()));
        assert_eq!((ok[0].status, ok[0].reason.as_str()), (true, "Verified"));
        assert!(!ok[1].status);
        let mismatch = CloudError::new(
            ErrorKind::AccountMismatch,
            "AccountMismatch",
            "spec.aws.accountId is 111111111111 but STS says 222222222222",
        );
        let bad = desired(&aws(), &Err(mismatch));
        assert_eq!(
            (bad[0].status, bad[0].reason.as_str()),
            (false, "AccountMismatch")
        );
        assert!(bad[0].message.contains("222222222222"));
        assert_eq!(
            (bad[1].status, bad[1].reason.as_str()),
            (true, "AccountMismatch")
        );
    }

    #[test]
    fn the_auto_adjuster_shows_what_the_cloud_says_and_keeps_its_read_time_while_unchanged() {
        let read = || {
            Ok(AutoAdjuster {
                origin: crate::cloud::Origin::AwsAutomaticManagement,
                setting: "NotifyAndAdjust".into(),
                adjusts: true,
                details: vec!["excluded: ec2/L-1216C47A".into()],
            })
        };
        let first = auto_adjuster(read(), None);
        assert_eq!(first.name, "AWS automatic management");
        assert_eq!(
            (first.setting.as_deref(), first.adjusts),
            (Some("NotifyAndAdjust"), Some(true))
        );
        let at = first.read_at.clone().expect("read now");
        let old = AutoAdjusterStatus {
            read_at: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                jiff::Timestamp::from_second(1).unwrap(),
            )),
            ..first
        };
        assert_eq!(
            auto_adjuster(read(), Some(&old)).read_at,
            old.read_at,
            "unchanged"
        );
        let denied = CloudError::new(ErrorKind::AccessDenied, "AccessDeniedException", "no");
        let unknown = auto_adjuster(Err(denied), Some(&old));
        assert_eq!(
            unknown.unknown.as_deref(),
            Some("AccessDeniedException: no")
        );
        assert!(
            unknown.read_at.is_some_and(|t| t.0 >= at.0),
            "changed: read now"
        );
    }

    #[test]
    fn a_transient_failure_is_not_ready_but_not_stalled() {
        let down = CloudError::new(ErrorKind::Unavailable, "HTTP 503", "Service Unavailable");
        let d = desired(&aws(), &Err(down));
        assert_eq!((d[0].status, d[0].reason.as_str()), (false, "CloudError"));
        assert!(!d[1].status);
    }

    #[test]
    fn no_credentials_stall_as_credentials_failed() {
        let none = CloudError::new(
            ErrorKind::Credentials,
            "CredentialsFailed",
            "no AWS credentials found",
        );
        let d = desired(&aws(), &Err(none));
        assert_eq!(
            (d[0].status, d[0].reason.as_str()),
            (false, "CredentialsFailed")
        );
        assert_eq!(
            (d[1].status, d[1].reason.as_str()),
            (true, "CredentialsFailed")
        );
    }
}
