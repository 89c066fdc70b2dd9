//! Which Kubernetes API a subcommand talks to, as kubectl chooses it: `--kubeconfig`, else
//! `KUBECONFIG` (a list of files, merged), else `~/.kube/config`, else the pod's in-cluster
//! config; `--context` picks a context of that kubeconfig instead of its current one.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use kube::config::{KubeConfigOptions, Kubeconfig};

/// The flags of every subcommand that talks to the Kubernetes API.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct KubeArgs {
    /// The kubeconfig file (default: KUBECONFIG, a colon-separated list of files as kubectl
    /// reads it, else ~/.kube/config, else the in-cluster config of the pod).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: its current-context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

/// The client configuration `args` choose; nothing is connected yet.
pub async fn config(args: &KubeArgs) -> anyhow::Result<kube::Config> {
    let options = KubeConfigOptions {
        context: args.context.clone(),
        ..KubeConfigOptions::default()
    };
    match (&args.kubeconfig, &args.context) {
        (Some(path), _) => from_file(path, &options).await,
        // A context names an entry of a kubeconfig: the in-cluster config has none to fall back to.
        (None, Some(context)) => kube::Config::from_kubeconfig(&options)
            .await
            .with_context(|| {
                format!(
                    "loading context {context} of the kubeconfig (KUBECONFIG or ~/.kube/config)"
                )
            }),
        (None, None) => kube::Config::infer()
            .await
            .context("finding the Kubernetes API (KUBECONFIG, ~/.kube/config or in-cluster)"),
    }
}

/// The configuration and a client of the API `args` choose: the one place a subcommand gets
/// its Kubernetes client.
pub async fn connect(args: &KubeArgs) -> anyhow::Result<(kube::Config, kube::Client)> {
    let config = config(args).await?;
    let client =
        kube::Client::try_from(config.clone()).context("connecting to the Kubernetes API")?;
    Ok((config, client))
}

async fn from_file(path: &Path, options: &KubeConfigOptions) -> anyhow::Result<kube::Config> {
    let shown = path.display();
    let file = Kubeconfig::read_from(path).with_context(|| format!("--kubeconfig {shown}"))?;
    kube::Config::from_custom_kubeconfig(file, options)
        .await
        .with_context(|| match &options.context {
            Some(context) => format!("--kubeconfig {shown}: context {context}"),
            None => format!("--kubeconfig {shown}: its current-context"),
        })
}

#[cfg(test)]
#[path = "kubeconfig_tests.rs"]
mod tests;
