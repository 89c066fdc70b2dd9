//! The AWS CLI (botocore), an independent client, against the simulator: nothing from the
//! machine's AWS configuration and no retries, so what it prints is the simulator's answer.

use std::process::Output;

use tokio::process::Command;

/// `aws <args> --endpoint-url <endpoint> --output json`; `env` adds to or overrides the
/// defaults (access key `AKIDTESTEXAMPLE`, region us-east-1), a session token included.
pub async fn run(endpoint: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new("aws");
    cmd.args(args)
        .args(["--endpoint-url", endpoint, "--output", "json"]);
    for var in [
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs([
        ("AWS_ACCESS_KEY_ID", "AKIDTESTEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "not-checked"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ("AWS_RETRY_MODE", "standard"),
        ("AWS_MAX_ATTEMPTS", "1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_PAGER", ""),
    ])
    .envs(env.iter().copied());
    let out = cmd.output().await;
    out.expect("the AWS CLI (`aws`) must be installed: tools/ensure-tools.sh installs it")
}
