//! `deploy/iam/` is what `src/cloud/permissions.rs` generates (regenerate with
//! `QO_UPDATE_IAM=1 cargo test --test iam_files`), in valid IAM grammar; and, run by
//! `tools/test.sh` after the test suite with the simulator's call log, it is exactly what the
//! operator called in those tests.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use quota_operator::cloud::{
    iam_files::files,
    permissions::{CALLS, Call, Cloud, Seen},
};
use serde_json::Value;

const UPDATE: &str = "QO_UPDATE_IAM";

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/iam")
}

/// The committed file; while `QO_UPDATE_IAM=1` rewrites them, what is being written.
fn committed(path: &str) -> String {
    if std::env::var_os(UPDATE).is_some_and(|v| v == "1") {
        let f = files().into_iter().find(|f| f.path == path);
        return f.expect("a generated file").text;
    }
    std::fs::read_to_string(dir().join(path)).unwrap_or_else(|e| {
        panic!("deploy/iam/{path}: {e}; run `{UPDATE}=1 cargo test --test iam_files`")
    })
}

#[test]
fn deploy_iam_is_what_the_list_generates() {
    let update = std::env::var_os(UPDATE).is_some_and(|v| v == "1");
    let mut stale = vec![];
    for f in files() {
        let path = dir().join(f.path);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &f.text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(f.text.as_str()) {
            stale.push(f.path);
        }
    }
    assert!(
        stale.is_empty(),
        "deploy/iam is stale ({stale:?}): run `{UPDATE}=1 cargo test --test iam_files` and \
         commit the files"
    );
    let generated: BTreeSet<String> = files().iter().map(|f| f.path.to_string()).collect();
    let on_disk = walk(&dir(), &dir());
    let extra: Vec<_> = on_disk.difference(&generated).collect();
    assert!(
        extra.is_empty(),
        "deploy/iam holds files the list does not generate: {extra:?}"
    );
}

fn walk(root: &Path, at: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(at).expect("deploy/iam exists") {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(root, &path));
        } else {
            let rel = path.strip_prefix(root).unwrap();
            out.insert(rel.to_string_lossy().into_owned());
        }
    }
    out
}

fn json(path: &str) -> Value {
    serde_json::from_str(&committed(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The actions a policy grants (every statement, `Action` as a string or a list).
fn actions(policy: &Value) -> BTreeSet<String> {
    let statements = policy["Statement"].as_array().expect("Statement is a list");
    statements
        .iter()
        .flat_map(|s| match &s["Action"] {
            Value::String(a) => vec![a.clone()],
            Value::Array(a) => a.iter().map(|a| a.as_str().unwrap().to_string()).collect(),
            other => panic!("Action is {other}"),
        })
        .collect()
}

/// IAM's grammar as far as these files use it: Version 2012-10-17, statements with a unique
/// Sid, Effect Allow, a `service:Action` list, and a Resource (a Principal in a trust policy).
fn check_grammar(path: &str, trust: bool) {
    let p = json(path);
    assert_eq!(p["Version"], "2012-10-17", "{path}");
    let statements = p["Statement"].as_array().expect("Statement is a list");
    assert!(!statements.is_empty(), "{path}: no statement");
    let mut sids = BTreeSet::new();
    let action = regex::Regex::new("^[a-z0-9-]+:[A-Za-z0-9]+$").unwrap();
    for s in statements {
        let sid = s["Sid"].as_str().expect("a Sid");
        assert!(
            sid.chars().all(|c| c.is_ascii_alphanumeric()) && sids.insert(sid.to_string()),
            "{path}: Sid {sid} is not alphanumeric or not unique"
        );
        assert_eq!(s["Effect"], "Allow", "{path} {sid}");
        let keys: BTreeSet<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
        let allowed = [
            "Sid",
            "Effect",
            "Action",
            "Resource",
            "Principal",
            "Condition",
        ];
        assert!(
            keys.iter().all(|k| allowed.contains(k)),
            "{path} {sid}: {keys:?}"
        );
        let needed = if trust { "Principal" } else { "Resource" };
        assert!(keys.contains(needed), "{path} {sid}: no {needed}");
    }
    for a in actions(&p) {
        assert!(action.is_match(&a), "{path}: {a} is not service:Action");
    }
}

#[test]
fn the_aws_files_are_valid_iam_policies() {
    check_grammar("aws/operator-policy.json", false);
    check_grammar("aws/plan-readonly-policy.json", false);
    for trust in ["irsa", "pod-identity", "cross-account"] {
        check_grammar(&format!("aws/trust-{trust}.json"), true);
    }
    let pod = json("aws/trust-pod-identity.json");
    assert_eq!(
        actions(&pod),
        BTreeSet::from(["sts:AssumeRole".into(), "sts:TagSession".into()])
    );
    assert_eq!(
        pod["Statement"][0]["Principal"]["Service"],
        "pods.eks.amazonaws.com"
    );
    let cross = json("aws/trust-cross-account.json");
    assert_eq!(
        cross["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"], "EXTERNAL_ID",
        "CloudAccount has spec.aws.externalId: the trust policy asks for it"
    );
}

/// The GCP role files as `gcloud iam roles create --file` reads them.
fn role(path: &str) -> BTreeSet<String> {
    let doc: serde_yaml::Value = serde_yaml::from_str(&committed(path)).expect("YAML");
    for key in ["title", "description", "stage"] {
        assert!(doc[key].as_str().is_some(), "{path}: no {key}");
    }
    let permission = regex::Regex::new("^[a-z]+(\\.[a-zA-Z]+){2}$").unwrap();
    let list = doc["includedPermissions"].as_sequence().expect("a list");
    list.iter()
        .map(|p| {
            let p = p.as_str().expect("a string").to_string();
            assert!(permission.is_match(&p), "{path}: {p} is not a permission");
            p
        })
        .collect()
}

#[test]
fn the_plan_files_only_read_and_hold_nothing_the_operator_lacks() {
    let operator = actions(&json("aws/operator-policy.json"));
    let plan = actions(&json("aws/plan-readonly-policy.json"));
    assert!(plan.is_subset(&operator), "{plan:?} not in {operator:?}");
    assert!(!plan.contains("servicequotas:RequestServiceQuotaIncrease"));
    assert!(plan.iter().all(|a| {
        a.split(':')
            .nth(1)
            .is_some_and(|n| !n.starts_with("Create"))
    }));
    let operator = role("gcp/custom-role.yaml");
    let plan = role("gcp/plan-readonly-role.yaml");
    assert!(plan.is_subset(&operator), "{plan:?} not in {operator:?}");
    assert!(plan.iter().all(|p| !p.ends_with(".update")), "{plan:?}");
}

/// One line of the simulator's call log.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Logged {
    caller: String,
    cloud: String,
    permission: String,
    method: String,
}

fn read_log() -> (PathBuf, BTreeSet<Logged>) {
    let path = std::env::var_os("QUOTA_SIM_CALL_LOG")
        .map(PathBuf::from)
        .expect("QUOTA_SIM_CALL_LOG names the log the test suite wrote (tools/test.sh sets it)");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let lines = text
        .lines()
        .map(|l| match l.split('\t').collect::<Vec<_>>()[..] {
            [caller, cloud, permission, method] => Logged {
                caller: caller.into(),
                cloud: cloud.into(),
                permission: permission.into(),
                method: method.into(),
            },
            _ => panic!("{}: malformed line {l:?}", path.display()),
        })
        .collect();
    (path, lines)
}

fn cloud_name(c: &Call) -> &'static str {
    match c.cloud {
        Cloud::Aws => "aws",
        Cloud::Gcp => "gcp",
    }
}

fn listed<'a>(l: &Logged) -> Option<&'a Call> {
    CALLS
        .iter()
        .find(|c| cloud_name(c) == l.cloud && c.method == l.method && c.permission == l.permission)
}

/// What the granted files hold: AWS actions, GCP permissions.
fn granted(aws: &str, gcp: &str) -> BTreeSet<String> {
    let mut all = actions(&json(aws));
    all.extend(role(gcp));
    all
}

/// The calls one kind of client made that the list or the files lack.
fn not_granted(log: &BTreeSet<Logged>, callers: &[&str], files: &BTreeSet<String>) -> Vec<String> {
    log.iter()
        .filter(|l| callers.contains(&l.caller.as_str()))
        .filter(|l| match listed(l) {
            None => true,
            Some(c) => c.granted && !files.contains(&l.permission),
        })
        .map(|l| {
            format!(
                "{} {} ({}) by {}",
                l.cloud, l.permission, l.method, l.caller
            )
        })
        .collect()
}

#[test]
#[ignore = "needs the call log of a whole test run: tools/test.sh runs it"]
fn the_calls_the_tests_made_are_what_deploy_iam_grants() {
    let (path, log) = read_log();
    let operator = ["quota-operator"];
    let readers = ["quota-operator-plan", "quota-operator-explain"];
    let by_operator: BTreeSet<(String, &str)> = log
        .iter()
        .filter(|l| l.caller == operator[0])
        .map(|l| (l.cloud.clone(), l.method.as_str()))
        .collect();
    let full = granted("aws/operator-policy.json", "gcp/custom-role.yaml");
    let reads = granted(
        "aws/plan-readonly-policy.json",
        "gcp/plan-readonly-role.yaml",
    );
    let missing = not_granted(&log, &operator, &full);
    let missing_reads = not_granted(&log, &readers, &reads);
    let never: Vec<String> = CALLS
        .iter()
        .filter(|c| c.granted && c.seen == Seen::BySimulator)
        .filter(|c| !by_operator.contains(&(cloud_name(c).to_string(), c.method)))
        .map(|c| format!("{} {} ({})", cloud_name(c), c.permission, c.method))
        .collect();
    summary(&path, &log);
    assert!(
        missing.is_empty() && missing_reads.is_empty() && never.is_empty(),
        "the IAM list (src/cloud/permissions.rs, then `{UPDATE}=1 cargo test --test iam_files`) \
         is out of step with what the tests called ({}):\n  called, not granted by \
         operator-policy.json / custom-role.yaml: {missing:?}\n  called by plan/explain --live, \
         not in the read-only files: {missing_reads:?}\n  granted, never called by the operator \
         in any test (call it in a test, or mark it Seen::NotBySimulator with the reason): \
         {never:?}",
        path.display()
    );
}

fn summary(path: &Path, log: &BTreeSet<Logged>) {
    let mut by_caller: BTreeMap<&str, BTreeSet<(&str, &str)>> = BTreeMap::new();
    for l in log {
        by_caller
            .entry(l.caller.as_str())
            .or_default()
            .insert((l.cloud.as_str(), l.permission.as_str()));
    }
    println!("{}: {} distinct calls", path.display(), log.len());
    for (caller, actions) in by_caller {
        println!("  {caller}: {} actions", actions.len());
        for (cloud, a) in actions {
            println!("    {cloud} {a}");
        }
    }
}
