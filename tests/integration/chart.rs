//! The Helm chart, proven on the real API server: `helm install` (helm v4 built from the Go
//! module proxy, tools/helm), then the operator run out of cluster as the chart's ServiceAccount
//! (kubeconfig impersonation), with leader election, reconciling a requirement end to end. The
//! chart's RBAC is enough; that it is no more is checked by tools/chart-install-test.sh.

use std::{process::Command, time::Duration};

use quota_operator::api::TargetState;
use quota_sim::{AwsSim, Scenario};

use crate::{
    harness::{ROOT, TestEnv, kubeconfig},
    process::{KEY, OperatorProcess, impersonating},
};

const ACCOUNT: &str = "111111111111";

#[tokio::test]
async fn the_charts_service_account_runs_the_operator_end_to_end() {
    let yaml = format!(
        "aws:\n  accounts: {{{KEY}: \"{ACCOUNT}\"}}\n  quotas:\n  - {{serviceCode: ec2, quotaCode: L-34B43A08, value: 640}}\n  schedule:\n    default: {{outcome: approve, closeAfter: 1s}}\n"
    );
    let sim = AwsSim::new(Scenario::from_yaml(&yaml).unwrap())
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let env = TestEnv::new("chart").await;
    let install = Command::new(format!("{ROOT}/tools/chart-install.sh"))
        .arg(kubeconfig())
        .arg(&env.ns)
        .output()
        .expect("tools/chart-install.sh");
    assert!(
        install.status.success(),
        "helm install failed:\n{}",
        String::from_utf8_lossy(&install.stderr)
    );
    let sa = String::from_utf8_lossy(&install.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string();

    let account = env.aws_account("aws", ACCOUNT).await;
    env.create_spot(&account, &["us-east-1"]).await;
    let ns = env.ns.clone();
    let operator = OperatorProcess::start_with_kubeconfig(
        "chart-sa",
        &ns,
        &sim.endpoint(),
        &[
            "--leader-election",
            "--leader-election-namespace",
            &ns,
            "--leader-election-identity",
            "chart-sa",
        ],
        &impersonating(&ns, &sa),
    );
    operator
        .wait_log("acquired the lease", Duration::from_secs(30))
        .await;
    env.wait_qr("spot", |qr| {
        qr.status.as_ref().is_some_and(|s| {
            !s.targets.is_empty() && s.targets.iter().all(|t| t.state == TargetState::Satisfied)
        })
    })
    .await;
    let log = operator.log();
    assert!(
        !log.contains("forbidden") && !log.contains("Forbidden"),
        "the chart's RBAC refused something the operator does:\n{log}"
    );
    assert_eq!(sim.aws().filed().len(), 1);

    // The same kubeconfig through kube-rs really acts as the ServiceAccount: Secrets are refused.
    let path = impersonating(&ns, &sa);
    let config = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::read_from(&path).unwrap(),
        &Default::default(),
    )
    .await
    .unwrap();
    let client = kube::Client::try_from(config).unwrap();
    let secrets: kube::Api<k8s_openapi::api::core::v1::Secret> = kube::Api::namespaced(client, &ns);
    match secrets.list(&Default::default()).await {
        Err(kube::Error::Api(e)) => assert_eq!(e.code, 403, "{e:?}"),
        other => panic!("the chart's ServiceAccount must not read Secrets: {other:?}"),
    }
}
