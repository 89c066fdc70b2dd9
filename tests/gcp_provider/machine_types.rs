//! What hostile objects in one namespace can make the GCP provider spend: a bogus machine type
//! looked up for every peer's share, a burst of lookups, a region that is not one.

use std::time::{Duration, Instant};

use quota_operator::cloud::ErrorKind;

use super::{cpus, provider, start_sim, target};

const LISTING: &str = "compute.machineTypes.aggregatedList";

fn one(t: &str) -> Vec<String> {
    vec![t.to_string()]
}

#[tokio::test]
async fn a_bogus_machine_type_is_asked_about_once_per_ttl() {
    let sim = start_sim("").await;
    let p = provider(&sim).await;
    let listings = || sim.gcp().calls(LISTING);
    // 10 objects, each reconcile recomputing every peer's share.
    for _ in 0..100 {
        let e = p
            .vcpus("us-central1", &one("n2-bogus-8"))
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
        assert!(e.message.contains("n2-bogus-8"), "{e}");
    }
    assert_eq!(listings(), 1, "100 lookups of a bogus type: one call");

    let lookups = (0..20).map(|_| {
        let p = p.clone();
        tokio::spawn(async move { p.vcpus("us-central1", &one("n2-fake-8")).await })
    });
    for lookup in lookups {
        lookup.await.unwrap().unwrap_err();
    }
    assert_eq!(
        listings(),
        2,
        "20 concurrent lookups of a new type: one call"
    );

    // The TTL (200 ms here) over, a type that might have appeared is asked about again.
    tokio::time::sleep(Duration::from_millis(250)).await;
    p.vcpus("us-central1", &one("n2-bogus-8"))
        .await
        .unwrap_err();
    assert_eq!(listings(), 3);
}

#[tokio::test]
async fn machine_type_lookups_are_rate_limited() {
    let sim = start_sim("").await;
    let p = provider(&sim).await;
    let started = Instant::now();
    for i in 0..20 {
        p.vcpus("us-central1", &[format!("n2-bogus-{i}")])
            .await
            .unwrap_err();
    }
    assert_eq!(sim.gcp().calls(LISTING), 20);
    assert!(
        started.elapsed() >= Duration::from_millis(1800),
        "20 calls at 5/s after a burst of 10 take two seconds, took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_bogus_region_is_refused_before_anything_reaches_google() {
    let sim = start_sim("").await;
    let p = provider(&sim).await;
    let sent = || -> u64 { sim.gcp().counters().iter().map(|c| c.calls).sum() };
    for region in ["nowhere", "us-central1-a", "US-CENTRAL1", "us-east-1"] {
        let t = cpus(region);
        let errors = [
            p.quota(&t).await.unwrap_err(),
            p.open_request(&t, "CPUS-per-project-region")
                .await
                .unwrap_err(),
            p.vcpus(region, &one("n2-standard-8")).await.unwrap_err(),
        ];
        for e in errors {
            assert_eq!(
                (e.kind, e.code.as_str()),
                (ErrorKind::SpecMismatch, "INVALID_REGION"),
                "{region:?}: {e}"
            );
            assert!(
                e.message
                    .contains(&format!("{region:?} is not a GCP region")),
                "{e}"
            );
        }
    }
    assert_eq!(sent(), 0, "no call reached the simulator");
    // A real region and `global` (quotas without a region) still pass.
    p.quota(&cpus("us-central1")).await.unwrap();
    p.quota(&target("CPUS-ALL-REGIONS-per-project", "global"))
        .await
        .unwrap();
    assert!(p.vcpus("us-central1", &one("n2-standard-8")).await.is_ok());
}
