//! The GCP provider: the official Cloud Quotas client against the simulator over HTTP.

mod machine_types;
mod preferences;
mod regions;
mod usage;

use std::{sync::Arc, time::Duration};

use quota_operator::{
    api::CloudAccount,
    cloud::{
        ErrorKind, FileContext, Phase, ProviderFactory, QuotaProvider, QuotaRef, RequestView,
        Target,
        gcp::{GcpFactory, GcpSettings, preference_id},
    },
};
use quota_sim::{Scenario, Sim, SimHandle};

const PROJECT: &str = "demo-project";
const COMPUTE: &str = "compute.googleapis.com";
const CPUS: &str = "CPUS-per-project-region";

async fn start_sim(gcp: &str) -> SimHandle {
    let scenario = Scenario::from_yaml(&format!("gcp:\n{gcp}")).expect("scenario");
    Sim::new(scenario)
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim")
}

async fn provider(sim: &SimHandle) -> Arc<dyn QuotaProvider> {
    provider_caching(sim, Duration::from_millis(200)).await
}

/// A provider whose QuotaInfo cache lasts `ttl`.
async fn provider_caching(sim: &SimHandle, ttl: Duration) -> Arc<dyn QuotaProvider> {
    let factory = GcpFactory::new(GcpSettings {
        endpoint: Some(sim.endpoint()),
        cache_ttl: ttl,
        ..GcpSettings::default()
    });
    factory.provider(&account(None)).await.expect("provider")
}

/// The CloudAccount of [`PROJECT`], with its own `spec.endpoint` when given.
fn account(endpoint: Option<&str>) -> CloudAccount {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": "prod-gcp"},
        "spec": {
            "gcp": {"project": PROJECT, "contactEmail": "quotas@example.com"},
            "endpoint": endpoint,
            "namespaceSelector": {}
        }
    }))
    .unwrap()
}

fn cpus(region: &str) -> Target {
    target(CPUS, region)
}

fn target(quota_id: &str, region: &str) -> Target {
    service_target(COMPUTE, quota_id, region)
}

fn service_target(service: &str, quota_id: &str, region: &str) -> Target {
    Target {
        quota: QuotaRef::Gcp {
            service: service.into(),
            quota_id: quota_id.into(),
            dimensions: vec![],
        },
        region: region.into(),
    }
}

/// `allow_decrease`: the spec asks and the CloudAccount consents, with Google's check on steep
/// decreases skipped (the account's `decrease.ignoreSafetyChecks`).
fn context(allow_decrease: bool) -> FileContext {
    FileContext {
        justification: Some("batch platform".into()),
        contact_email: Some("quotas@example.com".into()),
        allow_decrease,
        ignore_safety_checks: allow_decrease,
        no_support_case: false,
    }
}

fn own_id(region: &str) -> String {
    preference_id(COMPUTE, CPUS, region, &[])
}

fn pref_name(region: &str) -> String {
    format!(
        "projects/{PROJECT}/locations/global/quotaPreferences/{}",
        own_id(region)
    )
}

const MANUAL: &str = "  schedule: {manual: true}\n";

#[tokio::test]
async fn reads_values_per_region_and_eligibility() {
    let sim = start_sim(&format!(
        "{MANUAL}  values:\n  - {{quotaId: {CPUS}, region: us-central1, value: 100}}\n"
    ))
    .await;
    let p = provider(&sim).await;
    let central = p.quota(&cpus("us-central1")).await.unwrap();
    assert_eq!(
        (central.id.as_str(), central.value, central.adjustable),
        (CPUS, 100.0, true)
    );
    let west = p.quota(&cpus("europe-west4")).await.unwrap();
    assert_eq!(
        west.value, 24.0,
        "the default entry covers regions without their own"
    );
    assert_eq!(
        sim.gcp().calls("GetQuotaInfo"),
        1,
        "one QuotaInfo read serves every region"
    );

    let ops = p
        .quota(&target(
            "GLOBAL-CONCURRENT-OPERATIONS-per-project",
            "global",
        ))
        .await
        .unwrap();
    assert_eq!(ops.value, 500.0);
    let regional = p
        .quota(&target(
            "REGIONAL-CONCURRENT-OPERATIONS-per-project-region",
            "us-central1",
        ))
        .await
        .unwrap();
    assert_eq!(regional.value, 500.0);

    // A per-region quota named `global` is one spelling too many: refused, naming its
    // dimensions, never read as the default every region shares.
    let global = p.quota(&cpus("global")).await.unwrap_err();
    assert_eq!(
        (global.kind, global.code.as_str()),
        (ErrorKind::SpecMismatch, "PerRegionQuota")
    );
    assert!(
        global.message.contains("(its dimensions: region)"),
        "{}",
        global.message
    );

    let unknown = p
        .quota(&target("NO-SUCH-QUOTA", "us-central1"))
        .await
        .unwrap_err();
    assert_eq!(
        (unknown.kind, unknown.code.as_str()),
        (ErrorKind::SpecMismatch, "QuotaNotFound"),
        "terminal, with GCP's answer: {unknown}"
    );
    assert!(
        unknown.message.contains("GCP answered NOT_FOUND"),
        "{unknown}"
    );
}

#[tokio::test]
async fn fixed_and_ineligible_quotas_are_not_adjustable() {
    let sim = start_sim(&format!(
        "{MANUAL}  quotaInfos:\n  - {{quotaId: FIXED-THING, metric: compute.googleapis.com/fixed, default: 10, fixed: true}}\n  - {{quotaId: NOT-ELIGIBLE, metric: compute.googleapis.com/ne, default: 10, eligible: false}}\n"
    ))
    .await;
    let p = provider(&sim).await;
    assert!(
        !p.quota(&target("FIXED-THING", "global"))
            .await
            .unwrap()
            .adjustable
    );
    assert!(
        !p.quota(&target("NOT-ELIGIBLE", "global"))
            .await
            .unwrap()
            .adjustable
    );
}

#[tokio::test]
async fn one_stable_preference_per_region_followed_to_a_full_grant() {
    let sim = start_sim(MANUAL).await;
    let p = provider(&sim).await;
    let t = cpus("us-central1");
    assert_eq!(p.open_request(&t, CPUS).await.unwrap(), None);

    let filed = p.file(&t, CPUS, 200, &context(false)).await.unwrap();
    assert_eq!(filed.id, pref_name("us-central1"));
    assert_eq!(
        (filed.status.as_str(), filed.phase, filed.requested_value),
        ("RECONCILING", Phase::Open, 200.0)
    );
    let open = p
        .open_request(&t, CPUS)
        .await
        .unwrap()
        .expect("reconciling preference");
    assert_eq!(open.id, filed.id);

    // Asking again (a spec change) updates the same preference: still one.
    p.file(&t, CPUS, 300, &context(false)).await.unwrap();
    assert_eq!(sim.gcp().preferences().len(), 1);
    assert_eq!(sim.gcp().writes().len(), 2);

    sim.gcp().grant(PROJECT, &own_id("us-central1")).unwrap();
    let granted = p.request(&t, &filed.id).await.unwrap();
    assert_eq!(
        (granted.status.as_str(), granted.phase),
        ("GRANTED", Phase::Approved)
    );
    assert_eq!(
        p.quota(&t).await.unwrap().value,
        300.0,
        "a closed preference refreshes the value"
    );
}

/// Files `value` and reads the preference until it stops reconciling (at most five reads).
async fn file_and_follow(p: &dyn QuotaProvider, t: &Target, value: i64) -> RequestView {
    let filed = p.file(t, CPUS, value, &context(false)).await.unwrap();
    let mut view = p.request(t, &filed.id).await.unwrap();
    for _ in 0..5 {
        if !view.phase.is_open() {
            break;
        }
        view = p.request(t, &filed.id).await.unwrap();
    }
    view
}

#[tokio::test]
async fn partial_grant_and_refusal_are_told_apart() {
    let sim = start_sim(
        "  schedule:\n    rules:\n    - {region: europe-west4, outcome: partial, grantedValue: 60, after: 1 polls, stateDetail: \"only 60 available\"}\n    - {region: us-central1, outcome: refuse, after: 1 polls, stateDetail: \"not enough history\"}\n"
    )
    .await;
    let p = provider(&sim).await;
    let west = cpus("europe-west4");
    let view = file_and_follow(p.as_ref(), &west, 100).await;
    assert_eq!(
        (view.status.as_str(), view.phase),
        ("PARTIALLY_GRANTED", Phase::PartiallyGranted)
    );
    assert_eq!(
        (view.granted_value, view.requested_value),
        (Some(60.0), 100.0)
    );
    assert_eq!(view.message.as_deref(), Some("only 60 available"));

    let central = cpus("us-central1");
    let view = file_and_follow(p.as_ref(), &central, 100).await;
    assert_eq!(
        (view.status.as_str(), view.phase),
        ("REFUSED", Phase::Denied)
    );
    assert_eq!(view.message.as_deref(), Some("not enough history"));
}

#[tokio::test]
async fn a_stale_etag_is_read_again_once() {
    let sim = start_sim(&format!(
        "{MANUAL}  faults:\n  - {{method: UpdateQuotaPreference, count: 1, code: ABORTED}}\n"
    ))
    .await;
    let p = provider(&sim).await;
    let filed = p
        .file(&cpus("us-central1"), CPUS, 200, &context(false))
        .await
        .unwrap();
    assert_eq!(filed.phase, Phase::Open);
    assert_eq!(
        sim.gcp().calls("UpdateQuotaPreference"),
        2,
        "ABORTED, then the retry"
    );

    let twice = start_sim(&format!(
        "{MANUAL}  faults:\n  - {{method: UpdateQuotaPreference, count: 2, code: ABORTED}}\n"
    ))
    .await;
    let p = provider(&twice).await;
    let err = p
        .file(&cpus("us-central1"), CPUS, 200, &context(false))
        .await
        .unwrap_err();
    assert_eq!(err.code, "ABORTED");
    assert!(twice.gcp().preferences().is_empty());
}

#[tokio::test]
async fn decreases_need_the_spec_and_respect_usage() {
    let sim = start_sim(&format!(
        "{MANUAL}  values:\n  - {{quotaId: {CPUS}, region: us-central1, value: 1000, usage: 700}}\n"
    ))
    .await;
    let p = provider(&sim).await;
    let t = cpus("us-central1");

    let refused = p.file(&t, CPUS, 500, &context(false)).await.unwrap_err();
    assert_eq!(refused.code, "DECREASE_NOT_ALLOWED");
    assert!(sim.gcp().writes().is_empty(), "nothing was sent");

    let below_usage = p.file(&t, CPUS, 500, &context(true)).await.unwrap_err();
    assert_eq!(
        below_usage.kind,
        ErrorKind::InvalidArgument,
        "{below_usage}"
    );
    assert_eq!(p.quota(&t).await.unwrap().value, 1000.0);

    // Google's check on steep decreases stays on unless the account turns it off.
    let checked = FileContext {
        ignore_safety_checks: false,
        ..context(true)
    };
    let steep = p.file(&t, CPUS, 800, &checked).await.unwrap_err();
    assert!(
        steep.message.contains("QUOTA_DECREASE_PERCENTAGE_TOO_HIGH"),
        "{steep}"
    );
    assert_eq!(p.quota(&t).await.unwrap().value, 1000.0);

    let lowered = p.file(&t, CPUS, 800, &context(true)).await.unwrap();
    assert_eq!(lowered.phase, Phase::Approved, "decreases apply at once");
    assert_eq!(p.quota(&t).await.unwrap().value, 800.0);
}

#[tokio::test]
async fn a_preference_opened_in_the_console_is_adopted() {
    let sim = start_sim(&format!(
        "{MANUAL}  preferences:\n  - {{project: {PROJECT}, id: console-made, quotaId: {CPUS}, region: us-central1, preferredValue: 512, contactEmail: a@example.com}}\n"
    ))
    .await;
    let p = provider(&sim).await;
    let open = p
        .open_request(&cpus("us-central1"), CPUS)
        .await
        .unwrap()
        .expect("adopted");
    assert!(open.id.ends_with("/console-made"), "{}", open.id);
    assert_eq!(open.requested_value, 512.0);
    assert_eq!(
        p.open_request(&cpus("europe-west4"), CPUS).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn machine_types_give_guest_cpus_per_region_and_compute_errors_keep_their_http_answer() {
    let sim = start_sim(
        "  compute:\n    notOffered: {europe-west4: [c3-standard-8]}\n  faults:\n  - {method: compute.machineTypes.aggregatedList, count: 1, project: demo-project}\n",
    )
    .await;
    let p = provider(&sim).await;
    let types = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    // Compute said 429 with no google.rpc status: the kind comes from the HTTP code.
    let e = p
        .vcpus("us-central1", &types(&["n2-standard-8"]))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::Throttled, "HTTP 429"),
        "{e}"
    );

    let cpus = p
        .vcpus(
            "us-central1",
            &types(&["n2-standard-8", "e2-medium", "c3-standard-8"]),
        )
        .await
        .unwrap();
    assert_eq!(
        cpus.into_iter().collect::<Vec<_>>(),
        vec![
            ("c3-standard-8".to_string(), 8),
            ("e2-medium".to_string(), 2),
            ("n2-standard-8".to_string(), 8),
        ]
    );
    let calls = sim.gcp().calls("compute.machineTypes.aggregatedList");
    p.vcpus("us-central1", &types(&["n2-standard-8"]))
        .await
        .unwrap();
    assert_eq!(
        sim.gcp().calls("compute.machineTypes.aggregatedList"),
        calls,
        "cached per region"
    );

    // Not offered in one region: an error there only, naming the type and the region.
    let e = p
        .vcpus("europe-west4", &types(&["c3-standard-8"]))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    assert!(
        e.message
            .contains("no zone of europe-west4 offers machine type c3-standard-8"),
        "{e}"
    );
    let e = p
        .vcpus("us-central1", &types(&["n2-bogus-8"]))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
}

#[tokio::test]
async fn a_quota_the_project_lacks_is_remembered_for_the_cache_ttl() {
    let sim = start_sim("  schedule: {manual: true}\n").await;
    let p = provider_caching(&sim, Duration::from_secs(60)).await;
    // What a capacity on CPUS-per-project-region asks for each machine series.
    let own = target("E2-CPUS-per-project-region", "us-central1");
    for _ in 0..3 {
        let e = p.quota(&own).await.unwrap_err();
        assert!(e.is_no_such_quota(), "{e}");
    }
    assert_eq!(
        sim.gcp().calls("GetQuotaInfo"),
        1,
        "one read, then remembered"
    );
    assert_eq!(
        sim.gcp().calls("ListQuotaInfos"),
        1,
        "the hint's listing too"
    );
    p.quota(&cpus("us-central1")).await.unwrap();
    assert_eq!(sim.gcp().calls("GetQuotaInfo"), 2);
}

#[tokio::test]
async fn a_service_the_project_does_not_have_is_terminal_and_says_so() {
    let sim = start_sim("  schedule: {manual: true}\n").await;
    let p = provider(&sim).await;
    let e = p
        .quota(&service_target(
            "computer.googleapis.com",
            CPUS,
            "us-central1",
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::SpecMismatch, "ServiceNotFound"),
        "{e}"
    );
    assert!(
        e.message.starts_with(
            "project demo-project has no service \"computer.googleapis.com\" (spec.gcp.service); \
             GCP answered NOT_FOUND"
        ),
        "{e}"
    );
}
