//! The controller: watches QuotaRequirements (and the CloudAccounts, Namespaces and Karpenter
//! NodePools they depend on) and runs one pipeline for each: `reconcile` resolves the account (`resolve`), then per
//! region `target` observes (`observe`), decides (`decide`: the only place a region's state is
//! chosen, reading and filing through `act` as it asks), and `status`, `events` and `metrics`
//! report the verdict.

mod accounts;
mod act;
pub mod aggregate;
mod backoff;
mod case;
mod case_reads;
mod case_view;
mod context;
pub mod decide;
mod events;
mod ledger;
mod needs;
mod nodepools;
mod object;
mod observe;
mod peers;
mod reconcile;
mod reconciles;
mod record;
mod region;
mod report;
pub mod resolve;
pub mod status;
mod target;
mod template;
mod turns;
mod usage;
pub mod writes;

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use futures::{FutureExt, Stream, StreamExt};
use k8s_openapi::api::core::v1::Namespace;
use kube::{
    Api, Client, ResourceExt,
    core::PartialObjectMeta,
    runtime::{
        Controller, WatchStreamExt,
        controller::{self, Action},
        events::{Recorder, Reporter},
        reflector::{self, ObjectRef, Store},
        watcher,
    },
};

use crate::{
    api::{CloudAccount, QuotaRequirement},
    cloud::ProviderFactory,
};

pub use backoff::Backoff;
pub use context::{Config, Context, Error};
pub use ledger::Ledger;
pub use reconciles::Reconciles;
pub use template::unfit as template_unfit;

/// What tests observe and switch off in an in-process operator; the product runs with the
/// default (no counting, account status written).
#[derive(Clone)]
pub struct Seams {
    /// Counts finished reconciles per object, so a test can tell that the operator reconciled
    /// in a window.
    pub reconciles: Option<Arc<Reconciles>>,
    /// Write CloudAccount status (whether each account can be reached). Off for in-process
    /// test operators that share one API server, so they do not fight over cluster-scoped
    /// objects.
    pub account_status: bool,
    /// Keep the quota request templates of CloudAccounts with `spec.aws.quotaTemplate`. Off
    /// for in-process test operators unless a test asks: each would write every template
    /// account's status with its own cloud.
    pub templates: bool,
}

impl Default for Seams {
    fn default() -> Self {
        Self {
            reconciles: None,
            account_status: true,
            templates: true,
        }
    }
}

/// Runs the controller until `shutdown` completes.
pub async fn run(
    client: Client,
    providers: Arc<dyn ProviderFactory>,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    run_with(client, providers, config, Seams::default(), shutdown).await;
}

/// `run`, with the test seams given.
pub async fn run_with(
    client: Client,
    providers: Arc<dyn ProviderFactory>,
    config: Config,
    seams: Seams,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let (accounts, account_events) = accounts_watch(&client);
    let (namespaces, namespace_events) = namespaces_watch(&client);
    let (pools, pool_events) = nodepools::watch(&client, config.karpenter_nodepools).await;
    crate::metrics::set_max_concurrent(config.concurrency);
    let (store, writer) = reflector::store();
    let needs = Arc::new(needs::Needs::default());
    let listed = Arc::new(AtomicBool::new(false));
    let trigger = requirements(&client, &config, writer, needs.clone(), listed.clone());
    let controller = Controller::for_stream(trigger, store.clone())
        .with_config(controller::Config::default().concurrency(config.concurrency));
    let (by_account, by_namespace, by_pool) = (store.clone(), store.clone(), store.clone());
    let (stop_accounts, accounts_written) =
        account_status(seams.account_status, &client, &providers, &config);
    let stores = Stores {
        accounts,
        namespaces,
        requirements: store,
        needs,
        nodepools: pools,
    };
    let ctx = context(client, providers, config, stores, seams.reconciles);
    let templates = (seams.templates).then(|| tokio::spawn(template::run(ctx.clone())));

    let shutdown = shutdown.shared();
    let cut_off = stop_deadline(shutdown.clone(), listed, ctx.config.shutdown_grace);
    let controller = controller
        .watches_stream(account_events, move |account: CloudAccount| {
            let name = account.name_any();
            refs(&by_account, |qr| qr.spec.account_ref == name)
        })
        .watches_stream(namespace_events, move |ns: PartialObjectMeta<Namespace>| {
            let name = ns.name_any();
            refs(&by_namespace, |qr| {
                qr.namespace().as_deref() == Some(name.as_str())
            })
        })
        .watches_stream(pool_events, move |pool| {
            refs(&by_pool, |qr| nodepools::concerns(qr, &pool))
        })
        .graceful_shutdown_on(shutdown)
        .run(timed_reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::debug!(error = %e, "reconcile did not complete");
            }
        });
    tokio::select! {
        () = controller => {}
        () = cut_off => {}
    }
    let _ = stop_accounts.send(());
    let _ = accounts_written.await;
    templates.iter().for_each(tokio::task::JoinHandle::abort);
}

/// The CloudAccounts, cached and watched (a change reconciles the objects that name one).
fn accounts_watch(
    client: &Client,
) -> (
    reflector::Store<CloudAccount>,
    impl Stream<Item = Result<CloudAccount, watcher::Error>> + Send + 'static,
) {
    let (accounts, writer) = reflector::store();
    let events = reflector::reflector(
        writer,
        watcher(
            Api::<CloudAccount>::all(client.clone()),
            watcher::Config::default(),
        ),
    )
    .default_backoff()
    .touched_objects();
    (accounts, events)
}

/// The namespaces' labels, cached and watched (a change reconciles the objects in one).
fn namespaces_watch(
    client: &Client,
) -> (
    reflector::Store<PartialObjectMeta<Namespace>>,
    impl Stream<Item = Result<PartialObjectMeta<Namespace>, watcher::Error>> + Send + 'static,
) {
    let (namespaces, writer) = reflector::store();
    let events = reflector::reflector(
        writer,
        watcher(
            Api::<PartialObjectMeta<Namespace>>::all(client.clone()),
            watcher::Config::default(),
        )
        .modify(|ns| ns.managed_fields_mut().clear()),
    )
    .default_backoff()
    .touched_objects();
    (namespaces, events)
}

/// What the watches keep, which every reconcile reads.
struct Stores {
    accounts: reflector::Store<CloudAccount>,
    namespaces: reflector::Store<PartialObjectMeta<Namespace>>,
    requirements: reflector::Store<QuotaRequirement>,
    needs: Arc<needs::Needs>,
    nodepools: Result<reflector::Store<crate::capacity::nodepools::NodePool>, String>,
}

/// What every reconcile shares.
fn context(
    client: Client,
    providers: Arc<dyn ProviderFactory>,
    config: Config,
    stores: Stores,
    reconciles: Option<Arc<reconciles::Reconciles>>,
) -> Arc<Context> {
    let reporter = Reporter {
        controller: "quota-operator".into(),
        instance: Some(config.instance.clone()),
    };
    Arc::new(Context {
        recorder: Recorder::new(client.clone(), reporter),
        client,
        providers,
        accounts: stores.accounts,
        namespaces: stores.namespaces,
        requirements: stores.requirements,
        needs: stores.needs,
        nodepools: stores.nodepools,
        ledger: Ledger::new(config.poll / 2),
        // A case is read at most once per poll interval, however many objects follow it.
        case_reads: case_reads::CaseReads::new(config.poll),
        // Requested and Queued objects are reconciled every poll: three missed polls (and at
        // least half a minute, for a busy operator) and a slot or a wait is forgotten.
        turns: turns::Turns::new((config.poll * 3).max(std::time::Duration::from_secs(30))),
        backoff: Backoff::new(config.backoff_base, config.backoff_max),
        reconciles,
        config,
        stores_ready: tokio::sync::OnceCell::new(),
    })
}

/// The controller's own watch, with two things added: the needs index follows every event,
/// and objects are cached without what the operator never reads (managedFields, the
/// last-applied annotation), which is most of an object's size. `listed` turns true at the
/// first complete list.
fn requirements(
    client: &Client,
    config: &Config,
    writer: reflector::store::Writer<QuotaRequirement>,
    index: Arc<needs::Needs>,
    listed: Arc<AtomicBool>,
) -> impl futures::Stream<Item = Result<QuotaRequirement, watcher::Error>> + Send + 'static {
    let api: Api<QuotaRequirement> = match &config.namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    watcher(api, watcher::Config::default())
        .default_backoff()
        .modify(|qr: &mut QuotaRequirement| {
            qr.managed_fields_mut().clear();
            qr.annotations_mut()
                .remove("kubectl.kubernetes.io/last-applied-configuration");
        })
        .reflect(writer)
        .inspect(move |event| {
            if let Ok(event) = event {
                if matches!(event, watcher::Event::InitDone) {
                    listed.store(true, Ordering::Release);
                }
                index.apply(event);
                // A deleted object no longer counts in the fleet's metrics.
                if let watcher::Event::Delete(obj) = event {
                    crate::metrics::forget(&object::key(obj));
                }
            }
        })
        .applied_objects()
}

/// The CloudAccount status writer (when `on`), running until the sender is used or dropped.
fn account_status(
    on: bool,
    client: &Client,
    providers: &Arc<dyn ProviderFactory>,
    config: &Config,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let writer = on.then(|| {
        let ctx = Arc::new(accounts::AccountContext {
            client: client.clone(),
            providers: providers.clone(),
            resync: config.resync,
            retry: config.backoff_max,
        });
        Controller::new(
            Api::<CloudAccount>::all(client.clone()),
            watcher::Config::default(),
        )
        .run(accounts::reconcile, account_error_policy, ctx)
        .for_each(|_| async {})
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let written = tokio::spawn(async move {
        if let Some(writer) = writer {
            tokio::select! { () = writer => {}, _ = stopped => {} }
        }
    });
    (stop, written)
}

/// Completes when the controller must stop even though its graceful shutdown has not finished.
/// Before the first list of QuotaRequirements at once: no reconcile can have started, and
/// kube-runtime's runner, which waits for that list before it looks for the end of its input,
/// would otherwise wait forever. After it, once `grace` has passed.
async fn stop_deadline(
    shutdown: impl Future<Output = ()>,
    listed: Arc<AtomicBool>,
    grace: Duration,
) {
    shutdown.await;
    if !listed.load(Ordering::Acquire) {
        tracing::info!(
            "stopping before the first list of QuotaRequirements: nothing was reconciling"
        );
        return;
    }
    tokio::time::sleep(grace).await;
    tracing::warn!(
        ?grace,
        "reconciles still running after the shutdown grace period; stopping them (any filing cut off is claimed through its recorded intent)"
    );
}

fn account_error_policy(
    account: Arc<CloudAccount>,
    error: &Error,
    ctx: Arc<accounts::AccountContext>,
) -> Action {
    tracing::warn!(account = %account.name_any(), error = %error, "account status not written");
    Action::requeue(ctx.retry)
}

async fn timed_reconcile(obj: Arc<QuotaRequirement>, ctx: Arc<Context>) -> Result<Action, Error> {
    let timer = crate::metrics::reconcile_started(&object::key(&obj));
    let result = reconcile::reconcile(obj, ctx).await;
    timer.finished(result.is_ok());
    result
}

fn refs(
    store: &Store<QuotaRequirement>,
    pick: impl Fn(&QuotaRequirement) -> bool,
) -> Vec<ObjectRef<QuotaRequirement>> {
    store
        .state()
        .iter()
        .filter(|qr| pick(qr))
        .map(|qr| ObjectRef::from_obj(qr.as_ref()))
        .collect()
}

fn error_policy(obj: Arc<QuotaRequirement>, error: &Error, ctx: Arc<Context>) -> Action {
    let key = object::key(&obj);
    let Error::Kube(e) = error;
    // The cached copy was behind the API server: nothing was written or filed, and the watch
    // brings the newer copy (which triggers a reconcile of its own) before long.
    if writes::is_conflict(e) {
        let delay = ctx.config.poll.min(ctx.config.backoff_base);
        crate::metrics::scheduled(&key, delay, true);
        tracing::info!(object = %key, ?delay, "the object changed since it was read; reconciling again");
        return Action::requeue(delay);
    }
    let delay = ctx.backoff.next(&key);
    crate::metrics::scheduled(&key, delay, true);
    tracing::warn!(object = %key, reason = error.reason(), error = %error, ?delay, "reconcile failed");
    Action::requeue(delay)
}
