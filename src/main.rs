#![forbid(unsafe_code)]

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use clap::{CommandFactory as _, Parser, Subcommand};
use quota_operator::{
    api,
    cli::{exit_codes::ExitCodeDoc, kubeconfig, version},
    cloud, controller, explain, leader, plan, shutdown, telemetry,
};

/// jemalloc instead of glibc's malloc: with 10,000 objects cached, glibc's per-thread arenas and
/// retained free pages kept the operator's peak RSS about 10 MiB above what jemalloc needs. Its
/// options (one arena, freed pages returned at once) are set at build time in
/// `.cargo/config.toml`.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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
    /// Run the controller against the cluster of --kubeconfig/--context, KUBECONFIG, or the
    /// in-cluster config.
    #[command(after_help = quota_operator::cli::exit_codes::help(RUN_EXIT_CODES))]
    Run(Box<RunArgs>),
    /// Print every CRD as YAML.
    Crd,
    /// Read a cloud quota error on stdin; print the QuotaRequirement that prevents it.
    Explain(explain::cli::ExplainArgs),
    /// Validate QuotaRequirements and CloudAccounts offline as admission would, and with --live
    /// show what the operator would do (for GitOps pull requests).
    Plan(plan::cli::PlanArgs),
    /// Print the version, the git commit it was built from, and the platform.
    Version(version::VersionArgs),
    /// Print a shell completion script (e.g. `source <(quota-operator completion bash)`).
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// `run` returns an error from `main` (exit 1, the message on stderr) for anything that stops
/// it other than a signal; clap exits 2 on a usage error.
const RUN_EXIT_CODES: &[ExitCodeDoc] = &[
    ExitCodeDoc {
        code: 0,
        meaning: "stopped by SIGTERM or SIGINT, after the reconciles in flight finished or the \
                  shutdown grace ran out",
    },
    ExitCodeDoc {
        code: 1,
        meaning: "could not start or keep running (no Kubernetes API, conflicting flags, the \
                  lease lost for good); the reason is on stderr",
    },
    ExitCodeDoc {
        code: 2,
        meaning: "a usage error: an unknown flag or a bad value",
    },
];

#[derive(clap::Args)]
struct RunArgs {
    #[command(flatten)]
    kube: kubeconfig::KubeArgs,
    /// Seconds between re-reads of satisfied objects.
    #[arg(long, env = "QO_RESYNC_SECONDS", default_value_t = 600)]
    resync_seconds: u64,
    /// Seconds between polls of open or queued requests.
    #[arg(long, env = "QO_POLL_SECONDS", default_value_t = 60)]
    poll_seconds: u64,
    /// Seconds reconciles in flight may run on after SIGTERM before they are cut off; keep it
    /// below the pod's terminationGracePeriodSeconds.
    #[arg(long, env = "QO_SHUTDOWN_GRACE_SECONDS", default_value_t = 20)]
    shutdown_grace_seconds: u64,
    /// Watch only this namespace (default: all).
    #[arg(long, env = "QO_NAMESPACE")]
    namespace: Option<String>,
    /// Reconciles that may run at once.
    #[arg(long, env = "QO_CONCURRENCY", default_value_t = 16)]
    concurrency: u16,
    /// Watch Karpenter NodePools (karpenter.sh/v1) so spec.capacity[].nodePools can name them;
    /// needs get/list/watch on nodepools.karpenter.sh (chart value karpenter.nodePools).
    #[arg(long, env = "QO_KARPENTER_NODEPOOLS")]
    karpenter_nodepools: bool,
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
    /// Hold a Lease before reconciling, so only one replica acts (run two for availability).
    #[arg(long, env = "QO_LEADER_ELECTION")]
    leader_election: bool,
    /// Namespace of the Lease (default: the pod's namespace, from POD_NAMESPACE).
    #[arg(long, env = "QO_LEADER_ELECTION_NAMESPACE")]
    leader_election_namespace: Option<String>,
    #[arg(
        long,
        env = "QO_LEADER_ELECTION_LEASE_NAME",
        default_value = "quota-operator-leader"
    )]
    leader_election_lease_name: String,
    /// This replica's name in the Lease (default: POD_NAME, else the host name).
    #[arg(long, env = "POD_NAME")]
    leader_election_identity: Option<String>,
    /// Seconds a holder's claim lasts after its last renewal: how long a standby waits after the
    /// holder dies.
    #[arg(long, env = "QO_LEADER_ELECTION_LEASE_SECONDS", default_value_t = 15)]
    leader_election_lease_seconds: u64,
    /// Seconds before expiry the holder renews; also the most clock skew tolerated.
    #[arg(long, env = "QO_LEADER_ELECTION_GRACE_SECONDS", default_value_t = 5)]
    leader_election_grace_seconds: u64,
    /// An endpoint an AWS CloudAccount's spec.endpoint may name (a VPC endpoint, a simulator):
    /// it receives SigV4-signed requests. Credentials go only to AWS, to --aws-endpoint-url and
    /// to these. Repeatable; comma-separated in the environment.
    #[arg(
        long = "allowed-aws-endpoint",
        env = "QO_ALLOWED_AWS_ENDPOINTS",
        value_delimiter = ','
    )]
    allowed_aws_endpoints: Vec<String>,
    /// An endpoint a GCP CloudAccount's spec.endpoint may name (Private Service Connect, a
    /// proxy, a simulator): it receives the project's OAuth token. Credentials go only to
    /// https://*.googleapis.com, to --gcp-endpoint-url and to these. Repeatable; comma-separated
    /// in the environment.
    #[arg(
        long = "allowed-gcp-endpoint",
        env = "QO_ALLOWED_GCP_ENDPOINTS",
        value_delimiter = ','
    )]
    allowed_gcp_endpoints: Vec<String>,
    /// Removed: one list for both clouds sent SigV4-signed AWS requests to endpoints allowed only
    /// for GCP (and GCP tokens to AWS ones). Kept so that using it fails with the new flags'
    /// names instead of an unknown-flag error.
    #[arg(
        long = "allowed-endpoint",
        env = "QO_ALLOWED_ENDPOINTS",
        value_delimiter = ',',
        hide = true
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
        Command::Plan(args) => Ok(plan::cli::run(args).await),
        Command::Run(args) => run(*args).await.map(|()| std::process::ExitCode::SUCCESS),
        Command::Version(args) => {
            print!("{}", version::Version::current().render(args.output));
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Completion { shell } => {
            completion(shell)?;
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}

/// Generated whole before it is written: clap_complete panics on a write error, and a reader
/// that stops early (`| head`) is not one.
fn completion(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut script = vec![];
    clap_complete::generate(shell, &mut Cli::command(), "quota-operator", &mut script);
    match std::io::Write::write_all(&mut std::io::stdout(), &script) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).context("writing stdout"),
        _ => Ok(()),
    }
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    telemetry::init(args.log_format);
    let election = leader_settings(&args)?;
    let (aws, gcp) = cloud_settings(&args)?;
    rustls::crypto::aws_lc_rs::default_provider()
        .install_default()
        .map_err(|_| anyhow::anyhow!("a rustls crypto provider was already installed"))?;
    let (kube_config, client) = kubeconfig::connect(&args.kube).await?;
    let config = controller::Config {
        resync: Duration::from_secs(args.resync_seconds),
        poll: Duration::from_secs(args.poll_seconds),
        shutdown_grace: Duration::from_secs(args.shutdown_grace_seconds),
        namespace: args.namespace,
        concurrency: args.concurrency,
        karpenter_nodepools: args.karpenter_nodepools,
        ..controller::Config::default()
    };
    let probes = quota_operator::probes::serve(args.probe_addr, config.readiness.clone()).await?;
    tracing::info!(%probes, "serving /healthz, /readyz and /metrics");
    let clouds = cloud::Clouds::from_env(aws, gcp).await;
    let (check, readiness) = (clouds.aws_credentials_missing(), config.readiness.clone());
    tokio::spawn(async move {
        if let Some(missing) = check.await {
            tracing::warn!(%missing, "AWS CloudAccounts stay CredentialsFailed until the operator has AWS credentials");
            readiness.warn(missing);
        }
    });
    let providers: Arc<dyn cloud::ProviderFactory> = Arc::new(clouds);
    tracing::info!("quota-operator starting");
    let Some(settings) = election else {
        quota_operator::metrics::set_leader(true);
        controller::run(client, providers, config, shutdown::signal()).await;
        tracing::info!("quota-operator stopped");
        return Ok(());
    };
    // A standby is ready: it serves probes and metrics, and a rollout must be able to start it.
    config.readiness.set_ready();
    let (leading, _) = tokio::sync::watch::channel(false);
    leader::run_elected(kube_config, settings, leading, shutdown::signal(), |stop| {
        let (client, providers, config) = (client.clone(), providers.clone(), config.clone());
        async move {
            let mut stop = stop;
            let stopped = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            controller::run(client, providers, config, stopped).await;
        }
    })
    .await?;
    tracing::info!("quota-operator stopped");
    Ok(())
}

/// Each cloud's settings, with the endpoints allowed for that cloud only: an endpoint trusted
/// with GCP's tokens is not thereby trusted with AWS's signed requests.
fn cloud_settings(
    args: &RunArgs,
) -> anyhow::Result<(cloud::aws::AwsSettings, cloud::gcp::GcpSettings)> {
    anyhow::ensure!(
        args.allowed_endpoints.is_empty(),
        "--allowed-endpoint (QO_ALLOWED_ENDPOINTS) is gone: it allowed an endpoint for both \
         clouds at once; use --allowed-aws-endpoint (QO_ALLOWED_AWS_ENDPOINTS) or \
         --allowed-gcp-endpoint (QO_ALLOWED_GCP_ENDPOINTS) for the cloud the endpoint serves"
    );
    let aws = cloud::aws::AwsSettings {
        endpoint: args.aws_endpoint_url.clone(),
        cache_ttl: Duration::from_secs(args.aws_cache_ttl_seconds),
        rate_scale: args.aws_rate_scale,
        allowed_endpoints: args.allowed_aws_endpoints.clone(),
        ..Default::default()
    };
    let gcp = cloud::gcp::GcpSettings {
        endpoint: args.gcp_endpoint_url.clone(),
        cache_ttl: Duration::from_secs(args.gcp_cache_ttl_seconds),
        allowed_endpoints: args.allowed_gcp_endpoints.clone(),
    };
    Ok((aws, gcp))
}

fn leader_settings(args: &RunArgs) -> anyhow::Result<Option<leader::LeaderSettings>> {
    if !args.leader_election {
        return Ok(None);
    }
    let namespace = args
        .leader_election_namespace
        .clone()
        .or_else(|| std::env::var("POD_NAMESPACE").ok())
        .context("--leader-election needs --leader-election-namespace (or POD_NAMESPACE)")?;
    let identity = args.leader_election_identity.clone().unwrap_or_else(|| {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "quota-operator".into());
        format!("{host}-{}", std::process::id())
    });
    anyhow::ensure!(
        args.leader_election_grace_seconds < args.leader_election_lease_seconds,
        "--leader-election-grace-seconds must be less than --leader-election-lease-seconds"
    );
    Ok(Some(leader::LeaderSettings {
        namespace,
        lease_name: args.leader_election_lease_name.clone(),
        identity,
        lease_seconds: args.leader_election_lease_seconds,
        grace_seconds: args.leader_election_grace_seconds,
    }))
}

#[cfg(test)]
#[path = "main_tests.rs"]
mod tests;
