//! `quota-sim`: serve a scenario (or the default one) for the demo, benchmarks and manual tests.

use std::{net::SocketAddr, path::PathBuf};

use crate::{
    handle::Sim,
    scenario::{EXAMPLE_SCENARIO, Scenario},
};

#[derive(Clone, Debug, clap::Args)]
pub struct SimArgs {
    /// Scenario YAML (see `--print-example`); the default scenario when absent.
    #[arg(long, env = "QO_SIM_SCENARIO")]
    pub scenario: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port. Keep it on loopback: there is no auth.
    #[arg(long, env = "QO_SIM_LISTEN", default_value = "127.0.0.1:4599")]
    pub listen: SocketAddr,
    /// Print a commented example scenario and exit.
    #[arg(long)]
    pub print_example: bool,
    /// Check the scenario file and exit.
    #[arg(long)]
    pub check: bool,
    /// Log lines as JSON objects instead of text.
    #[arg(long)]
    pub json_logs: bool,
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn run_cli(args: SimArgs) -> anyhow::Result<()> {
    if args.print_example {
        print!("{EXAMPLE_SCENARIO}");
        return Ok(());
    }
    let scenario = match &args.scenario {
        Some(path) => Scenario::from_file(path)?,
        None => Scenario::default(),
    };
    if args.check {
        println!("scenario OK");
        return Ok(());
    }
    init_logs(args.json_logs);
    let handle = Sim::new(scenario).serve(args.listen).await?;
    let endpoint = handle.endpoint();
    println!("AWS Service Quotas simulator: {endpoint}");
    println!("  aws service-quotas list-services --endpoint-url {endpoint}");
    println!("GCP Cloud Quotas simulator: {endpoint}/v1/");
    println!(
        "  CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDQUOTAS={endpoint}/ CLOUDSDK_AUTH_ACCESS_TOKEN=dummy \\"
    );
    println!(
        "    gcloud alpha quotas info describe CPUS-per-project-region --project demo-project --service compute.googleapis.com"
    );
    println!("  admin routes: curl {endpoint}/_sim");
    stop_signal().await;
    handle.shutdown().await
}

/// `RUST_LOG` overrides the default `info` level.
fn init_logs(json: bool) {
    use tracing_subscriber::{EnvFilter, fmt, prelude::*};
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = if json {
        registry.with(fmt::layer().json()).try_init()
    } else {
        registry.with(fmt::layer().with_target(false)).try_init()
    };
}

async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = term.recv() => {} }
}
