//! Act: file an increase, at most one per quota. Under the quota's lock it looks, in order, at
//! what this process already filed, at the cloud's open requests (adopting one opened elsewhere,
//! or by a run that crashed before writing status), and only then files.

use jiff::Timestamp;

use crate::{
    api::TargetState,
    cloud::{CloudError, ErrorKind, FileContext, Phase, QuotaProvider, RequestView, Target},
};

use super::{
    ledger::{KeyEntry, Ledger},
    plan::{self, Tracked},
};

/// What filing came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Filed {
    /// A new request was filed.
    New(RequestView),
    /// An open request was found and followed instead.
    Adopted(RequestView),
    /// A request for at least this value was closed without a full grant and never recorded in
    /// status (the operator stopped between filing and writing): it counts as this object's own.
    FoundClosed(RequestView),
    /// The cloud holds the request back (open-request limits); try again later.
    Queued(CloudError),
    Failed(CloudError),
}

impl Filed {
    /// The state, message and request to record for a target that asked for `value`, at the
    /// object's `generation`.
    pub fn outcome(&self, value: i64, generation: i64) -> (TargetState, String, Option<Tracked>) {
        let track = |view: &RequestView| {
            Some(Tracked {
                view: view.clone(),
                closed_at_generation: None,
            })
        };
        match self {
            Self::New(view) => (
                TargetState::Requested,
                format!("filed request {} for {}", view.id, view.requested_value),
                track(view),
            ),
            Self::Adopted(view) if view.requested_value < value as f64 => (
                TargetState::Queued,
                format!(
                    "open request {} for {} must close before {value} can be requested",
                    view.id, view.requested_value
                ),
                track(view),
            ),
            Self::Adopted(view) => (
                TargetState::Requested,
                format!(
                    "adopted open request {} for {}",
                    view.id, view.requested_value
                ),
                track(view),
            ),
            Self::FoundClosed(view) => {
                let state = if view.phase == Phase::PartiallyGranted {
                    TargetState::PartiallyGranted
                } else {
                    TargetState::Denied
                };
                let tracked = Tracked {
                    view: view.clone(),
                    closed_at_generation: Some(generation),
                };
                (state, plan::closed_message(view), Some(tracked))
            }
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
    /// When the object has no request in its status: its creation time. A request closed since
    /// then without a full grant was this object's, lost by a crash, and is not filed again.
    pub unrecorded_since: Option<Timestamp>,
}

pub async fn file(call: FileCall<'_>) -> Filed {
    let _only_one_filer = call.entry.filing.lock().await;
    if let Some(open) = call.entry.open() {
        return Filed::Adopted(open);
    }
    match adopt(&call).await {
        Ok(Some(view)) => return Filed::Adopted(view),
        Ok(None) => {}
        Err(e) => return Filed::Failed(e),
    }
    if let Some(since) = call.unrecorded_since {
        match call
            .provider
            .latest_request(call.target, call.quota_id)
            .await
        {
            Ok(Some(view)) if closed_unrecorded(&view, since, call.value) => {
                return Filed::FoundClosed(view);
            }
            Ok(_) => {}
            Err(e) => return Filed::Failed(e),
        }
    }
    let filed = call
        .provider
        .file(call.target, call.quota_id, call.value, call.context)
        .await;
    match filed {
        Ok(view) => {
            call.entry.record(&view);
            call.ledger.remember(call.account, &view);
            Filed::New(view)
        }
        Err(e) if e.kind == ErrorKind::AlreadyOpen => match adopt(&call).await {
            Ok(Some(view)) => Filed::Adopted(view),
            Ok(None) => Filed::Failed(e),
            Err(e) => Filed::Failed(e),
        },
        Err(e) if matches!(e.kind, ErrorKind::LimitExceeded | ErrorKind::Throttled) => {
            Filed::Queued(e)
        }
        Err(e) => Filed::Failed(e),
    }
}

fn closed_unrecorded(view: &RequestView, since: Timestamp, value: i64) -> bool {
    matches!(view.phase, Phase::Denied | Phase::PartiallyGranted)
        && view.submitted_at.is_some_and(|at| at >= since)
        && view.requested_value >= value as f64
}

async fn adopt(call: &FileCall<'_>) -> Result<Option<RequestView>, CloudError> {
    let open = call
        .provider
        .open_request(call.target, call.quota_id)
        .await?;
    if let Some(view) = &open {
        call.entry.record(view);
        call.ledger.remember(call.account, view);
    }
    Ok(open)
}
