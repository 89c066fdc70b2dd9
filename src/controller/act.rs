//! Act: the calls that may lead to a request, made under the quota's filing lock. `history`
//! gathers what the planner needs before it may decide to file; `file` files and says what came
//! of it. Neither decides anything: `plan` does.

use crate::{
    api::TargetState,
    cloud::{CloudError, ErrorKind, FileContext, QuotaProvider, RequestView, Target},
};

use super::{
    ledger::{KeyEntry, Ledger},
    plan::{History, Tracked},
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

/// What filing came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Filed {
    New(RequestView),
    /// The cloud holds the request back (open-request limits, throttling); try again later.
    Queued(CloudError),
    Failed(CloudError),
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

pub async fn file(call: FileCall<'_>) -> Filed {
    // Whatever comes of the call (a time-out may still have made the request), the history
    // read before it no longer holds.
    call.entry.history_outdated();
    let filed = call
        .provider
        .file(call.target, call.quota_id, call.value, call.context)
        .await;
    match filed {
        Ok(view) => {
            call.entry.record(&view);
            call.ledger.remember(call.account, &view);
            call.ledger
                .remember_filer(call.account, &view.id, call.filer);
            Filed::New(view)
        }
        // AlreadyOpen: someone opened one since the history was read; it is adopted next time.
        Err(e)
            if matches!(
                e.kind,
                ErrorKind::LimitExceeded | ErrorKind::Throttled | ErrorKind::AlreadyOpen
            ) =>
        {
            Filed::Queued(e)
        }
        Err(e) => Filed::Failed(e),
    }
}

impl Filed {
    /// The state, message and request to record.
    pub fn outcome(&self) -> (TargetState, String, Option<Tracked>) {
        match self {
            Self::New(view) => (
                TargetState::Requested,
                format!("filed request {} for {}", view.id, view.requested_value),
                Some(Tracked {
                    view: view.clone(),
                    closed_at_generation: None,
                    filed_by_me: true,
                }),
            ),
            Self::Queued(e) => (
                TargetState::Queued,
                format!("the cloud holds the request back: {e}"),
                None,
            ),
            Self::Failed(e) if e.kind == ErrorKind::NotAdjustable => {
                (TargetState::NotAdjustable, e.to_string(), None)
            }
            Self::Failed(e) => (TargetState::Error, e.to_string(), None),
        }
    }

    /// Whether the cloud may have made the request although the call failed (a timeout, a 5xx
    /// after the request was accepted): the recorded intent must then stay, so the request is
    /// claimed when the history shows it.
    pub fn may_have_filed(&self) -> bool {
        matches!(self, Self::Failed(e) if matches!(e.kind, ErrorKind::Unavailable | ErrorKind::Other))
    }
}
