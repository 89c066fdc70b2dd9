//! The `quota-operator plan` subcommand: flags, reading the files, admission, `--live`, output
//! and the exit code (`super::exit`).

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use serde_json::Value;

use super::{
    admission::{self, Admission},
    exit,
    files::{self, Document},
    live::{self, World},
    nodepools,
    render::{self, Format},
    report::{ObjectReport, Report, ReportedError, Verdict},
};
use crate::{
    api::{CloudAccount, QuotaRequirement},
    capacity::nodepools::{NodePool, NodePools},
    cloud::{Clouds, aws::AwsSettings, gcp::GcpSettings},
};

/// Flags of `quota-operator plan`.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Validates QuotaRequirements and CloudAccounts offline exactly as the API server's \
admission does (the CRDs' OpenAPI schema and CEL rules, unknown fields refused as `kubectl apply` \
refuses them), and with --live reads each target's current value and prints what the operator \
would do: satisfied, file N, requested, queued, blocked by a guardrail, not adjustable.",
    after_help = crate::cli::exit_codes::help(exit::CODES)
)]
pub struct PlanArgs {
    /// Files or directories (`.yaml`, `.yml`, `.json`) to read; `-` is stdin. Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "FILE|DIR", required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// Read directories recursively.
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// table for a terminal, markdown for a pull-request comment; json and yaml carry the same
    /// fields (the report's shape: live, objects[].file, document, kind, name, verdict,
    /// errors[], targets[]).
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Format,
    /// Read current values with your credentials (AWS default chain, GCP Application Default
    /// Credentials) and print the action for each target. Only reads; nothing is filed.
    #[arg(long)]
    pub live: bool,
    /// Karpenter NodePools (karpenter.sh/v1) that spec.capacity[].nodePools select from: files
    /// or directories (as kept in Git, or `kubectl get nodepools -o yaml`), or, given without
    /// one, the cluster's (--kubeconfig, --context). With --live, also reports each NodePool,
    /// the quotas it draws on in each region of the QuotaRequirements that select it, their
    /// current values, and which NodePools can exceed them.
    #[arg(long, value_name = "FILE|DIR", num_args = 0..)]
    pub nodepools: Option<Vec<PathBuf>>,
    /// The cluster `--nodepools` without a file reads.
    #[command(flatten)]
    pub kube: crate::cli::kubeconfig::KubeArgs,
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
    if let Err(e) = check_context(&context) {
        return usage(&format!("--account-file {e}"));
    }
    let pools = match load_nodepools(&args).await {
        Ok(pools) => pools,
        Err(e) => return usage(&format!("--nodepools {e}")),
    };
    let report = plan(&docs, &context, pools.as_deref(), &args).await;
    print!("{}", render::render(&report, args.output));
    ExitCode::from(report.exit_code())
}

fn usage(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(exit::USAGE)
}

/// The admins' files must be readable and their CloudAccounts valid: one left out would let a
/// CloudAccount of the same name in the files under review take its place.
fn check_context(context: &[Document]) -> Result<(), String> {
    let admission = Admission::ours();
    for doc in context {
        let report = admit(admission, doc);
        if report.verdict == Verdict::Invalid {
            let errors: Vec<&str> = report.errors.iter().map(|e| e.message.as_str()).collect();
            return Err(format!(
                "{}: {} is invalid: {}",
                doc.file,
                render::object_label(&report),
                errors.join("; ")
            ));
        }
    }
    Ok(())
}

/// The NodePools of `--nodepools`: its files' (every document must be one), or the cluster's;
/// None without the flag.
async fn load_nodepools(args: &PlanArgs) -> Result<Option<Vec<Arc<NodePool>>>, String> {
    let Some(paths) = &args.nodepools else {
        return Ok(None);
    };
    if paths.is_empty() {
        // Only --live counts NodePools: without it the cluster is not asked.
        if !args.live {
            return Ok(None);
        }
        return cluster_nodepools(&args.kube).await.map(Some);
    }
    let docs = files::load(paths, args.recursive).map_err(|e| e.to_string())?;
    let mut pools = vec![];
    for doc in docs {
        let at = format!("{} (document {})", doc.file, doc.index.unwrap_or(1));
        let object = doc.object.map_err(|e| format!("{at}: {e}"))?;
        if object["apiVersion"] != "karpenter.sh/v1" || object["kind"] != "NodePool" {
            return Err(format!("{at} is not a karpenter.sh/v1 NodePool"));
        }
        let pool: NodePool = serde_json::from_value(object).map_err(|e| format!("{at}: {e}"))?;
        pools.push(Arc::new(pool));
    }
    Ok(Some(pools))
}

fn no_nodepools() -> NodePools {
    NodePools::Unavailable(
        "plan reads NodePools only with --nodepools (files, or the cluster's), and it was not given"
            .into(),
    )
}

/// Every NodePool of the cluster `kube` chooses.
async fn cluster_nodepools(
    kube: &crate::cli::kubeconfig::KubeArgs,
) -> Result<Vec<Arc<NodePool>>, String> {
    let (_, client) = crate::cli::kubeconfig::connect(kube)
        .await
        .map_err(|e| format!("{e:#}"))?;
    let api: kube::Api<NodePool> = kube::Api::all(client);
    let list = api
        .list(&Default::default())
        .await
        .map_err(|e| format!("listing the cluster's karpenter.sh/v1 NodePools: {e}"))?;
    Ok(list.items.into_iter().map(Arc::new).collect())
}

/// Admits every document and, with `--live`, plans every valid QuotaRequirement (and reports
/// the NodePools given).
pub async fn plan(
    docs: &[Document],
    context: &[Document],
    pools: Option<&[Arc<NodePool>]>,
    args: &PlanArgs,
) -> Report {
    let admission = Admission::ours();
    let mut report = Report {
        live: args.live,
        objects: docs.iter().map(|d| admit(admission, d)).collect(),
        nodepools: None,
    };
    refuse_redefinitions(&mut report, docs, context);
    if !args.live {
        return report;
    }
    let valid = |kind: &str| -> Vec<(usize, Value)> {
        docs.iter()
            .zip(&report.objects)
            .enumerate()
            .filter(|(_, (_, r))| r.verdict == Verdict::Valid && r.kind == kind)
            .filter_map(|(i, (d, _))| d.object.as_ref().ok().map(|o| (i, o.clone())))
            .collect()
    };
    let typed = |objects: Vec<Value>| -> Vec<CloudAccount> {
        objects
            .into_iter()
            .filter_map(|o| serde_json::from_value(o).ok())
            .collect()
    };
    let admins = typed(of_kind(context, "CloudAccount"));
    let reviewed = typed(valid("CloudAccount").into_iter().map(|(_, o)| o).collect());
    let (indexes, requirements): (Vec<usize>, Vec<QuotaRequirement>) = valid("QuotaRequirement")
        .into_iter()
        .filter_map(|(i, o)| serde_json::from_value(o).ok().map(|qr| (i, qr)))
        .unzip();
    let namespaces = of_kind(context, "Namespace").into_iter().chain(
        docs.iter()
            .zip(&report.objects)
            .filter(|(_, r)| r.verdict != Verdict::Refused)
            .filter_map(|(d, _)| d.object.clone().ok())
            .filter(|o| is_kind(o, "Namespace")),
    );
    let world = World {
        accounts: admins.iter().collect(),
        reviewed_accounts: reviewed.iter().collect(),
        namespaces: namespace_labels(namespaces),
        nodepools: pools.map_or_else(no_nodepools, |p| NodePools::Known(p.to_vec())),
    };
    let clouds = clouds(args).await;
    let plans = live::plan_all(&requirements, &world, &clouds).await;
    for (index, targets) in indexes.into_iter().zip(plans) {
        report.objects[index].targets = targets;
    }
    if let Some(pools) = pools {
        report.nodepools = Some(nodepools::report(pools, &requirements, &world, &clouds).await);
    }
    report
}

/// The providers `--live` reads through: the caller's credentials, and only the endpoints the
/// caller passed.
async fn clouds(args: &PlanArgs) -> Clouds {
    crate::cloud::permissions::Client::Plan.claim();
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
    Clouds::from_env(aws, gcp).await
}

/// The objects of `kind` (a CloudAccount, a v1 Namespace) among readable documents.
fn of_kind(docs: &[Document], kind: &str) -> Vec<Value> {
    docs.iter()
        .filter_map(|d| d.object.clone().ok())
        .filter(|o| is_kind(o, kind))
        .collect()
}

fn is_kind(o: &Value, kind: &str) -> bool {
    let api_version = if kind == "Namespace" {
        "v1"
    } else {
        "quota-operator.dev/v1alpha1"
    };
    o["kind"] == kind && o["apiVersion"] == api_version
}

/// Labels by namespace name; the first definition of a name wins (the admins' come first).
fn namespace_labels(
    namespaces: impl Iterator<Item = Value>,
) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> {
    let mut out = std::collections::BTreeMap::new();
    for o in namespaces {
        let Some(name) = o["metadata"]["name"].as_str() else {
            continue;
        };
        let labels = serde_json::from_value(o["metadata"]["labels"].clone()).unwrap_or_default();
        out.entry(name.to_string()).or_insert(labels);
    }
    out
}

/// A CloudAccount or Namespace of the files under review that `--account-file` also defines is
/// refused and not used: the admins' copy decides, so a pull request cannot loosen the
/// guardrails or the namespace rule it is judged by, nor name a role for the caller to assume.
fn refuse_redefinitions(report: &mut Report, docs: &[Document], context: &[Document]) {
    let name = |o: &Value| o["metadata"]["name"].as_str().map(str::to_string);
    for kind in ["CloudAccount", "Namespace"] {
        let admins: Vec<String> = of_kind(context, kind).iter().filter_map(name).collect();
        for (doc, object) in docs.iter().zip(report.objects.iter_mut()) {
            let Some(theirs) = doc.object.as_ref().ok().filter(|o| is_kind(o, kind)) else {
                continue;
            };
            let Some(n) = name(theirs).filter(|n| admins.contains(n)) else {
                continue;
            };
            object.verdict = Verdict::Refused;
            object.errors = vec![ReportedError {
                field: "metadata.name".into(),
                message: format!(
                    "metadata.name: {kind} {n} is also defined by --account-file: plan uses that \
                     one (the admins'), not this one; a change to it belongs in the admins' files"
                ),
            }];
        }
    }
}

fn admit(admission: &Admission, doc: &Document) -> ObjectReport {
    let obj = match &doc.object {
        Ok(obj) => obj,
        Err(e) => {
            return ObjectReport {
                file: doc.file.clone(),
                document: doc.index,
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
        document: doc.index,
        kind: obj["kind"].as_str().unwrap_or_default().to_string(),
        name,
        verdict,
        errors,
        targets: vec![],
    }
}
