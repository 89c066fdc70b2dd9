//! The reads the decision asks for once it may file: the cloud's history of the quota, the
//! other objects as the API server has them, and the consent a filing needs, read afresh.

use k8s_openapi::api::core::v1::Namespace;
use kube::{Api, ResourceExt, core::PartialObjectMeta};

use super::{
    super::{
        decide::{Observed, consent::Fresh, outcome::not_filed, requests::History},
        peers,
        region::Region,
        resolve,
    },
    need::need,
    seen::{Seen, on_quota},
};
use crate::{
    api::{CloudAccount, QuotaRequirement},
    cloud::{CloudError, QuotaView, UNLIMITED},
};

/// The open request this process knows of, else the cloud's history of the quota (one listing:
/// an open request opened in the console or by a run that crashed before writing status, the
/// latest request, every refusal), as read at most once per `Ledger::history_ttl` per quota;
/// and the needs again, with the refusals it holds. The caller holds the quota's filing lock.
pub async fn history(r: &Region<'_>, seen: &Seen, o: &mut Observed) -> Result<(), CloudError> {
    let history = read_history(r, seen).await?;
    o.need = need(r, seen, &history.refusals, o.own_request.as_ref());
    o.history = Some(history);
    Ok(())
}

async fn read_history(r: &Region<'_>, seen: &Seen) -> Result<History, CloudError> {
    let (entry, ledger) = (&seen.entry, &r.ctx.ledger);
    if let Some(open) = entry.open() {
        return Ok(History {
            open: Some(open),
            ..History::default()
        });
    }
    if let Some(history) = entry.history(ledger.history_ttl()) {
        return Ok(history);
    }
    let requests = r.provider.recent_requests(&r.target, &seen.view.id).await?;
    let history = History::of(requests);
    if let Some(view) = &history.open {
        entry.record(view);
        ledger.remember(r.account.cloud_id(), view);
        return Ok(History {
            open: history.open,
            ..History::default()
        });
    }
    entry.remember_history(&history);
    Ok(history)
}

/// The other objects on the quota as the API server has them: a lagging cache must not hide a
/// request one of them recorded for exactly this object's need.
pub async fn peers_afresh(r: &Region<'_>, seen: &Seen, o: &mut Observed) -> Result<(), CloudError> {
    let on_quota = on_quota(r, &seen.view, &[]);
    let fresh = peers::fresh_request(&on_quota, o.need.own)
        .await
        .map_err(|e| not_filed("read the other objects on the quota", e))?;
    if fresh.is_some() {
        o.need.peer_request = fresh;
    }
    o.peers_fresh = true;
    Ok(())
}

/// The CloudAccount and the object's namespace as the API server has them now (an admin's
/// change the watch has not brought must not be crossed), and for a decrease whether the object
/// as it is now still asks for one.
pub async fn consent(r: &Region<'_>, view: &QuotaView, value: i64) -> Result<Fresh, CloudError> {
    let read = |e: kube::Error| not_filed("read the CloudAccount and namespace", e);
    let accounts: Api<CloudAccount> = Api::all(r.ctx.client.clone());
    let account = accounts
        .get_opt(&r.account.name_any())
        .await
        .map_err(read)?;
    let namespace = r.obj.namespace().unwrap_or_default();
    let namespaces: Api<PartialObjectMeta<Namespace>> = Api::all(r.ctx.client.clone());
    let labels = namespaces
        .get_metadata_opt(&namespace)
        .await
        .map_err(read)?
        .map(|ns| ns.labels().clone());
    let account =
        resolve::check_account(&r.obj.spec, &namespace, labels.as_ref(), account.as_ref())
            .cloned()
            .map_err(|p| p.message().to_string());
    let decrease = view.value != UNLIMITED && (value as f64) < view.value;
    let still_asks_decrease = match decrease {
        true => Some(asks_decrease(r, &namespace).await?),
        false => None,
    };
    Ok(Fresh {
        account,
        still_asks_decrease,
    })
}

/// Whether the object as the API server has it asks to lower the quota.
async fn asks_decrease(r: &Region<'_>, namespace: &str) -> Result<bool, CloudError> {
    let objects: Api<QuotaRequirement> = Api::namespaced(r.ctx.client.clone(), namespace);
    let now = objects
        .get_opt(&r.obj.name_any())
        .await
        .map_err(|e| not_filed("read the object", e))?;
    Ok(now.is_some_and(|o| o.spec.allow_decrease))
}
