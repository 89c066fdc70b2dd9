//! One reconcile of one QuotaRequirement: resolve -> observe -> plan -> act -> status. The
//! per-region steps are in `target.rs`.

use std::sync::Arc;

use futures::future::join_all;
use jiff::Timestamp;
use kube::{
    ResourceExt,
    runtime::{controller::Action, reflector::ObjectRef},
};

use super::{
    context::{Context, Error},
    decide::outcome::Blocker,
    events,
    events::Note,
    object::{self, previous},
    region::{Region, TargetResult},
    resolve, status,
    target::reconcile_target,
    writes::Writes,
};
use crate::{
    api::{
        CloudAccount, DEFAULT_UTILIZATION_THRESHOLD, QuotaRequirement, TargetState, TargetStatus,
        UsageSettings, reasons,
    },
    cloud::{QuotaProvider, QuotaRef, Target},
};

pub async fn reconcile(obj: Arc<QuotaRequirement>, ctx: Arc<Context>) -> Result<Action, Error> {
    ctx.stores_ready().await;

    let key = object::key(&obj);
    tracing::debug!(object = %key, "reconciling");
    let writes = Writes::new(ctx.client.clone(), &obj);
    // The need's date as status records it: a generation seen for the first time dates from now.
    let since = object::need_since(&obj).unwrap_or_else(|| status::time(Timestamp::now()).0);
    let outcome = observe_and_act(&obj, &ctx, &writes, since).await;
    let status = status::build(
        &obj,
        outcome.quota,
        outcome.targets,
        outcome.blocker.as_ref(),
        since,
        outcome.threshold,
    );

    let old_targets = obj
        .status
        .as_ref()
        .map(|s| s.targets.as_slice())
        .unwrap_or_default();
    crate::metrics::targets(
        &key,
        outcome.account.as_deref(),
        status.quota.as_deref(),
        &status.targets,
        outcome.threshold,
    );
    for closed in events::closed_requests(old_targets, &status.targets) {
        crate::metrics::request_closed(closed);
    }
    let mut notes = outcome.notes;
    notes.extend(events::transitions(old_targets, &status.targets));
    notes.extend(events::near_limit(
        old_targets,
        &status.targets,
        outcome.threshold,
    ));
    if writes.status(&obj, &status).await? {
        tracing::info!(object = %key, summary = status.summary.as_deref().unwrap_or_default(), "status updated");
    }
    // Intents are cleared only once the requests they announced are in the status just written.
    let settled_intents: Vec<String> = status
        .filings
        .keys()
        .filter(|scope| !outcome.kept_intents.contains(scope))
        .cloned()
        .collect();
    writes.clear_intents(&settled_intents).await?;
    events::publish(&ctx.recorder, &obj, &notes).await;
    if let Some(counter) = &ctx.reconciles {
        counter.record(&key);
    }

    let has = |s: TargetState| status.targets.iter().any(|t| t.state == s);
    let retry = has(TargetState::Error) || outcome.retry;
    let after = if retry {
        ctx.backoff.next(&key)
    } else {
        ctx.backoff.reset(&key);
        // Terminal states are re-read too: a quota raised elsewhere turns Satisfied, and a quota
        // that could not be raised may become adjustable. Nothing is filed again until the spec
        // changes.
        let follow = status.targets.iter().any(|t| {
            t.state == TargetState::Requested
                || (t.state == TargetState::Queued && !outcome.cooling.contains(&t.region))
        });
        let after = if follow {
            ctx.config.poll
        } else {
            ctx.config.resync
        };
        // A refused quota's cooldown ends: look again then, not a resync later.
        match outcome.wake_at {
            Some(at) => after.min(Timestamp::now().duration_until(at).unsigned_abs()),
            None => after,
        }
    };
    crate::metrics::scheduled(&key, after, retry);
    Ok(Action::requeue(after))
}

struct Outcome {
    /// The CloudAccount's name, once the object may use it.
    account: Option<String>,
    /// The account's utilisation threshold, in percent.
    threshold: f64,
    quota: Option<String>,
    targets: Vec<TargetStatus>,
    blocker: Option<Blocker>,
    notes: Vec<Note>,
    retry: bool,
    /// Filing intents whose outcome is unknown, or that were not looked at: they stay.
    kept_intents: Vec<String>,
    /// The earliest moment a region asked to be looked at again.
    wake_at: Option<Timestamp>,
    /// Regions that wait out a refusal's cooldown (queued, but with nothing to follow).
    cooling: Vec<String>,
}

impl Outcome {
    /// What the regions came to, together.
    fn of(
        obj: &QuotaRequirement,
        account: &CloudAccount,
        quota: &QuotaRef,
        results: Vec<TargetResult>,
    ) -> Self {
        let quota_label = results
            .iter()
            .find_map(|r| r.quota_id.clone())
            .map(|id| format!("{}/{id}", quota.service()));
        let all_judged = results.iter().all(|r| r.scope.is_some());
        let wake_at = results.iter().filter_map(|r| r.wake_at).min();
        let cooling = results
            .iter()
            .filter(|r| r.wake_at.is_some())
            .map(|r| r.status.region.clone())
            .collect();
        let mut notes = vec![];
        let mut kept_intents = vec![];
        let targets = results
            .into_iter()
            .map(|r| {
                notes.extend(r.note);
                if let Some(scope) = r.scope.filter(|_| r.keep_intent) {
                    kept_intents.push(scope);
                }
                r.status
            })
            .collect();
        // While some target could not be judged (its quota could not be read), every intent stays:
        // the one it may have left is claimed once it can be.
        if !all_judged && let Some(status) = &obj.status {
            kept_intents.extend(status.filings.keys().cloned());
        }
        Outcome {
            account: Some(account.name_any()),
            threshold: UsageSettings::threshold(account),
            quota: quota_label,
            targets,
            blocker: None,
            notes,
            retry: false,
            kept_intents,
            wake_at,
            cooling,
        }
    }

    /// Nothing was looked at: every region shows why.
    fn blocked(obj: &QuotaRequirement, blocker: Blocker) -> Self {
        let state = blocker.state();
        let message = &blocker.message;
        let targets = obj
            .spec
            .regions
            .iter()
            .map(|region| TargetStatus {
                region: region.clone(),
                current_value: None,
                desired_value: obj.spec.desired_value,
                driven_by: None,
                state,
                request: previous(obj, region).and_then(|t| t.request.clone()),
                capacity: None,
                usage: None,
                // What headroom asked stays: it never lowers.
                headroom: previous(obj, region).and_then(|t| t.headroom.clone()),
                message: Some(message.clone()),
            })
            .collect();
        // Nothing was looked at: every intent stays until the account or spec lets it be judged.
        let kept_intents = obj
            .status
            .as_ref()
            .map(|s| s.filings.keys().cloned().collect())
            .unwrap_or_default();
        Self {
            account: None,
            threshold: DEFAULT_UTILIZATION_THRESHOLD,
            quota: None,
            targets,
            retry: blocker.retry,
            blocker: Some(blocker),
            notes: vec![],
            kept_intents,
            wake_at: None,
            cooling: vec![],
        }
    }
}

/// The account, quota and provider the object may use, or what stops it.
async fn resolve(
    obj: &QuotaRequirement,
    ctx: &Context,
) -> Result<(CloudAccount, QuotaRef, Arc<dyn QuotaProvider>), Blocker> {
    let spec = &obj.spec;
    let namespace = obj.namespace().unwrap_or_default();
    let account = ctx.accounts.get(&ObjectRef::new(&spec.account_ref));
    let labels = ctx
        .namespaces
        .get(&ObjectRef::new(&namespace))
        .map(|ns| ns.labels().clone());
    let account = resolve::check_account(spec, &namespace, labels.as_ref(), account.as_deref())
        .map_err(|p| Blocker::until_changed(p.reason(), p.message().to_string()))?
        .clone();
    let invalid = |message: &str| Blocker::until_changed(reasons::INVALID_SPEC, message.into());
    let quota = QuotaRef::from_spec(spec)
        .ok_or_else(|| invalid("exactly one of spec.aws or spec.gcp must be set"))?;
    if spec.regions.is_empty() {
        return Err(invalid("spec.regions is empty"));
    }
    // Admitted under an older CRD, which let the region be a dimension too.
    if spec
        .gcp
        .as_ref()
        .is_some_and(|g| g.dimensions.contains_key("region"))
    {
        return Err(invalid(
            "spec.gcp.dimensions: name the region in spec.regions (regions: [us-central1]), not as a dimension: one quota, one name",
        ));
    }
    let provider = ctx
        .providers
        .provider(&account)
        .await
        .map_err(|e| Blocker::provider_failed(&spec.account_ref, &e))?;
    Ok((account, quota, provider))
}

async fn observe_and_act(
    obj: &QuotaRequirement,
    ctx: &Context,
    writes: &Writes,
    since: Timestamp,
) -> Outcome {
    let (account, quota, provider) = match resolve(obj, ctx).await {
        Ok(resolved) => resolved,
        Err(blocker) => return Outcome::blocked(obj, blocker),
    };
    let region = |region: &String| Region {
        obj,
        ctx,
        writes,
        account: &account,
        provider: provider.as_ref(),
        target: Target {
            quota: quota.clone(),
            region: region.clone(),
        },
        since,
    };
    let Some((home, others)) = obj.spec.regions.split_first() else {
        unreachable!("resolve refuses an empty spec.regions");
    };
    // The first region goes first: if the quota turns out to be global (the same in every
    // region), it is reconciled there once and the other regions show the same result.
    let first = reconcile_target(&region(home)).await;
    let mut results = vec![];
    if first.global {
        let mirrored = others.iter().map(|r| first.mirrored(r)).collect::<Vec<_>>();
        results.push(first);
        results.extend(mirrored);
    } else {
        let regions: Vec<Region> = others.iter().map(region).collect();
        let rest = join_all(regions.iter().map(reconcile_target)).await;
        results.push(first);
        results.extend(rest);
    }
    Outcome::of(obj, &account, &quota, results)
}
