//! Act: the filing. Under the quota's filing lock (taken before the history is read, held to
//! the end of the filing), the intent is recorded, then the cloud is called with the provider's
//! context, and what the cloud made is remembered. Nothing here decides: `decide` chose the
//! value and `decide::consent` let it be filed.

use jiff::Timestamp;
use kube::ResourceExt;

use super::{
    decide::{consent::Consent, outcome::not_filed},
    ledger::KeyEntry,
    observe::Seen,
    record,
    region::Region,
    writes,
};
use crate::cloud::{CloudError, ErrorKind, FileContext, RequestView};

/// The quota's filing lock: only one reconcile at a time may decide to file for a quota.
pub async fn lock(entry: &KeyEntry) -> tokio::sync::MutexGuard<'_, ()> {
    entry.filing.lock().await
}

/// Files `value` with `consent`: the intent is recorded first, so that after a crash the
/// request it made is known to be this object's. The outer error is a step before the cloud
/// call that failed (nothing was filed); the inner result is the cloud's answer as it came.
pub async fn file(
    r: &Region<'_>,
    seen: &Seen,
    consent: &Consent,
    value: i64,
) -> Result<Result<RequestView, CloudError>, CloudError> {
    let owner = &seen.owner;
    let intent = record::filing(value, owner, Timestamp::now());
    if let Err(e) = r.writes.record_intent(&owner.scope, &intent).await {
        return Err(if writes::is_conflict(&e) {
            not_filed(
                "record the filing intent",
                "the object changed since this reconcile read it (409 Conflict)",
            )
        } else {
            not_filed("record the filing intent", e)
        });
    }
    let answer = call(r, seen, &context(r, consent), value).await;
    turns_after(r, &answer);
    Ok(answer)
}

/// What the provider files with: the object's justification, the GCP contact the account
/// names, for a decrease the account's safety-check setting, and whether AWS may open a case.
fn context(r: &Region<'_>, consent: &Consent) -> FileContext {
    let spec = &consent.account.spec;
    FileContext {
        justification: r.obj.spec.justification.clone(),
        contact_email: spec.gcp.as_ref().map(|g| g.contact_email.clone()),
        allow_decrease: consent.decrease,
        ignore_safety_checks: spec
            .guardrails
            .as_ref()
            .and_then(|g| g.decrease.as_ref())
            .is_some_and(|d| d.ignore_safety_checks),
        no_support_case: spec.aws.as_ref().is_some_and(|a| !a.cases_allowed()),
    }
}

/// The cloud call, and what the cloud made remembered.
async fn call(
    r: &Region<'_>,
    seen: &Seen,
    context: &FileContext,
    value: i64,
) -> Result<RequestView, CloudError> {
    let (entry, account) = (&seen.entry, r.account.cloud_id());
    // Whatever comes of the call (a time-out may still have made the request), the history
    // read before it no longer holds.
    entry.history_outdated();
    let view = r
        .provider
        .file(&r.target, &seen.view.id, value, context)
        .await?;
    entry.record(&view);
    r.ctx.ledger.remember(account, &view);
    let uid = r.obj.uid().unwrap_or_default();
    r.ctx.ledger.remember_filer(account, &view.id, &uid);
    Ok(view)
}

/// The region's slots after a filing: a request made holds one; a refusal for lack of one makes
/// the namespace wait its turn.
fn turns_after(r: &Region<'_>, answer: &Result<RequestView, CloudError>) {
    let (account, region) = (r.account.cloud_id(), r.target.region.as_str());
    let namespace = r.obj.namespace().unwrap_or_default();
    match answer {
        Ok(view) => r.ctx.turns.holds(account, region, &namespace, &view.id),
        Err(e) if e.kind == ErrorKind::LimitExceeded => {
            r.ctx.turns.turned_away(account, region, &namespace)
        }
        Err(_) => {}
    }
}
