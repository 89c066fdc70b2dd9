//! Quotas for new accounts: a CloudAccount with `spec.aws.quotaTemplate` is the AWS
//! Organizations management account, and the QuotaRequirements aimed at it declare what new
//! accounts start with. Its own small controller keeps the Service Quotas template equal to
//! them, one pass per account: `observe` (the association and the entries, read once),
//! `declared` (the aggregated needs), `decide` (puts, deletes, each entry's state), `act`
//! (the writes) and `report` (`status.template`). The objects themselves show their entry
//! (`regions`), read from that status; no increase request is ever filed in such an account.

mod act;
mod decide;
mod declared;
mod observe;
mod regions;
mod report;

use std::sync::Arc;

use futures::StreamExt;
use kube::{
    Api, ResourceExt,
    runtime::{Controller, controller::Action, reflector::ObjectRef, watcher},
};

use super::context::{Context, Error};
use crate::api::{CloudAccount, QuotaRequirement};

pub use declared::unfit;
pub use regions::regions;

/// How often the account store is looked at while no account is (or was) a template.
const FIRST_TEMPLATE_POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// Runs the template writer until the stream ends: every template account, again on each change
/// of a QuotaRequirement aimed at it and at the resync pace. Its watch of every QuotaRequirement
/// costs CPU on each status write (a sixth more operator CPU at 10,000 objects), so it starts
/// only once some CloudAccount is a template, or still shows one.
pub async fn run(ctx: Arc<Context>) {
    // The store is read, not awaited: `stores_ready` is the reconcilers' one waiter (a second
    // task waiting there before the controller runs would hold the whole cache sync up).
    while !ctx.accounts.state().iter().any(|a| has_template(a)) {
        tokio::time::sleep(FIRST_TEMPLATE_POLL).await;
    }
    let client = ctx.client.clone();
    let requirements: Api<QuotaRequirement> = match &ctx.config.namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    Controller::new(Api::<CloudAccount>::all(client), watcher::Config::default())
        .watches(requirements, watcher::Config::default(), |qr| {
            Some(ObjectRef::<CloudAccount>::new(&qr.spec.account_ref))
        })
        .run(reconcile, error_policy, ctx)
        .for_each(|_| async {})
        .await;
}

/// A template account, or one whose status still shows the template it was.
fn has_template(account: &CloudAccount) -> bool {
    account.is_template()
        || account
            .status
            .as_ref()
            .is_some_and(|s| s.template.is_some())
}

async fn reconcile(account: Arc<CloudAccount>, ctx: Arc<Context>) -> Result<Action, Error> {
    tracing::debug!(account = %account.name_any(), template = account.is_template(), "quota template pass");
    if !account.is_template() {
        // An account that stopped being one shows no template.
        if account
            .status
            .as_ref()
            .is_some_and(|s| s.template.is_some())
        {
            report::write(&ctx.client, &account, None).await?;
        }
        return Ok(Action::await_change());
    }
    ctx.stores_ready().await;
    if !in_scope(&account, &ctx) {
        return Ok(Action::await_change());
    }
    let (template, ok) = pass(&account, &ctx).await;
    report::write(&ctx.client, &account, Some(template)).await?;
    Ok(Action::requeue(if ok {
        ctx.config.resync
    } else {
        ctx.config.backoff_max
    }))
}

/// One pass: read, decide, write. False when the template could not be read.
async fn pass(account: &CloudAccount, ctx: &Context) -> (crate::api::TemplateStatus, bool) {
    let shown = account.status.as_ref().and_then(|s| s.template.clone());
    let seen = match observe::observe(account, ctx).await {
        Ok(seen) => seen,
        Err(message) => {
            // What was written stays listed, so a later pass still knows what it owns.
            let entries = shown.map(|t| t.entries).unwrap_or_default();
            return (report::status(None, Some(message), entries), false);
        }
    };
    let labels = |ns: &str| {
        ctx.namespaces
            .get(&ObjectRef::new(ns))
            .map(|n| n.labels().clone())
    };
    let objects = ctx.requirements.state();
    let declared = declared::entries(
        account,
        objects.iter().map(AsRef::as_ref),
        declared::allowed_by(account, labels),
    );
    let managed = shown
        .iter()
        .flat_map(|t| &t.entries)
        .filter(|e| e.managed())
        .map(|e| {
            (
                e.service_code.clone(),
                e.quota_code.clone(),
                e.region.clone(),
            )
        })
        .collect();
    let guardrails = account.spec.guardrails.as_ref();
    let plan = decide::plan(&declared, &seen.entries, &managed, guardrails);
    let entries = act::apply(seen.provider.template().expect("observed"), plan).await;
    tracing::debug!(account = %account.name_any(), entries = entries.len(), "quota template reconciled");
    let message = report::association_message(seen.associated);
    (
        report::status(Some(seen.associated), message, entries),
        true,
    )
}

/// An operator limited to one namespace keeps only the templates its objects use or wrote
/// (another namespace's operator keeps the others); a cluster-wide one keeps them all.
fn in_scope(account: &CloudAccount, ctx: &Context) -> bool {
    let Some(ns) = &ctx.config.namespace else {
        return true;
    };
    let name = account.name_any();
    let mine = format!("{ns}/");
    ctx.requirements
        .state()
        .iter()
        .any(|qr| qr.spec.account_ref == name)
        || (account.status.iter())
            .flat_map(|s| s.template.iter().flat_map(|t| &t.entries))
            .any(|e| e.managed() && e.driven_by.as_ref().is_some_and(|d| d.starts_with(&mine)))
}

fn error_policy(account: Arc<CloudAccount>, error: &Error, ctx: Arc<Context>) -> Action {
    tracing::warn!(account = %account.name_any(), error = %error, "quota template status not written");
    Action::requeue(ctx.config.backoff_max)
}
