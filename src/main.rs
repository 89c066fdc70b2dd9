#![forbid(unsafe_code)]

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use quota_operator::{api, cloud, controller, explain, telemetry};

#[derive(Parser)]
#[command(
    name = "quota-operator",
    version,
    about = "Keeps cloud quotas at or above what QuotaRequirements declare"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the controller against the cluster in KUBECONFIG or the in-cluster config.
    Run(RunArgs),
    /// Print every CRD as YAML.
    Crd,
    /// Read a cloud quota error on stdin; print the QuotaRequirement that prevents it.
    Explain(explain::cli::ExplainArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// Seconds between re-reads of satisfied objects.
    #[arg(long, env = "QO_RESYNC_SECONDS", default_value_t = 600)]
    resync_seconds: u64,
    /// Seconds between polls of open or queued requests.
    #[arg(long, env = "QO_POLL_SECONDS", default_value_t = 60)]
    poll_seconds: u64,
    /// Watch only this namespace (default: all).
    #[arg(long, env = "QO_NAMESPACE")]
    namespace: Option<String>,
    /// Reconciles that may run at once.
    #[arg(long, env = "QO_CONCURRENCY", default_value_t = 16)]
    concurrency: u16,
    #[arg(long, env = "QO_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: telemetry::LogFormat,
    /// Where /healthz and /readyz are served.
    #[arg(long, env = "QO_PROBE_ADDR", default_value = "0.0.0.0:8080")]
    probe_addr: std::net::SocketAddr,
    /// Service Quotas endpoint for AWS accounts without spec.endpoint (a simulator, a VPC endpoint).
    #[arg(long, env = "QO_AWS_ENDPOINT_URL")]
    aws_endpoint_url: Option<String>,
    /// Seconds a listed quota value is reused before ListServiceQuotas is called again.
    #[arg(long, env = "QO_AWS_CACHE_TTL_SECONDS", default_value_t = 300)]
    aws_cache_ttl_seconds: u64,
    /// Fraction of AWS's documented Service Quotas API rates the operator allows itself.
    #[arg(long, env = "QO_AWS_RATE_SCALE", default_value_t = 0.8)]
    aws_rate_scale: f64,
    /// Cloud Quotas endpoint for GCP projects without spec.endpoint (a simulator, Private Service
    /// Connect). A plain http:// endpoint is called without credentials.
    #[arg(long, env = "QO_GCP_ENDPOINT_URL")]
    gcp_endpoint_url: Option<String>,
    /// Seconds a QuotaInfo is reused before it is read again.
    #[arg(long, env = "QO_GCP_CACHE_TTL_SECONDS", default_value_t = 300)]
    gcp_cache_ttl_seconds: u64,
    /// An endpoint a CloudAccount's spec.endpoint may name (a VPC endpoint, Private Service
    /// Connect, a simulator). Credentials go only to the clouds' own endpoints, to the
    /// --aws-endpoint-url / --gcp-endpoint-url values and to these. Repeatable; comma-separated in
    /// the environment.
    #[arg(
        long = "allowed-endpoint",
        env = "QO_ALLOWED_ENDPOINTS",
        value_delimiter = ','
    )]
    allowed_endpoints: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Crd => {
            print!("{}", api::crds_yaml());
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Explain(args) => Ok(explain::cli::run(args).await),
        Command::Run(args) => run(args).await.map(|()| std::process::ExitCode::SUCCESS),
    }
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    telemetry::init(args.log_format);
    rustls::crypto::aws_lc_rs::default_provider()
        .install_default()
        .map_err(|_| anyhow::anyhow!("a rustls crypto provider was already installed"))?;
    let client = kube::Client::try_default()
        .await
        .context("connecting to the Kubernetes API (KUBECONFIG or in-cluster)")?;
    let config = controller::Config {
        resync: Duration::from_secs(args.resync_seconds),
        poll: Duration::from_secs(args.poll_seconds),
        namespace: args.namespace,
        concurrency: args.concurrency,
        ..controller::Config::default()
    };
    let probes = quota_operator::probes::serve(args.probe_addr, config.readiness.clone()).await?;
    tracing::info!(%probes, "serving /healthz and /readyz");
    let aws = cloud::aws::AwsSettings {
        endpoint: args.aws_endpoint_url,
        cache_ttl: Duration::from_secs(args.aws_cache_ttl_seconds),
        rate_scale: args.aws_rate_scale,
        allowed_endpoints: args.allowed_endpoints.clone(),
        ..Default::default()
    };
    let gcp = cloud::gcp::GcpSettings {
        endpoint: args.gcp_endpoint_url,
        cache_ttl: Duration::from_secs(args.gcp_cache_ttl_seconds),
        allowed_endpoints: args.allowed_endpoints.clone(),
    };
    let providers: Arc<dyn cloud::ProviderFactory> =
        Arc::new(cloud::Clouds::from_env(aws, gcp).await);
    tracing::info!("quota-operator starting");
    controller::run(
        client,
        providers,
        config,
        quota_operator::shutdown::signal(),
    )
    .await;
    tracing::info!("quota-operator stopped");
    Ok(())
}
