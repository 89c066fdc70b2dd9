//! `deploy/iam/`, rendered from the one list of calls ([`CALLS`]): the AWS policies and trust
//! policies, the GCP custom roles, and the README with the commands that install them.
//! `tests/iam_files.rs` holds the committed files to this.

mod readme;

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Value, json};

use super::permissions::{CALLS, Call, Cloud, TARGET_ROLE};

/// One generated file: its path under `deploy/iam/` and its text.
pub struct File {
    pub path: &'static str,
    pub text: String,
}

/// Every file of `deploy/iam/`.
pub fn files() -> Vec<File> {
    let file = |path, text| File { path, text };
    vec![
        file("aws/operator-policy.json", policy(|_| true)),
        file("aws/plan-readonly-policy.json", policy(|c| c.plan)),
        file("aws/trust-irsa.json", trust(irsa())),
        file("aws/trust-pod-identity.json", trust(pod_identity())),
        file("aws/trust-cross-account.json", trust(cross_account())),
        file(
            "gcp/custom-role.yaml",
            role("quotaOperator", "quota-operator", |_| true),
        ),
        file(
            "gcp/plan-readonly-role.yaml",
            role("quotaOperatorPlan", "quota-operator plan --live", |c| {
                c.plan
            }),
        ),
        file("README.md", readme::render()),
    ]
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Policy {
    version: &'static str,
    statement: Vec<Statement>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Statement {
    sid: String,
    effect: &'static str,
    action: Vec<&'static str>,
    resource: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: Option<Value>,
}

fn pretty(v: &impl Serialize) -> String {
    serde_json::to_string_pretty(v).expect("a policy serialises") + "\n"
}

/// The AWS calls `keep` selects and a policy must grant: one statement per feature on `*`, and
/// one per call with a resource of its own.
fn policy(keep: impl Fn(&Call) -> bool) -> String {
    let mut statements: Vec<Statement> = Vec::new();
    let calls = CALLS
        .iter()
        .filter(|c| c.cloud == Cloud::Aws && c.granted && keep(c));
    for c in calls {
        let sid = match c.resource {
            Some(_) => c.method.to_string(),
            None => c.feature.sid().to_string(),
        };
        match statements.iter_mut().find(|s| s.sid == sid) {
            Some(s) if !s.action.contains(&c.permission) => s.action.push(c.permission),
            Some(_) => {}
            None => statements.push(Statement {
                sid,
                effect: "Allow",
                action: vec![c.permission],
                resource: c.resource.unwrap_or("*"),
                condition: c
                    .condition
                    .map(|(op, key, value)| json!({ op: { key: value } })),
            }),
        }
    }
    for s in &mut statements {
        s.action.sort_unstable();
    }
    pretty(&Policy {
        version: "2012-10-17",
        statement: statements,
    })
}

/// A trust policy's one statement, in the order AWS's documents show it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Trust {
    sid: &'static str,
    effect: &'static str,
    principal: Value,
    action: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: Option<Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TrustPolicy {
    version: &'static str,
    statement: [Trust; 1],
}

fn trust(statement: Trust) -> String {
    pretty(&TrustPolicy {
        version: "2012-10-17",
        statement: [statement],
    })
}

/// The chart's ServiceAccount (namespace quota-operator, name quota-operator).
const SERVICE_ACCOUNT: &str = "system:serviceaccount:quota-operator:quota-operator";

fn irsa() -> Trust {
    Trust {
        sid: "QuotaOperatorServiceAccount",
        effect: "Allow",
        principal: json!({ "Federated": "arn:aws:iam::ACCOUNT_ID:oidc-provider/OIDC_PROVIDER" }),
        action: json!("sts:AssumeRoleWithWebIdentity"),
        condition: Some(json!({ "StringEquals": {
            "OIDC_PROVIDER:sub": SERVICE_ACCOUNT,
            "OIDC_PROVIDER:aud": "sts.amazonaws.com",
        } })),
    }
}

fn pod_identity() -> Trust {
    Trust {
        sid: "EksPodIdentity",
        effect: "Allow",
        principal: json!({ "Service": "pods.eks.amazonaws.com" }),
        action: json!(["sts:AssumeRole", "sts:TagSession"]),
        condition: None,
    }
}

/// The role a CloudAccount's `spec.aws.roleArn` names, in the managed account: only the
/// operator's role may assume it, and only with the CloudAccount's `spec.aws.externalId`.
fn cross_account() -> Trust {
    let role = TARGET_ROLE.rsplit('/').next().unwrap_or("quota-operator");
    Trust {
        sid: "QuotaOperator",
        effect: "Allow",
        principal: json!({ "AWS": format!("arn:aws:iam::ACCOUNT_ID:role/{role}") }),
        action: json!("sts:AssumeRole"),
        condition: Some(json!({ "StringEquals": { "sts:ExternalId": "EXTERNAL_ID" } })),
    }
}

/// A custom role in `gcloud iam roles create --file` form: the GCP permissions `keep` selects.
fn role(id: &str, title: &str, keep: impl Fn(&Call) -> bool) -> String {
    let mut permissions: Vec<&str> = CALLS
        .iter()
        .filter(|c| c.cloud == Cloud::Gcp && c.granted && keep(c))
        .map(|c| c.permission)
        .collect();
    permissions.sort_unstable();
    permissions.dedup();
    let mut out = format!(
        "# gcloud iam roles create {id} --project=PROJECT_ID --file=THIS_FILE\n\
         # Generated from src/cloud/permissions.rs: QO_UPDATE_IAM=1 cargo test --test iam_files\n\
         title: {title}\n\
         description: What {title} calls (deploy/iam/README.md)\n\
         stage: GA\n\
         includedPermissions:\n"
    );
    for p in permissions {
        let _ = writeln!(out, "- {p}");
    }
    out
}
