//! The AWS provider: the real aws-sdk-servicequotas client against the simulator over HTTP.

use std::{sync::Arc, time::Duration};

use quota_operator::{
    api::CloudAccount,
    cloud::{
        ErrorKind, FileContext, Phase, ProviderFactory, QuotaProvider, QuotaRef, Target,
        aws::{AwsFactory, AwsSettings},
        no_fleet,
    },
};
use quota_sim::{
    AwsSim, Scenario, SimHandle,
    aws::{SeedRequest, ThrottleInjection},
};

const ACCOUNT: &str = "111111111111";
const KEY: &str = "AKIDTESTPROVIDER";

async fn sim(yaml: &str) -> SimHandle {
    let scenario = Scenario::from_yaml(yaml).expect("scenario");
    AwsSim::new(scenario)
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim")
}

fn base_scenario(extra: &str) -> String {
    format!("aws:\n  accounts: {{{KEY}: \"{ACCOUNT}\"}}\n  schedule: {{manual: true}}\n{extra}")
}

async fn provider(sim: &SimHandle) -> Arc<dyn QuotaProvider> {
    provider_for(sim, serde_json::json!({"accountId": ACCOUNT})).await
}

/// The provider of a CloudAccount whose `spec.aws` is `aws`.
async fn provider_for(sim: &SimHandle, aws: serde_json::Value) -> Arc<dyn QuotaProvider> {
    provider_caching(sim, aws, Duration::from_millis(300)).await
}

/// [`provider_for`] with a cache TTL of `ttl`.
async fn provider_caching(
    sim: &SimHandle,
    aws: serde_json::Value,
    ttl: Duration,
) -> Arc<dyn QuotaProvider> {
    let settings = AwsSettings {
        endpoint: Some(sim.endpoint()),
        cache_ttl: ttl,
        ..AwsSettings::default()
    };
    let factory = AwsFactory::with_static_credentials(KEY, "secret", "us-east-1", settings).await;
    let account: CloudAccount = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "prod"},
        "spec": {"aws": aws, "namespaceSelector": {}}
    }))
    .unwrap();
    factory.provider(&account).await.expect("provider")
}

fn target(service: &str, code: Option<&str>, name: Option<&str>, region: &str) -> Target {
    Target {
        quota: QuotaRef::Aws {
            service_code: service.into(),
            quota_code: code.map(Into::into),
            quota_name: name.map(Into::into),
        },
        region: region.into(),
    }
}

#[tokio::test]
async fn reads_applied_values_defaults_and_names_through_one_listing() {
    let sim = sim(&base_scenario(
        "  quotas:\n  - {serviceCode: ec2, quotaCode: L-34B43A08, value: 640}\n  - {serviceCode: vpc, quotaCode: L-DF5E4CA3, applied: false}\n",
    ))
    .await;
    let p = provider(&sim).await;

    let spot = p
        .quota(&target("ec2", Some("L-34B43A08"), None, "us-east-1"))
        .await
        .unwrap();
    assert_eq!(
        (spot.id.as_str(), spot.value, spot.adjustable),
        ("L-34B43A08", 640.0, true)
    );
    let by_name = p
        .quota(&target(
            "ec2",
            None,
            Some("All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests"),
            "us-east-1",
        ))
        .await
        .unwrap();
    assert_eq!(by_name.id, "L-34B43A08");
    assert_eq!(
        sim.aws().calls("ListServiceQuotas"),
        1,
        "the name resolved from the cached listing"
    );

    // No applied value: GetServiceQuota answers NoSuchResource, the default is used.
    let eni = p
        .quota(&target("vpc", Some("L-DF5E4CA3"), None, "us-east-1"))
        .await
        .unwrap();
    assert_eq!(eni.value, 5000.0);
    assert_eq!(sim.aws().calls("GetAWSDefaultServiceQuota"), 1);

    let fixed = p
        .quota(&target("ecs", Some("L-86C34207"), None, "us-east-1"))
        .await
        .unwrap();
    assert!(!fixed.adjustable);

    let unknown = p
        .quota(&target("ec2", Some("L-00000000"), None, "us-east-1"))
        .await
        .unwrap_err();
    assert_eq!(unknown.kind, ErrorKind::SpecMismatch, "terminal: {unknown}");
    assert_eq!(unknown.code, "QuotaNotFound");
    assert!(
        unknown
            .message
            .contains("AWS answered NoSuchResourceException"),
        "{unknown}"
    );
    let unknown_name = p
        .quota(&target("ec2", None, Some("No such quota"), "us-east-1"))
        .await
        .unwrap_err();
    assert!(
        unknown_name.message.contains("No such quota"),
        "{unknown_name}"
    );
}

#[tokio::test]
async fn global_quotas_are_flagged() {
    let sim = sim(&base_scenario("")).await;
    let p = provider(&sim).await;
    let roles = p
        .quota(&target("iam", Some("L-FE177D64"), None, "us-east-1"))
        .await
        .unwrap();
    assert!(roles.global, "{roles:?}");
}

#[tokio::test]
async fn listing_follows_pagination() {
    let mut quotas = String::from("  quotas:\n");
    for i in 0..150 {
        quotas.push_str(&format!(
            "  - {{serviceCode: lambda, quotaCode: L-{i:08X}, quotaName: \"Quota {i}\", default: {i}, adjustable: true}}\n"
        ));
    }
    let sim = sim(&base_scenario(&quotas)).await;
    let p = provider(&sim).await;
    let last = p
        .quota(&target("lambda", Some("L-00000095"), None, "us-east-1"))
        .await
        .unwrap();
    assert_eq!(last.value, 149.0);
    assert_eq!(
        sim.aws().calls("ListServiceQuotas"),
        2,
        "150 quotas at 100 a page"
    );
    assert_eq!(
        sim.aws().calls("GetServiceQuota"),
        0,
        "found on the second page, no single read"
    );
}

#[tokio::test]
async fn files_follows_and_adopts_requests() {
    let sim = sim(&base_scenario(
        "  quotas:\n  - {serviceCode: ec2, quotaCode: L-34B43A08, value: 640}\n",
    ))
    .await;
    let p = provider(&sim).await;
    let spot = target("ec2", Some("L-34B43A08"), None, "us-east-1");

    assert_eq!(p.open_request(&spot, "L-34B43A08").await.unwrap(), None);
    let filed = p
        .file(&spot, "L-34B43A08", 2000, &FileContext::default())
        .await
        .unwrap();
    assert_eq!(
        (filed.status.as_str(), filed.phase, filed.requested_value),
        ("PENDING", Phase::Open, 2000.0)
    );

    // A second request for the same quota: AWS refuses, and the open one is found to adopt.
    let again = p
        .file(&spot, "L-34B43A08", 2500, &FileContext::default())
        .await
        .unwrap_err();
    assert_eq!(
        (again.kind, again.code.as_str()),
        (ErrorKind::AlreadyOpen, "ResourceAlreadyExistsException")
    );
    let open = p
        .open_request(&spot, "L-34B43A08")
        .await
        .unwrap()
        .expect("open request");
    assert_eq!(open.id, filed.id);

    sim.aws().advance(&filed.id).unwrap();
    let case = p.request(&spot, &filed.id).await.unwrap();
    assert_eq!(case.status, "CASE_OPENED");
    assert!(case.case_id.is_some(), "a support case id is recorded");

    sim.aws().approve(&filed.id).unwrap();
    let approved = p.request(&spot, &filed.id).await.unwrap();
    assert_eq!(approved.phase, Phase::Approved);
    let value = p.quota(&spot).await.unwrap();
    assert_eq!(
        value.value, 2000.0,
        "an approval invalidates the cached value"
    );

    let lower = p
        .file(&spot, "L-34B43A08", 1000, &FileContext::default())
        .await
        .unwrap_err();
    assert_eq!(
        (lower.kind, lower.code.as_str()),
        (ErrorKind::InvalidArgument, "IllegalArgumentException")
    );
    let fixed = target("ecs", Some("L-86C34207"), None, "us-east-1");
    let refused = p
        .file(&fixed, "L-86C34207", 9000, &FileContext::default())
        .await
        .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::NotAdjustable, "{refused}");
}

#[tokio::test]
async fn a_request_opened_elsewhere_is_found_in_the_history() {
    let sim = sim(&base_scenario(
        "  quotas:\n  - {serviceCode: ec2, quotaCode: L-34B43A08, value: 640}\n",
    ))
    .await;
    let seeded = sim
        .aws()
        .seed_open_request(SeedRequest {
            account: Some(ACCOUNT.into()),
            region: "eu-west-1".into(),
            service_code: "ec2".into(),
            quota_code: "L-34B43A08".into(),
            desired_value: 3000.0,
            status: None,
        })
        .unwrap();
    let p = provider(&sim).await;
    let other_region = target("ec2", Some("L-34B43A08"), None, "us-east-1");
    assert_eq!(
        p.open_request(&other_region, "L-34B43A08").await.unwrap(),
        None
    );
    let here = target("ec2", Some("L-34B43A08"), None, "eu-west-1");
    let found = p.open_request(&here, "L-34B43A08").await.unwrap().unwrap();
    assert_eq!(
        (found.id.as_str(), found.requested_value),
        (seeded.id.as_str(), 3000.0)
    );
}

#[tokio::test]
async fn open_request_limits_answer_limit_exceeded() {
    let sim = sim(&base_scenario(
        "  limits: {openPerRegion: 1, openPerAccount: 20}\n",
    ))
    .await;
    let p = provider(&sim).await;
    let spot = target("ec2", Some("L-34B43A08"), None, "us-east-1");
    let fargate = target("fargate", Some("L-3032A538"), None, "us-east-1");
    p.file(&spot, "L-34B43A08", 100, &FileContext::default())
        .await
        .unwrap();
    let held = p
        .file(&fargate, "L-3032A538", 100, &FileContext::default())
        .await
        .unwrap_err();
    assert_eq!(
        (held.kind, held.code.as_str()),
        (ErrorKind::LimitExceeded, "QuotaExceededException")
    );
}

#[tokio::test]
async fn throttling_is_retried_and_the_call_still_succeeds() {
    let sim = sim(&base_scenario("")).await;
    sim.aws()
        .inject_throttles(ThrottleInjection {
            operation: "ListServiceQuotas".into(),
            count: 2,
            account: None,
            region: None,
            every: None,
        })
        .unwrap();
    let p = provider(&sim).await;
    let spot = p
        .quota(&target("ec2", Some("L-34B43A08"), None, "us-east-1"))
        .await
        .unwrap();
    assert_eq!(spot.id, "L-34B43A08");
    assert_eq!(
        sim.aws().calls("ListServiceQuotas"),
        3,
        "two throttled answers, then success"
    );
}

#[tokio::test]
async fn the_limiter_keeps_a_burst_under_the_documented_rate() {
    // 12 reads of distinct quotas with no applied value (GetServiceQuota, then
    // GetAWSDefaultServiceQuota): the limiter, at 0.8 of AWS's 5/s, spaces the calls so the
    // simulator, enforcing 5/s, never throttles.
    let mut quotas = String::from("  quotas:\n");
    for i in 0..12 {
        quotas.push_str(&format!(
            "  - {{serviceCode: lambda, quotaCode: L-{i:08X}, quotaName: \"Q{i}\", default: 1, adjustable: true, applied: false}}\n"
        ));
    }
    let sim = sim(&base_scenario(&quotas)).await;
    let p = provider(&sim).await;
    let started = std::time::Instant::now();
    for i in 0..12 {
        let code = format!("L-{i:08X}");
        p.quota(&target("lambda", Some(&code), None, "us-east-1"))
            .await
            .unwrap();
    }
    let throttled: u64 = sim.aws().counters().iter().map(|c| c.throttled).sum();
    assert_eq!(throttled, 0, "no call was throttled");
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "12 calls of one operation at 4/s after a burst of 4 take two seconds"
    );
}

#[tokio::test]
async fn a_cloud_accounts_own_endpoint_is_used() {
    let sim = sim(&base_scenario("")).await;
    // No operator-wide endpoint: only the account's spec.endpoint leads to the simulator, an
    // endpoint the operator's settings allow.
    let settings = AwsSettings {
        allowed_endpoints: vec![sim.endpoint()],
        ..AwsSettings::default()
    };
    let factory = AwsFactory::with_static_credentials(KEY, "secret", "us-east-1", settings).await;
    let account: CloudAccount = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "with-endpoint"},
        "spec": {"aws": {"accountId": ACCOUNT}, "endpoint": sim.endpoint(), "namespaceSelector": {}}
    }))
    .unwrap();
    let p = factory.provider(&account).await.unwrap();
    let spot = p
        .quota(&target("ec2", Some("L-34B43A08"), None, "us-east-1"))
        .await
        .unwrap();
    assert_eq!(spot.id, "L-34B43A08");
    assert_eq!(sim.aws().calls("ListServiceQuotas"), 1);
}

#[tokio::test]
async fn instance_types_give_default_vcpus_per_region_through_aws_sdk_ec2() {
    let sim = sim(&base_scenario(
        "  ec2:\n    notOffered: {eu-west-1: [c6i.4xlarge]}\n  faults:\n  - {operation: DescribeInstanceTypes, fault: accessDenied, count: 1}\n",
    ))
    .await;
    let p = provider(&sim).await;
    let types = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    let fails = |region: &'static str, t: &'static str| {
        let p = p.clone();
        async move { p.vcpus(region, &[t.to_string()]).await.unwrap_err() }
    };

    // An IAM policy without ec2:DescribeInstanceTypes: EC2's own code, as access denied.
    let e = fails("us-east-1", "m5.2xlarge").await;
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::AccessDenied, "UnauthorizedOperation"),
        "{e}"
    );

    let vcpus = p
        .vcpus(
            "us-east-1",
            &types(&["m5.2xlarge", "c6i.4xlarge", "p3.2xlarge"]),
        )
        .await
        .unwrap();
    assert_eq!(
        vcpus.into_iter().collect::<Vec<_>>(),
        vec![
            ("c6i.4xlarge".to_string(), 16),
            ("m5.2xlarge".to_string(), 8),
            ("p3.2xlarge".to_string(), 8),
        ]
    );
    let calls = sim.aws().calls("DescribeInstanceTypes");
    p.vcpus("us-east-1", &types(&["m5.2xlarge"])).await.unwrap();
    assert_eq!(
        sim.aws().calls("DescribeInstanceTypes"),
        calls,
        "cached per region"
    );

    // Not offered in eu-west-1: EC2's InvalidInstanceType there only, with its message.
    let e = fails("eu-west-1", "c6i.4xlarge").await;
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::InvalidArgument, "InvalidInstanceType"),
        "{e}"
    );
    assert!(e.message.contains("c6i.4xlarge"), "{e}");
    assert_eq!(
        p.vcpus("eu-west-1", &types(&["m5.2xlarge"])).await.unwrap()["m5.2xlarge"],
        8
    );
}

#[tokio::test]
async fn a_role_is_assumed_once_for_every_region_and_service_of_an_account() {
    let sim = sim(&base_scenario(
        "  roles:\n  - {arn: \"arn:aws:iam::222222222222:role/quota-operator\"}\n",
    ))
    .await;
    let p = provider_for(
        &sim,
        serde_json::json!({"accountId": "222222222222",
                           "roleArn": "arn:aws:iam::222222222222:role/quota-operator"}),
    )
    .await;
    for region in ["us-east-1", "eu-west-1", "ap-south-1", "us-west-2"] {
        p.quota(&target("ec2", Some("L-34B43A08"), None, region))
            .await
            .unwrap();
        p.vcpus(region, &["m5.large".to_string()]).await.unwrap();
    }
    println!(
        "AssumeRole {}, GetCallerIdentity {}",
        sim.aws().sts_calls("AssumeRole"),
        sim.aws().sts_calls("GetCallerIdentity")
    );
    // One to check the role at once (a refusal names it), one through the shared identity
    // cache that every client of the account uses: not one per region and service.
    assert_eq!(sim.aws().sts_calls("AssumeRole"), 2);
    assert_eq!(sim.aws().sts_calls("GetCallerIdentity"), 1);
}

/// `n` objects asking capacity of `instance_type` on the Standard On-Demand quota.
fn capacity_specs(n: usize, instance_type: &str) -> Vec<quota_operator::api::QuotaRequirementSpec> {
    (0..n)
        .map(|i| {
            serde_json::from_value(serde_json::json!({
                "accountRef": "prod",
                "aws": {"serviceCode": "ec2", "quotaCode": "L-1216C47A"},
                "regions": ["us-east-1"],
                "capacity": [{"instanceType": instance_type, "count": i + 1}],
            }))
            .unwrap()
        })
        .collect()
}

#[tokio::test]
async fn a_bogus_instance_type_is_asked_about_once_per_ttl_however_many_peers_share_it() {
    let sim = sim(&base_scenario("")).await;
    let p = provider(&sim).await;
    let describes = || sim.aws().calls("DescribeInstanceTypes");
    // What one pass of 10 objects costs: each reconcile recomputes every peer's share.
    let specs = capacity_specs(10, "m5.bogus");
    for _reconcile in 0..10 {
        for spec in &specs {
            let e = quota_operator::capacity::share(
                spec,
                p.as_ref(),
                "us-east-1",
                "L-1216C47A",
                &quota_operator::capacity::nodepools::NodePools::off(),
            )
            .await
            .unwrap_err();
            assert!(e.to_string().contains("m5.bogus"), "{e}");
        }
    }
    assert_eq!(describes(), 1, "100 shares of a bogus type: one call");

    // Concurrent lookups wait for the one call in flight (a fresh type, so nothing is cached).
    let lookups = (0..20).map(|_| {
        let p = p.clone();
        tokio::spawn(async move { p.vcpus("us-east-1", &["m5.fake".to_string()]).await })
    });
    for lookup in lookups {
        let e = lookup.await.unwrap().unwrap_err();
        assert_eq!(
            (e.kind, e.code.as_str()),
            (ErrorKind::InvalidArgument, "InvalidInstanceType"),
            "EC2's own answer is remembered: {e}"
        );
    }
    assert_eq!(describes(), 2, "20 concurrent lookups: one call");

    // The TTL (300 ms here) over, a type that might have appeared is asked about again.
    tokio::time::sleep(Duration::from_millis(350)).await;
    p.vcpus("us-east-1", &["m5.bogus".to_string()])
        .await
        .unwrap_err();
    assert_eq!(describes(), 3, "asked again after the TTL");
}

#[tokio::test]
async fn a_bogus_type_beside_real_ones_spoils_nothing_for_the_real_ones() {
    let sim = sim(&base_scenario("")).await;
    let p = provider(&sim).await;
    let types = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let e = p
        .vcpus(
            "us-east-1",
            &types(&["m5.large", "m5.bogus", "c6i.4xlarge"]),
        )
        .await
        .unwrap_err();
    assert!(
        e.message.contains("m5.bogus") && !e.message.contains("m5.large"),
        "{e}"
    );
    // The refused batch named the bogus type; the real ones were asked on their own.
    assert_eq!(sim.aws().calls("DescribeInstanceTypes"), 2);
    let real = p
        .vcpus("us-east-1", &types(&["m5.large", "c6i.4xlarge"]))
        .await
        .unwrap();
    assert_eq!((real["m5.large"], real["c6i.4xlarge"]), (2, 16));
    p.vcpus("us-east-1", &types(&["m5.bogus"]))
        .await
        .unwrap_err();
    assert_eq!(
        sim.aws().calls("DescribeInstanceTypes"),
        2,
        "both answers remembered"
    );
}

#[tokio::test]
async fn instance_type_lookups_keep_under_the_operators_share_of_the_ec2_rate() {
    // The simulator allows DescribeInstanceTypes only the operator's own share (5/s, burst 10):
    // unlimited, 30 lookups of distinct types in a row would be throttled.
    let sim = sim(&base_scenario(
        "  rates: {overrides: {DescribeInstanceTypes: {rate: 5, burst: 10}}}\n",
    ))
    .await;
    let p = provider(&sim).await;
    let started = std::time::Instant::now();
    for i in 0..30 {
        p.vcpus("us-east-1", &[format!("m5.bogus{i}")])
            .await
            .unwrap_err();
    }
    let throttled: u64 = sim.aws().counters().iter().map(|c| c.throttled).sum();
    assert_eq!(throttled, 0, "no call was throttled");
    assert_eq!(sim.aws().calls("DescribeInstanceTypes"), 30);
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "30 calls at 4/s after a burst of 8 take five and a half seconds"
    );
}

/// A closed request makes the quota cache forget the service's listing. When that happens in a
/// reconcile whose usage read starts a new usage period, the read lists the service again
/// before its call: usage has no gap, and each period costs one GetMetricData.
#[tokio::test]
async fn usage_has_no_gap_after_a_closed_request_made_the_cache_forget_the_listing() {
    let sim = sim(&base_scenario(
        "  quotas:\n  - {serviceCode: ec2, quotaCode: L-1216C47A, value: 640, usage: 600}\n",
    ))
    .await;
    let p = provider(&sim).await;
    let od = target("ec2", Some("L-1216C47A"), None, "us-east-1");
    let used = |u: &quota_operator::cloud::UsageView| u.points.last().map(|(_, v)| *v);

    p.quota(&od).await.unwrap();
    assert_eq!(
        used(&p.usage(&od, "L-1216C47A", &no_fleet).await.unwrap()),
        Some(600.0)
    );
    let filed = p
        .file(&od, "L-1216C47A", 800, &FileContext::default())
        .await
        .unwrap();
    sim.aws().approve(&filed.id).unwrap();
    // A reconcile after the usage period (the cache TTL, 300 ms) ended: the quota read, the
    // request followed to its close (the listing forgotten), then usage.
    tokio::time::sleep(Duration::from_millis(400)).await;
    p.quota(&od).await.unwrap();
    assert!(!p.request(&od, &filed.id).await.unwrap().phase.is_open());
    let u = p.usage(&od, "L-1216C47A", &no_fleet).await;
    assert_eq!(u.as_ref().ok().and_then(used), Some(600.0), "{u:?}");
    assert_eq!(
        sim.aws().calls_in(ACCOUNT, "us-east-1", "GetMetricData"),
        2,
        "one batch per period"
    );
}

/// Reconciles list services one after another; a period's first usage read must not pay one
/// GetMetricData per service as they arrive. Given the services the fleet names, it lists them
/// and reads them all in one call, and the reads after it (any service, any quota) cost none.
#[tokio::test]
async fn the_first_usage_read_of_a_period_covers_every_service_the_fleet_names() {
    let sim = sim(&base_scenario(
        "  quotas:
  - {serviceCode: ec2, quotaCode: L-1216C47A, value: 640, usage: 600}
  - {serviceCode: lambda, quotaCode: L-B99A9384, quotaName: Concurrent executions, default: 1000}
  - {serviceCode: lambda, quotaCode: L-B99A9384, usage: 250}
  - {serviceCode: elasticloadbalancing, quotaCode: L-53DA6B97, quotaName: Application Load Balancers per Region, default: 50}
  - {serviceCode: elasticloadbalancing, quotaCode: L-53DA6B97, usage: 12}
",
    ))
    .await;
    let p = provider(&sim).await;
    let od = target("ec2", Some("L-1216C47A"), None, "us-east-1");
    let lambda = target("lambda", Some("L-B99A9384"), None, "us-east-1");
    let alb = target(
        "elasticloadbalancing",
        Some("L-53DA6B97"),
        None,
        "us-east-1",
    );
    let fleet = || vec!["elasticloadbalancing".to_string(), "lambda".to_string()];
    let used = |u: Result<quota_operator::cloud::UsageView, _>| {
        u.map(|u| u.points.last().map(|(_, v)| *v))
    };

    p.quota(&od).await.unwrap();
    assert_eq!(
        used(p.usage(&od, "L-1216C47A", &fleet).await),
        Ok(Some(600.0))
    );
    let lists = sim
        .aws()
        .calls_in(ACCOUNT, "us-east-1", "ListServiceQuotas");
    assert!(
        lists >= 3,
        "ec2, lambda and elasticloadbalancing listed: {lists}"
    );
    // The reconciles of the other services find their listing cached and their usage read.
    p.quota(&lambda).await.unwrap();
    p.quota(&alb).await.unwrap();
    assert_eq!(
        used(p.usage(&lambda, "L-B99A9384", &fleet).await),
        Ok(Some(250.0))
    );
    assert_eq!(
        used(p.usage(&alb, "L-53DA6B97", &no_fleet).await),
        Ok(Some(12.0))
    );
    assert_eq!(
        sim.aws()
            .calls_in(ACCOUNT, "us-east-1", "ListServiceQuotas"),
        lists,
        "no service listed twice"
    );
    assert_eq!(
        sim.aws().calls_in(ACCOUNT, "us-east-1", "GetMetricData"),
        1,
        "one batch for the three services"
    );
    // A service the fleet did not name costs one call of its own, once.
    let other = target("ec2", Some("L-34B43A08"), None, "eu-west-1");
    let _ = p.usage(&other, "L-34B43A08", &no_fleet).await;
    let _ = p.usage(&other, "L-34B43A08", &no_fleet).await;
    assert_eq!(sim.aws().calls_in(ACCOUNT, "eu-west-1", "GetMetricData"), 1);
}

#[tokio::test]
async fn a_region_the_account_does_not_have_is_blocked_with_the_nearest_and_never_read() {
    let sim = sim(&base_scenario("  regions: [xx-lab-1]\n")).await;
    let aws = serde_json::json!({"accountId": ACCOUNT});
    let p = provider_caching(&sim, aws, Duration::from_secs(60)).await;
    let spot = |region: &str| target("ec2", Some("L-34B43A08"), None, region);
    for _ in 0..10 {
        let e = p.quota(&spot("us-east-9")).await.unwrap_err();
        assert_eq!(
            (e.kind, e.code.as_str()),
            (ErrorKind::SpecMismatch, "UnknownRegion"),
            "{e}"
        );
        assert_eq!(
            e.message,
            "\"us-east-9\" is not a region this AWS account has (nearest: us-east-1, us-east-2)"
        );
        for region in ["us-east-1", "eu-west-1", "ap-south-1", "xx-lab-1"] {
            p.quota(&spot(region)).await.unwrap();
        }
    }
    assert_eq!(
        sim.aws().calls("DescribeRegions"),
        1,
        "one listing for them all"
    );
    let in_the_bogus_region: u64 = (sim.aws().counters().iter())
        .filter(|c| c.region == "us-east-9")
        .map(|c| c.calls)
        .sum();
    assert_eq!(in_the_bogus_region, 0, "nothing was sent for us-east-9");
}

#[tokio::test]
async fn a_denied_region_listing_checks_the_shape_only_and_is_asked_again_after_the_ttl() {
    let sim = sim(&base_scenario(
        "  faults:\n  - {operation: DescribeRegions, fault: accessDenied}\n",
    ))
    .await;
    let aws = serde_json::json!({"accountId": ACCOUNT});
    let p = provider_caching(&sim, aws, Duration::from_millis(300)).await;
    let spot = target("ec2", Some("L-34B43A08"), None, "us-east-9");
    for _ in 0..5 {
        // The simulator answers Service Quotas in any region: the read passes.
        p.quota(&spot).await.unwrap();
    }
    assert_eq!(sim.aws().calls("DescribeRegions"), 1);
    tokio::time::sleep(Duration::from_millis(350)).await;
    sim.aws().clear_faults();
    let e = p.quota(&spot).await.unwrap_err();
    assert_eq!(e.code, "UnknownRegion", "{e}");
    assert_eq!(sim.aws().calls("DescribeRegions"), 2);
}

/// CloudWatch refused: usage comes from AWS's utilisation report, started once and read when
/// it is done (the operator asks after it at most every 3 s, so no reconcile waits for it).
#[tokio::test]
async fn usage_comes_from_the_utilization_report_when_cloudwatch_refuses() {
    let sim = sim(&base_scenario(
        "  quotas:\n  - {serviceCode: ec2, quotaCode: L-1216C47A, value: 640, usage: 600}\n  \
         faults:\n  - {operation: GetMetricData, fault: accessDenied}\n",
    ))
    .await;
    let p = provider_caching(
        &sim,
        serde_json::json!({"accountId": ACCOUNT}),
        Duration::from_secs(60),
    )
    .await;
    let od = target("ec2", Some("L-1216C47A"), None, "us-east-1");
    p.quota(&od).await.unwrap();

    let pending = p
        .usage(&od, "L-1216C47A", &no_fleet)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        pending.contains("AccessDenied") && pending.contains("being generated"),
        "CloudWatch's refusal, then the report's state: {pending}"
    );
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let usage = p.usage(&od, "L-1216C47A", &no_fleet).await.unwrap();
    assert_eq!(usage.points.last().map(|(_, v)| *v), Some(600.0));
    assert!(
        usage.source.contains("utilization report"),
        "{}",
        usage.source
    );
    assert_eq!(
        (
            sim.aws().calls("StartQuotaUtilizationReport"),
            sim.aws().calls("GetQuotaUtilizationReport"),
        ),
        (1, 1),
        "one report, read once it was done"
    );
}
