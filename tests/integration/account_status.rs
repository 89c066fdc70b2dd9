//! `kubectl get cloudaccounts` shows which accounts work: a running operator verifies each
//! account's credentials with STS (the simulator's, on the real wire protocol) and writes Ready.

use std::time::Duration;

use quota_operator::api::CloudAccount;
use quota_sim::{AwsSim, Scenario};
use tokio::process::Command;

use crate::{
    harness::{TestEnv, eventually, kubeconfig},
    process::{KEY, OperatorProcess},
};

fn ready(account: &CloudAccount) -> Option<(String, String, String)> {
    let c = account
        .status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")?;
    Some((
        c.status.to_string(),
        c.reason.to_string(),
        c.message.to_string(),
    ))
}

#[tokio::test]
async fn each_cloud_account_shows_whether_its_credentials_reach_it() {
    let yaml = format!(
        "aws:\n  accounts: {{{KEY}: \"111111111111\"}}\n  autoManagement:\n  - {{account: \"111111111111\", optInType: NotifyAndAdjust, optInStatus: ENABLED, exclusions: {{ec2: [L-1216C47A]}}}}\n"
    );
    let sim = AwsSim::new(Scenario::from_yaml(&yaml).unwrap())
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let env = TestEnv::new("account-status").await;
    let good = env.aws_account("good", "111111111111").await;
    let wrong = env.aws_account("wrong", "222222222222").await;
    let _operator = OperatorProcess::start("accounts", &env.ns, &sim.endpoint(), &[]);

    let accounts = env.accounts();
    let (status, reason, _) = eventually(Duration::from_secs(30), || {
        let accounts = accounts.clone();
        let good = good.clone();
        async move { ready(&accounts.get(&good).await.ok()?) }
    })
    .await;
    assert_eq!((status.as_str(), reason.as_str()), ("True", "Verified"));
    // The account's own auto-adjuster, as AWS reports it.
    let adjuster = eventually(Duration::from_secs(30), || {
        let accounts = accounts.clone();
        let good = good.clone();
        async move { accounts.get(&good).await.ok()?.status?.auto_adjuster }
    })
    .await;
    assert_eq!(adjuster.name, "AWS automatic management");
    assert_eq!(
        (adjuster.setting.as_deref(), adjuster.adjusts),
        (Some("NotifyAndAdjust"), Some(true))
    );
    assert_eq!(
        adjuster.details,
        vec!["excluded: ec2/L-1216C47A".to_string()]
    );
    let (status, reason, message) = eventually(Duration::from_secs(30), || {
        let accounts = accounts.clone();
        let wrong = wrong.clone();
        async move { ready(&accounts.get(&wrong).await.ok()?) }
    })
    .await;
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "AccountMismatch")
    );
    assert!(
        message.contains("222222222222") && message.contains("111111111111"),
        "{message}"
    );

    let out = Command::new("kubectl")
        .args(["get", "cloudaccounts", &good, &wrong])
        .env("KUBECONFIG", kubeconfig())
        .output()
        .await
        .expect("kubectl");
    let table = String::from_utf8_lossy(&out.stdout);
    println!("{table}");
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAME", "AWS", "ACCOUNT", "GCP", "PROJECT", "READY", "REASON", "AGE"
        ]
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&good) && l.contains("True") && l.contains("Verified")),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&wrong) && l.contains("False") && l.contains("AccountMismatch")),
        "{table}"
    );
}
