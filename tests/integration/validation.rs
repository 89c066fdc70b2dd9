//! Admission: the server itself rejects invalid specs, with a message naming the field.

use serde_json::{Value, json};

use crate::harness::TestEnv;

fn qr(spec: Value) -> Value {
    json!({"metadata": {"name": "bad"}, "spec": spec})
}

fn valid_aws_spec() -> Value {
    json!({
        "accountRef": "prod-aws",
        "aws": {"serviceCode": "ec2", "quotaCode": "L-34B43A08"},
        "regions": ["us-east-1", "eu-west-1"],
        "desiredValue": 2000
    })
}

fn with(mut spec: Value, path: &[&str], value: Option<Value>) -> Value {
    let (last, parents) = path.split_last().unwrap();
    let mut at = &mut spec;
    for p in parents {
        at = &mut at[*p];
    }
    match value {
        Some(v) => at[*last] = v,
        None => {
            at.as_object_mut().unwrap().remove(*last);
        }
    }
    spec
}

async fn rejected(env: &TestEnv, kind: &str, obj: Value) -> String {
    match env.create_raw(kind, obj.clone()).await {
        Ok(_) => panic!("the server accepted an invalid {kind}: {obj}"),
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 422, "{status:?}");
            status.message
        }
        Err(e) => panic!("unexpected error: {e}"),
    }
}

#[tokio::test]
async fn invalid_quota_requirements_are_rejected_naming_the_field() {
    let env = TestEnv::new("validation-qr").await;
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "both aws and gcp",
            with(
                valid_aws_spec(),
                &["gcp"],
                Some(
                    json!({"service": "compute.googleapis.com", "quotaId": "CPUS-per-project-region"}),
                ),
            ),
            "exactly one of spec.aws or spec.gcp",
        ),
        (
            "neither aws nor gcp",
            with(valid_aws_spec(), &["aws"], None),
            "exactly one of spec.aws or spec.gcp",
        ),
        (
            "both quotaCode and quotaName",
            with(
                valid_aws_spec(),
                &["aws", "quotaName"],
                Some(json!("All Standard Spot")),
            ),
            "exactly one of spec.aws.quotaCode or spec.aws.quotaName",
        ),
        (
            "neither quotaCode nor quotaName",
            with(valid_aws_spec(), &["aws", "quotaCode"], None),
            "exactly one of spec.aws.quotaCode or spec.aws.quotaName",
        ),
        (
            "malformed quotaCode",
            with(
                valid_aws_spec(),
                &["aws", "quotaCode"],
                Some(json!("34B43A08")),
            ),
            "spec.aws.quotaCode",
        ),
        (
            "zero desiredValue",
            with(valid_aws_spec(), &["desiredValue"], Some(json!(0))),
            "spec.desiredValue",
        ),
        (
            "negative desiredValue",
            with(valid_aws_spec(), &["desiredValue"], Some(json!(-5))),
            "spec.desiredValue",
        ),
        (
            "no regions",
            with(valid_aws_spec(), &["regions"], Some(json!([]))),
            "spec.regions",
        ),
        (
            "regions missing",
            with(valid_aws_spec(), &["regions"], None),
            "spec.regions",
        ),
        (
            "duplicate regions",
            with(
                valid_aws_spec(),
                &["regions"],
                Some(json!(["us-east-1", "us-east-1"])),
            ),
            "spec.regions",
        ),
        (
            "malformed region",
            with(
                valid_aws_spec(),
                &["regions"],
                Some(json!(["us-east-1", "US_EAST"])),
            ),
            "spec.regions",
        ),
        (
            "accountRef missing",
            with(valid_aws_spec(), &["accountRef"], None),
            "spec.accountRef",
        ),
        (
            "empty accountRef",
            with(valid_aws_spec(), &["accountRef"], Some(json!(""))),
            "spec.accountRef",
        ),
        (
            "allowDecrease on aws",
            with(valid_aws_spec(), &["allowDecrease"], Some(json!(true))),
            "spec.allowDecrease",
        ),
        (
            "GCP region written AWS-style",
            json!({
                "accountRef": "prod-gcp",
                "gcp": {"service": "compute.googleapis.com", "quotaId": "CPUS-per-project-region"},
                "regions": ["us-central-1"],
                "desiredValue": 100
            }),
            "spec.regions",
        ),
    ];
    for (what, spec, field) in cases {
        let message = rejected(&env, "QuotaRequirement", qr(spec)).await;
        assert!(
            message.contains(field),
            "{what}: message does not name {field}: {message}"
        );
    }
    // And nothing half-written: no object exists after all those rejections.
    let list = env.qrs().list(&Default::default()).await.unwrap();
    assert!(list.items.is_empty(), "rejected objects must not be stored");
    // The valid base spec itself is accepted, so the rejections above are about the change.
    env.create_raw("QuotaRequirement", qr(valid_aws_spec()))
        .await
        .expect("valid spec accepted");
}

#[tokio::test]
async fn invalid_cloud_accounts_are_rejected_naming_the_field() {
    let env = TestEnv::new("validation-ca").await;
    let name = env.unique("bad");
    let account = |spec: Value| json!({"metadata": {"name": name}, "spec": spec});
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "both aws and gcp",
            json!({"aws": {"accountId": "123456789012"}, "gcp": {"project": "my-project", "contactEmail": "q@example.com"}}),
            "exactly one of spec.aws or spec.gcp",
        ),
        (
            "neither aws nor gcp",
            json!({"namespaceSelector": {}}),
            "exactly one of spec.aws or spec.gcp",
        ),
        (
            "short account id",
            json!({"aws": {"accountId": "1234"}}),
            "spec.aws.accountId",
        ),
        (
            "letters in account id",
            json!({"aws": {"accountId": "12345678901a"}}),
            "spec.aws.accountId",
        ),
        (
            "malformed role ARN",
            json!({"aws": {"accountId": "123456789012", "roleArn": "arn:aws:iam::123:user/bob"}}),
            "spec.aws.roleArn",
        ),
        (
            "role in another account",
            json!({"aws": {"accountId": "123456789012", "roleArn": "arn:aws:iam::210987654321:role/quota-operator"}}),
            "spec.aws.roleArn must be a role in spec.aws.accountId",
        ),
        (
            "bad project id",
            json!({"gcp": {"project": "My_Project", "contactEmail": "q@example.com"}}),
            "spec.gcp.project",
        ),
        (
            "gcp without a contact email",
            json!({"gcp": {"project": "my-project"}}),
            "spec.gcp.contactEmail",
        ),
        (
            "guardrail factor below one",
            json!({"aws": {"accountId": "123456789012"}, "guardrails": {"maxIncreaseFactor": 0.5}}),
            "spec.guardrails.maxIncreaseFactor",
        ),
        (
            "endpoint without scheme",
            json!({"aws": {"accountId": "123456789012"}, "endpoint": "localhost:4566"}),
            "spec.endpoint",
        ),
    ];
    for (what, spec, field) in cases {
        let message = rejected(&env, "CloudAccount", account(spec)).await;
        assert!(
            message.contains(field),
            "{what}: message does not name {field}: {message}"
        );
    }
    assert!(
        env.accounts().get_opt(&name).await.unwrap().is_none(),
        "nothing stored"
    );
    env.create_raw(
        "CloudAccount",
        account(json!({"aws": {"accountId": "123456789012", "roleArn": "arn:aws:iam::123456789012:role/quota-operator"}})),
    )
    .await
    .expect("valid account accepted");
}
