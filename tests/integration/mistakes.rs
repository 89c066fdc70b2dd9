//! Mistakes that say so, end to end on a real API server with the real SDK clients against the
//! simulator: a quota code, quota name or service the cloud does not have, an operator without
//! credentials, a namespace the account does not admit. Each is terminal: Stalled with a reason
//! of its own and the fix in its message (the nearest names the cloud lists, the labels the
//! account admits, what credentials to configure), which Flux's kstatus reads as Failed rather
//! than as in progress forever; each is reconciled again without anything being filed.

use std::time::Duration;

use quota_operator::api::{QuotaRequirement, TargetState};
use quota_sim::{Scenario, Sim, SimHandle};
use serde_json::json;

use crate::{
    harness::{Qr, TestEnv, condition, eventually, sim_clouds, summary},
    health::{argocd, as_json, kstatus},
    kubectl::kubectl,
    process::{KEY, Launch},
};

const ACCOUNT: &str = "111111111111";
const PROJECT: &str = "mistakes-project";

async fn sim() -> SimHandle {
    let yaml = format!(
        "aws:\n  accounts: {{{KEY}: \"{ACCOUNT}\"}}\n  quotas:\n  - {{serviceCode: ec2, quotaCode: L-34B43A08, value: 640}}\n\
         gcp:\n  values:\n  - {{quotaId: CPUS-per-project-region, project: {PROJECT}, region: us-central1, value: 96}}\n"
    );
    Sim::new(Scenario::from_yaml(&yaml).expect("scenario"))
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim")
}

fn blocked(qr: &QuotaRequirement) -> bool {
    let targets = qr
        .status
        .as_ref()
        .map(|s| s.targets.as_slice())
        .unwrap_or_default();
    !targets.is_empty() && targets.iter().all(|t| t.state == TargetState::Blocked)
}

fn message(qr: &QuotaRequirement) -> String {
    let status = qr.status.as_ref().expect("status");
    status.targets[0].message.clone().unwrap_or_default()
}

/// What every mistake shows: Blocked, Ready=False and Stalled=True with `reason`, nothing
/// reconciling, no claim about usage, kstatus's verdict Failed and Argo CD's Degraded.
fn assert_stalled(qr: &QuotaRequirement, reason: &str) {
    let name = qr.metadata.name.as_deref().unwrap_or_default();
    assert!(blocked(qr), "{name}: {:#?}", qr.status);
    assert_eq!(condition(qr, "Ready"), ("False", reason), "{name}");
    assert_eq!(condition(qr, "Stalled"), ("True", reason), "{name}");
    assert_eq!(
        condition(qr, "Reconciling"),
        ("", ""),
        "{name}: not in progress"
    );
    assert_eq!(
        condition(qr, "NearLimit"),
        ("", ""),
        "{name}: usage never read"
    );
    let verdict = kstatus(&[as_json(qr)]);
    assert_eq!(
        verdict.get(name).map(String::as_str),
        Some("Failed"),
        "{name}"
    );
    assert_eq!(
        argocd(&as_json(qr)),
        "Degraded",
        "{name}: Argo CD, not Progressing"
    );
}

#[tokio::test]
async fn aws_codes_names_and_services_that_do_not_exist_stall_with_the_nearest_and_file_nothing() {
    let sim = sim().await;
    let mut env = TestEnv::new("mistakes-aws").await;
    let account = env.aws_account("aws", ACCOUNT).await;
    let code = Qr::ec2("code", &account, "L-34B43A09")
        .regions(&["us-east-1"])
        .desired(10);
    env.create_qr(code).await;
    let mut name = Qr::ec2("name", &account, "L-00000000")
        .regions(&["us-east-1"])
        .desired(10)
        .json();
    name["spec"]["aws"] =
        json!({"serviceCode": "ec2", "quotaName": "Running On-Demand Standard instances"});
    env.create_qr(name).await;
    let service = Qr::aws("service", &account, ("ec3", "L-34B43A08"))
        .regions(&["us-east-1"])
        .desired(10);
    env.create_qr(service).await;
    // Beside them, a quota that exists: the operator is at work.
    env.create_qr(
        Qr::ec2("real", &account, "L-34B43A08")
            .regions(&["us-east-1"])
            .desired(3),
    )
    .await;
    env.start_operator_with(sim_clouds(&sim, KEY, Duration::from_millis(200)).await);

    let code = env.wait_qr("code", blocked).await;
    assert_stalled(&code, "QuotaNotFound");
    assert_eq!(
        message(&code),
        "QuotaNotFound: service ec2 has no quota L-34B43A09 (spec.aws.quotaCode) in us-east-1 \
         (nearest: L-34B43A08 \"All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests\"); \
         AWS answered NoSuchResourceException: The request failed because the specified quota \
         L-34B43A09 does not exist in service ec2."
    );
    let status = code.status.as_ref().unwrap();
    assert_eq!(
        status.quota.as_deref(),
        Some("ec2/L-34B43A09"),
        "QUOTA from the spec"
    );
    assert_eq!(summary(&code), "Blocked");

    let name = env.wait_qr("name", blocked).await;
    assert_stalled(&name, "QuotaNotFound");
    assert!(
        message(&name).contains(
            "(nearest: \"Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances\" \
             L-1216C47A)"
        ),
        "{}",
        message(&name)
    );
    let service = env.wait_qr("service", blocked).await;
    assert_stalled(&service, "ServiceNotFound");
    let said = message(&service);
    assert!(
        said.starts_with(
            "ServiceNotFound: AWS has no service \"ec3\" (spec.aws.serviceCode) (nearest: ec2"
        ) && said.contains("AWS answered NoSuchResourceException"),
        "{said}"
    );
    env.wait_qr("real", |qr| {
        qr.status
            .as_ref()
            .is_some_and(|s| s.targets.iter().all(|t| t.state == TargetState::Satisfied))
    })
    .await;

    // Looked at again and again (the cache expires every 200 ms), still Stalled, never filed.
    for object in ["code", "name", "service"] {
        env.reconciled(object, 3).await;
    }
    for object in ["code", "name", "service"] {
        let again = env.qrs().get(object).await.unwrap();
        assert!(blocked(&again), "{object}: {:#?}", again.status);
    }
    assert!(
        sim.aws().filed().is_empty(),
        "nothing filed: {:?}",
        sim.aws().filed()
    );
    assert_eq!(sim.aws().calls("RequestServiceQuotaIncrease"), 0);

    // `kubectl get -o wide` shows why.
    let out = kubectl(&env)
        .args(["get", "qr", "code", "-o", "wide"])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let header: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(&header[header.len() - 2..], ["REASON", "MESSAGE"], "{text}");
    let row = text.lines().nth(1).unwrap();
    assert!(
        row.contains("ec2/L-34B43A09") && row.contains(" QuotaNotFound "),
        "{text}"
    );
    assert!(
        row.contains("us-east-1: QuotaNotFound: service ec2 has no quota"),
        "{text}"
    );
}

#[tokio::test]
async fn a_gcp_quota_id_that_does_not_exist_stalls_with_the_nearest_and_writes_nothing() {
    let sim = sim().await;
    let mut env = TestEnv::new("mistakes-gcp").await;
    let account = env.gcp_account("gcp", PROJECT).await;
    let typo = Qr::gcp("typo", &account, "CPUS-per-projet-region")
        .regions(&["us-central1"])
        .desired(200);
    env.create_qr(typo).await;
    // A cache that outlives the test: every reconcile after the first is answered from it.
    env.start_operator_with(sim_clouds(&sim, KEY, Duration::from_secs(600)).await);

    let typo = env.wait_qr("typo", blocked).await;
    assert_stalled(&typo, "QuotaNotFound");
    let said = message(&typo);
    assert!(
        said.starts_with(
            "QuotaNotFound: service compute.googleapis.com has no quota CPUS-per-projet-region \
             (spec.gcp.quotaId) (nearest: CPUS-per-project-region"
        ) && said.contains("GCP answered NOT_FOUND"),
        "{said}"
    );
    env.reconciled("typo", 3).await;
    assert!(blocked(&env.qrs().get("typo").await.unwrap()));
    let gcp = sim.gcp();
    assert!(
        gcp.writes().is_empty(),
        "nothing written: {:?}",
        gcp.writes()
    );
    let asked = (gcp.calls("GetQuotaInfo"), gcp.calls("ListQuotaInfos"));
    assert_eq!(
        asked,
        (1, 1),
        "the answer and the hint's listing are cached"
    );
}

#[tokio::test]
async fn a_namespace_the_account_does_not_admit_is_told_which_labels_it_needs() {
    let sim = sim().await;
    let mut env = TestEnv::with_labels("mistakes-tenant", json!({"team": "b"})).await;
    let account = env.aws_account("aws", ACCOUNT).await;
    env.create_qr(
        Qr::ec2("spot", &account, "L-34B43A08")
            .regions(&["us-east-1"])
            .desired(1000),
    )
    .await;
    env.start_operator_with(sim_clouds(&sim, KEY, Duration::from_millis(200)).await);

    let refused = env.wait_qr("spot", blocked).await;
    assert_stalled(&refused, "AccountNotAllowed");
    let ready = (refused.status.as_ref().unwrap().conditions.iter())
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(
        ready.message.to_string(),
        format!(
            "namespace {} is not allowed to use CloudAccount {account}: its \
             spec.namespaceSelector needs label quota-operator.dev/allowed=true (it has no \
             quota-operator.dev/allowed label); the account's admins label namespaces",
            env.ns
        )
    );
    env.reconciled("spot", 3).await;
    assert!(sim.aws().filed().is_empty());
}

/// The operator as a process with no AWS credentials anywhere (no variables, no files, no
/// instance metadata): it says so at start and in `/readyz`, and every AWS CloudAccount and
/// QuotaRequirement is CredentialsFailed in one sentence, stalled, with nothing sent to AWS.
#[tokio::test]
async fn an_operator_without_aws_credentials_says_so_everywhere_and_sends_nothing() {
    let sim = sim().await;
    let env = TestEnv::new("mistakes-creds").await;
    let account = env.aws_account("aws", ACCOUNT).await;
    env.create_qr(
        Qr::ec2("spot", &account, "L-34B43A08")
            .regions(&["us-east-1"])
            .desired(1000),
    )
    .await;
    let kubeconfig = crate::harness::kubeconfig();
    let operator = Launch::new("nocreds", &env.ns, &sim.endpoint(), kubeconfig)
        .without_aws_credentials()
        .spawn();

    operator
        .wait_log("no AWS credentials found", Duration::from_secs(20))
        .await;
    assert!(operator.log().contains("WARN"), "{}", operator.log());
    let body = eventually(Duration::from_secs(20), || {
        let operator = &operator;
        async move {
            let (ready, body) = operator.get("/readyz").await;
            ready.contains("200").then_some(body)
        }
    })
    .await;
    assert!(body.contains("warning: no AWS credentials found"), "{body}");

    // Through the operator's own credentials, and through a role it would assume with them.
    let role = env.unique("role");
    let arn = format!("arn:aws:iam::{ACCOUNT}:role/quota-operator");
    let spec = json!({"aws": {"accountId": ACCOUNT, "roleArn": arn}, "namespaceSelector": {}});
    env.create_account(json!({"metadata": {"name": role}, "spec": spec}))
        .await
        .expect("CloudAccount");
    for name in [&account, &role] {
        credentials_failed(&env, name).await;
    }

    let qr = env.wait_qr("spot", blocked).await;
    assert_stalled(&qr, "CredentialsFailed");
    let ready = (qr.status.as_ref().unwrap().conditions.iter())
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert!(
        ready
            .message
            .starts_with(&format!("CloudAccount {account}: no AWS credentials found")),
        "{}",
        ready.message
    );
    // Still looked at (each resync), still nothing sent.
    let before = reconciles(&operator.metrics().await);
    eventually(Duration::from_secs(20), || {
        let operator = &operator;
        async move { (reconciles(&operator.metrics().await) >= before + 2.0).then_some(()) }
    })
    .await;
    let sent: u64 = sim.aws().counters().iter().map(|c| c.calls).sum();
    assert_eq!(sent, 0, "no call reaches AWS without credentials");
    assert!(sim.aws().filed().is_empty());
}

/// The QuotaRequirement reconciles a process has finished, whatever their result.
fn reconciles(metrics: &str) -> f64 {
    (metrics.lines())
        .filter(|l| {
            l.starts_with("controller_runtime_reconcile_total{controller=\"quotarequirement\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Waits until CloudAccount `name` stalls, and checks it says CredentialsFailed in one sentence
/// and kstatus reads it Failed.
async fn credentials_failed(env: &TestEnv, name: &str) {
    let accounts = env.accounts();
    let ca = eventually(Duration::from_secs(30), || {
        let accounts = accounts.clone();
        async move {
            let ca = accounts.get(name).await.ok()?;
            let conditions = &ca.status.as_ref()?.conditions;
            let stalled = (conditions.iter()).any(|c| c.type_ == "Stalled" && c.status == "True");
            stalled.then_some(ca)
        }
    })
    .await;
    let conditions = &ca.status.as_ref().unwrap().conditions;
    let ready = conditions.iter().find(|c| c.type_ == "Ready").unwrap();
    let said = ready.message.to_string();
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "CredentialsFailed"),
        "{name}: {said}"
    );
    assert!(
        said.starts_with(
            "CredentialsFailed: no AWS credentials found: the operator tried environment variables"
        ) && said.contains("eks.amazonaws.com/role-arn"),
        "{name}: {said}"
    );
    for dump in [
        "DispatchFailure",
        "ConnectorError",
        "{",
        "CredentialsNotLoaded",
        "AssumeRole",
    ] {
        assert!(!said.contains(dump), "{name}: a dump: {said}");
    }
    let mut typed = serde_json::to_value(&ca).unwrap();
    typed["apiVersion"] = json!("quota-operator.dev/v1alpha1");
    typed["kind"] = json!("CloudAccount");
    assert_eq!(
        kstatus(&[typed]).get(name).map(String::as_str),
        Some("Failed"),
        "{name}"
    );
}
