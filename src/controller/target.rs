//! One region of one QuotaRequirement: observe the quota and any open request, plan, and file
//! what is needed.

use jiff::Timestamp;
use kube::{ResourceExt, runtime::reflector::ObjectRef};

use super::{
    Context,
    act::{self, FileCall},
    aggregate::{self, Contribution},
    events::{self, Note},
    ledger::QuotaKey,
    plan::{self, Plan, PlanInput, Tracked},
    reconcile::{object_key, previous},
    resolve, status,
};
use crate::{
    api::{CloudAccount, QuotaRequirement, RequestStatus, TargetState, TargetStatus},
    cloud::{FileContext, Phase, QuotaProvider, QuotaRef, QuotaView, RequestView, Target},
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
}

impl TargetResult {
    fn new(status: TargetStatus, note: Option<Note>, quota_id: Option<String>) -> Self {
        Self {
            status,
            note,
            quota_id,
            global: false,
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
        }
    }
}

/// One region, from reading the quota to filing what is needed.
pub async fn reconcile_target(
    obj: &QuotaRequirement,
    ctx: &Context,
    account: &CloudAccount,
    provider: &dyn QuotaProvider,
    target: Target,
) -> TargetResult {
    let prev = previous(obj, &target.region);
    let own_request = prev
        .and_then(|t| t.request.as_ref())
        .map(tracked_from_status);
    let account_name = account.name_any();
    let mut status = TargetStatus {
        region: target.region.clone(),
        current_value: prev.and_then(|t| t.current_value),
        desired_value: Some(obj.spec.desired_value),
        driven_by: None,
        state: TargetState::Error,
        request: prev.and_then(|t| t.request.clone()),
        message: None,
    };

    let mut view = match provider.quota(&target).await {
        Ok(view) => view,
        Err(e) => {
            status.message = Some(e.to_string());
            return TargetResult::new(status, None, None);
        }
    };
    status.current_value = Some(view.value);
    let quota_id = Some(view.id.clone());
    let key = QuotaKey {
        account: account_name.clone(),
        service: target.quota.service().to_string(),
        quota: view.id.clone(),
        scope: scope(&target, &view),
    };
    let entry = ctx.ledger.entry(&key);

    // Follow what is open: this object's own request, and any other this process knows of.
    let own_request = match own_request {
        Some(t) if t.view.phase.is_open() => {
            match ctx
                .ledger
                .refresh(&account_name, provider, &target, &t.view.id)
                .await
            {
                Ok(view) => {
                    entry.record(&view);
                    Some(Tracked { view, ..t })
                }
                Err(e) => {
                    status.message = Some(e.to_string());
                    return TargetResult::new(status, None, quota_id);
                }
            }
        }
        other => other,
    };
    let mut open_request = entry.open();
    if let Some(open) = open_request.clone()
        && own_request.as_ref().is_none_or(|t| t.view.id != open.id)
    {
        match ctx
            .ledger
            .refresh(&account_name, provider, &target, &open.id)
            .await
        {
            Ok(view) => {
                entry.record(&view);
                open_request = Some(view).filter(|v| v.phase.is_open());
            }
            Err(e) => {
                status.message = Some(e.to_string());
                return TargetResult::new(status, None, quota_id);
            }
        }
    }

    // A request that closed just now may have changed the value read above: read it again, so a
    // terminal state (which is not polled again) shows the value the cloud settled on.
    let was_open = |t: &Tracked| t.view.phase.is_open();
    let closed_now = prev
        .and_then(|t| t.request.as_ref())
        .map(tracked_from_status)
        .is_some_and(|before| was_open(&before))
        && own_request.as_ref().is_some_and(|t| !was_open(t));
    if closed_now {
        match provider.quota(&target).await {
            Ok(fresh) => view = fresh,
            Err(e) => {
                status.message = Some(e.to_string());
                return TargetResult::new(status, None, quota_id);
            }
        }
        status.current_value = Some(view.value);
    }

    let me = object_key(obj);
    let guardrails = account.spec.guardrails.as_ref();
    let blocked =
        resolve::guardrail_violation(guardrails, &view.id, obj.spec.desired_value, view.value);
    let own = Contribution {
        object: me.clone(),
        value: obj.spec.desired_value,
        eligible: blocked.is_none() && !denied_now(prev, obj.metadata.generation),
    };
    let others = contributions(ctx, obj, account, &target, &view);
    let effective = aggregate::effective(&own, &others);
    status.desired_value = Some(effective.value);
    status.driven_by = Some(effective.driven_by.clone());

    let generation = obj.metadata.generation.unwrap_or_default();
    let input = PlanInput {
        now: Timestamp::now(),
        generation,
        current: view.value,
        adjustable: view.adjustable,
        own_value: obj.spec.desired_value,
        effective: effective.value,
        is_driver: effective.driven_by == me,
        allow_decrease: obj.spec.allow_decrease,
        blocked,
        own_request: own_request.as_ref(),
        open_request: open_request.as_ref(),
    };
    let decision = plan::plan(&input);
    tracing::debug!(object = %me, region = %target.region, ?decision, "planned");
    let (state, message, request, note) = match decision {
        Plan::Hold {
            state,
            message,
            request,
        } => (state, message, request, None),
        Plan::File { value } => {
            let context = FileContext {
                justification: obj.spec.justification.clone(),
                contact_email: account.spec.gcp.as_ref().map(|g| g.contact_email.clone()),
                allow_decrease: obj.spec.allow_decrease,
            };
            let filed = act::file(FileCall {
                account: &account_name,
                provider,
                ledger: &ctx.ledger,
                entry: &entry,
                target: &target,
                quota_id: &view.id,
                value,
                context: &context,
                unrecorded_since: own_request
                    .is_none()
                    .then(|| obj.metadata.creation_timestamp.as_ref().map(|t| t.0))
                    .flatten(),
            })
            .await;
            let note = match &filed {
                act::Filed::New(v) => Some((events::REQUEST_FILED, v)),
                act::Filed::Adopted(v) => Some((events::REQUEST_ADOPTED, v)),
                _ => None,
            }
            .map(|(reason, v)| Note {
                warning: false,
                reason,
                message: format!(
                    "{}: request {} for {} ({})",
                    target.region, v.id, v.requested_value, v.status
                ),
            });
            let (state, message, request) = filed.outcome(value, generation);
            // Keep the last request on record when filing failed, so history is not lost.
            (state, message, request.or(own_request), note)
        }
    };
    status.state = state;
    status.message = Some(message);
    status.request = request.map(|t| status_from_tracked(&t));
    TargetResult {
        status,
        note,
        quota_id,
        global: view.global,
    }
}

/// Where one value of the quota applies: a region (or everywhere), narrowed by GCP dimensions.
fn scope(target: &Target, view: &QuotaView) -> String {
    let mut scope = if view.global {
        "global".to_string()
    } else {
        target.region.clone()
    };
    if let QuotaRef::Gcp { dimensions, .. } = &target.quota {
        for (k, v) in dimensions {
            scope.push_str(&format!("/{k}={v}"));
        }
    }
    scope
}

/// Every other object that needs the same quota in the same account and region.
fn contributions(
    ctx: &Context,
    obj: &QuotaRequirement,
    account: &CloudAccount,
    target: &Target,
    view: &QuotaView,
) -> Vec<Contribution> {
    let label = format!("{}/{}", target.quota.service(), view.id);
    ctx.requirements
        .state()
        .iter()
        .filter(|o| o.uid() != obj.uid() && o.spec.account_ref == account.name_any())
        .filter(|o| o.spec.regions.contains(&target.region))
        .filter(|o| {
            QuotaRef::from_spec(&o.spec).is_some_and(|q| {
                same_dimensions(&q, &target.quota)
                    && q.service() == target.quota.service()
                    && (q.direct_id() == Some(view.id.as_str())
                        || o.status.as_ref().and_then(|s| s.quota.as_deref())
                            == Some(label.as_str()))
            })
        })
        .map(|o| {
            let namespace = o.namespace().unwrap_or_default();
            let labels = ctx
                .namespaces
                .get(&ObjectRef::new(&namespace))
                .map(|n| n.labels().clone());
            let allowed =
                resolve::check_account(&o.spec, &namespace, labels.as_ref(), Some(account)).is_ok();
            let guarded = resolve::guardrail_violation(
                account.spec.guardrails.as_ref(),
                &view.id,
                o.spec.desired_value,
                view.value,
            )
            .is_none();
            let denied = denied_now(previous(o, &target.region), o.metadata.generation);
            Contribution {
                object: object_key(o),
                value: o.spec.desired_value,
                eligible: allowed && guarded && !denied,
            }
        })
        .collect()
}

fn same_dimensions(a: &QuotaRef, b: &QuotaRef) -> bool {
    match (a, b) {
        (QuotaRef::Gcp { dimensions: x, .. }, QuotaRef::Gcp { dimensions: y, .. }) => x == y,
        (QuotaRef::Aws { .. }, QuotaRef::Aws { .. }) => true,
        _ => false,
    }
}

/// Whether the object's request for this target was refused at its current generation.
fn denied_now(prev: Option<&TargetStatus>, generation: Option<i64>) -> bool {
    prev.and_then(|t| t.request.as_ref())
        .and_then(|r| r.closed_at_generation)
        .is_some_and(|g| Some(g) >= generation)
}

fn tracked_from_status(r: &RequestStatus) -> Tracked {
    let phase = match r.status.as_str() {
        "RECONCILING" => Phase::Open,
        "GRANTED" => Phase::Approved,
        "PARTIALLY_GRANTED" => Phase::PartiallyGranted,
        "REFUSED" => Phase::Denied,
        other => Phase::from_aws_status(other),
    };
    Tracked {
        view: RequestView {
            id: r.id.clone(),
            case_id: r.case_id.clone(),
            status: r.status.clone(),
            phase,
            requested_value: r.requested_value,
            granted_value: r.granted_value,
            submitted_at: r.submitted_at.as_ref().map(|t| t.0),
            updated_at: r.updated_at.as_ref().map(|t| t.0),
            message: r.status_message.clone(),
        },
        closed_at_generation: r.closed_at_generation,
    }
}

fn status_from_tracked(t: &Tracked) -> RequestStatus {
    RequestStatus {
        id: t.view.id.clone(),
        case_id: t.view.case_id.clone(),
        status: t.view.status.clone(),
        requested_value: t.view.requested_value,
        granted_value: t.view.granted_value,
        submitted_at: t.view.submitted_at.map(status::time),
        status_message: t.view.message.clone(),
        updated_at: t.view.updated_at.map(status::time),
        closed_at_generation: t.closed_at_generation,
    }
}
