//! Preferences made elsewhere, ids, unlimited quotas, the fresh read before a write and where
//! credentials may go: the provider on the official client against the simulator.

use std::time::Duration;

use jiff::Timestamp;
use quota_operator::cloud::{
    ErrorKind, Phase, ProviderFactory,
    gcp::{GcpFactory, GcpSettings},
};
use quota_sim::gcp::{Change, dims};

use super::*;

/// A console preference for us-central1 that someone made and Google granted: 50 CPUs.
const CONSOLE_GRANTED: &str = "  schedule: {manual: true}\n  preferences:\n  - {project: demo-project, id: console-made, quotaId: CPUS-per-project-region, region: us-central1, preferredValue: 50, contactEmail: a@example.com}\n";

#[tokio::test]
async fn a_console_preference_under_another_id_is_raised_through_it() {
    let sim = start_sim(CONSOLE_GRANTED).await;
    sim.gcp().grant(PROJECT, "console-made").unwrap();
    let p = provider(&sim).await;
    let t = cpus("us-central1");
    assert_eq!(p.quota(&t).await.unwrap().value, 50.0);

    let before = Timestamp::now();
    let filed = p.file(&t, CPUS, 200, &context(false)).await.unwrap();
    assert!(filed.id.ends_with("/console-made"), "{}", filed.id);
    assert_eq!((filed.phase, filed.requested_value), (Phase::Open, 200.0));
    let message = filed.message.clone().unwrap_or_default();
    assert!(
        message.contains("console-made") && message.contains("CLOUD_CONSOLE"),
        "status says whose preference it is: {message}"
    );
    let prefs = sim.gcp().preferences();
    assert_eq!(prefs.len(), 1, "no second preference: {prefs:?}");
    assert_eq!(
        (prefs[0].id.as_str(), prefs[0].preferred_value),
        ("console-made", 200)
    );
    let last = sim.gcp().writes().pop().unwrap();
    assert_eq!(
        (last.id.as_str(), last.source.as_str(), last.change),
        ("console-made", "UpdateQuotaPreference", Change::Increase)
    );

    // After a crash the operator finds it again, as the request it filed when it wrote it.
    let open = p
        .open_request(&t, CPUS)
        .await
        .unwrap()
        .expect("reconciling");
    assert_eq!(open.id, filed.id);
    sim.gcp().refuse(PROJECT, "console-made", "no").unwrap();
    let latest = p.latest_request(&t, CPUS).await.unwrap().expect("found");
    assert_eq!(
        (latest.id.as_str(), latest.phase),
        (filed.id.as_str(), Phase::Denied)
    );
    let submitted = latest.submitted_at.expect("submitted_at");
    assert!(
        submitted
            >= before
                .checked_sub(jiff::SignedDuration::from_secs(1))
                .unwrap(),
        "submitted when the operator wrote, not when the console made it: {submitted} < {before}"
    );
    assert!(latest.updated_at.is_some());
    assert_eq!(sim.gcp().preferences().len(), 1);
}

#[tokio::test]
async fn a_quota_adjuster_preference_is_raised_through_it() {
    let sim = start_sim("  schedule: {manual: true}\n  preferences:\n  - {project: demo-project, id: adjuster-7f3a, quotaId: CPUS-per-project-region, region: europe-west4, preferredValue: 30, origin: AUTO_ADJUSTER}\n").await;
    let p = provider(&sim).await;
    let t = cpus("europe-west4");
    let filed = p.file(&t, CPUS, 300, &context(false)).await.unwrap();
    assert!(filed.id.ends_with("/adjuster-7f3a"), "{}", filed.id);
    let message = filed.message.unwrap_or_default();
    assert!(
        message.contains("Quota Adjuster") && message.contains("AUTO_ADJUSTER"),
        "{message}"
    );
    let prefs = sim.gcp().preferences();
    assert_eq!(prefs.len(), 1, "{prefs:?}");
    assert_eq!(
        (prefs[0].id.as_str(), prefs[0].preferred_value),
        ("adjuster-7f3a", 300)
    );
    sim.gcp().grant(PROJECT, "adjuster-7f3a").unwrap();
    let view = p.request(&t, &filed.id).await.unwrap();
    assert_eq!(view.phase, Phase::Approved);
    assert_eq!(p.quota(&t).await.unwrap().value, 300.0);
}

#[tokio::test]
async fn a_refused_filter_falls_back_to_the_whole_list() {
    let sim = start_sim(&format!(
        "{CONSOLE_GRANTED}  faults:\n  - {{method: ListQuotaPreferences, count: 1, code: INVALID_ARGUMENT}}\n"
    ))
    .await;
    sim.gcp().grant(PROJECT, "console-made").unwrap();
    let p = provider(&sim).await;
    let filed = p
        .file(&cpus("us-central1"), CPUS, 200, &context(false))
        .await
        .unwrap();
    assert!(filed.id.ends_with("/console-made"), "{}", filed.id);
    assert_eq!(sim.gcp().calls("ListQuotaPreferences"), 2);
    assert_eq!(sim.gcp().preferences().len(), 1);
}

#[tokio::test]
async fn two_services_sharing_a_quota_id_get_a_preference_each() {
    let quota = "DefaultRequestsPerMinutePerProject";
    let sim = start_sim(&format!(
        "{MANUAL}  quotaInfos:\n  - {{service: pubsub.googleapis.com, quotaId: {quota}, metric: pubsub.googleapis.com/default_requests, default: 600}}\n  - {{service: cloudkms.googleapis.com, quotaId: {quota}, metric: cloudkms.googleapis.com/default_requests, default: 600}}\n"
    ))
    .await;
    let p = provider(&sim).await;
    let pubsub = service_target("pubsub.googleapis.com", quota, "global");
    let kms = service_target("cloudkms.googleapis.com", quota, "global");
    let a = p.file(&pubsub, quota, 1200, &context(false)).await.unwrap();
    let b = p.file(&kms, quota, 1800, &context(false)).await.unwrap();
    assert_ne!(a.id, b.id);
    let mut prefs: Vec<_> = sim
        .gcp()
        .preferences()
        .into_iter()
        .map(|p| (p.service, p.preferred_value))
        .collect();
    prefs.sort();
    assert_eq!(
        prefs,
        [
            ("cloudkms.googleapis.com".to_string(), 1800),
            ("pubsub.googleapis.com".to_string(), 1200)
        ]
    );
}

const UNLIMITED_QUOTA: &str = "RESOURCE-POLICIES-per-project-region";

#[tokio::test]
async fn an_unlimited_quota_reads_minus_one_and_is_never_lowered() {
    let sim = start_sim(MANUAL).await;
    let p = provider(&sim).await;
    let t = target(UNLIMITED_QUOTA, "us-central1");
    assert_eq!(p.quota(&t).await.unwrap().value, -1.0);
    let refused = p
        .file(&t, UNLIMITED_QUOTA, 100, &context(false))
        .await
        .unwrap_err();
    assert_eq!(
        (refused.kind, refused.code.as_str()),
        (ErrorKind::InvalidArgument, "DECREASE_NOT_ALLOWED")
    );
    assert!(refused.message.contains("unlimited"), "{refused}");
    assert!(sim.gcp().writes().is_empty(), "{:?}", sim.gcp().writes());
    assert_eq!(sim.gcp().calls("UpdateQuotaPreference"), 0);
}

#[tokio::test]
async fn a_granted_minus_one_counts_as_approved() {
    let sim = start_sim(MANUAL).await;
    let p = provider(&sim).await;
    let t = cpus("us-central1");
    let filed = p.file(&t, CPUS, 200, &context(false)).await.unwrap();
    sim.gcp()
        .grant_unlimited(PROJECT, &own_id("us-central1"))
        .unwrap();
    let view = p.request(&t, &filed.id).await.unwrap();
    assert_eq!(
        (view.phase, view.status.as_str(), view.granted_value),
        (Phase::Approved, "GRANTED", Some(-1.0))
    );
    assert_eq!(p.quota(&t).await.unwrap().value, -1.0);
}

#[tokio::test]
async fn the_value_is_read_afresh_before_a_write() {
    let sim = start_sim(MANUAL).await;
    let p = provider_caching(&sim, Duration::from_secs(600)).await;
    let t = cpus("us-central1");
    assert_eq!(p.quota(&t).await.unwrap().value, 24.0);
    let region = dims([("region", "us-central1")]);
    sim.gcp()
        .set_value(PROJECT, COMPUTE, CPUS, &region, 500)
        .unwrap();
    assert_eq!(p.quota(&t).await.unwrap().value, 24.0, "still cached");

    // 460 is within 10% of 500: Google would apply it at once.
    let refused = p.file(&t, CPUS, 460, &context(false)).await.unwrap_err();
    assert_eq!(refused.code, "DECREASE_NOT_ALLOWED");
    assert!(refused.message.contains("500"), "{refused}");
    assert!(sim.gcp().writes().is_empty());
    assert_eq!(sim.gcp().calls("UpdateQuotaPreference"), 0);
    assert_eq!(
        sim.gcp().value(PROJECT, COMPUTE, CPUS, &region).unwrap(),
        500
    );
}

#[tokio::test]
async fn credentials_go_only_to_google_or_an_allowed_endpoint() {
    let sim = start_sim(MANUAL).await;
    let settings = |allowed: Vec<String>| GcpSettings {
        endpoint: None,
        allowed_endpoints: allowed,
        cache_ttl: Duration::from_millis(200),
    };
    let refused = GcpFactory::new(settings(vec![]))
        .provider(&account(Some(&sim.endpoint())))
        .await
        .err()
        .expect("an endpoint nobody allowed");
    assert_eq!(
        (refused.kind, refused.code.as_str()),
        (ErrorKind::InvalidArgument, "EndpointNotAllowed")
    );
    assert!(
        refused.message.contains(&sim.endpoint())
            && refused.message.contains("--allowed-gcp-endpoint"),
        "{refused}"
    );
    assert_eq!(sim.gcp().calls("GetQuotaInfo"), 0);

    let allowed = GcpFactory::new(settings(vec![sim.endpoint()]))
        .provider(&account(Some(&sim.endpoint())))
        .await
        .expect("allowed by --allowed-gcp-endpoint");
    assert_eq!(
        allowed.quota(&cpus("us-central1")).await.unwrap().value,
        24.0
    );

    let default = GcpFactory::new(GcpSettings {
        endpoint: Some(format!("{}/", sim.endpoint())),
        ..settings(vec![])
    });
    assert!(
        default
            .provider(&account(Some(&sim.endpoint())))
            .await
            .is_ok(),
        "the operator's own endpoint flag is allowed"
    );
}
