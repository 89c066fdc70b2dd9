//! The AWS provider at the edges of what real accounts answer: a refused or failing
//! ListServiceQuotas, answers with no AWS error code, stalls, quotas with no value or applied per
//! resource, and who the credentials really are. The real SDK clients against the simulator.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use quota_operator::{
    api::CloudAccount,
    cloud::{
        CloudError, ErrorKind, ProviderFactory, QuotaProvider, QuotaRef, Target,
        aws::{AwsFactory, AwsSettings},
    },
};
use quota_sim::{
    AwsSim, Delay, Scenario, SimHandle,
    aws::{Fault, FaultInjection, OPENSEARCH_INSTANCES_PER_DOMAIN},
};
use serde_json::json;

const ACCOUNT: &str = "111111111111";
const KEY: &str = "AKIDTESTEDGES";
const SPOT_NAME: &str = "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests";
const ON_DEMAND_NAME: &str = "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances";

async fn sim(extra: &str) -> SimHandle {
    sim_with(extra, "").await
}

/// A simulator with `extra` scenario fields and `quotas` added to the usual values.
async fn sim_with(extra: &str, quotas: &str) -> SimHandle {
    let yaml = format!(
        "aws:\n  accounts: {{{KEY}: \"{ACCOUNT}\"}}\n  schedule: {{manual: true}}\n{extra}  quotas:\n  \
         - {{serviceCode: ec2, quotaCode: L-34B43A08, value: 640}}\n  \
         - {{serviceCode: vpc, quotaCode: L-DF5E4CA3, applied: false}}\n{quotas}"
    );
    AwsSim::new(Scenario::from_yaml(&yaml).expect("scenario"))
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim")
}

fn settings(sim: &SimHandle) -> AwsSettings {
    AwsSettings {
        endpoint: Some(sim.endpoint()),
        cache_ttl: Duration::from_millis(600),
        ..AwsSettings::default()
    }
}

async fn factory(settings: AwsSettings) -> AwsFactory {
    AwsFactory::with_static_credentials(KEY, "secret", "us-east-1", settings).await
}

fn account(spec: serde_json::Value) -> CloudAccount {
    let mut spec = spec;
    spec["namespaceSelector"] = json!({});
    serde_json::from_value(json!({
        "metadata": {"name": "edges", "uid": "uid-edges", "generation": 1},
        "spec": spec
    }))
    .unwrap()
}

async fn provider(sim: &SimHandle) -> Arc<dyn QuotaProvider> {
    let account = account(json!({"aws": {"accountId": ACCOUNT}}));
    factory(settings(sim))
        .await
        .provider(&account)
        .await
        .expect("provider")
}

fn target(service: &str, code: Option<&str>, name: Option<&str>) -> Target {
    Target {
        quota: QuotaRef::Aws {
            service_code: service.into(),
            quota_code: code.map(Into::into),
            quota_name: name.map(Into::into),
        },
        region: "us-east-1".into(),
    }
}

fn listing_fault(fault: Fault) -> FaultInjection {
    FaultInjection {
        operation: "ListServiceQuotas".into(),
        fault,
        count: None,
        account: None,
        region: None,
        delay: None,
    }
}

#[tokio::test]
async fn listing_denied_values_are_read_one_by_one_by_code_and_by_name() {
    let sim = sim("  faults:\n  - {operation: ListServiceQuotas, fault: accessDenied}\n").await;
    let p = provider(&sim).await;
    let read = |service: &'static str, code: Option<&'static str>, name: Option<&'static str>| {
        let p = p.clone();
        async move { p.quota(&target(service, code, name)).await.unwrap() }
    };

    // A name: resolved with ListAWSDefaultServiceQuotas, then read with GetServiceQuota.
    let on_demand = read("ec2", None, Some(ON_DEMAND_NAME)).await;
    assert_eq!(
        (on_demand.id.as_str(), on_demand.value),
        ("L-1216C47A", 5.0)
    );
    let spot = read("ec2", Some("L-34B43A08"), None).await;
    assert_eq!((spot.value, spot.name.as_str()), (640.0, SPOT_NAME));
    // The name of a quota already read is known without asking.
    let by_name = read("ec2", None, Some(SPOT_NAME)).await;
    assert_eq!((by_name.id.as_str(), by_name.value), ("L-34B43A08", 640.0));
    // No applied value: the default, from GetAWSDefaultServiceQuota.
    let eni = read("vpc", Some("L-DF5E4CA3"), None).await;
    assert_eq!(eni.value, 5000.0);

    // Ten more objects on the same quotas within the TTL cost nothing.
    for _ in 0..10 {
        read("ec2", Some("L-34B43A08"), None).await;
        read("ec2", None, Some(SPOT_NAME)).await;
        read("ec2", None, Some(ON_DEMAND_NAME)).await;
        read("vpc", Some("L-DF5E4CA3"), None).await;
    }
    let aws = sim.aws();
    assert_eq!(
        aws.calls("ListServiceQuotas"),
        2,
        "refused once per (region, service) (ec2, vpc), then remembered"
    );
    assert_eq!(aws.calls("GetServiceQuota"), 3, "on-demand, spot, ENIs");
    assert_eq!(aws.calls("GetAWSDefaultServiceQuota"), 1, "ENIs");
    assert_eq!(
        aws.calls("ListAWSDefaultServiceQuotas"),
        1,
        "names resolved once"
    );

    // After the TTL the listing is asked again, and used once it answers.
    aws.clear_faults();
    tokio::time::sleep(Duration::from_millis(700)).await;
    read("ec2", Some("L-34B43A08"), None).await;
    assert_eq!(aws.calls("ListServiceQuotas"), 3);
    assert_eq!(aws.calls("GetServiceQuota"), 3, "the listing answered");
}

#[tokio::test]
async fn listing_answered_by_a_proxy_500_page_values_are_still_read() {
    let sim = sim("").await;
    sim.aws()
        .inject_fault(listing_fault(Fault::Html500))
        .unwrap();
    let p = provider(&sim).await;
    let spot = p
        .quota(&target("ec2", Some("L-34B43A08"), None))
        .await
        .unwrap();
    assert_eq!(spot.value, 640.0);
    let by_name = p
        .quota(&target("ec2", None, Some(ON_DEMAND_NAME)))
        .await
        .unwrap();
    assert_eq!((by_name.id.as_str(), by_name.value), ("L-1216C47A", 5.0));
    assert_eq!(sim.aws().calls("GetServiceQuota"), 2);
    assert!(sim.aws().calls("ListServiceQuotas") >= 1);
}

#[tokio::test]
async fn a_single_read_answered_by_a_proxy_names_the_status_and_the_body() {
    let sim = sim("").await;
    sim.aws()
        .inject_fault(listing_fault(Fault::AccessDenied))
        .unwrap();
    let mut get = listing_fault(Fault::Html500);
    get.operation = "GetServiceQuota".into();
    sim.aws().inject_fault(get).unwrap();
    let p = provider(&sim).await;
    let e = p
        .quota(&target("ec2", Some("L-34B43A08"), None))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::Unavailable, "HTTP 500")
    );
    assert!(
        e.message
            .starts_with("<html> <head><title>500 Internal Server Error</title></head>"),
        "the body's start, whitespace collapsed: {e}"
    );
    assert!(e.to_string().contains("HTTP 500"), "{e}");
}

#[tokio::test]
async fn a_quota_with_an_error_reason_is_an_error_never_zero() {
    let reason = "  - serviceCode: ec2\n    quotaCode: L-0263D0A3\n    errorReason: {errorCode: DEPENDENCY_ACCESS_DENIED_ERROR, errorMessage: \"ec2:DescribeAddresses was denied\"}\n";
    let sim = sim_with("", reason).await;
    // Listed: ListServiceQuotas carries it; then a single read confirms it.
    let check = |e: CloudError| {
        assert_eq!(
            (e.kind, e.code.as_str()),
            (ErrorKind::AccessDenied, "DEPENDENCY_ACCESS_DENIED_ERROR")
        );
        assert!(
            e.message.contains("ec2:DescribeAddresses was denied"),
            "{e}"
        );
        assert!(e.message.contains("L-0263D0A3"), "{e}");
    };
    let p = provider(&sim).await;
    check(
        p.quota(&target("ec2", Some("L-0263D0A3"), None))
            .await
            .unwrap_err(),
    );
    // In single-read mode too.
    sim.aws()
        .inject_fault(listing_fault(Fault::AccessDenied))
        .unwrap();
    let p = provider(&sim).await;
    check(
        p.quota(&target("ec2", Some("L-0263D0A3"), None))
            .await
            .unwrap_err(),
    );
}

#[tokio::test]
async fn a_resource_level_quota_is_not_adjustable_here_and_nothing_is_filed() {
    let sim = sim("").await;
    let p = provider(&sim).await;
    let e = p
        .quota(&target("es", Some(OPENSEARCH_INSTANCES_PER_DOMAIN), None))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::NotAdjustable, "ResourceLevelQuota")
    );
    for words in [
        "per resource",
        "AWS::OpenSearchService::Domain",
        "account-level",
    ] {
        assert!(e.message.contains(words), "{words}: {e}");
    }
    assert!(sim.aws().filed().is_empty());
}

#[tokio::test]
async fn a_stalled_call_ends_in_a_timeout_within_the_bound() {
    let sim = sim("").await;
    let mut stall = listing_fault(Fault::Stall);
    stall.delay = Some(Delay::millis(30_000));
    sim.aws().inject_fault(stall).unwrap();
    let settings = AwsSettings {
        attempt_timeout: Duration::from_millis(300),
        operation_timeout: Duration::from_secs(1),
        ..settings(&sim)
    };
    let account = account(json!({"aws": {"accountId": ACCOUNT}}));
    let p = factory(settings).await.provider(&account).await.unwrap();
    let started = Instant::now();
    let e = p
        .quota(&target("ec2", Some("L-34B43A08"), None))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::Unavailable, "Timeout"),
        "{e}"
    );
    assert!(!e.message.is_empty());
}

#[tokio::test]
async fn credentials_of_another_account_are_an_account_mismatch() {
    let sim = sim("").await;
    let wrong = account(json!({"aws": {"accountId": "222222222222"}}));
    let e = factory(settings(&sim))
        .await
        .provider(&wrong)
        .await
        .err()
        .expect("refused");
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::AccountMismatch, "AccountMismatch")
    );
    assert!(
        e.message.contains("222222222222") && e.message.contains(ACCOUNT),
        "{e}"
    );
    assert_eq!(sim.aws().sts_calls("GetCallerIdentity"), 1);
    assert_eq!(sim.aws().calls("ListServiceQuotas"), 0, "nothing read");
}

#[tokio::test]
async fn roles_lead_to_their_accounts_and_a_locked_role_is_access_denied() {
    let roles = "  roles:\n  - {arn: \"arn:aws:iam::222222222222:role/qo\", externalId: ext-2}\n  \
                 - {arn: \"arn:aws:iam::333333333333:role/locked\", assumable: false}\n";
    let value =
        "  - {serviceCode: ec2, quotaCode: L-34B43A08, account: \"222222222222\", value: 2222}\n";
    let sim = sim_with(roles, value).await;
    let f = factory(settings(&sim)).await;
    let role_account = account(json!({"aws": {
        "accountId": "222222222222",
        "roleArn": "arn:aws:iam::222222222222:role/qo",
        "externalId": "ext-2"
    }}));
    let p = f.provider(&role_account).await.expect("role assumed");
    let spot = p
        .quota(&target("ec2", Some("L-34B43A08"), None))
        .await
        .unwrap();
    assert_eq!(spot.value, 2222.0, "read in the role's account");

    let locked = "arn:aws:iam::333333333333:role/locked";
    let mut locked_account =
        account(json!({"aws": {"accountId": "333333333333", "roleArn": locked}}));
    locked_account.metadata.name = Some("locked".into());
    let e = f.provider(&locked_account).await.err().expect("refused");
    assert_eq!(e.kind, ErrorKind::AccessDenied, "{e}");
    assert!(e.message.contains(locked), "names the role: {e}");
    assert!(
        e.message.contains("AccessDenied"),
        "says what STS answered: {e}"
    );
}

#[tokio::test]
async fn an_endpoint_the_operator_does_not_allow_gets_no_request() {
    let sim = sim("").await;
    // The operator runs against real AWS; a CloudAccount names another endpoint.
    let f = factory(AwsSettings::default()).await;
    let elsewhere = account(json!({"aws": {"accountId": ACCOUNT}, "endpoint": sim.endpoint()}));
    let e = f.provider(&elsewhere).await.err().expect("refused");
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::InvalidArgument, "EndpointNotAllowed")
    );
    assert!(
        e.message.contains(&sim.endpoint()) && e.message.contains("--allowed-aws-endpoint"),
        "{e}"
    );
    assert_eq!(sim.aws().total_calls(), 0, "no call reached the endpoint");
}

#[tokio::test]
async fn an_unknown_service_quota_or_name_costs_one_call_chain_per_ttl() {
    let sim = sim("").await;
    let p = provider(&sim).await;
    let unknown = [
        target("bogus", Some("L-34B43A08"), None),
        target("ec2", Some("L-00000000"), None),
        target("ec2", None, Some("No such quota")),
    ];
    // Ten reconciles of each hostile object within the TTL: a terminal mistake each (with
    // the nearest names, see `mistakes`), never an error to retry.
    let reasons = ["ServiceNotFound", "QuotaNotFound", "QuotaNotFound"];
    for _ in 0..10 {
        for (t, reason) in unknown.iter().zip(reasons) {
            let e = p.quota(t).await.unwrap_err();
            assert_eq!(
                (e.kind, e.code.as_str()),
                (ErrorKind::SpecMismatch, reason),
                "{t}: {e}"
            );
        }
    }
    let aws = sim.aws();
    let calls = |op| aws.calls(op);
    assert_eq!(
        calls("ListServiceQuotas"),
        2,
        "one listing of bogus (refused) and one of ec2"
    );
    assert_eq!(calls("ListServices"), 1, "the services nearest bogus, once");
    assert_eq!(calls("GetServiceQuota"), 1, "the unknown code, once");
    assert_eq!(calls("GetAWSDefaultServiceQuota"), 1, "its default, once");
    assert_eq!(
        calls("ListAWSDefaultServiceQuotas"),
        2,
        "the names nearest the unknown code, and the unknown name, once each"
    );

    // AWS's own answer is what is remembered, in the refusal's words.
    let e = p.quota(&unknown[0]).await.unwrap_err();
    assert!(
        e.message.contains("AWS answered NoSuchResourceException"),
        "{e}"
    );

    // After the TTL each is asked again: a service or quota may have appeared.
    tokio::time::sleep(Duration::from_millis(700)).await;
    for t in &unknown {
        p.quota(t).await.unwrap_err();
    }
    assert_eq!(calls("ListServiceQuotas"), 4);
    assert_eq!(calls("ListServices"), 2);
    assert_eq!(calls("GetServiceQuota"), 2);
    assert_eq!(calls("ListAWSDefaultServiceQuotas"), 4);
}

#[tokio::test]
async fn a_quota_read_one_by_one_and_unknown_is_remembered_too() {
    let sim = sim("  faults:\n  - {operation: ListServiceQuotas, fault: accessDenied}\n").await;
    let p = provider(&sim).await;
    for _ in 0..10 {
        let e = p
            .quota(&target("ec2", Some("L-00000000"), None))
            .await
            .unwrap_err();
        assert_eq!(
            (e.kind, e.code.as_str()),
            (ErrorKind::SpecMismatch, "QuotaNotFound"),
            "{e}"
        );
        let e = p
            .quota(&target("ec2", None, Some("No such quota")))
            .await
            .unwrap_err();
        assert_eq!(
            (e.kind, e.code.as_str()),
            (ErrorKind::SpecMismatch, "QuotaNotFound"),
            "{e}"
        );
    }
    let aws = sim.aws();
    assert_eq!(aws.calls("GetServiceQuota"), 1);
    assert_eq!(aws.calls("GetAWSDefaultServiceQuota"), 1);
    assert_eq!(
        aws.calls("ListAWSDefaultServiceQuotas"),
        1,
        "the names, once: for the code's hint, then the name and its hint"
    );
}

#[tokio::test]
async fn a_bogus_region_is_refused_before_anything_reaches_aws() {
    let sim = sim("").await;
    let p = provider(&sim).await;
    let sent = || -> u64 { sim.aws().counters().iter().map(|c| c.calls).sum() };
    for region in ["nowhere", "us-east-1-evil", "US-EAST-1", "us-east-1\n"] {
        let t = Target {
            region: region.into(),
            ..target("ec2", Some("L-34B43A08"), None)
        };
        let errors = [
            p.quota(&t).await.unwrap_err(),
            p.open_request(&t, "L-34B43A08").await.unwrap_err(),
            p.latest_request(&t, "L-34B43A08").await.unwrap_err(),
            p.request(&t, "req-1").await.unwrap_err(),
            p.file(&t, "L-34B43A08", 700, &Default::default())
                .await
                .unwrap_err(),
            p.vcpus(region, &["m5.large".into()]).await.unwrap_err(),
        ];
        for e in errors {
            assert_eq!(
                (e.kind, e.code.as_str()),
                (ErrorKind::SpecMismatch, "InvalidRegion"),
                "{region:?}: {e}"
            );
            assert!(
                e.message
                    .contains(&format!("{region:?} is not an AWS region")),
                "{e}"
            );
        }
    }
    assert_eq!(sent(), 0, "no call reached the simulator");
}
