//! One region of one QuotaRequirement: observe the quota and the request that belongs to it,
//! plan, and file what is needed.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Namespace;
use kube::{Api, ResourceExt, core::PartialObjectMeta};

use super::{
    Context,
    act::{self, FileCall, Filed},
    aggregate::{self, Contribution, Effective},
    events::{self, Note},
    ledger::{KeyEntry, QuotaKey},
    object, peers,
    plan::{self, Plan, PlanInput, Tracked},
    record, refusals, resolve,
    writes::{self, Writes},
};
use crate::{
    api::{
        CapacityStatus, CloudAccount, Guardrails, QuotaRequirement, RequestOwner, TargetState,
        TargetStatus,
    },
    capacity::{self, ShareError},
    cloud::{CloudError, ErrorKind, FileContext, QuotaProvider, QuotaView, RequestView, Target},
};

/// What one region came to.
pub struct TargetResult {
    pub status: TargetStatus,
    /// An event, when a request was filed or adopted.
    pub note: Option<Note>,
    /// The resolved quota code or id, once the cloud was read.
    pub quota_id: Option<String>,
    /// The quota is the same in every region.
    pub global: bool,
    /// The key of this target's filing intent in status, once known.
    pub scope: Option<String>,
    /// Whether a recorded filing intent must stay (the outcome of a filing is unknown).
    pub keep_intent: bool,
    /// When the region must be looked at again although nothing else changes (the end of a
    /// refusal's cooldown).
    pub wake_at: Option<Timestamp>,
}

impl TargetResult {
    /// The cloud could not be read or followed: nothing was decided.
    fn undecided(status: TargetStatus, e: &CloudError, quota_id: Option<String>) -> Self {
        let state = if e.kind == ErrorKind::NotAdjustable {
            TargetState::NotAdjustable
        } else {
            TargetState::Error
        };
        Self::stopped(status, state, e.to_string(), quota_id)
    }

    /// The spec cannot be met as written (a capacity type on another quota, or one the region
    /// does not offer): nothing is asked of the cloud until the spec changes.
    fn refused(status: TargetStatus, message: String, quota_id: Option<String>) -> Self {
        Self::stopped(status, TargetState::Blocked, message, quota_id)
    }

    /// Stopped before planning: any recorded filing intent stays for a later reconcile to judge.
    fn stopped(
        mut status: TargetStatus,
        state: TargetState,
        message: String,
        quota_id: Option<String>,
    ) -> Self {
        status.state = state;
        status.message = Some(message);
        Self {
            status,
            note: None,
            quota_id,
            global: false,
            scope: None,
            keep_intent: true,
            wake_at: None,
        }
    }

    /// The same result shown for another region of a global quota.
    pub fn mirrored(&self, region: &str) -> Self {
        let mut status = self.status.clone();
        status.region = region.to_string();
        let home = &self.status.region;
        let message = status.message.take().unwrap_or_default();
        status.message = Some(format!("global quota, reconciled in {home}: {message}"));
        Self {
            status,
            note: None,
            quota_id: self.quota_id.clone(),
            global: true,
            scope: self.scope.clone(),
            keep_intent: self.keep_intent,
            wake_at: self.wake_at,
        }
    }
}

/// One object's reconcile of one region: what every step of it needs.
pub struct Region<'a> {
    pub obj: &'a QuotaRequirement,
    pub ctx: &'a Context,
    pub writes: &'a Writes,
    pub account: &'a CloudAccount,
    pub provider: &'a dyn QuotaProvider,
    pub target: Target,
    /// When the object's current need was declared.
    pub since: Timestamp,
}

/// What the cloud and this process know of the requests for the target's quota.
struct Requests {
    own: Option<Tracked>,
    open: Option<RequestView>,
    intent: Option<plan::Intent>,
    filed_here: Option<String>,
}

/// One region, from reading the quota to filing what is needed.
pub async fn reconcile_target(r: &Region<'_>) -> TargetResult {
    let prev = object::previous(r.obj, &r.target.region);
    let mut status = TargetStatus {
        region: r.target.region.clone(),
        current_value: prev.and_then(|t| t.current_value),
        desired_value: r.obj.spec.desired_value,
        driven_by: None,
        state: TargetState::Error,
        request: prev.and_then(|t| t.request.clone()),
        capacity: prev.and_then(|t| t.capacity.clone()),
        message: None,
    };
    let (view, own_share, requests) = match observe(r, &mut status).await {
        Ok(observed) => observed,
        Err(stopped) => return *stopped,
    };
    let quota_id = Some(view.id.clone());
    let owner = peers::owner(r.obj, r.account, &r.target, &view);
    let mut on_quota = peers::OnQuota {
        ctx: r.ctx,
        obj: r.obj,
        account: r.account,
        target: &r.target,
        view: &view,
        refusals: &[],
    };
    let shares = peers::shares(&on_quota, r.provider, own_share).await;
    let agg = aggregate(&on_quota, &shares, r.since, requests.own.as_ref());
    let mut decision = plan::plan(&input(r, &view, &agg, &requests, None));
    tracing::debug!(object = %agg.me, region = %r.target.region, ?decision, "planned");

    let mut shown = agg;
    let mut keep_intent = false;
    let mut filed = None;
    if decision == Plan::ReadHistory {
        let entry = r.ctx.ledger.entry(&quota_key(r, &owner));
        // Only one reconcile at a time may decide to file for a quota.
        let _only_one_filer = entry.filing.lock().await;
        let cloud_id = r.account.cloud_id();
        let history = match act::history(
            cloud_id,
            r.provider,
            &r.ctx.ledger,
            &entry,
            &r.target,
            &view.id,
        )
        .await
        {
            Ok(h) => h,
            Err(e) => return TargetResult::undecided(status, &e, quota_id),
        };
        // The other objects again, with the refusals the history holds.
        on_quota.refusals = &history.refusals;
        shown = aggregate(&on_quota, &shares, r.since, requests.own.as_ref());
        let fresh_peer =
            match decide_with_history(r, &view, &shown, &requests, &history, &on_quota).await {
                Ok(d) => d,
                Err(e) => return TargetResult::undecided(status, &e, quota_id),
            };
        decision = fresh_peer;
        if let Plan::File { value } = decision {
            let outcome = match file(r, &owner, &entry, &view, value).await {
                Ok(outcome) => outcome,
                Err(e) => return TargetResult::undecided(status, &e, quota_id),
            };
            keep_intent = outcome.may_have_filed();
            filed = Some(outcome);
        }
    }
    status.desired_value = Some(shown.effective.value);
    status.driven_by = Some(object::shown_name(&shown.me, &shown.effective.driven_by));
    status.capacity = shown.capacity.clone().map(Box::new);
    finish(
        r,
        status,
        prev,
        requests.own,
        decision,
        filed,
        &owner,
        &view,
        keep_intent,
    )
}

/// Reads the quota, this object's capacity share, and the requests known for the quota; a step
/// that fails ends the region here with the reason in status.
async fn observe(
    r: &Region<'_>,
    status: &mut TargetStatus,
) -> Result<(QuotaView, Option<capacity::Share>, Requests), Box<TargetResult>> {
    let mut view = match r.provider.quota(&r.target).await {
        Ok(view) => view,
        Err(e) => return Err(Box::new(TargetResult::undecided(status.clone(), &e, None))),
    };
    status.current_value = Some(view.value);
    let quota_id = Some(view.id.clone());
    let stop = |status: &TargetStatus, e: &CloudError| {
        Box::new(TargetResult::undecided(status.clone(), e, quota_id.clone()))
    };
    let own_share = match capacity::share(&r.obj.spec, r.provider, &r.target.region, &view.id).await
    {
        Ok(share) => share,
        Err(ShareError::Cloud(e)) => return Err(stop(status, &e)),
        Err(ShareError::Spec(message)) => {
            return Err(Box::new(TargetResult::refused(
                status.clone(),
                message,
                quota_id,
            )));
        }
    };
    let owner = peers::owner(r.obj, r.account, &r.target, &view);
    let cloud_id = r.account.cloud_id();
    let entry = r.ctx.ledger.entry(&quota_key(r, &owner));
    let prev = object::previous(r.obj, &r.target.region);
    // A recorded request is used only while it is still for this quota in this account.
    let recorded = prev
        .and_then(|t| t.request.as_ref())
        .and_then(|t| record::tracked(t, &owner));
    if recorded.is_none() {
        status.request = None;
    }
    let was_open = recorded.as_ref().is_some_and(|t| t.view.phase.is_open());
    let own = match recorded {
        Some(t) if t.view.phase.is_open() => {
            match r
                .ctx
                .ledger
                .refresh(cloud_id, r.provider, &r.target, &t.view.id)
                .await
            {
                Ok(view) => {
                    entry.record(&view);
                    Some(Tracked { view, ..t })
                }
                // The cloud no longer knows it: the history decides what happened.
                Err(e) if e.kind == ErrorKind::NotFound => {
                    status.request = None;
                    None
                }
                Err(e) => return Err(stop(status, &e)),
            }
        }
        other => other,
    };
    let open = follow_open(r.ctx, cloud_id, r.provider, &entry, &r.target, &own)
        .await
        .map_err(|e| stop(status, &e))?;
    // A request that closed just now may have changed the value read above: read it again, so a
    // terminal state (which is not polled again) shows the value the cloud settled on.
    if was_open && own.as_ref().is_some_and(|t| !t.view.phase.is_open()) {
        view = r
            .provider
            .quota(&r.target)
            .await
            .map_err(|e| stop(status, &e))?;
        status.current_value = Some(view.value);
    }
    let intent = r
        .obj
        .status
        .as_ref()
        .and_then(|s| s.filings.get(&owner.scope))
        .and_then(|f| record::intent(f, &owner));
    let uid = r.obj.uid().unwrap_or_default();
    let filed_here = open
        .as_ref()
        .map(|v| v.id.clone())
        .filter(|id| r.ctx.ledger.filer(cloud_id, id).as_deref() == Some(uid.as_str()));
    let requests = Requests {
        own,
        open,
        intent,
        filed_here,
    };
    Ok((view, own_share, requests))
}

fn quota_key(r: &Region<'_>, owner: &RequestOwner) -> QuotaKey {
    QuotaKey {
        account: r.account.cloud_id().to_string(),
        service: owner.service.clone(),
        quota: owner.quota.clone(),
        scope: owner.scope.clone(),
    }
}

/// This object's need and the other objects' on the quota, added up as the rules say.
struct Aggregated {
    me: String,
    need: i64,
    /// A guardrail that forbids this object's own need.
    blocked: Option<String>,
    effective: Effective,
    peer_request: Option<Tracked>,
    capacity: Option<CapacityStatus>,
}

fn aggregate(
    q: &peers::OnQuota<'_>,
    shares: &peers::Shares,
    since: Timestamp,
    own_request: Option<&Tracked>,
) -> Aggregated {
    let me = object::key(q.obj);
    let capacity = shares.judge(q, since);
    // A capacity object needs every capacity on the quota at once; a desiredValue is a floor.
    let need = match capacity.own {
        Some(_) => capacity.total(),
        None => q.obj.spec.desired_value.unwrap_or_default(),
    };
    let guardrails = q.account.spec.guardrails.as_ref();
    let blocked = capacity
        .own_left
        .clone()
        .or_else(|| resolve::guardrail_violation(guardrails, &q.view.id, need, q.view.value));
    let generation = q.obj.metadata.generation.unwrap_or_default();
    let settled = own_request.is_some_and(|t| plan::settles(t, need, generation))
        || refusals::settling(q.refusals, need, since).is_some();
    let own = Contribution {
        object: me.clone(),
        value: need,
        eligible: blocked.is_none() && !settled,
        since,
    };
    let floors = peers::floors(q, need);
    let mut others = floors.best;
    others.extend(capacity.others_ask());
    Aggregated {
        effective: aggregate::effective(&own, &others),
        peer_request: floors.request.or(capacity.request.clone()),
        capacity: capacity.status(&me),
        me,
        need,
        blocked,
    }
}

fn input<'a>(
    r: &'a Region<'_>,
    view: &'a QuotaView,
    agg: &'a Aggregated,
    requests: &'a Requests,
    history: Option<&'a plan::History>,
) -> PlanInput<'a> {
    let guardrails = r.account.spec.guardrails.as_ref();
    PlanInput {
        now: Timestamp::now(),
        generation: r.obj.metadata.generation.unwrap_or_default(),
        current: view.value,
        adjustable: view.adjustable,
        own_value: agg.need,
        effective: agg.effective.value,
        is_driver: agg.effective.driven_by == agg.me,
        since: r.since,
        driver_since: agg.effective.since,
        cooldown: Guardrails::refusal_cooldown(guardrails),
        allow_decrease: r.obj.spec.allow_decrease,
        decrease_floor: Guardrails::decrease_floor(guardrails, &view.id),
        blocked: agg.blocked.clone(),
        guardrails,
        quota_id: &view.id,
        own_request: requests.own.as_ref(),
        open_request: requests.open.as_ref(),
        history,
        intent: requests.intent.as_ref(),
        filed_here: requests.filed_here.as_deref(),
        peer_request: agg.peer_request.as_ref(),
    }
}

/// The plan once the history is read; before filing, the other objects as the API server has
/// them (a lagging cache must not hide a refusal that is this object's too).
async fn decide_with_history(
    r: &Region<'_>,
    view: &QuotaView,
    agg: &Aggregated,
    requests: &Requests,
    history: &plan::History,
    on_quota: &peers::OnQuota<'_>,
) -> Result<Plan, CloudError> {
    let mut i = input(r, view, agg, requests, Some(history));
    let decision = plan::plan(&i);
    tracing::debug!(object = %agg.me, region = %r.target.region, ?decision, "planned with history");
    if !matches!(decision, Plan::File { .. }) || i.peer_request.is_some() {
        return Ok(decision);
    }
    let fresh = peers::fresh_request(on_quota, agg.need)
        .await
        .map_err(|e| not_filed("read the other objects on the quota", e))?;
    let Some(fresh) = fresh else {
        return Ok(decision);
    };
    i.peer_request = Some(&fresh);
    let decision = plan::plan(&i);
    tracing::debug!(object = %agg.me, region = %r.target.region, ?decision, "planned with the other objects as the API server has them");
    Ok(decision)
}

/// Files `value`: the account and namespace are read afresh (an admin's change the watch has
/// not brought must not be crossed), the intent is recorded, then the cloud is called.
async fn file(
    r: &Region<'_>,
    owner: &RequestOwner,
    entry: &KeyEntry,
    view: &QuotaView,
    value: i64,
) -> Result<Filed, CloudError> {
    fresh_consent(r, view, value).await?;
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
    let guardrails = r.account.spec.guardrails.as_ref();
    let context = FileContext {
        justification: r.obj.spec.justification.clone(),
        contact_email: r.account.spec.gcp.as_ref().map(|g| g.contact_email.clone()),
        allow_decrease: r.obj.spec.allow_decrease
            && Guardrails::decrease_floor(guardrails, &view.id).is_some(),
        ignore_safety_checks: guardrails
            .and_then(|g| g.decrease.as_ref())
            .is_some_and(|d| d.ignore_safety_checks),
    };
    let uid = r.obj.uid().unwrap_or_default();
    Ok(act::file(FileCall {
        account: r.account.cloud_id(),
        provider: r.provider,
        ledger: &r.ctx.ledger,
        entry,
        target: &r.target,
        quota_id: &view.id,
        value,
        context: &context,
        filer: &uid,
    })
    .await)
}

/// The CloudAccount and the object's namespace as the API server has them now still let this
/// object file `value`.
async fn fresh_consent(r: &Region<'_>, view: &QuotaView, value: i64) -> Result<(), CloudError> {
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
            .map_err(|p| refuse(p.message().to_string()))?;
    let guardrails = account.spec.guardrails.as_ref();
    match resolve::guardrail_violation(guardrails, &view.id, value, view.value) {
        Some(why) => Err(refuse(why)),
        None => Ok(()),
    }
}

/// The region's state, message and request, from the plan or from what filing came to.
#[allow(clippy::too_many_arguments)]
fn finish(
    r: &Region<'_>,
    mut status: TargetStatus,
    prev: Option<&TargetStatus>,
    own_request: Option<Tracked>,
    decision: Plan,
    filed: Option<Filed>,
    owner: &RequestOwner,
    view: &QuotaView,
    keep_intent: bool,
) -> TargetResult {
    let mut wake_at = None;
    let (state, message, request) = match (decision, &filed) {
        (
            Plan::Hold {
                state,
                message,
                request,
            },
            _,
        ) => (state, message, request),
        (
            Plan::Wait {
                until,
                message,
                request,
            },
            _,
        ) => {
            wake_at = Some(until);
            (TargetState::Queued, message, request)
        }
        (_, Some(outcome)) => outcome.outcome(),
        _ => unreachable!("a plan with history is Hold, Wait or File"),
    };
    let note = note(
        &r.target,
        prev.and_then(|t| t.request.as_ref()).map(|r| r.id.as_str()),
        state,
        request.as_ref(),
        &filed,
    );
    status.state = state;
    status.message = Some(message);
    // Keep the last request on record when filing failed, so history is not lost.
    if let Some(t) = request.or(own_request) {
        status.request = Some(Box::new(record::record(&t, owner)));
    }
    TargetResult {
        status,
        note,
        quota_id: Some(view.id.clone()),
        global: view.global,
        scope: Some(owner.scope.clone()),
        keep_intent,
        wake_at,
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

/// Any other open request this process knows of for the quota, as the cloud reports it now.
async fn follow_open(
    ctx: &Context,
    cloud_id: &str,
    provider: &dyn QuotaProvider,
    entry: &KeyEntry,
    target: &Target,
    own: &Option<Tracked>,
) -> Result<Option<RequestView>, CloudError> {
    let Some(open) = entry.open() else {
        return Ok(None);
    };
    if own.as_ref().is_some_and(|t| t.view.id == open.id) {
        return Ok(Some(open).filter(|_| own.as_ref().is_some_and(|t| t.view.phase.is_open())));
    }
    match ctx
        .ledger
        .refresh(cloud_id, provider, target, &open.id)
        .await
    {
        Ok(view) => {
            entry.record(&view);
            Ok(Some(view).filter(|v| v.phase.is_open()))
        }
        Err(e) if e.kind == ErrorKind::NotFound => {
            entry.forget(&open.id);
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// RequestFiled for a new request; RequestAdopted when the target now follows a request that
/// someone else opened.
fn note(
    target: &Target,
    before: Option<&str>,
    state: TargetState,
    request: Option<&Tracked>,
    filed: &Option<Filed>,
) -> Option<Note> {
    let (reason, view) = match (filed, request) {
        (Some(Filed::New(v)), _) => (events::REQUEST_FILED, v),
        (None, Some(t))
            if matches!(state, TargetState::Requested | TargetState::Queued)
                && !t.filed_by_me
                && before != Some(t.view.id.as_str()) =>
        {
            (events::REQUEST_ADOPTED, &t.view)
        }
        _ => return None,
    };
    Some(Note {
        warning: false,
        reason,
        message: format!(
            "{}: request {} for {} ({})",
            target.region, view.id, view.requested_value, view.status
        ),
    })
}
