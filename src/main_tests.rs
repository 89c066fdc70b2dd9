use quota_operator::{
    api::CloudAccount,
    cloud::{Clouds, ErrorKind, ProviderFactory, aws::AwsFactory, gcp::GcpFactory},
};
use quota_sim::{Scenario, Sim};
use serde_json::json;

use super::*;

fn run_args(flags: &[&str]) -> RunArgs {
    let argv = ["quota-operator", "run"]
        .into_iter()
        .chain(flags.iter().copied());
    match Cli::try_parse_from(argv).expect("flags parse").command {
        Command::Run(args) => *args,
        _ => unreachable!("parsed as run"),
    }
}

fn account(name: &str, cloud: serde_json::Value, endpoint: &str) -> CloudAccount {
    let mut spec = cloud;
    spec["endpoint"] = json!(endpoint);
    spec["namespaceSelector"] = json!({});
    serde_json::from_value(json!({"metadata": {"name": name, "uid": name}, "spec": spec}))
        .expect("a CloudAccount")
}

const AWS_ONLY: &str = "https://vpce-0123.servicequotas.us-east-1.vpce.amazonaws.com";

#[test]
fn an_endpoint_allowed_for_gcp_is_refused_for_aws_and_back() {
    let gcp_only = "http://127.0.0.1:9";
    let args = run_args(&[
        "--allowed-aws-endpoint",
        AWS_ONLY,
        "--allowed-gcp-endpoint",
        gcp_only,
    ]);
    let (aws, gcp) = cloud_settings(&args).unwrap();
    assert!(aws.endpoint_for(Some(AWS_ONLY)).is_ok());
    let refused = aws.endpoint_for(Some(gcp_only)).unwrap_err();
    assert_eq!(refused.code, "EndpointNotAllowed");
    assert!(
        refused.message.contains("--allowed-aws-endpoint"),
        "{refused}"
    );
    assert_eq!(gcp.allowed_endpoints, [gcp_only]);
    assert!(!gcp.allowed_endpoints.iter().any(|e| e == AWS_ONLY));
}

#[test]
fn the_one_list_for_both_clouds_is_refused_naming_the_new_flags() {
    let error = cloud_settings(&run_args(&["--allowed-endpoint", AWS_ONLY])).expect_err("refused");
    let message = error.to_string();
    assert!(
        message.contains("--allowed-aws-endpoint") && message.contains("--allowed-gcp-endpoint"),
        "{message}"
    );
}

/// Through the factory the operator runs with, against the simulator (which serves both clouds
/// on one port): the endpoint allowed for GCP only gets no signed AWS request, and back.
#[tokio::test]
async fn the_provider_factory_sends_each_cloud_only_to_its_own_allowed_endpoints() {
    let scenario =
        Scenario::from_yaml("aws:\n  accounts: {AKIDFLAGS: \"111111111111\"}\n").expect("scenario");
    let sim = Sim::new(scenario)
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim");
    let aws_account = account(
        "aws",
        json!({"aws": {"accountId": "111111111111"}}),
        &sim.endpoint(),
    );
    let gcp_account = account(
        "gcp",
        json!({"gcp": {"project": "p", "contactEmail": "q@example.com"}}),
        &sim.endpoint(),
    );
    let clouds = |aws_allowed: &str, gcp_allowed: &str| {
        let args = run_args(&[
            "--allowed-aws-endpoint",
            aws_allowed,
            "--allowed-gcp-endpoint",
            gcp_allowed,
        ]);
        let (aws, gcp) = cloud_settings(&args).unwrap();
        async move {
            let aws = AwsFactory::with_static_credentials("AKIDFLAGS", "s", "us-east-1", aws).await;
            Clouds::new(aws, GcpFactory::new(gcp))
        }
    };

    let gcp_only = clouds(AWS_ONLY, &sim.endpoint()).await;
    let refused = gcp_only
        .provider(&aws_account)
        .await
        .err()
        .expect("refused");
    assert_eq!(
        (refused.kind, refused.code.as_str()),
        (ErrorKind::InvalidArgument, "EndpointNotAllowed")
    );
    assert_eq!(sim.aws().total_calls(), 0, "no signed request reached it");
    assert_eq!(sim.aws().sts_calls("GetCallerIdentity"), 0);
    assert!(
        gcp_only.provider(&gcp_account).await.is_ok(),
        "allowed for GCP"
    );

    let aws_only = clouds(&sim.endpoint(), "https://psc.example").await;
    let refused = aws_only
        .provider(&gcp_account)
        .await
        .err()
        .expect("refused");
    assert_eq!(refused.code, "EndpointNotAllowed", "{refused}");
    assert!(
        refused.message.contains("--allowed-gcp-endpoint"),
        "{refused}"
    );
    assert!(
        aws_only.provider(&aws_account).await.is_ok(),
        "allowed for AWS"
    );
}
