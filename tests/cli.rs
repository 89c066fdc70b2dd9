//! The command-line conventions every subcommand shares, on the built binary: `version`,
//! `completion`, the exit codes in `--help`, and `run`'s choice of cluster (`--kubeconfig`,
//! `--context`, `KUBECONFIG`).

#[path = "support/cli.rs"]
mod cli;

use quota_operator::{cli::exit_codes, explain, plan};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn quota_operator(subcommand: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = cli::quota_operator(subcommand, env);
    cmd.args(args).env_remove("KUBECONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().await.expect("quota-operator runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

#[tokio::test]
async fn version_prints_the_version_commit_and_platform_as_text_and_json() {
    let text = quota_operator("version", &[], &[]).await;
    assert_eq!(text.code, 0, "{}", text.stderr);
    let first = text.stdout.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        format!("quota-operator {}", env!("CARGO_PKG_VERSION"))
    );
    assert!(text.stdout.contains("\ngit commit: "), "{}", text.stdout);

    let json = quota_operator("version", &["-o", "json"], &[]).await;
    assert_eq!(json.code, 0, "{}", json.stderr);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        v["gitCommit"].is_string() && v["platform"].is_string(),
        "{v}"
    );
    assert!(
        text.stdout
            .contains(&format!("platform: {}", v["platform"].as_str().unwrap())),
        "{}",
        text.stdout
    );

    let flag = quota_operator("--version", &[], &[]).await;
    assert_eq!(
        flag.stdout.trim(),
        format!("quota-operator {}", env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test]
async fn completion_scripts_name_every_subcommand_and_flag() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let run = quota_operator("completion", &[shell], &[]).await;
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        for word in [
            "run",
            "plan",
            "explain",
            "crd",
            "version",
            "completion",
            // Fish names long flags without their dashes (`-l kubeconfig`).
            "kubeconfig",
            "account-file",
        ] {
            assert!(run.stdout.contains(word), "{shell} script lacks {word}");
        }
    }
    let bash = quota_operator("completion", &["bash"], &[]).await;
    assert!(
        bash.stdout.contains("complete -F _quota-operator")
            || bash.stdout.contains("complete -F _quota__operator"),
        "a bash script registers its function: {}",
        &bash.stdout[bash.stdout.len().saturating_sub(400)..]
    );
    let unknown = quota_operator("completion", &["tcsh"], &[]).await;
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
}

#[tokio::test]
async fn help_lists_the_exit_codes_the_code_returns() {
    let plan_help = quota_operator("plan", &["--help"], &[]).await;
    assert_eq!(plan_help.code, 0);
    assert!(
        plan_help
            .stdout
            .contains("Exit codes:\n  0  every object is valid")
            && plan_help.stdout.contains("\n  1  an object is invalid")
            && plan_help.stdout.contains("\n  2  a usage error"),
        "{}",
        plan_help.stdout
    );
    assert!(
        plan_help
            .stdout
            .contains(&exit_codes::help(plan::exit::CODES)),
        "{}",
        plan_help.stdout
    );
    // `-h` (the short help) carries them too.
    let short = quota_operator("plan", &["-h"], &[]).await;
    assert!(short.stdout.contains("Exit codes:"), "{}", short.stdout);

    let explain_help = quota_operator("explain", &["--help"], &[]).await;
    assert!(
        explain_help
            .stdout
            .contains(&exit_codes::help(explain::exit::CODES))
            && explain_help.stdout.contains("\n  3  --live could not read"),
        "{}",
        explain_help.stdout
    );
    let run_help = quota_operator("run", &["--help"], &[]).await;
    assert!(
        run_help
            .stdout
            .contains("Exit codes:\n  0  stopped by SIGTERM"),
        "{}",
        run_help.stdout
    );
}

/// Two contexts; the current one is a cluster nobody serves.
const TWO_CONTEXTS: &str = "apiVersion: v1
kind: Config
current-context: bogus
clusters:
- name: bogus
  cluster: {server: 'https://127.0.0.1:1'}
contexts:
- name: bogus
  context: {cluster: bogus, user: someone}
users:
- name: someone
  user: {token: not-a-secret}
";

#[tokio::test]
async fn run_reads_the_context_of_kubeconfig_or_of_the_kubeconfig_env() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config");
    std::fs::write(&file, TWO_CONTEXTS).unwrap();
    let path = file.to_str().unwrap();
    let flag = quota_operator("run", &["--kubeconfig", path, "--context", "prod"], &[]).await;
    assert_eq!(flag.code, 1, "{}", flag.stderr);
    assert!(
        flag.stderr
            .contains(&format!("--kubeconfig {path}: context prod")),
        "{}",
        flag.stderr
    );
    let env = quota_operator("run", &["--context", "prod"], &[("KUBECONFIG", path)]).await;
    assert_eq!(env.code, 1, "{}", env.stderr);
    assert!(
        env.stderr
            .contains("loading context prod of the kubeconfig")
            && env.stderr.contains("failed to load current context: prod"),
        "{}",
        env.stderr
    );
    let missing = quota_operator("run", &["--kubeconfig", "/nonexistent/config"], &[]).await;
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("--kubeconfig /nonexistent/config"),
        "{}",
        missing.stderr
    );
}
