#![forbid(unsafe_code)]

use clap::Parser;

/// AWS Service Quotas and GCP Cloud Quotas simulators on one loopback port, for quota-operator's
/// demo, tests and benchmarks. Never point real credentials at it: it checks none.
#[derive(Parser)]
#[command(name = "quota-sim", version)]
struct Cli {
    #[command(flatten)]
    args: quota_sim::SimArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    quota_sim::run_cli(Cli::parse().args).await
}
