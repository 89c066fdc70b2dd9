//! The AWS simulator on a free port, and the AWS CLI (botocore), an independent client, against
//! it: nothing from the machine's AWS configuration and no retries, so what the CLI prints is the
//! simulator's answer.

use std::process::Output;

use quota_sim::{AwsSim, Scenario, SimHandle};
use tokio::process::Command;

/// The AWS simulator on `yaml`'s scenario, on a free loopback port.
pub async fn start(yaml: &str) -> SimHandle {
    let scenario = Scenario::from_yaml(yaml).expect("test scenario");
    AwsSim::new(scenario)
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("start simulator")
}

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
