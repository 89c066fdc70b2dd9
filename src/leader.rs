//! Leader election: only the holder of a Lease reconciles and writes; the others stand by,
//! serving probes and metrics. Built on kube-lease-manager.
//!
//! A holder steps down at once when a renewal fails, well before the lease can expire and
//! another replica take over: the lease client's requests time out within the grace period, and
//! any renewal error stops the work before the next attempt. A step-down aborts the controller;
//! a filing cut short is claimed by the next holder through the intent recorded before it.

use std::{future::Future, time::Duration};

use kube::Client;
use kube_lease_manager::{LeaseManager, LeaseManagerBuilder};
use tokio::{sync::watch, task::JoinHandle};

/// How the lease is held.
#[derive(Clone, Debug)]
pub struct LeaderSettings {
    pub namespace: String,
    pub lease_name: String,
    /// This replica's name in the Lease (the pod name).
    pub identity: String,
    /// How long a holder's claim lasts after its last renewal.
    pub lease_seconds: u64,
    /// How long before expiry the holder renews (and the most clock skew tolerated).
    pub grace_seconds: u64,
}

/// Runs `work` (a controller until its shutdown future completes) only while this replica holds
/// the lease. `leading` tells probes and metrics where this replica stands. Returns after
/// `shutdown`, having stopped the work gracefully and released the lease so a standby takes
/// over without waiting for expiry.
pub async fn run_elected<W, Fut>(
    config: kube::Config,
    settings: LeaderSettings,
    leading: watch::Sender<bool>,
    shutdown: impl Future<Output = ()>,
    work: W,
) -> anyhow::Result<()>
where
    W: Fn(watch::Receiver<bool>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let client = lease_client(config, settings.grace_seconds)?;
    tokio::pin!(shutdown);
    loop {
        let manager = build(&client, &settings).await?;
        tracing::info!(identity = %settings.identity, lease = %settings.lease_name, "standing by for the lease");
        // Standby: wait for the lease (or the end).
        let acquired = tokio::select! {
            r = manager.changed() => r,
            () = &mut shutdown => return Ok(()),
        };
        match acquired {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "lease not acquired; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        }

        tracing::info!(identity = %settings.identity, "acquired the lease: reconciling");
        leading.send_replace(true);
        crate::metrics::set_leader(true);
        let (stop, stopped) = watch::channel(false);
        let mut term: JoinHandle<()> = tokio::spawn(work(stopped));
        let lost = loop {
            tokio::select! {
                    r = manager.changed() => match r {
                        Ok(true) => continue,
                        Ok(false) => break "another replica holds the lease".to_string(),
                        Err(e) => break format!("the lease could not be renewed: {e}"),
                    },
                    _ = &mut term => break "the controller stopped".to_string(),
                    () = &mut shutdown => {
                        let _ = stop.send(true);
                        let _ = (&mut term).await;
                        leading.send_replace(false);
            crate::metrics::set_leader(false);
                        if let Err(e) = manager.release().await {
                            tracing::warn!(error = %e, "could not release the lease; it expires on its own");
                        }
                        tracing::info!("released the lease");
                        return Ok(());
                    }
                }
        };
        term.abort();
        let _ = term.await;
        leading.send_replace(false);
        crate::metrics::set_leader(false);
        tracing::warn!(reason = %lost, "stepped down: stopped reconciling");
        // A fresh manager: the old one may still believe it leads.
        let _ = manager.release().await;
    }
}

/// The lease's own client: every request ends within the grace period, so a stalled renewal
/// is an error before the lease can expire.
fn lease_client(mut config: kube::Config, grace_seconds: u64) -> anyhow::Result<Client> {
    let bound = Some(Duration::from_secs(grace_seconds.max(1)));
    config.connect_timeout = bound;
    config.read_timeout = bound;
    config.write_timeout = bound;
    Ok(Client::try_from(config)?)
}

async fn build(client: &Client, settings: &LeaderSettings) -> anyhow::Result<LeaseManager> {
    Ok(
        LeaseManagerBuilder::new(client.clone(), settings.lease_name.clone())
            .with_namespace(settings.namespace.clone())
            .with_identity(settings.identity.clone())
            .with_duration(settings.lease_seconds)
            .with_grace(settings.grace_seconds)
            .build()
            .await?,
    )
}
