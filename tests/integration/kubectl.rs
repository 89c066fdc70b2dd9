//! The real kubectl against the real server: printer columns and `kubectl wait`.

use std::process::Stdio;

use quota_operator::api::TargetState;
use tokio::process::Command;

use crate::{
    fake::{FakeCloud, Slot},
    harness::{TestEnv, kubeconfig},
};

pub fn kubectl(env: &TestEnv) -> Command {
    let mut cmd = Command::new("kubectl");
    cmd.arg("--kubeconfig")
        .arg(kubeconfig())
        .arg("-n")
        .arg(&env.ns);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

#[tokio::test]
async fn kubectl_get_shows_the_columns_and_kubectl_wait_returns_when_satisfied() {
    let mut env = TestEnv::new("kubectl").await;
    let cloud = FakeCloud::new();
    let slot = Slot::new("444455556666", "us-east-1", "ec2", "L-34B43A08");
    cloud.set_quota(slot, "All Standard Spot", 640.0, true);
    let account = env.aws_account("aws", "444455556666").await;
    env.create_spot(&account, &["us-east-1"]).await;
    env.start_operator(cloud.clone());
    env.wait_qr("spot", |qr| {
        qr.status
            .as_ref()
            .is_some_and(|s| s.targets.iter().any(|t| t.state == TargetState::Requested))
    })
    .await;

    // `kubectl wait` starts before the approval and must return once the object is satisfied.
    let wait = kubectl(&env)
        .args([
            "wait",
            "--for=condition=Satisfied",
            "qr/spot",
            "--timeout=60s",
        ])
        .spawn()
        .expect("kubectl wait");

    let out = kubectl(&env)
        .args(["get", "qr"])
        .output()
        .await
        .expect("kubectl get qr");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let header: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAME", "ACCOUNT", "QUOTA", "DESIRED", "STATE", "USED%", "READY", "AGE"
        ]
    );
    // USED% is empty: this fake cloud reports no usage (usage.rs reads the column with usage).
    let row: Vec<&str> = text
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .filter(|cell| *cell != "<none>")
        .collect();
    assert_eq!(
        &row[..6],
        [
            "spot",
            account.as_str(),
            "ec2/L-34B43A08",
            "2000",
            "Requested",
            "False"
        ]
    );

    let id = cloud.open_request_ids().pop().unwrap();
    cloud.approve(&id);
    let out = wait.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "kubectl wait failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("condition met"));

    let out = kubectl(&env)
        .args(["get", "quotas"])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Satisfied"),
        "the `quotas` category lists it: {text}"
    );
}

/// `kubectl explain` reads the CRD's descriptions as sentences (no break mid-sentence from the
/// doc comments they came from), and what it says of the need is true of headroom-only objects.
#[tokio::test]
async fn kubectl_explain_reads_as_sentences() {
    let env = TestEnv::new("explain").await;
    // The API server publishes a CRD's OpenAPI a moment after it is established.
    let text = crate::harness::eventually(std::time::Duration::from_secs(30), || async {
        let out = kubectl(&env)
            .args(["explain", "quotarequirements.spec.desiredValue"])
            .output()
            .await
            .expect("kubectl explain");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).to_string())
    })
    .await;
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains(
            "At most one of `desiredValue` and `capacity` may be set, and `headroom` may stand alone"
        ),
        "{text}"
    );
    // kubectl wraps at its own width: every line but a paragraph's last is nearly full.
    let description: Vec<&str> = (text.lines())
        .skip_while(|l| !l.starts_with("DESCRIPTION"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect();
    assert!(description.len() > 1, "{text}");
    for line in &description[..description.len() - 1] {
        assert!(
            line.trim().len() > 60,
            "a short line mid-paragraph: {line:?} in\n{text}"
        );
    }
}
