//! The `quota-operator explain` subcommand: flags, stdin, stdout, stderr and the exit code.

use std::{io::Read as _, process::ExitCode};

use super::{
    ExplainError, Finding, Market, Options, QuotaId, exit,
    live::{self, LiveSettings},
    recognise,
    render::{self, Report},
    text, value,
};

/// Flags of `quota-operator explain`.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Reads a cloud error on stdin (EC2 Spot/vCPU/instance limits, Fargate vCPUs, ELB \
targets and load balancers, Elastic IPs, network interfaces, GCP quota exceeded, \
CONCURRENT_OPERATIONS_QUOTA_EXCEEDED) and prints the QuotaRequirement that prevents it on stdout, \
an explanation on stderr.",
    after_help = crate::cli::exit_codes::help(exit::CODES)
)]
pub struct ExplainArgs {
    /// The instance type that failed to launch (EC2 quotas count vCPUs per family).
    #[arg(long)]
    pub instance_type: Option<String>,
    /// The region, when the error names none (an ARN, a zone or a region in the text is used).
    #[arg(long)]
    pub region: Option<String>,
    /// The CloudAccount to put in accountRef (default: a CHANGE-ME placeholder).
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// The market, when the error does not say (InstanceLimitExceeded, VcpuLimitExceeded).
    #[arg(long, value_enum)]
    pub market: Option<Market>,
    /// How many of --instance-type must run at once: the YAML gives `capacity` (the operator
    /// reads the type's vCPUs from EC2) instead of a number. EC2 vCPU quotas only.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(1..=1_000_000))]
    pub count: Option<i64>,
    /// Also read the quota's current value with your credentials (AWS default chain, GCP
    /// Application Default Credentials) and ask for at least current + need.
    #[arg(long)]
    pub live: bool,
    /// Service Quotas and STS endpoint for --live (a simulator, a VPC endpoint).
    #[arg(long, env = "QO_AWS_ENDPOINT_URL")]
    pub aws_endpoint_url: Option<String>,
    /// Cloud Quotas endpoint for --live (a simulator); plain http is called without credentials.
    #[arg(long, env = "QO_GCP_ENDPOINT_URL")]
    pub gcp_endpoint_url: Option<String>,
    /// GCP project for --live when the error names none.
    #[arg(long)]
    pub project: Option<String>,
}

/// Runs `explain` on stdin.
pub async fn run(args: ExplainArgs) -> ExitCode {
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("error: reading stdin: {e}");
        return ExitCode::from(exit::NOT_RECOGNISED);
    }
    if input.trim().is_empty() {
        eprintln!("error: paste the error on stdin (e.g. pbpaste | quota-operator explain)");
        return ExitCode::from(exit::NOT_RECOGNISED);
    }
    match explain(&input, &args).await {
        Ok((yaml, explanation)) => {
            print!("{yaml}");
            eprint!("{explanation}");
            ExitCode::from(exit::RECOGNISED)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// The YAML and the explanation for `input`.
pub async fn explain(input: &str, args: &ExplainArgs) -> Result<(String, String), ExplainError> {
    let options = Options {
        instance_type: args.instance_type.clone(),
        region: args.region.clone(),
        market: args.market,
    };
    let settings = LiveSettings {
        aws_endpoint: args.aws_endpoint_url.clone(),
        gcp_endpoint: args.gcp_endpoint_url.clone(),
        project: args.project.clone(),
    };
    if args.live {
        // The SDKs' TLS needs a process-wide crypto provider; one may already be installed.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }
    let finding = match recognise(input, &options) {
        Err(ExplainError::NotRecognised(_)) if args.live => {
            live::by_name(input, &options, &settings).await?
        }
        found => found?,
    };
    let capacity = match args.count {
        None => None,
        Some(count) => Some((capacity_type(input, args, &finding)?, count)),
    };
    let current = if args.live {
        Some(live::current(&finding, &settings).await?)
    } else {
        None
    };
    let proposal = value::propose(&finding, current.as_ref().map(|c| c.value));
    let report = Report {
        finding: &finding,
        proposal: &proposal,
        account: args.account.as_deref(),
        current: current.as_ref(),
        capacity: capacity.as_ref().map(|(t, n)| (t.as_str(), *n)),
    };
    Ok((render::yaml(&report), render::explanation(&report)))
}

/// The instance type `--count` counts: the flag's, else the one the text names, on an EC2 vCPU
/// quota of its family group.
fn capacity_type(
    input: &str,
    args: &ExplainArgs,
    finding: &Finding,
) -> Result<String, ExplainError> {
    let not_applicable = || ExplainError::CountNotApplicable {
        quota: finding.quota.label(),
    };
    let QuotaId::Aws {
        service_code,
        quota_code,
    } = &finding.quota
    else {
        return Err(not_applicable());
    };
    let instance_type = args
        .instance_type
        .clone()
        .or_else(|| text::instance_type(input))
        .ok_or_else(not_applicable)?;
    crate::capacity::check::instance_type(&instance_type, service_code, quota_code)
        .map_err(|_| not_applicable())?;
    Ok(instance_type)
}
