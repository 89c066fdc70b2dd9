//! The `quota-operator plan` subcommand: flags, reading the files, admission, `--live`, output
//! and the exit code (1 when any object is invalid, 2 on usage errors, else 0).

use std::{path::PathBuf, process::ExitCode};

use serde_json::Value;

use super::{
    admission::{self, Admission},
    files::{self, Document},
    live::{self, World},
    render::{self, Format},
    report::{ObjectReport, Report, ReportedError, Verdict},
};
use crate::{
    api::{CloudAccount, QuotaRequirement},
    cloud::{Clouds, aws::AwsSettings, gcp::GcpSettings},
};

/// Flags of `quota-operator plan`.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Validates QuotaRequirements and CloudAccounts offline exactly as the API server's \
admission does (the CRDs' OpenAPI schema and CEL rules, unknown fields refused as `kubectl apply` \
refuses them), and with --live reads each target's current value and prints what the operator \
would do: satisfied, file N, requested, queued, blocked by a guardrail, not adjustable. Exit codes: \
0 all valid, 1 an object is invalid, 2 usage error."
)]
pub struct PlanArgs {
    /// Files or directories (`.yaml`, `.yml`, `.json`) to read; `-` is stdin. Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "FILE|DIR", required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// Read directories recursively.
    #[arg(short = 'R', long)]
    pub recursive: bool,
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Format,
    /// Read current values with your credentials (AWS default chain, GCP Application Default
    /// Credentials) and print the action for each target. Only reads; nothing is filed.
    #[arg(long)]
    pub live: bool,
    /// CloudAccounts for --live that are not among the files (e.g. the admins' repository).
    #[arg(long, value_name = "FILE|DIR")]
    pub account_file: Vec<PathBuf>,
    /// Service Quotas and STS endpoint for --live (a simulator, a VPC endpoint).
    #[arg(long, env = "QO_AWS_ENDPOINT_URL")]
    pub aws_endpoint_url: Option<String>,
    /// Cloud Quotas endpoint for --live (a simulator); plain http is called without credentials.
    #[arg(long, env = "QO_GCP_ENDPOINT_URL")]
    pub gcp_endpoint_url: Option<String>,
}

/// Runs `plan`.
pub async fn run(args: PlanArgs) -> ExitCode {
    let docs = match files::load(&args.files, args.recursive) {
        Ok(docs) => docs,
        Err(e) => return usage(&e.to_string()),
    };
    let context = match files::load(&args.account_file, args.recursive) {
        Ok(docs) => docs,
        Err(e) => return usage(&format!("--account-file {e}")),
    };
    let report = plan(&docs, &context, &args).await;
    print!("{}", render::render(&report, args.output));
    ExitCode::from(report.exit_code())
}

fn usage(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// Admits every document and, with `--live`, plans every valid QuotaRequirement.
pub async fn plan(docs: &[Document], context: &[Document], args: &PlanArgs) -> Report {
    let admission = Admission::ours();
    let mut report = Report {
        live: args.live,
        objects: docs.iter().map(|d| admit(admission, d)).collect(),
    };
    if !args.live {
        return report;
    }
    let valid = |d: &&Document| {
        d.object
            .as_ref()
            .is_ok_and(|o| admission.admit(o) == admission::Verdict::Valid)
    };
    let typed = |kind: &str| -> Vec<(usize, Value)> {
        docs.iter()
            .enumerate()
            .filter(|(_, d)| valid(d))
            .filter_map(|(i, d)| d.object.as_ref().ok().map(|o| (i, o.clone())))
            .filter(|(_, o)| o["kind"] == kind)
            .collect()
    };
    let accounts: Vec<CloudAccount> = typed("CloudAccount")
        .into_iter()
        .map(|(_, o)| o)
        .chain(
            context
                .iter()
                .filter(valid)
                .filter_map(|d| d.object.clone().ok())
                .filter(|o| o["kind"] == "CloudAccount"),
        )
        .filter_map(|o| serde_json::from_value(o).ok())
        .collect();
    let (indexes, requirements): (Vec<usize>, Vec<QuotaRequirement>) = typed("QuotaRequirement")
        .into_iter()
        .filter_map(|(i, o)| serde_json::from_value(o).ok().map(|qr| (i, qr)))
        .unzip();
    let world = World {
        accounts: accounts.iter().collect(),
        namespaces: docs
            .iter()
            .chain(context)
            .filter_map(|d| d.object.as_ref().ok())
            .filter(|o| o["kind"] == "Namespace" && o["apiVersion"] == "v1")
            .filter_map(|o| {
                let name = o["metadata"]["name"].as_str()?.to_string();
                let labels =
                    serde_json::from_value(o["metadata"]["labels"].clone()).unwrap_or_default();
                Some((name, labels))
            })
            .collect(),
    };
    // The SDKs' TLS needs a process-wide crypto provider; one may already be installed.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let aws = AwsSettings {
        endpoint: args.aws_endpoint_url.clone(),
        ..AwsSettings::default()
    };
    let gcp = GcpSettings {
        endpoint: args.gcp_endpoint_url.clone(),
        ..GcpSettings::default()
    };
    let clouds = Clouds::from_env(aws, gcp).await;
    let plans = live::plan_all(&requirements, &world, &clouds).await;
    for (index, targets) in indexes.into_iter().zip(plans) {
        report.objects[index].targets = targets;
    }
    report
}

fn admit(admission: &Admission, doc: &Document) -> ObjectReport {
    let obj = match &doc.object {
        Ok(obj) => obj,
        Err(e) => {
            return ObjectReport {
                file: doc.file.clone(),
                kind: String::new(),
                name: String::new(),
                verdict: Verdict::Invalid,
                errors: vec![ReportedError {
                    field: "<nil>".into(),
                    message: e.clone(),
                }],
                targets: vec![],
            };
        }
    };
    let meta = &obj["metadata"];
    let name = meta["name"].as_str().unwrap_or_default();
    let namespaced = admission.kind_of(obj).is_some_and(|k| k.namespaced);
    let name = match meta["namespace"].as_str() {
        Some(ns) if namespaced => format!("{ns}/{name}"),
        _ => name.to_string(),
    };
    let (verdict, errors) = match admission.admit(obj) {
        admission::Verdict::NotOurs => (Verdict::Skipped, vec![]),
        admission::Verdict::Valid => (Verdict::Valid, vec![]),
        admission::Verdict::Invalid(errors) => (
            Verdict::Invalid,
            errors.iter().map(ReportedError::from).collect(),
        ),
    };
    ObjectReport {
        file: doc.file.clone(),
        kind: obj["kind"].as_str().unwrap_or_default().to_string(),
        name,
        verdict,
        errors,
        targets: vec![],
    }
}
