//! The operator's binary as a command-line tool, run with none of the caller's cloud settings
//! (region, credentials, endpoints), so a test sees only what it sets.

use tokio::process::Command;

/// `quota-operator SUBCOMMAND` in a clean cloud environment, plus `env`.
pub fn quota_operator(subcommand: &str, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quota-operator"));
    cmd.arg(subcommand);
    for var in [
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "QO_AWS_ENDPOINT_URL",
        "QO_GCP_ENDPOINT_URL",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}
