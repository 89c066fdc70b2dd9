//! The reconcile's writes on a real API server: each is conditional on the version it was
//! decided from, so a decision made from a cached copy that is behind the server is refused
//! (409) before anything is filed, and a reconcile's own writes follow one another.

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
