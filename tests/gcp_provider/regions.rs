//! Regions the project does not have: one object naming 40 made-up regions costs one
//! `regions.list`, reads no QuotaInfo for them, and each is refused with the nearest names.

use std::time::Duration;

use quota_operator::cloud::{ErrorKind, is_not_a_region};

use super::{cpus, provider, provider_caching, start_sim, target};

const LISTING: &str = "compute.regions.list";

#[tokio::test]
async fn made_up_regions_are_refused_with_the_nearest_and_never_read() {
    let sim = start_sim("  regions: [moon-base1]\n").await;
    let p = provider_caching(&sim, Duration::from_secs(60)).await;
    let e = p.quota(&cpus("us-centrall1")).await.unwrap_err();
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::SpecMismatch, "UNKNOWN_REGION"),
        "{e}"
    );
    assert_eq!(
        e.message,
        "\"us-centrall1\" is not a region this GCP project has (nearest: us-central1)"
    );
    for i in 0..40 {
        let e = p.quota(&cpus(&format!("mars-north{i}"))).await.unwrap_err();
        assert!(is_not_a_region(&e), "{e}");
    }
    assert_eq!(sim.gcp().calls("GetQuotaInfo"), 0, "nothing read for them");
    p.quota(&cpus("us-central1")).await.unwrap();
    p.quota(&cpus("moon-base1")).await.unwrap();
    p.quota(&target("CPUS-ALL-REGIONS-per-project", "global"))
        .await
        .unwrap();
    assert_eq!(sim.gcp().calls(LISTING), 1, "one listing for every region");
}

#[tokio::test]
async fn a_denied_listing_checks_the_shape_only() {
    let sim = start_sim(&format!(
        "  faults:\n  - {{method: {LISTING}, count: 1000, code: PERMISSION_DENIED}}\n"
    ))
    .await;
    let p = provider(&sim).await;
    // QuotaInfo answers its default for any region name: without a list, the read passes.
    p.quota(&cpus("us-moon1")).await.unwrap();
    p.quota(&cpus("us-moon1")).await.unwrap();
    assert_eq!(sim.gcp().calls(LISTING), 1, "the failure is remembered");
}
