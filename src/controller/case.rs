//! The support case of a region's open AWS request: read (through [`CaseReads`]), shown in the
//! request's status, and answered once with `spec.aws.caseReply` when AWS waits for the
//! customer. The reply is recorded in status before AWS is called (as a filing's intent is),
//! and a recorded reply is never sent again, whatever became of it. Nothing here fails the
//! region: a case that cannot be read leaves the request followed through Service Quotas as
//! before.
//!
//! [`CaseReads`]: super::case_reads::CaseReads

use jiff::Timestamp;

use super::{
    case_view::{self, block},
    decide::{outcome::Verdict, requests::Tracked},
    object,
    region::Region,
    status::time,
    writes,
};
use crate::{
    api::{CaseReply, CaseStatus, TargetState},
    cloud::{CaseView, CloudError, ErrorKind},
};

/// The case block the region's request should show, if the request has a case.
pub async fn follow(r: &Region<'_>, verdict: &Verdict) -> Option<CaseStatus> {
    r.account.spec.aws.as_ref()?;
    let t = verdict.request.as_ref()?;
    let case_id = t.view.case_id.as_deref()?;
    let prev = previous(r, &t.view.id);
    if !t.view.phase.is_open() || verdict.state != TargetState::Requested {
        return prev;
    }
    let account = r.account.cloud_id();
    match r.ctx.case_reads.read(account, r.provider, case_id).await {
        Ok(view) => Some(shown(r, t, &view).await),
        Err(e) if e.kind == ErrorKind::AccessDenied => {
            Some(case_view::unreadable(case_id, prev.as_ref(), &e))
        }
        // A provider without support cases (GCP has none; a test double) says so every time.
        Err(e) if e.code == "NotSupported" => prev,
        Err(e) => {
            tracing::warn!(case = case_id, error = %e, "support case not read; status keeps the last read");
            prev
        }
    }
}

/// The block the last status showed for request `id`.
fn previous(r: &Region<'_>, id: &str) -> Option<CaseStatus> {
    let request = object::previous(r.obj, &r.target.region)?
        .request
        .as_ref()?;
    (request.id == id).then(|| request.case.as_deref().cloned())?
}

/// The block for `view`, after the one reply, when it is due.
async fn shown(r: &Region<'_>, t: &Tracked, view: &CaseView) -> CaseStatus {
    let recorded = r.writes.case_reply(&view.id).await;
    let mut case = block(view, recorded.as_ref());
    let configured = r
        .obj
        .spec
        .aws
        .as_ref()
        .and_then(|a| a.case_reply.as_deref());
    let Some(body) = case_view::reply_due(configured, &case, t.filed_by_me, recorded.as_ref())
    else {
        return case;
    };
    match reply(r, &view.id, body).await {
        Ok(sent) => {
            case.reply_sent_at = Some(time(sent));
            case.awaiting_customer = false;
        }
        // Nothing was recorded, nor sent: a later reconcile sends it.
        Err(None) => {}
        Err(Some(why)) => {
            case.note = Some(format!(
                "the reply (spec.aws.caseReply) was not sent ({why}); it is not tried again: \
                 answer it in the console ({})",
                case_view::console_url(&view.display_id)
            ));
        }
    }
    case
}

/// Records the reply, then sends it, then records that AWS took it. A record that cannot be
/// written sends nothing (`Err(None)` when only the object's version moved: try again later).
async fn reply(r: &Region<'_>, case: &str, body: &str) -> Result<Timestamp, Option<String>> {
    let decided = CaseReply {
        at: time(Timestamp::now()),
        sent_at: None,
    };
    if let Err(e) = r.writes.record_case_reply(case, &decided).await {
        if writes::is_conflict(&e) {
            return Err(None);
        }
        tracing::warn!(case, error = %e, "case reply not recorded, so not sent");
        return Err(None);
    }
    r.provider
        .reply_to_case(case, body)
        .await
        .map_err(|e: CloudError| Some(format!("AWS answered {e}")))?;
    let sent = Timestamp::now();
    let confirmed = CaseReply {
        sent_at: Some(time(sent)),
        ..decided
    };
    if let Err(e) = r.writes.record_case_reply(case, &confirmed).await {
        tracing::warn!(case, error = %e, "reply sent, its time not recorded; the case's messages show it");
    }
    Ok(sent)
}
