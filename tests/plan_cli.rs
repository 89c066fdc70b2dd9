//! `quota-operator plan` as a CI job runs it: the built binary on files and directories, its
//! output formats and exit codes, and `--live` against the simulator (the real Service Quotas
//! and STS clients over HTTP).

#[path = "support/cli.rs"]
mod cli;

use std::path::Path;

use quota_sim::{Scenario, Sim, SimHandle, aws::SeedRequest};
use serde_json::{Value, json};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `quota-operator plan ARGS` with none of the caller's cloud settings, plus `env`.
async fn plan(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = cli::quota_operator("plan", env);
    cmd.args(args);
    let out = cmd.output().await.expect("quota-operator runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn root(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

const VALID_QR: &str = "apiVersion: quota-operator.dev/v1alpha1\nkind: QuotaRequirement\n\
metadata: {name: spot, namespace: team-batch}\n\
spec: {accountRef: prod-aws, aws: {serviceCode: ec2, quotaCode: L-34B43A08}, regions: [us-east-1], desiredValue: 2000}\n";

#[tokio::test]
async fn every_example_is_valid_and_plan_exits_0() {
    let run = plan(&["-f", &root("examples")], &[]).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("0 invalid"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("QuotaRequirement team-batch/spot-standard-vcpu")
            && !run.stdout.contains("INVALID"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn a_directory_with_an_invalid_file_exits_1_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.yaml", VALID_QR);
    write(
        dir.path(),
        "bad.yaml",
        &VALID_QR
            .replace("name: spot,", "name: bad,")
            .replace("L-34B43A08", "34B43A08"),
    );
    let run = plan(&["-f", dir.path().to_str().unwrap()], &[]).await;
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "spec.aws.quotaCode: Invalid value: \"34B43A08\": spec.aws.quotaCode must look like L-34B43A08"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.find("INVALID").unwrap() < run.stdout.find("FILE").unwrap(),
        "invalid objects come first: {}",
        run.stdout
    );
}

#[tokio::test]
async fn the_admission_corpus_is_refused_with_the_servers_messages() {
    let run = plan(&["-f", &root("tests/admission")], &[]).await;
    assert_eq!(run.code, 1);
    for line in [
        "spec.gcp.contactEmail: Required value",
        "spec.regions[1]: Duplicate value: \"us-east-1\"",
        "strict decoding error: unknown field \"spec.region\"",
        "some validation rules were not checked because the object was invalid",
    ] {
        assert!(run.stdout.contains(line), "{line}\n{}", run.stdout);
    }
}

#[tokio::test]
async fn json_and_markdown_carry_the_same_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "two.yaml",
        &format!(
            "{VALID_QR}---\n{}",
            VALID_QR
                .replace("name: spot,", "name: bad,")
                .replace("desiredValue: 2000", "desiredValue: 0")
        ),
    );
    let file = dir.path().join("two.yaml");
    let json = plan(&["-f", file.to_str().unwrap(), "-o", "json"], &[]).await;
    assert_eq!(json.code, 1);
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    let verdicts: Vec<&str> = report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["valid", "invalid"]);
    assert_eq!(
        report["objects"][1]["errors"][0]["field"],
        "spec.desiredValue"
    );

    let md = plan(&["-f", file.to_str().unwrap(), "--output", "markdown"], &[]).await;
    assert_eq!(md.code, 1);
    assert!(
        md.stdout.starts_with("**quota-operator plan**: **invalid objects found**. 2 objects in 1 file: 1 valid, 1 invalid"),
        "{}",
        md.stdout
    );
    assert!(md.stdout.contains("#### Invalid objects"), "{}", md.stdout);
    assert!(
        md.stdout
            .contains("| QuotaRequirement team-batch/spot | valid |"),
        "{}",
        md.stdout
    );
}

/// `-o yaml` is `-o json` in YAML: the same fields, values and exit code.
#[tokio::test]
async fn yaml_carries_the_fields_and_values_of_json() {
    let dir = tempfile::tempdir().unwrap();
    let bad = VALID_QR
        .replace("name: spot,", "name: bad,")
        .replace("desiredValue: 2000", "desiredValue: 0");
    write(dir.path(), "two.yaml", &format!("{VALID_QR}---\n{bad}"));
    let file = dir.path().join("two.yaml");
    let json = plan(&["-f", file.to_str().unwrap(), "-o", "json"], &[]).await;
    let yaml = plan(&["-f", file.to_str().unwrap(), "-o", "yaml"], &[]).await;
    assert_eq!(
        (json.code, yaml.code),
        (1, 1),
        "{}{}",
        yaml.stdout,
        yaml.stderr
    );
    let from_json: Value = serde_json::from_str(&json.stdout).unwrap();
    let from_yaml: Value = serde_yaml::from_str(&yaml.stdout).unwrap();
    assert_eq!(from_yaml, from_json);
    assert_eq!(from_yaml["objects"][1]["verdict"], "invalid");
    assert!(
        yaml.stdout.starts_with("live: false\nobjects:\n"),
        "{}",
        yaml.stdout
    );
}

#[tokio::test]
async fn usage_errors_exit_2() {
    let missing = plan(&["-f", "/nonexistent/quotas"], &[]).await;
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("/nonexistent/quotas"),
        "{}",
        missing.stderr
    );
    let no_files = plan(&[], &[]).await;
    assert_eq!(no_files.code, 2, "{}", no_files.stderr);
    let bad_format = plan(&["-f", &root("examples"), "-o", "xml"], &[]).await;
    assert_eq!(bad_format.code, 2);
    // An admins' CloudAccount that is left out would let a same-named one of the files stand in.
    let admins = tempfile::tempdir().unwrap();
    write(
        admins.path(),
        "accounts.yaml",
        &ADMIN_ACCOUNTS.replace("111111111111", "1111"),
    );
    let account_file = admins.path().join("accounts.yaml");
    let invalid = plan(
        &[
            "-f",
            &root("examples"),
            "--account-file",
            account_file.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(invalid.code, 2, "{}{}", invalid.stdout, invalid.stderr);
    assert!(
        invalid.stderr.contains("--account-file")
            && invalid.stderr.contains("CloudAccount prod-aws is invalid")
            && invalid.stderr.contains("spec.aws.accountId"),
        "{}",
        invalid.stderr
    );
}

/// A token as a CI runner holds it (a mounted service-account token, a cloud credential).
const SECRET: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6InNlY3JldC10b2tlbiJ9";

#[tokio::test]
async fn a_link_out_of_the_reviewed_tree_is_refused_and_no_file_text_is_printed() {
    let dir = tempfile::tempdir().unwrap();
    let (quotas, outside) = (dir.path().join("quotas"), dir.path().join("runner"));
    std::fs::create_dir_all(&quotas).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("token"), SECRET).unwrap();
    write(&quotas, "good.yaml", VALID_QR);
    std::os::unix::fs::symlink(outside.join("token"), quotas.join("token.yaml")).unwrap();
    write(
        &quotas,
        "scalars.yaml",
        &format!(
            "{VALID_QR}---
{SECRET}
---
[{SECRET}]
"
        ),
    );
    let quotas = quotas.to_str().unwrap();
    for format in ["table", "json", "markdown"] {
        let run = plan(&["-f", quotas, "-o", format], &[]).await;
        assert_eq!(run.code, 1, "{format}: {}{}", run.stdout, run.stderr);
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(
            !all.contains(SECRET),
            "{format} printed a file's text:\n{all}"
        );
        assert!(
            all.contains("token.yaml") && all.contains("not read: a symbolic link"),
            "{format}: {all}"
        );
        assert!(
            all.contains("document 2: a string, not an object")
                && all.contains("document 3: a list of 1 items"),
            "{format}: {all}"
        );
    }
    // A link given by name (as `plan -f $(git diff --name-only)` would) is refused too.
    let named = format!("{quotas}/token.yaml");
    let run = plan(&["-f", &named], &[]).await;
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        !run.stdout.contains(SECRET) && run.stdout.contains("(not read)"),
        "{}",
        run.stdout
    );
}

/// `quota-operator plan ARGS` in `dir` with `stdin`, and how long it ran; killed after 60 s
/// (parsing what `plan` now refuses ran for minutes).
async fn timed_plan(dir: &Path, args: &[&str], stdin: Vec<u8>) -> (Run, std::time::Duration) {
    use tokio::io::AsyncWriteExt as _;
    let mut cmd = cli::quota_operator("plan", &[]);
    cmd.args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let start = std::time::Instant::now();
    let mut child = cmd.spawn().expect("quota-operator runs");
    let mut input = child.stdin.take().unwrap();
    // plan stops reading stdin at its limit: the rest is refused with a broken pipe.
    tokio::spawn(async move { input.write_all(&stdin).await });
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("plan returns within a minute")
        .unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    (run, start.elapsed())
}

#[tokio::test]
async fn a_hostile_nested_document_is_refused_at_once_and_not_parsed() {
    let dir = tempfile::tempdir().unwrap();
    // 2 MB: over the size limit. Under it (1000 KB), but 1000 000 deep: over the depth limit.
    let big = "[".repeat(2 << 20);
    let deep = "[".repeat(1_000_000);
    write(dir.path(), "big.yaml", &big);
    write(dir.path(), "good.yaml", VALID_QR);
    for (args, stdin, limit) in [
        (
            &["-f", "big.yaml", "-f", "good.yaml"][..],
            "",
            "big.yaml is larger than 1048576 bytes",
        ),
        (
            &["-f", "-"][..],
            big.as_str(),
            "standard input is larger than 1048576 bytes",
        ),
        (
            &["-f", "-", "-o", "json"][..],
            deep.as_str(),
            "standard input nests mappings or sequences more than 64 deep",
        ),
    ] {
        let (run, took) = timed_plan(dir.path(), args, stdin.as_bytes().to_vec()).await;
        assert!(
            took < std::time::Duration::from_secs(3),
            "{args:?} took {took:?}"
        );
        assert_eq!(run.code, 1, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains(limit), "{args:?}: {}", run.stdout);
        assert!(
            !run.stdout.contains("[[[["),
            "a file's text is never printed"
        );
    }
}

#[tokio::test]
async fn a_linked_directory_out_of_the_repository_is_not_read_when_given_with_a_slash() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, runner) = (dir.path().join("repo"), dir.path().join("runner"));
    std::fs::create_dir_all(repo.join("staging")).unwrap();
    std::fs::create_dir_all(&runner).unwrap();
    // An object whose name `plan` would print, as a credentials file may be one.
    write(
        &runner,
        "token.yaml",
        &format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: {SECRET}}}\n"),
    );
    // `quotas` leads out; `staging/` holds a good file and a link out, found with -R.
    std::os::unix::fs::symlink("../runner", repo.join("quotas")).unwrap();
    write(&repo.join("staging"), "good.yaml", VALID_QR);
    std::os::unix::fs::symlink("../../runner", repo.join("staging/team")).unwrap();
    for args in [
        &["-f", "quotas/"][..],
        &["-f", "./quotas/."],
        &["-f", "quotas//", "-R"],
        &["-f", "staging/", "-R", "-o", "markdown"],
    ] {
        let (run, _) = timed_plan(&repo, args, vec![]).await;
        let all = format!("{}{}", run.stdout, run.stderr);
        assert_eq!(run.code, 1, "{args:?}: {all}");
        assert!(
            !all.contains(SECRET),
            "{args:?} printed the file's text:\n{all}"
        );
        assert!(
            all.contains("not read: a symbolic link that does not resolve to a file inside"),
            "{args:?}: {all}"
        );
    }
}

async fn sim() -> SimHandle {
    let scenario = Scenario::from_yaml(
        "aws:\n  accounts: {AKIDPLAN: \"111111111111\"}\n  schedule: {manual: true}\n  quotas:\n\
         \x20 - {serviceCode: ec2, quotaCode: L-34B43A08, value: 640}\n\
         \x20 - {serviceCode: fargate, quotaCode: L-3032A538, value: 4000}\n\
         \x20 - {serviceCode: ec2, quotaCode: L-7212CCBC, value: 64}\n",
    )
    .expect("scenario");
    Sim::new(scenario)
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim")
}

/// `plan --live` on one file of objects, against the simulator, with the account's keys.
struct Live {
    _dir: tempfile::TempDir,
    file: String,
    endpoint: String,
}

impl Live {
    fn new(sim: &SimHandle, files: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "quotas.yaml", files);
        let file = dir.path().join("quotas.yaml").to_str().unwrap().to_string();
        Self {
            _dir: dir,
            file,
            endpoint: sim.endpoint(),
        }
    }

    async fn plan(&self, extra: &[&str]) -> Run {
        let creds = [
            ("AWS_ACCESS_KEY_ID", "AKIDPLAN"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_REGION", "us-east-1"),
        ];
        let args = [
            "-f",
            &self.file,
            "--live",
            "--aws-endpoint-url",
            &self.endpoint,
        ];
        plan(&[&args[..], extra].concat(), &creds).await
    }
}

const LIVE_FILES: &str = "apiVersion: quota-operator.dev/v1alpha1\nkind: CloudAccount\n\
metadata: {name: prod-aws}\n\
spec:\n  aws: {accountId: \"111111111111\"}\n  namespaceSelector: {matchLabels: {allowed: \"true\"}}\n\
\x20 guardrails: {maxValues: {L-7212CCBC: 128}}\n\
---\napiVersion: v1\nkind: Namespace\nmetadata: {name: team-batch, labels: {allowed: \"true\"}}\n\
---\napiVersion: quota-operator.dev/v1alpha1\nkind: QuotaRequirement\n\
metadata: {name: spot, namespace: team-batch}\n\
spec: {accountRef: prod-aws, aws: {serviceCode: ec2, quotaCode: L-34B43A08}, regions: [us-east-1, eu-west-1], desiredValue: 2000}\n\
---\napiVersion: quota-operator.dev/v1alpha1\nkind: QuotaRequirement\n\
metadata: {name: fargate, namespace: team-batch}\n\
spec: {accountRef: prod-aws, aws: {serviceCode: fargate, quotaCode: L-3032A538}, regions: [us-east-1], desiredValue: 1000}\n\
---\napiVersion: quota-operator.dev/v1alpha1\nkind: QuotaRequirement\n\
metadata: {name: p-spot, namespace: team-batch}\n\
spec: {accountRef: prod-aws, aws: {serviceCode: ec2, quotaCode: L-7212CCBC}, regions: [us-east-1], desiredValue: 256}\n\
---\napiVersion: quota-operator.dev/v1alpha1\nkind: QuotaRequirement\n\
metadata: {name: ecs-instances, namespace: team-batch}\n\
spec: {accountRef: prod-aws, aws: {serviceCode: ecs, quotaCode: L-86C34207}, regions: [us-east-1], desiredValue: 8000}\n";

#[tokio::test]
async fn live_plan_against_the_simulator_files_what_is_short_and_nothing_else() {
    let sim = sim().await;
    // Someone already asked for enough in eu-west-1: the operator would adopt it, not file again.
    sim.aws()
        .seed_open_request(SeedRequest {
            account: Some("111111111111".into()),
            region: "eu-west-1".into(),
            service_code: "ec2".into(),
            quota_code: "L-34B43A08".into(),
            desired_value: 3000.0,
            status: None,
        })
        .unwrap();
    let live = Live::new(&sim, LIVE_FILES);
    let run = live.plan(&["-o", "json"]).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let actions: Vec<(String, String, String)> = report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| {
            let name = o["name"].as_str().unwrap().to_string();
            o["targets"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |t| {
                    let action = match t["action"]["kind"].as_str().unwrap() {
                        "file" => format!("file {}", t["action"]["value"]),
                        other => other.to_string(),
                    };
                    (
                        name.clone(),
                        t["region"].as_str().unwrap().to_string(),
                        action,
                    )
                })
        })
        .collect();
    let want = [
        ("team-batch/spot", "us-east-1", "file 2000"),
        ("team-batch/spot", "eu-west-1", "requested"),
        ("team-batch/fargate", "us-east-1", "satisfied"),
        ("team-batch/p-spot", "us-east-1", "blocked"),
        ("team-batch/ecs-instances", "us-east-1", "notAdjustable"),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(actions, want);

    // The table says the same, with the guardrail it hit; and nothing was filed.
    let table = live.plan(&[]).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    let words = |line: &str| line.split_whitespace().collect::<Vec<_>>().join(" ");
    let rows: Vec<String> = table.stdout.lines().map(words).collect();
    for row in [
        "QuotaRequirement team-batch/spot us-east-1 ec2/L-34B43A08 640 2000 file 2000",
        "QuotaRequirement team-batch/fargate us-east-1 fargate/L-3032A538 4000 1000 satisfied",
    ] {
        assert!(
            rows.iter().any(|r| r.ends_with(row)),
            "{row}\n{}",
            table.stdout
        );
    }
    for text in [
        "maxValues[L-7212CCBC] = 128",
        "requested (request",
        "for 3000 is PENDING",
    ] {
        assert!(table.stdout.contains(text), "{text}\n{}", table.stdout);
    }
    let md = live.plan(&["-o", "markdown"]).await;
    assert!(md.stdout.contains("| QuotaRequirement team-batch/spot | us-east-1 | ec2/L-34B43A08 | 640 | 2000 | file 2000 |"), "{}", md.stdout);
    assert_eq!(
        sim.aws().calls("RequestServiceQuotaIncrease"),
        0,
        "plan only reads"
    );
}

const CAPACITY_FILES: &str = "apiVersion: quota-operator.dev/v1alpha1\nkind: CloudAccount\n\
metadata: {name: prod-aws}\n\
spec:\n  aws: {accountId: \"111111111111\"}\n  namespaceSelector: {matchLabels: {allowed: \"true\"}}\n\
---\napiVersion: v1\nkind: Namespace\nmetadata: {name: team-batch, labels: {allowed: \"true\"}}\n\
---\napiVersion: quota-operator.dev/v1alpha1\nkind: QuotaRequirement\n\
metadata: {name: fleet, namespace: team-batch}\n\
spec: {accountRef: prod-aws, aws: {serviceCode: ec2, quotaCode: L-34B43A08}, regions: [us-east-1], capacity: [{instanceType: m5.2xlarge, count: 100}]}\n\
---\napiVersion: quota-operator.dev/v1alpha1\nkind: QuotaRequirement\n\
metadata: {name: batch, namespace: team-batch}\n\
spec: {accountRef: prod-aws, aws: {serviceCode: ec2, quotaCode: L-34B43A08}, regions: [us-east-1], capacity: [{instanceType: c6i.4xlarge, count: 50}]}\n\
---\napiVersion: quota-operator.dev/v1alpha1\nkind: QuotaRequirement\n\
metadata: {name: gpus, namespace: team-batch}\n\
spec: {accountRef: prod-aws, aws: {serviceCode: ec2, quotaCode: L-34B43A08}, regions: [us-east-1], capacity: [{instanceType: p3.2xlarge, count: 4}]}\n";

#[tokio::test]
async fn live_plan_adds_up_capacity_from_ec2s_catalog_and_blocks_a_type_on_another_quota() {
    let sim = sim().await;
    let run = Live::new(&sim, CAPACITY_FILES).plan(&["-o", "json"]).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let target = |name: &str| -> Value {
        report["objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == format!("team-batch/{name}"))
            .map(|o| o["targets"][0].clone())
            .unwrap_or_else(|| panic!("{name} in {report}"))
    };
    let fleet = target("fleet");
    assert_eq!(fleet["action"]["kind"], "file", "{fleet}");
    assert_eq!(
        fleet["action"]["value"], 1600,
        "both teams' capacity: {fleet}"
    );
    assert_eq!(fleet["capacity"], "100 x m5.2xlarge (8 vCPU) = 800 vCPU");
    let batch = target("batch");
    assert_eq!(batch["action"]["value"], 1600, "{batch}");
    assert_eq!(batch["capacity"], "50 x c6i.4xlarge (16 vCPU) = 800 vCPU");
    let gpus = target("gpus");
    assert_eq!(gpus["action"]["kind"], "blocked", "{gpus}");
    assert!(
        gpus["message"]
            .as_str()
            .unwrap()
            .contains("p3.2xlarge is a P instance"),
        "{gpus}"
    );
    assert!(sim.aws().filed().is_empty(), "plan files nothing");
    assert!(sim.aws().calls("DescribeInstanceTypes") >= 1);
}

const GUARDED_CAPACITY_FILES: &str = "apiVersion: quota-operator.dev/v1alpha1\nkind: CloudAccount\n\
metadata: {name: prod-aws}\n\
spec:\n  aws: {accountId: \"111111111111\"}\n  namespaceSelector: {matchLabels: {allowed: \"true\"}}\n\
\x20 guardrails: {maxValues: {L-34B43A08: 1000}}\n\
---\napiVersion: v1\nkind: Namespace\nmetadata: {name: team-batch, labels: {allowed: \"true\"}}\n\
---\napiVersion: quota-operator.dev/v1alpha1\nkind: QuotaRequirement\n\
metadata: {name: huge, namespace: team-batch}\n\
spec: {accountRef: prod-aws, aws: {serviceCode: ec2, quotaCode: L-34B43A08}, regions: [us-east-1], capacity: [{instanceType: m5.2xlarge, count: 1000000}]}\n\
---\napiVersion: quota-operator.dev/v1alpha1\nkind: QuotaRequirement\n\
metadata: {name: small, namespace: team-batch}\n\
spec: {accountRef: prod-aws, aws: {serviceCode: ec2, quotaCode: L-34B43A08}, regions: [us-east-1], desiredValue: 700}\n";

#[tokio::test]
async fn live_plan_never_carries_a_filing_past_the_guardrail_with_another_objects_capacity() {
    let sim = sim().await;
    let run = Live::new(&sim, GUARDED_CAPACITY_FILES)
        .plan(&["-o", "json"])
        .await;
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
    let action = |name: &str| -> Value {
        report["objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == format!("team-batch/{name}"))
            .map(|o| o["targets"][0]["action"].clone())
            .unwrap_or_else(|| panic!("{name} in {report}"))
    };
    assert_eq!(action("huge")["kind"], "blocked", "{report}");
    let small = action("small");
    assert_eq!(
        (&small["kind"], &small["value"]),
        (&json!("file"), &json!(700)),
        "{report}"
    );
}

/// The files of a pull request that tries to judge itself: it redefines the admins' prod-aws
/// without its guardrail and with a role, and adds accounts that name a role and an endpoint.
fn self_judging_files(endpoint: &str) -> String {
    format!(
        "apiVersion: quota-operator.dev/v1alpha1\nkind: CloudAccount\nmetadata: {{name: prod-aws}}\n\
spec: {{aws: {{accountId: \"111111111111\", roleArn: \"arn:aws:iam::111111111111:role/pr\"}}, namespaceSelector: {{}}}}\n\
---\napiVersion: quota-operator.dev/v1alpha1\nkind: CloudAccount\nmetadata: {{name: pr-role}}\n\
spec: {{aws: {{accountId: \"111111111111\", roleArn: \"arn:aws:iam::111111111111:role/pr\"}}, namespaceSelector: {{}}}}\n\
---\napiVersion: quota-operator.dev/v1alpha1\nkind: CloudAccount\nmetadata: {{name: pr-endpoint}}\n\
spec: {{aws: {{accountId: \"111111111111\"}}, endpoint: \"{endpoint}\", namespaceSelector: {{}}}}\n\
---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: team-batch, labels: {{allowed: \"true\"}}}}\n\
---\napiVersion: quota-operator.dev/v1alpha1\nkind: QuotaRequirement\nmetadata: {{name: spot, namespace: team-batch}}\n\
spec: {{accountRef: prod-aws, aws: {{serviceCode: ec2, quotaCode: L-34B43A08}}, regions: [us-east-1], desiredValue: 2000}}\n\
---\napiVersion: quota-operator.dev/v1alpha1\nkind: QuotaRequirement\nmetadata: {{name: p-spot, namespace: team-batch}}\n\
spec: {{accountRef: pr-role, aws: {{serviceCode: ec2, quotaCode: L-7212CCBC}}, regions: [us-east-1], desiredValue: 100}}\n\
---\napiVersion: quota-operator.dev/v1alpha1\nkind: QuotaRequirement\nmetadata: {{name: fargate, namespace: team-batch}}\n\
spec: {{accountRef: pr-endpoint, aws: {{serviceCode: fargate, quotaCode: L-3032A538}}, regions: [us-east-1], desiredValue: 100}}\n"
    )
}

const ADMIN_ACCOUNTS: &str = "apiVersion: quota-operator.dev/v1alpha1\nkind: CloudAccount\n\
metadata: {name: prod-aws}\n\
spec:\n  aws: {accountId: \"111111111111\"}\n  namespaceSelector: {matchLabels: {allowed: \"true\"}}\n\
\x20 guardrails: {maxValues: {L-34B43A08: 1000}}\n";

#[tokio::test]
async fn the_admins_accounts_win_and_no_role_or_endpoint_of_the_reviewed_files_is_used() {
    let sim = sim().await;
    let live = Live::new(&sim, &self_judging_files(&sim.endpoint()));
    let admins = tempfile::tempdir().unwrap();
    write(admins.path(), "accounts.yaml", ADMIN_ACCOUNTS);
    let account_file = admins.path().join("accounts.yaml");
    let run = live
        .plan(&[
            "--account-file",
            account_file.to_str().unwrap(),
            "-o",
            "json",
        ])
        .await;
    assert_eq!(
        run.code, 1,
        "a redefinition fails the check: {}{}",
        run.stdout, run.stderr
    );
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let object = |name: &str| -> Value {
        report["objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} in {report}"))
    };
    let redefined = object("prod-aws");
    assert_eq!(redefined["verdict"], "refused", "{redefined}");
    assert_eq!(
        redefined["errors"][0]["field"], "metadata.name",
        "{redefined}"
    );
    // Judged by the admins' guardrail, not the pull request's copy without one.
    let spot = object("team-batch/spot")["targets"][0].clone();
    assert_eq!(spot["action"]["kind"], "blocked", "{spot}");
    for (name, field) in [
        ("team-batch/p-spot", "spec.aws.roleArn"),
        ("team-batch/fargate", "spec.endpoint"),
    ] {
        let target = object(name)["targets"][0].clone();
        assert_eq!(target["action"]["kind"], "accountProblem", "{target}");
        assert!(
            target["message"].as_str().unwrap().contains(field),
            "{target}"
        );
    }
    assert_eq!(
        sim.aws().sts_calls("AssumeRole"),
        0,
        "no role of the pull request is assumed"
    );

    let table = live
        .plan(&["--account-file", account_file.to_str().unwrap()])
        .await;
    assert!(
        table.stdout.contains("REFUSED")
            && table.stdout.contains("is also defined by --account-file"),
        "{}",
        table.stdout
    );
}

#[tokio::test]
async fn live_plan_adds_every_objects_headroom_as_the_operator_does() {
    let scenario = Scenario::from_yaml(
        "aws:\n  accounts: {AKIDPLAN: \"111111111111\"}\n  schedule: {manual: true}\n  quotas:\n\
         \x20 - {serviceCode: ec2, quotaCode: L-34B43A08, value: 300, usage: 280}\n",
    )
    .expect("scenario");
    let sim = Sim::new(scenario)
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim");
    let object = |name: &str, percent: i64| {
        format!(
            "---\napiVersion: quota-operator.dev/v1alpha1\nkind: QuotaRequirement\n\
metadata: {{name: {name}, namespace: team-batch}}\n\
spec: {{accountRef: prod-aws, aws: {{serviceCode: ec2, quotaCode: L-34B43A08}}, regions: [us-east-1], \
headroom: {{percent: {percent}, max: 5000}}}}\n"
        )
    };
    let files = format!(
        "apiVersion: quota-operator.dev/v1alpha1\nkind: CloudAccount\nmetadata: {{name: prod-aws}}\n\
spec:\n  aws: {{accountId: \"111111111111\"}}\n  namespaceSelector: {{matchLabels: {{allowed: \"true\"}}}}\n\
---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: team-batch, labels: {{allowed: \"true\"}}}}\n{}{}",
        object("small", 20),
        object("large", 35)
    );
    let run = Live::new(&sim, &files).plan(&["-o", "json"]).await;
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
    for name in ["small", "large"] {
        let object = report["objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == format!("team-batch/{name}"))
            .unwrap_or_else(|| panic!("{name} in {report}"));
        let action = &object["targets"][0]["action"];
        assert_eq!(
            (&action["kind"], &action["value"]),
            (&json!("file"), &json!(378)),
            "{name}: one request at the larger headroom (280 + 35 %), as the operator files it: {report}"
        );
    }
}
