use std::sync::Mutex;

use async_trait::async_trait;

use super::*;

fn account(yaml: &str) -> CloudAccount {
    serde_yaml::from_str(yaml).expect("a CloudAccount")
}

fn requirement(account: &str) -> QuotaRequirement {
    serde_yaml::from_str(&format!(
        "apiVersion: quota-operator.dev/v1alpha1\nkind: QuotaRequirement\n\
         metadata: {{name: spot, namespace: team}}\n\
         spec: {{accountRef: {account}, aws: {{serviceCode: ec2, quotaCode: L-34B43A08}}, \
         regions: [us-east-1], desiredValue: 10}}\n"
    ))
    .expect("a QuotaRequirement")
}

const WITH_ROLE: &str = "apiVersion: quota-operator.dev/v1alpha1\nkind: CloudAccount\n\
metadata: {name: prod}\nspec: {aws: {accountId: \"111111111111\", roleArn: \"arn:aws:iam::111111111111:role/r\"}, namespaceSelector: {}}\n";
const WITH_ENDPOINT: &str = "apiVersion: quota-operator.dev/v1alpha1\nkind: CloudAccount\n\
metadata: {name: prod}\nspec: {aws: {accountId: \"111111111111\"}, endpoint: \"https://x.example\", namespaceSelector: {}}\n";

/// Records the accounts it is asked for, and has no cloud behind it.
#[derive(Default)]
struct Recording(Mutex<Vec<CloudAccount>>);

#[async_trait]
impl ProviderFactory for Recording {
    async fn provider(&self, account: &CloudAccount) -> Result<Arc<dyn QuotaProvider>, CloudError> {
        self.0.lock().unwrap().push(account.clone());
        Err(CloudError::new(
            crate::cloud::ErrorKind::Unavailable,
            "NoCloud",
            "a test factory",
        ))
    }
}

#[tokio::test]
async fn a_reviewed_account_naming_a_role_or_an_endpoint_never_reaches_the_factory() {
    for (yaml, field) in [
        (WITH_ROLE, "spec.aws.roleArn"),
        (WITH_ENDPOINT, "spec.endpoint"),
    ] {
        let reviewed = account(yaml);
        let world = World {
            reviewed_accounts: vec![&reviewed],
            ..World::default()
        };
        let factory = Recording::default();
        let plans = plan_all(&[requirement("prod")], &world, &factory).await;
        assert!(factory.0.lock().unwrap().is_empty(), "{field}");
        let plan = &plans[0][0];
        assert_eq!(plan.action, Action::AccountProblem, "{plan:?}");
        assert!(plan.message.contains(field), "{plan:?}");
    }
}

#[tokio::test]
async fn the_admins_account_of_a_name_is_the_one_used() {
    let admins = account(WITH_ROLE);
    let reviewed = account(
        "apiVersion: quota-operator.dev/v1alpha1\nkind: CloudAccount\nmetadata: {name: prod}\n\
         spec: {aws: {accountId: \"222222222222\"}, namespaceSelector: {}}\n",
    );
    let world = World {
        accounts: vec![&admins],
        reviewed_accounts: vec![&reviewed],
        ..World::default()
    };
    let factory = Recording::default();
    plan_all(&[requirement("prod")], &world, &factory).await;
    let asked = factory.0.lock().unwrap();
    assert_eq!(asked.len(), 1);
    assert_eq!(
        asked[0].spec.aws.as_ref().unwrap().account_id,
        "111111111111"
    );
}

const TEMPLATE: &str = "apiVersion: quota-operator.dev/v1alpha1\nkind: CloudAccount\n\
metadata: {name: org}\nspec: {aws: {accountId: \"111111111111\", quotaTemplate: true}, namespaceSelector: {}}\n";

#[tokio::test]
async fn an_object_on_a_template_account_plans_a_template_entry_and_reads_nothing() {
    let template = account(TEMPLATE);
    let world = World {
        accounts: vec![&template],
        ..World::default()
    };
    let factory = Recording::default();
    let mut sized: QuotaRequirement = requirement("org");
    sized.spec.desired_value = None;
    sized.spec.capacity = Some(vec![
        serde_yaml::from_str("{instanceType: m5.large, count: 4}").unwrap(),
    ]);
    let plans = plan_all(&[requirement("org"), sized], &world, &factory).await;
    assert!(factory.0.lock().unwrap().is_empty(), "no cloud is read");
    let entry = &plans[0][0];
    assert_eq!(entry.action, Action::Template { value: 10 }, "{entry:?}");
    assert!(entry.message.contains("nothing is filed"), "{entry:?}");
    assert_eq!(entry.action.word(), "template 10");
    let blocked = &plans[1][0];
    assert_eq!(blocked.action, Action::Blocked, "{blocked:?}");
    assert!(blocked.message.contains("spec.capacity"), "{blocked:?}");
}
