//! Health as GitOps tools read it, judged by their own code on live objects: Flux's kstatus
//! library (tools/kstatus, built from sigs.k8s.io/cli-utils) and Argo CD's Lua health check run
//! by a real Lua 5.1 interpreter (tools/argocd-health-eval.lua).

use std::{collections::BTreeMap, io::Write, process::Command};

use quota_operator::api::{QuotaRequirement, TargetState};
use serde_json::json;

use crate::{
    fake::{FakeCloud, Slot},
    harness::{Qr, ROOT, TestEnv, go_tool},
};

const ACCOUNT: &str = "111122223333";
const SPOT: &str = "L-34B43A08";

fn states(qr: &QuotaRequirement) -> Vec<TargetState> {
    qr.status
        .iter()
        .flat_map(|s| s.targets.iter().map(|t| t.state))
        .collect()
}

/// The object as `kubectl get -o json` shows it.
pub fn as_json(qr: &QuotaRequirement) -> serde_json::Value {
    let mut v = serde_json::to_value(qr).unwrap();
    v["apiVersion"] = json!("quota-operator.dev/v1alpha1");
    v["kind"] = json!("QuotaRequirement");
    v
}

pub fn kstatus(objects: &[serde_json::Value]) -> BTreeMap<String, String> {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(serde_json::to_string(objects).unwrap().as_bytes())
        .unwrap();
    let out = Command::new(go_tool("kstatus"))
        .arg(file.path())
        .output()
        .expect("run kstatus");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let mut parts = l.splitn(3, ' ');
            let name = parts
                .next()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string();
            (name, parts.next().unwrap_or_default().to_string())
        })
        .collect()
}

pub fn argocd(object: &serde_json::Value) -> String {
    let ensure = Command::new(format!("{ROOT}/tools/argocd-health-test.sh"))
        .output()
        .expect("Lua 5.1 and the chart's health tests");
    assert!(
        ensure.status.success(),
        "{}",
        String::from_utf8_lossy(&ensure.stdout)
    );
    let mut child = Command::new("lua5.1")
        .arg(format!("{ROOT}/tools/argocd-health-eval.lua"))
        .arg(format!(
            "{ROOT}/charts/quota-operator/health/quota-operator.dev_QuotaRequirement.lua"
        ))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("lua5.1");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(object.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .split('\t')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn flux_kstatus_and_argo_cd_read_every_state_right() {
    let mut env = TestEnv::new("health").await;
    let cloud = FakeCloud::new();
    let slot = |region: &str, code: &str| Slot::new(ACCOUNT, region, "ec2", code);
    for region in ["us-east-1", "eu-west-1"] {
        cloud.set_quota(slot(region, SPOT), "Spot", 640.0, true);
    }
    cloud.set_quota(slot("us-east-1", "L-00000001"), "Fixed", 10.0, false);
    cloud.set_quota(slot("us-east-1", "L-00000002"), "Plenty", 5000.0, true);
    cloud.set_quota(slot("us-east-1", "L-00000003"), "Queue", 640.0, true);
    cloud.set_quota(slot("us-east-1", "L-00000004"), "Denied", 640.0, true);
    cloud.set_quota(slot("eu-west-1", "L-00000004"), "Denied", 5000.0, true);
    let account = env.aws_account("aws", ACCOUNT).await;
    let guarded = env.unique("guarded");
    env.create_account(json!({
        "metadata": {"name": guarded},
        "spec": {
            "aws": {"accountId": ACCOUNT},
            "namespaceSelector": {},
            "guardrails": {"maxValues": {SPOT: 100}}
        }
    }))
    .await
    .unwrap();
    cloud.seed_open_request(slot("us-east-1", "L-00000003"), 700.0);

    let cases = [
        (
            "satisfied",
            Qr::ec2("satisfied", &account, "L-00000002")
                .regions(&["us-east-1"])
                .desired(2000),
            "Current",
            "Healthy",
        ),
        (
            "requested",
            Qr::ec2("requested", &account, SPOT)
                .regions(&["us-east-1"])
                .desired(2000),
            "InProgress",
            "Progressing",
        ),
        (
            "queued",
            Qr::ec2("queued", &account, "L-00000003")
                .regions(&["us-east-1"])
                .desired(2000),
            "InProgress",
            "Progressing",
        ),
        (
            "not-adjustable",
            Qr::ec2("not-adjustable", &account, "L-00000001")
                .regions(&["us-east-1"])
                .desired(20),
            "Failed",
            "Degraded",
        ),
        (
            "blocked",
            Qr::ec2("blocked", &guarded, SPOT)
                .regions(&["eu-west-1"])
                .desired(2000),
            "Failed",
            "Degraded",
        ),
        (
            "error",
            Qr::ec2("error", &account, "L-0000000F")
                .regions(&["us-east-1"])
                .desired(20),
            "InProgress",
            "Progressing",
        ),
        (
            "mixed",
            Qr::ec2("mixed", &account, "L-00000004")
                .regions(&["us-east-1", "eu-west-1"])
                .desired(2000),
            "Failed",
            "Degraded",
        ),
    ];
    for (_, obj, _, _) in &cases {
        env.create_qr(obj.clone()).await;
    }
    env.start_operator(cloud.clone());
    let mixed = env
        .wait_qr("mixed", |qr| states(qr).contains(&TargetState::Requested))
        .await;
    let id = mixed.status.unwrap().targets[0].request.clone().unwrap().id;
    cloud.deny(&id, "DENIED", "Not approved.");
    let expect_state = [
        ("satisfied", vec![TargetState::Satisfied]),
        ("requested", vec![TargetState::Requested]),
        ("queued", vec![TargetState::Queued]),
        ("not-adjustable", vec![TargetState::NotAdjustable]),
        ("blocked", vec![TargetState::Blocked]),
        ("error", vec![TargetState::Error]),
        ("mixed", vec![TargetState::Denied, TargetState::Satisfied]),
    ];
    let mut objects = vec![];
    for (name, want) in expect_state {
        let qr = env.wait_qr(name, |qr| states(qr) == want).await;
        objects.push(as_json(&qr));
    }

    let flux = kstatus(&objects);
    for ((name, _, want_flux, want_argo), object) in cases.iter().zip(&objects) {
        assert_eq!(
            flux.get(*name).map(String::as_str),
            Some(*want_flux),
            "kstatus on {name}"
        );
        assert_eq!(argocd(object), *want_argo, "Argo CD on {name}");
        println!("{name:15} kstatus {want_flux:10} Argo CD {want_argo}");
    }
}
