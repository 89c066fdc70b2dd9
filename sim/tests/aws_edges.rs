//! The simulator's STS and its Service Quotas faults against independent clients: the AWS CLI
//! (botocore) and the Rust SDKs, over HTTP on loopback.

#[path = "support/aws.rs"]
mod support;

use support::start;

use std::{
    process::Output,
    time::{Duration, Instant},
};

use aws_sdk_servicequotas::{
    config::{BehaviorVersion, Credentials, Region, retry::RetryConfig},
    error::ProvideErrorMetadata,
};
use quota_sim::{
    Scenario, SimHandle,
    aws::{Fault, FaultInjection, OPENSEARCH_INSTANCES_PER_DOMAIN},
};
use serde_json::Value;

const SCENARIO: &str = r#"
aws:
  accounts: {AKIDOPERATOR: "999999999999"}
  rejectUnknownKeys: true
  roles:
  - {arn: "arn:aws:iam::111111111111:role/quota-operator"}
  - {arn: "arn:aws:iam::222222222222:role/quota-operator", externalId: ext-222}
  - {arn: "arn:aws:iam::333333333333:role/locked", assumable: false}
  quotas:
  - {serviceCode: ec2, quotaCode: L-34B43A08, value: 640}
  - {serviceCode: ec2, quotaCode: L-34B43A08, account: "111111111111", value: 1111}
  - serviceCode: ec2
    quotaCode: L-0263D0A3
    errorReason: {errorCode: DEPENDENCY_SERVICE_ERROR, errorMessage: "EC2 did not answer"}
"#;

/// Runs `aws <args>` against the simulator with the given credentials and nothing else from
/// the machine's configuration.
async fn aws_cli(sim: &SimHandle, creds: (&str, &str, Option<&str>), args: &[&str]) -> Output {
    let mut env = vec![
        ("AWS_ACCESS_KEY_ID", creds.0),
        ("AWS_SECRET_ACCESS_KEY", creds.1),
    ];
    env.extend(creds.2.map(|token| ("AWS_SESSION_TOKEN", token)));
    support::run(&sim.endpoint(), &env, args).await
}

async fn cli_ok(sim: &SimHandle, creds: (&str, &str, Option<&str>), args: &[&str]) -> Value {
    let out = aws_cli(sim, creds, args).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "aws {args:?} failed: {stderr}");
    serde_json::from_slice(&out.stdout).expect("CLI JSON output")
}

const OPERATOR: (&str, &str, Option<&str>) = ("AKIDOPERATOR", "not-checked", None);

#[tokio::test]
async fn cli_assumes_a_role_and_acts_in_its_account() {
    let sim = start(SCENARIO).await;
    let me = cli_ok(&sim, OPERATOR, &["sts", "get-caller-identity"]).await;
    assert_eq!(me["Account"], "999999999999", "{me}");
    assert!(
        me["Arn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:iam::999999999999:")
    );

    let role = "arn:aws:iam::111111111111:role/quota-operator";
    let assumed = cli_ok(
        &sim,
        OPERATOR,
        &[
            "sts",
            "assume-role",
            "--role-arn",
            role,
            "--role-session-name",
            "cli-test",
        ],
    )
    .await;
    let creds = &assumed["Credentials"];
    let key = creds["AccessKeyId"].as_str().unwrap();
    assert!(key.starts_with("ASIA"), "{assumed}");
    assert!(creds["Expiration"].as_str().is_some(), "{assumed}");
    assert_eq!(
        assumed["AssumedRoleUser"]["Arn"],
        "arn:aws:sts::111111111111:assumed-role/quota-operator/cli-test"
    );
    let session = (
        key,
        creds["SecretAccessKey"].as_str().unwrap(),
        creds["SessionToken"].as_str(),
    );
    let who = cli_ok(&sim, session, &["sts", "get-caller-identity"]).await;
    assert_eq!(who["Account"], "111111111111", "{who}");
    assert_eq!(
        who["Arn"],
        "arn:aws:sts::111111111111:assumed-role/quota-operator/cli-test"
    );
    // The Service Quotas side acts in the role's account.
    let q = cli_ok(
        &sim,
        session,
        &[
            "service-quotas",
            "get-service-quota",
            "--service-code",
            "ec2",
            "--quota-code",
            "L-34B43A08",
        ],
    )
    .await;
    assert_eq!(q["Quota"]["Value"], 1111.0);
    assert_eq!(sim.aws().sts_calls("AssumeRole"), 1);
    assert_eq!(sim.aws().sts_calls("GetCallerIdentity"), 2);
}

#[tokio::test]
async fn cli_is_refused_a_locked_role_and_a_missing_external_id() {
    let sim = start(SCENARIO).await;
    for (role, extra) in [
        ("arn:aws:iam::333333333333:role/locked", None),
        ("arn:aws:iam::222222222222:role/quota-operator", None),
        (
            "arn:aws:iam::222222222222:role/quota-operator",
            Some("wrong"),
        ),
        ("arn:aws:iam::444444444444:role/unknown", None),
    ] {
        let mut args = vec![
            "sts",
            "assume-role",
            "--role-arn",
            role,
            "--role-session-name",
            "cli",
        ];
        if let Some(e) = extra {
            args.extend(["--external-id", e]);
        }
        let out = aws_cli(&sim, OPERATOR, &args).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{role} must be refused");
        assert!(stderr.contains("(AccessDenied)"), "{stderr}");
        assert!(
            stderr.contains("not authorized to perform: sts:AssumeRole"),
            "{stderr}"
        );
    }
    let ok = cli_ok(
        &sim,
        OPERATOR,
        &[
            "sts",
            "assume-role",
            "--role-arn",
            "arn:aws:iam::222222222222:role/quota-operator",
            "--role-session-name",
            "cli",
            "--external-id",
            "ext-222",
        ],
    )
    .await;
    assert!(ok["Credentials"]["AccessKeyId"].is_string());
    let unknown = aws_cli(
        &sim,
        ("AKIDNOBODY", "x", None),
        &["sts", "get-caller-identity"],
    )
    .await;
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(stderr.contains("(InvalidClientTokenId)"), "{stderr}");
}

fn sts_client(sim: &SimHandle, key: &str) -> aws_sdk_sts::Client {
    let c = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            key, "x", None, None, "test",
        ))
        .endpoint_url(sim.endpoint())
        .build();
    aws_sdk_sts::Client::from_conf(c)
}

fn quotas_client(
    endpoint: &str,
    creds: Credentials,
    retry: RetryConfig,
) -> aws_sdk_servicequotas::Client {
    let c = aws_sdk_servicequotas::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(creds)
        .endpoint_url(endpoint)
        .retry_config(retry)
        .build();
    aws_sdk_servicequotas::Client::from_conf(c)
}

#[tokio::test]
async fn sdk_assumes_a_role_with_its_external_id() {
    let sim = start(SCENARIO).await;
    let sts = sts_client(&sim, "AKIDOPERATOR");
    let me = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some("999999999999"));

    let role = "arn:aws:iam::222222222222:role/quota-operator";
    let refused = sts
        .assume_role()
        .role_arn(role)
        .role_session_name("sdk")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("AccessDenied"));
    assert!(
        refused.message().unwrap_or_default().contains(role),
        "{refused:?}"
    );

    let out = sts
        .assume_role()
        .role_arn(role)
        .role_session_name("sdk")
        .external_id("ext-222")
        .send()
        .await
        .unwrap();
    let c = out.credentials().unwrap();
    let creds = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "assumed",
    );
    let q = quotas_client(&sim.endpoint(), creds, RetryConfig::disabled())
        .get_service_quota()
        .service_code("ec2")
        .quota_code("L-34B43A08")
        .send()
        .await
        .unwrap();
    let arn = q.quota().unwrap().quota_arn().unwrap();
    assert!(arn.contains(":222222222222:"), "{arn}");
}

fn operator_quotas(sim: &SimHandle) -> aws_sdk_servicequotas::Client {
    let creds = Credentials::new("AKIDOPERATOR", "x", None, None, "test");
    quotas_client(&sim.endpoint(), creds, RetryConfig::disabled())
}

fn fault(operation: &str, fault: Fault, count: Option<u32>) -> FaultInjection {
    FaultInjection {
        operation: operation.into(),
        fault,
        count,
        account: None,
        region: None,
        delay: None,
    }
}

#[tokio::test]
async fn listing_refused_then_answered_by_a_proxy_page() {
    let sim = start(SCENARIO).await;
    let c = operator_quotas(&sim);
    sim.aws()
        .inject_fault(fault("ListServiceQuotas", Fault::AccessDenied, None))
        .unwrap();
    for _ in 0..2 {
        let e = c
            .list_service_quotas()
            .service_code("ec2")
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some("AccessDeniedException"));
        assert!(
            e.message()
                .unwrap()
                .contains("servicequotas:ListServiceQuotas")
        );
    }
    // Single reads are still allowed.
    let q = c
        .get_service_quota()
        .service_code("ec2")
        .quota_code("L-34B43A08")
        .send()
        .await
        .unwrap();
    assert_eq!(q.quota().unwrap().value(), Some(640.0));

    sim.aws().clear_faults();
    sim.aws()
        .inject_fault(fault("ListServiceQuotas", Fault::Html500, Some(1)))
        .unwrap();
    let e = c
        .list_service_quotas()
        .service_code("ec2")
        .send()
        .await
        .unwrap_err();
    let raw = e.raw_response().expect("an HTTP answer");
    assert_eq!(raw.status().as_u16(), 500);
    let body = String::from_utf8_lossy(raw.body().bytes().unwrap()).to_string();
    assert!(
        body.contains("<title>500 Internal Server Error</title>"),
        "{body}"
    );
    assert_eq!(
        e.code(),
        None,
        "a proxy page carries no AWS error code: {e:?}"
    );
    // Counted once, then the listing answers again.
    c.list_service_quotas()
        .service_code("ec2")
        .send()
        .await
        .unwrap();
    let errors: u64 = sim.aws().counters().iter().map(|c| c.errors).sum();
    assert_eq!(errors, 3);
}

#[tokio::test]
async fn a_stalled_call_answers_late() {
    let sim = start(SCENARIO).await;
    let mut stall = fault("GetServiceQuota", Fault::Stall, Some(1));
    stall.delay = Some(quota_sim::Delay::millis(1500));
    sim.aws().inject_fault(stall).unwrap();
    let c = operator_quotas(&sim);
    let started = Instant::now();
    c.get_service_quota()
        .service_code("ec2")
        .quota_code("L-34B43A08")
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(1500));
    let started = Instant::now();
    c.get_service_quota()
        .service_code("ec2")
        .quota_code("L-34B43A08")
        .send()
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "the stall was used up"
    );
}

#[tokio::test]
async fn error_reasons_and_resource_level_quotas_on_the_wire() {
    let sim = start(SCENARIO).await;
    let c = operator_quotas(&sim);
    let q = c
        .get_service_quota()
        .service_code("ec2")
        .quota_code("L-0263D0A3")
        .send()
        .await
        .unwrap();
    let q = q.quota().unwrap();
    assert_eq!(q.value(), None, "no value when AWS could not fetch it");
    let reason = q.error_reason().unwrap();
    assert_eq!(
        reason.error_code().map(|c| c.as_str()),
        Some("DEPENDENCY_SERVICE_ERROR")
    );
    assert_eq!(reason.error_message(), Some("EC2 did not answer"));
    let listed = c
        .list_service_quotas()
        .service_code("ec2")
        .send()
        .await
        .unwrap();
    let eip = listed
        .quotas()
        .iter()
        .find(|q| q.quota_code() == Some("L-0263D0A3"))
        .expect("listed with its error");
    assert!(eip.value().is_none() && eip.error_reason().is_some());

    let per_domain = c
        .get_aws_default_service_quota()
        .service_code("es")
        .quota_code(OPENSEARCH_INSTANCES_PER_DOMAIN)
        .send()
        .await
        .unwrap();
    let q = per_domain.quota().unwrap();
    assert_eq!(
        q.quota_applied_at_level().map(|l| l.as_str()),
        Some("RESOURCE")
    );
    let ctx = q.quota_context().unwrap();
    assert_eq!(ctx.context_scope().map(|s| s.as_str()), Some("RESOURCE"));
    assert_eq!(
        ctx.context_scope_type(),
        Some("AWS::OpenSearchService::Domain")
    );
    assert_eq!(ctx.context_id(), Some("*"));
}

#[tokio::test]
async fn faults_come_from_the_scenario_and_bad_ones_are_named() {
    let yaml = "aws:\n  faults:\n  - {operation: ListServiceQuotas, fault: html500}\n";
    let sim = start(yaml).await;
    let c = operator_quotas(&sim);
    for _ in 0..2 {
        let e = c
            .list_service_quotas()
            .service_code("ec2")
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.raw_response().unwrap().status().as_u16(), 500);
    }
    let bad = Scenario::from_yaml(
        "aws:\n  faults:\n  - {operation: ListServiceQuotas, fault: accessDenied, delay: 1s}\n",
    )
    .unwrap_err();
    assert_eq!(bad.field, "aws.faults[0].delay", "{bad}");
    let bad =
        Scenario::from_yaml("aws:\n  roles:\n  - {arn: \"arn:aws:iam::12:role/x\"}\n").unwrap_err();
    assert_eq!(bad.field, "aws.roles[0].arn", "{bad}");
    let bad = Scenario::from_yaml(
        "aws:\n  quotas:\n  - {serviceCode: ec2, quotaCode: L-0263D0A3, errorReason: {errorCode: OOPS, errorMessage: x}}\n",
    )
    .unwrap_err();
    assert_eq!(bad.field, "aws.quotas[0].errorReason.errorCode", "{bad}");
}
