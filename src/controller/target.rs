//! One region of one QuotaRequirement: observe the quota and the request that belongs to it,
//! plan, and file what is needed.

use jiff::Timestamp;
use kube::ResourceExt;

use super::{
    Context,
    act::{self, FileCall, Filed},
    aggregate::{self, Contribution},
    events::{self, Note},
    ledger::{KeyEntry, QuotaKey},
    object, peers,
    plan::{self, Plan, PlanInput, Tracked},
    record, resolve,
    writes::{self, Writes},
};
use crate::{
    api::{CloudAccount, QuotaRequirement, TargetState, TargetStatus},
    capacity::{self, ShareError},
    cloud::{CloudError, ErrorKind, FileContext, QuotaProvider, RequestView, Target},
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
        }
    }
}

/// One region, from reading the quota to filing what is needed.
pub async fn reconcile_target(
    obj: &QuotaRequirement,
    ctx: &Context,
    writes: &Writes,
    account: &CloudAccount,
    provider: &dyn QuotaProvider,
    target: Target,
) -> TargetResult {
    let prev = object::previous(obj, &target.region);
    let cloud_id = account.cloud_id().to_string();
    let mut status = TargetStatus {
        region: target.region.clone(),
        current_value: prev.and_then(|t| t.current_value),
        desired_value: obj.spec.desired_value,
        driven_by: None,
        state: TargetState::Error,
        request: prev.and_then(|t| t.request.clone()),
        capacity: prev.and_then(|t| t.capacity.clone()),
        message: None,
    };

    let mut view = match provider.quota(&target).await {
        Ok(view) => view,
        Err(e) => return TargetResult::undecided(status, &e, None),
    };
    status.current_value = Some(view.value);
    let quota_id = Some(view.id.clone());
    let own_share = match capacity::share(&obj.spec, provider, &target.region, &view.id).await {
        Ok(share) => share,
        Err(ShareError::Cloud(e)) => return TargetResult::undecided(status, &e, quota_id),
        Err(ShareError::Spec(message)) => {
            return TargetResult::refused(status, message, quota_id);
        }
    };
    let owner = peers::owner(obj, account, &target, &view);
    let entry = ctx.ledger.entry(&QuotaKey {
        account: cloud_id.clone(),
        service: owner.service.clone(),
        quota: owner.quota.clone(),
        scope: owner.scope.clone(),
    });

    // A recorded request is used only while it is still for this quota in this account.
    let recorded = prev
        .and_then(|t| t.request.as_ref())
        .and_then(|r| record::tracked(r, &owner));
    if recorded.is_none() {
        status.request = None;
    }
    let was_open = recorded.as_ref().is_some_and(|t| t.view.phase.is_open());
    let own_request = match recorded {
        Some(t) if t.view.phase.is_open() => {
            match ctx
                .ledger
                .refresh(&cloud_id, provider, &target, &t.view.id)
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
                Err(e) => return TargetResult::undecided(status, &e, quota_id),
            }
        }
        other => other,
    };
    let open_request =
        match follow_open(ctx, &cloud_id, provider, &entry, &target, &own_request).await {
            Ok(open) => open,
            Err(e) => return TargetResult::undecided(status, &e, quota_id),
        };

    // A request that closed just now may have changed the value read above: read it again, so a
    // terminal state (which is not polled again) shows the value the cloud settled on.
    if was_open
        && own_request
            .as_ref()
            .is_some_and(|t| !t.view.phase.is_open())
    {
        match provider.quota(&target).await {
            Ok(fresh) => view = fresh,
            Err(e) => return TargetResult::undecided(status, &e, quota_id),
        }
        status.current_value = Some(view.value);
    }

    let me = object::key(obj);
    let capacity = peers::capacity(ctx, obj, account, provider, &target, &view, own_share).await;
    // A capacity object needs every capacity on the quota at once; a desiredValue is a floor.
    let need = match capacity.own {
        Some(_) => capacity.total(),
        None => obj.spec.desired_value.unwrap_or_default(),
    };
    let guardrails = account.spec.guardrails.as_ref();
    let blocked = resolve::guardrail_violation(guardrails, &view.id, need, view.value);
    let generation = obj.metadata.generation.unwrap_or_default();
    let own = Contribution {
        object: me.clone(),
        value: need,
        eligible: blocked.is_none()
            && !own_request
                .as_ref()
                .is_some_and(|t| plan::settles(t, need, generation)),
    };
    let floors = peers::floors(ctx, obj, account, &target, &view, need);
    let mut others = floors.best;
    others.extend(capacity.others_ask());
    let effective = aggregate::effective(&own, &others);
    status.desired_value = Some(effective.value);
    status.driven_by = Some(effective.driven_by.clone());
    status.capacity = capacity.status().map(Box::new);
    let peer_request = floors.request.or(capacity.request);

    let intent = obj
        .status
        .as_ref()
        .and_then(|s| s.filings.get(&owner.scope))
        .and_then(|f| record::intent(f, &owner));
    let uid = obj.uid().unwrap_or_default();
    let fresh_peer: Option<Tracked>;
    let filed_here = open_request
        .as_ref()
        .map(|v| v.id.clone())
        .filter(|id| ctx.ledger.filer(&cloud_id, id).as_deref() == Some(uid.as_str()));
    let mut input = PlanInput {
        now: Timestamp::now(),
        generation,
        current: view.value,
        adjustable: view.adjustable,
        own_value: need,
        effective: effective.value,
        is_driver: effective.driven_by == me,
        allow_decrease: obj.spec.allow_decrease,
        blocked,
        own_request: own_request.as_ref(),
        open_request: open_request.as_ref(),
        history: None,
        intent: intent.as_ref(),
        filed_here: filed_here.as_deref(),
        peer_request: peer_request.as_ref(),
    };
    let mut decision = plan::plan(&input);
    tracing::debug!(object = %me, region = %target.region, ?decision, "planned");

    let mut keep_intent = false;
    let mut filed = None;
    if decision == Plan::ReadHistory {
        // Only one reconcile at a time may decide to file for a quota.
        let _only_one_filer = entry.filing.lock().await;
        let history =
            match act::history(&cloud_id, provider, &ctx.ledger, &entry, &target, &view.id).await {
                Ok(h) => h,
                Err(e) => return TargetResult::undecided(status, &e, quota_id),
            };
        input.history = Some(&history);
        decision = plan::plan(&input);
        tracing::debug!(object = %me, region = %target.region, ?decision, "planned with history");
        if matches!(decision, Plan::File { .. }) && input.peer_request.is_none() {
            match peers::fresh_request(ctx, obj, account, &target, &view, need).await {
                Ok(None) => {}
                Ok(found) => {
                    fresh_peer = found;
                    input.peer_request = fresh_peer.as_ref();
                    decision = plan::plan(&input);
                    tracing::debug!(object = %me, region = %target.region, ?decision, "planned with the other objects as the API server has them");
                }
                Err(e) => {
                    let e = not_filed("read the other objects on the quota", e);
                    return TargetResult::undecided(status, &e, quota_id);
                }
            }
        }
        if let Plan::File { value } = decision {
            let intent = record::filing(value, &owner, Timestamp::now());
            if let Err(e) = writes.record_intent(&owner.scope, &intent).await {
                let e = if writes::is_conflict(&e) {
                    not_filed(
                        "record the filing intent",
                        "the object changed since this reconcile read it (409 Conflict)",
                    )
                } else {
                    not_filed("record the filing intent", e)
                };
                return TargetResult::undecided(status, &e, quota_id);
            }
            let context = FileContext {
                justification: obj.spec.justification.clone(),
                contact_email: account.spec.gcp.as_ref().map(|g| g.contact_email.clone()),
                allow_decrease: obj.spec.allow_decrease,
            };
            let outcome = act::file(FileCall {
                account: &cloud_id,
                provider,
                ledger: &ctx.ledger,
                entry: &entry,
                target: &target,
                quota_id: &view.id,
                value,
                context: &context,
                filer: &uid,
            })
            .await;
            keep_intent = outcome.may_have_filed();
            filed = Some(outcome);
        }
    }

    let (state, message, request) = match (&decision, &filed) {
        (
            Plan::Hold {
                state,
                message,
                request,
            },
            _,
        ) => (*state, message.clone(), request.clone()),
        (_, Some(outcome)) => outcome.outcome(),
        _ => unreachable!("a plan with history is Hold or File"),
    };
    let note = note(
        &target,
        prev.and_then(|t| t.request.as_ref()).map(|r| r.id.as_str()),
        state,
        request.as_ref(),
        &filed,
    );
    status.state = state;
    status.message = Some(message);
    // Keep the last request on record when filing failed, so history is not lost.
    if let Some(t) = request.or(own_request) {
        status.request = Some(Box::new(record::record(&t, &owner)));
    }
    TargetResult {
        status,
        note,
        quota_id,
        global: view.global,
        scope: Some(owner.scope),
        keep_intent,
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
