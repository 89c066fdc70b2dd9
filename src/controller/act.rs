//! Act: the calls that may lead to a request, made under the quota's filing lock. `history`
//! gathers what the decision needs before it may file; `file` files and returns the cloud's
//! answer as it came. Neither decides anything: `decide` does.

use crate::cloud::{CloudError, FileContext, QuotaProvider, RequestView, Target};

use super::{
    ledger::{KeyEntry, Ledger},
    requests::History,
};

/// The open request this process knows of, else the cloud's history of the quota (one listing:
/// an open request opened in the console or by a run that crashed before writing status, the
/// latest request, every refusal), as read at most once per `Ledger::history_ttl` per quota.
pub async fn history(
    account: &str,
    provider: &dyn QuotaProvider,
    ledger: &Ledger,
    entry: &KeyEntry,
    target: &Target,
    quota_id: &str,
) -> Result<History, CloudError> {
    if let Some(open) = entry.open() {
        return Ok(History {
            open: Some(open),
            ..History::default()
        });
    }
    if let Some(history) = entry.history(ledger.history_ttl()) {
        return Ok(history);
    }
    let history = History::of(provider.recent_requests(target, quota_id).await?);
    if let Some(view) = &history.open {
        entry.record(view);
        ledger.remember(account, view);
        return Ok(History {
            open: history.open,
            ..History::default()
        });
    }
    entry.remember_history(&history);
    Ok(history)
}

pub struct FileCall<'a> {
    pub account: &'a str,
    pub provider: &'a dyn QuotaProvider,
    pub ledger: &'a Ledger,
    pub entry: &'a KeyEntry,
    pub target: &'a Target,
    pub quota_id: &'a str,
    pub value: i64,
    pub context: &'a FileContext,
    /// The uid of the object filing.
    pub filer: &'a str,
}

/// Files, and remembers what the cloud made.
pub async fn file(call: FileCall<'_>) -> Result<RequestView, CloudError> {
    // Whatever comes of the call (a time-out may still have made the request), the history
    // read before it no longer holds.
    call.entry.history_outdated();
    let view = call
        .provider
        .file(call.target, call.quota_id, call.value, call.context)
        .await?;
    call.entry.record(&view);
    call.ledger.remember(call.account, &view);
    call.ledger
        .remember_filer(call.account, &view.id, call.filer);
    Ok(view)
}
