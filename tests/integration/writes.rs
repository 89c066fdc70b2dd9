//! The reconcile's writes on a real API server: each is conditional on the version it was
//! decided from, so a decision made from a cached copy that is behind the server is refused
//! (409) before anything is filed, and a reconcile's own writes follow one another.

use kube::ResourceExt;
use quota_operator::{
    api::{FilingIntent, QuotaRequirement, QuotaRequirementStatus},
    controller::writes::{self, Writes},
};
use serde_json::json;

use crate::harness::{Qr, TestEnv};

fn intent(value: i64) -> FilingIntent {
    serde_json::from_value(json!({
        "value": value,
        "at": "2026-11-29T12:00:00Z",
        "owner": {
            "accountRef": "acct", "account": "111111111111", "service": "ec2",
            "quota": "L-34B43A08", "scope": "us-east-1"
        }
    }))
    .expect("intent JSON")
}

fn summary(text: &str) -> QuotaRequirementStatus {
    QuotaRequirementStatus {
        summary: Some(text.into()),
        ..Default::default()
    }
}

async fn created(env: &TestEnv) -> QuotaRequirement {
    env.create_qr(
        Qr::ec2("w", "acct", "L-34B43A08")
            .regions(&["us-east-1", "eu-west-1"])
            .desired(100),
    )
    .await
}

#[tokio::test]
async fn a_copy_behind_the_server_records_no_intent_and_writes_no_status() {
    let env = TestEnv::new("writes-stale").await;
    let stale = created(&env).await;
    // Another reconcile (the one the cache has not caught up with) records a request.
    Writes::new(env.client.clone(), &stale)
        .status(&stale, &summary("Requested"))
        .await
        .expect("first write");

    let behind = Writes::new(env.client.clone(), &stale);
    let e = behind
        .record_intent("us-east-1", &intent(100))
        .await
        .expect_err("an intent from the stale copy");
    assert!(writes::is_conflict(&e), "{e}");
    let e = behind
        .status(&stale, &summary("Pending"))
        .await
        .expect_err("a status from the stale copy");
    assert!(writes::is_conflict(&e), "{e}");

    let now = env.qrs().get_status("w").await.expect("read back");
    let status = now.status.expect("status");
    assert_eq!(status.summary.as_deref(), Some("Requested"));
    assert!(status.filings.is_empty(), "{:?}", status.filings);
}

#[tokio::test]
async fn one_reconciles_writes_follow_each_other() {
    let env = TestEnv::new("writes-chain").await;
    let obj = created(&env).await;
    let writes = Writes::new(env.client.clone(), &obj);
    // Two regions record intents at once, then the status, then the intents are cleared.
    let filing = intent(100);
    let (a, b) = tokio::join!(
        writes.record_intent("us-east-1", &filing),
        writes.record_intent("eu-west-1", &filing),
    );
    a.expect("us-east-1 intent");
    b.expect("eu-west-1 intent");
    let with_intents = env.qrs().get_status("w").await.expect("read");
    let scopes: Vec<&String> = with_intents
        .status
        .as_ref()
        .expect("status")
        .filings
        .keys()
        .collect();
    assert_eq!(scopes, ["eu-west-1", "us-east-1"]);

    assert!(
        writes
            .status(&obj, &summary("Requested"))
            .await
            .expect("status")
    );
    writes
        .clear_intents(&["us-east-1".into()])
        .await
        .expect("clear");
    let status = env.qrs().get_status("w").await.expect("read").status;
    let status = status.expect("status");
    assert_eq!(status.summary.as_deref(), Some("Requested"));
    let left: Vec<&String> = status.filings.keys().collect();
    assert_eq!(left, ["eu-west-1"]);
}

#[tokio::test]
async fn a_status_written_whole_leaves_the_rest_of_the_object_alone() {
    let env = TestEnv::new("writes-whole").await;
    let mut obj: serde_json::Value = Qr::ec2("w", "acct", "L-34B43A08")
        .regions(&["us-east-1"])
        .desired(100)
        .into();
    obj["metadata"]["labels"] = json!({"team": "a"});
    let applied = obj.to_string();
    obj["metadata"]["annotations"] =
        json!({"kubectl.kubernetes.io/last-applied-configuration": applied});
    let created = env.create_qr(obj).await;
    // The controller caches objects without managedFields and the last-applied annotation.
    let mut cached = created.clone();
    cached.metadata.managed_fields = Some(Vec::new());
    cached.annotations_mut().clear();

    let writes = Writes::new(env.client.clone(), &cached);
    let first = QuotaRequirementStatus {
        quota: Some("ec2/L-34B43A08".into()),
        ..summary("Pending")
    };
    assert!(writes.status(&cached, &first).await.expect("first status"));
    let now = env.qrs().get_status("w").await.expect("read back");
    assert_eq!(now.spec, created.spec);
    assert_eq!(now.labels(), created.labels());
    assert_eq!(now.annotations(), created.annotations());
    let managers: Vec<_> = now
        .managed_fields()
        .iter()
        .map(|m| (m.manager.as_deref(), m.subresource.as_deref()))
        .collect();
    assert!(
        managers.contains(&(Some("quota-operator"), Some("status"))),
        "{managers:?}"
    );
    assert!(
        managers.iter().any(|(_, sub)| sub.is_none()),
        "the creator's entry went: {managers:?}"
    );

    // Written whole: what the new status leaves out is gone; the same status again is not sent.
    let second = summary("Satisfied");
    let mut seen = now.clone();
    assert!(writes.status(&seen, &second).await.expect("second status"));
    seen = env.qrs().get_status("w").await.expect("read back");
    let status = seen.status.clone().expect("status");
    assert_eq!(status.summary.as_deref(), Some("Satisfied"));
    assert_eq!(status.quota, None);
    let version = seen.resource_version();
    assert!(!writes.status(&seen, &second).await.expect("no-op"));
    let after = env.qrs().get_status("w").await.expect("read back");
    assert_eq!(after.resource_version(), version);
}
