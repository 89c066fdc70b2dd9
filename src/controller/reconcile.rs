//! One reconcile of one QuotaRequirement: resolve the account, quota and provider; run every
//! region through observe, decide and act (`target.rs`); report what they came to
//! (`report/`).

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
    object,
    region::Region,
    report::{self, Regions},
    resolve, status,
    target::reconcile_target,
    template,
    writes::Writes,
};
use crate::{
    api::{CloudAccount, QuotaRequirement, reasons},
    cloud::{QuotaProvider, QuotaRef, Target},
};

pub async fn reconcile(obj: Arc<QuotaRequirement>, ctx: Arc<Context>) -> Result<Action, Error> {
    ctx.stores_ready().await;
    tracing::debug!(object = %object::key(&obj), "reconciling");
    let writes = Writes::new(ctx.client.clone(), &obj);
    // The need's date as status records it: a generation seen for the first time dates from now.
    let since = object::need_since(&obj).unwrap_or_else(|| status::time(Timestamp::now()).0);
    let regions = match resolve(&obj, &ctx).await {
        Ok(resolved) => regions(&obj, &ctx, &writes, since, resolved).await,
        Err(blocker) => Regions::blocked(&obj, blocker),
    };
    report::object(&obj, &ctx, &writes, since, regions).await
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

/// Every region of the object, each through observe, decide, act and report.
async fn regions(
    obj: &QuotaRequirement,
    ctx: &Context,
    writes: &Writes,
    since: Timestamp,
    (account, quota, provider): (CloudAccount, QuotaRef, Arc<dyn QuotaProvider>),
) -> Regions {
    // The organization's template: new accounts' quotas, never an increase request here.
    if account.is_template() {
        return template::regions(obj, &account, &quota);
    }
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
    Regions::of(obj, &account, &quota, results)
}
