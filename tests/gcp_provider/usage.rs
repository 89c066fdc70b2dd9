//! Usage through the GCP provider: Cloud Monitoring (google-cloud-monitoring-v3) against the
//! simulator's `projects.timeSeries.list`, allocation quotas and rate quotas per minute and per
//! day, one listing of each kind per project per cache period.

use std::time::Duration;

use quota_operator::cloud::{UsageView, no_fleet};

use super::{COMPUTE, CPUS, PROJECT, cpus, provider_caching, start_sim, target};

fn last(u: &UsageView) -> Option<f64> {
    u.points.last().map(|(_, v)| *v)
}

#[tokio::test]
async fn allocation_and_rate_quotas_read_their_own_series_one_listing_a_kind() {
    let sim = start_sim(&format!(
        "  quotaInfos:\n  - {{quotaId: READS-per-minute, metric: {COMPUTE}/reads, default: 1000, refreshInterval: minute}}\n  - {{quotaId: READS-per-day, metric: {COMPUTE}/daily_reads, default: 100000, refreshInterval: day}}\n  values:\n  - {{quotaId: {CPUS}, region: us-central1, value: 100, usage: 85}}\n  - {{quotaId: {CPUS}, region: europe-west1, value: 100, usage: 12}}\n  - {{quotaId: READS-per-minute, usage: 30}}\n  - {{quotaId: READS-per-day, usage: 10}}\n"
    ))
    .await;
    let p = provider_caching(&sim, Duration::from_secs(60)).await;

    let east = p
        .usage(&cpus("us-central1"), CPUS, &no_fleet)
        .await
        .unwrap();
    assert_eq!(last(&east), Some(85.0));
    assert!(
        east.source.contains("quota/allocation/usage") && east.source.contains("maximum per hour"),
        "{}",
        east.source
    );
    let west = p
        .usage(&cpus("europe-west1"), CPUS, &no_fleet)
        .await
        .unwrap();
    assert_eq!(last(&west), Some(12.0), "the region's own series");

    // A per-minute rate quota: its usage is the busiest minute, never the hour's sum.
    let minute = p
        .usage(
            &target("READS-per-minute", "global"),
            "READS-per-minute",
            &no_fleet,
        )
        .await
        .unwrap();
    assert_eq!(last(&minute), Some(30.0));
    assert!(
        minute.source.contains("quota/rate/net_usage")
            && minute.source.contains("the busiest minute of each hour"),
        "{}",
        minute.source
    );
    // A per-day one: 10 a minute is 14,400 a day. The newest window ends at the read's second:
    // a read on a minute's boundary can find that minute's sample not yet written (seen once in
    // about 60 runs), so the newest day may be one minute short.
    let day = p
        .usage(
            &target("READS-per-day", "global"),
            "READS-per-day",
            &no_fleet,
        )
        .await
        .unwrap();
    let newest = last(&day).unwrap_or_default();
    assert!(newest == 14_400.0 || newest == 14_390.0, "{:?}", day.points);
    assert!(
        day.points
            .iter()
            .rev()
            .skip(1)
            .take(5)
            .all(|(_, v)| *v == 14_400.0),
        "every full day before it is 14,400: {:?}",
        day.points
    );
    assert!(day.source.contains("total per 24 hours"), "{}", day.source);

    // One listing per kind for the whole project, however many quotas and regions ask.
    for _ in 0..5 {
        p.usage(&cpus("us-central1"), CPUS, &no_fleet)
            .await
            .unwrap();
        p.usage(
            &target("READS-per-minute", "global"),
            "READS-per-minute",
            &no_fleet,
        )
        .await
        .unwrap();
    }
    assert_eq!(sim.gcp().calls_in(PROJECT, "ListTimeSeries"), 3);
}

#[tokio::test]
async fn a_quota_with_no_series_is_unknown_never_zero() {
    let sim = start_sim(&format!(
        "  values:\n  - {{quotaId: {CPUS}, region: us-central1, value: 100, usage: 85}}\n"
    ))
    .await;
    let p = provider_caching(&sim, Duration::from_secs(60)).await;
    let none = p
        .usage(&cpus("asia-east1"), CPUS, &no_fleet)
        .await
        .unwrap_err();
    assert_eq!(none.code, "NoUsageData", "{none:?}");
    assert!(none.message.contains("location=asia-east1"), "{none:?}");
}
