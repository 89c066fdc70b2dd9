//! One region of one QuotaRequirement, as the pipeline runs it: `observe` reads it once,
//! `decide::drive::run` plans (asking this module's [`Cluster`] for the history and a fresh read of
//! the other objects when it needs them) and files through `act`, and [`finish`] writes the
//! verdict into the region's status.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Namespace;
use kube::{Api, ResourceExt, core::PartialObjectMeta};

use super::{
    act,
    decide::{
        Ask, Observed,
        drive::{self, Outside},
        outcome::{self, Filed, Verdict},
    },
    events, object,
    observe::{self, Seen},
    peers, record,
    region::{Region, TargetResult},
    resolve, writes,
};
use crate::{
    api::{CloudAccount, Guardrails, QuotaRequirement, TargetState, TargetStatus},
    cloud::{CloudError, ErrorKind, FileContext, QuotaView, UNLIMITED},
};

/// One region: observe, decide (reading and filing as the decision asks), record.
pub async fn reconcile_target(r: &Region<'_>) -> TargetResult {
    let prev = object::previous(r.obj, &r.target.region);
    let mut status = TargetStatus {
        region: r.target.region.clone(),
        current_value: prev.and_then(|t| t.current_value),
        desired_value: r.obj.spec.desired_value,
        driven_by: None,
        // Until the verdict (or what stopped the region) says.
        state: TargetState::Error,
        request: prev.and_then(|t| t.request.clone()),
        capacity: prev.and_then(|t| t.capacity.clone()),
        usage: None,
        // What headroom asked stays while the region cannot be read: it never lowers.
        headroom: prev.and_then(|t| t.headroom.clone()),
        message: None,
    };
    let seen = match observe::observe(r, &mut status).await {
        Ok(seen) => seen,
        Err(stopped) => return *stopped,
    };
    let mut observed = seen.observed.clone();
    let mut cluster = Cluster {
        r,
        seen: &seen,
        only_one_filer: None,
    };
    match drive::run(&mut observed, &mut cluster).await {
        Ok(verdict) => {
            tracing::debug!(object = %observed.need.me, region = %r.target.region, ?verdict, "decided");
            finish(r, status, prev, &seen, &observed, verdict)
        }
        Err(e) => TargetResult::stopped(status, outcome::failed(&e), Some(seen.view.id.clone())),
    }
}

/// The reads and the filing the decision may ask of the cluster and the cloud.
struct Cluster<'a> {
    r: &'a Region<'a>,
    seen: &'a Seen,
    /// Held from the history read to the end of the filing: only one reconcile at a time may
    /// decide to file for a quota.
    only_one_filer: Option<tokio::sync::MutexGuard<'a, ()>>,
}

impl Outside for Cluster<'_> {
    async fn read(&mut self, ask: Ask, o: &mut Observed) -> Result<(), CloudError> {
        let (r, seen) = (self.r, self.seen);
        match ask {
            Ask::History => {
                self.only_one_filer = Some(seen.entry.filing.lock().await);
                let cloud_id = r.account.cloud_id();
                let (ledger, id) = (&r.ctx.ledger, &seen.view.id);
                let history =
                    act::history(cloud_id, r.provider, ledger, &seen.entry, &r.target, id).await?;
                // The other objects again, with the refusals the history holds.
                o.need = observe::need(r, seen, &history.refusals, o.own_request.as_ref());
                o.history = Some(history);
            }
            Ask::Peers => {
                let on_quota = observe::on_quota(r, &seen.view, &[]);
                let fresh = peers::fresh_request(&on_quota, o.need.own)
                    .await
                    .map_err(|e| not_filed("read the other objects on the quota", e))?;
                if fresh.is_some() {
                    o.need.peer_request = fresh;
                }
                o.peers_fresh = true;
            }
        }
        Ok(())
    }

    async fn file(&mut self, _: &Observed, value: i64) -> Result<Filed, CloudError> {
        let answer = file(self.r, self.seen, value).await?;
        turns_after(self.r, &answer);
        Ok(Filed::Answered(answer))
    }
}

/// Files `value`: the account and namespace are read afresh (an admin's change the watch has
/// not brought must not be crossed), the intent is recorded, then the cloud is called.
async fn file(
    r: &Region<'_>,
    seen: &Seen,
    value: i64,
) -> Result<Result<crate::cloud::RequestView, CloudError>, CloudError> {
    let (owner, view) = (&seen.owner, &seen.view);
    let consent = fresh_consent(r, view, value).await?;
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
    let guardrails = consent.account.spec.guardrails.as_ref();
    let context = FileContext {
        justification: r.obj.spec.justification.clone(),
        contact_email: consent
            .account
            .spec
            .gcp
            .as_ref()
            .map(|g| g.contact_email.clone()),
        allow_decrease: consent.allow_decrease
            && Guardrails::decrease_floor(guardrails, &view.id).is_some(),
        ignore_safety_checks: guardrails
            .and_then(|g| g.decrease.as_ref())
            .is_some_and(|d| d.ignore_safety_checks),
    };
    let uid = r.obj.uid().unwrap_or_default();
    Ok(act::file(act::FileCall {
        account: r.account.cloud_id(),
        provider: r.provider,
        ledger: &r.ctx.ledger,
        entry: &seen.entry,
        target: &r.target,
        quota_id: &view.id,
        value,
        context: &context,
        filer: &uid,
    })
    .await)
}

/// What the API server says now of the consent a filing needs: the account as it is, and for a
/// decrease whether the object still asks for it.
struct Consent {
    account: CloudAccount,
    allow_decrease: bool,
}

/// The region's slots after a filing: a request made holds one; a refusal for lack of one makes
/// the namespace wait its turn.
fn turns_after(r: &Region<'_>, answer: &Result<crate::cloud::RequestView, CloudError>) {
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

/// The CloudAccount and the object's namespace as the API server has them now still let this
/// object file `value`; a decrease also needs the object's `allowDecrease` and the account's
/// floor as they are now, not as the cache last had them.
async fn fresh_consent(
    r: &Region<'_>,
    view: &QuotaView,
    value: i64,
) -> Result<Consent, CloudError> {
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
    let refuse = |why: String| {
        CloudError::new(
            ErrorKind::Unavailable,
            "AccountChanged",
            format!("not filed: {why}"),
        )
    };
    let account =
        resolve::check_account(&r.obj.spec, &namespace, labels.as_ref(), account.as_ref())
            .map_err(|p| refuse(p.message().to_string()))?
            .clone();
    let guardrails = account.spec.guardrails.as_ref();
    if let Some(why) = resolve::guardrail_violation(guardrails, &view.id, value, view.value) {
        return Err(refuse(why));
    }
    let allow_decrease = view.value != UNLIMITED && (value as f64) < view.value;
    if allow_decrease {
        fresh_decrease(r, &namespace, &account, view, value)
            .await?
            .map_or(Ok(()), |why| Err(refuse(why)))?;
    }
    Ok(Consent {
        account,
        allow_decrease,
    })
}

/// Why lowering the quota to `value` is no longer allowed, if it is not: the object as the API
/// server has it must still ask for it, and the account (as read just now) consent to it.
async fn fresh_decrease(
    r: &Region<'_>,
    namespace: &str,
    account: &CloudAccount,
    view: &QuotaView,
    value: i64,
) -> Result<Option<String>, CloudError> {
    let objects: Api<QuotaRequirement> = Api::namespaced(r.ctx.client.clone(), namespace);
    let now = objects
        .get_opt(&r.obj.name_any())
        .await
        .map_err(|e| not_filed("read the object", e))?;
    if !now.is_some_and(|o| o.spec.allow_decrease) {
        return Ok(Some("spec.allowDecrease is no longer set".into()));
    }
    let id = &view.id;
    Ok(
        match Guardrails::decrease_floor(account.spec.guardrails.as_ref(), id) {
            Some(floor) if value >= floor => None,
            Some(floor) => Some(format!(
                "{value} is below the account's spec.guardrails.decrease.minValues[{id}] = {floor}"
            )),
            None => Some(format!(
                "the CloudAccount no longer consents to lowering {id} (spec.guardrails.decrease.minValues)"
            )),
        },
    )
}

/// The region's status from the verdict: the state, message and request the decision chose,
/// and the need as the aggregation added it up.
fn finish(
    r: &Region<'_>,
    mut status: TargetStatus,
    prev: Option<&TargetStatus>,
    seen: &Seen,
    o: &Observed,
    verdict: Verdict,
) -> TargetResult {
    let before = prev.and_then(|t| t.request.as_ref()).map(|r| r.id.as_str());
    let note = events::filed_or_adopted(&r.target, before, &verdict);
    status.desired_value = Some(o.need.effective);
    status.driven_by = Some(object::shown_name(&o.need.me, &o.need.driven_by));
    status.capacity = o.need.capacity.clone().map(Box::new);
    status.state = verdict.state;
    status.message = Some(verdict.message);
    if let Some(t) = &verdict.request {
        status.request = Some(Box::new(record::record(t, &seen.owner)));
    }
    TargetResult {
        status,
        note,
        quota_id: Some(seen.view.id.clone()),
        global: seen.view.global,
        scope: Some(seen.owner.scope.clone()),
        keep_intent: verdict.keep_intent,
        wake_at: verdict.wake_at,
    }
}

/// A Kubernetes call that must come before filing failed: nothing was filed.
fn not_filed(what: &str, why: impl std::fmt::Display) -> CloudError {
    CloudError::new(
        ErrorKind::Unavailable,
        "KubeApi",
        format!("could not {what} before filing, so nothing was filed: {why}"),
    )
}
