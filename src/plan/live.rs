//! `--live`: each target's current value, read through the operator's own providers (the same
//! SDK clients, endpoints and account verification as `quota-operator run`), and the action the
//! controller's pure planner takes on it. Nothing is filed: only reads (the quota, and the
//! request history when the planner asks for it).

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use jiff::Timestamp;
use kube::ResourceExt;

use super::report::{Action, TargetPlan};
use crate::{
    api::{CloudAccount, QuotaRequirement, TargetState},
    capacity::{self, ShareError, nodepools::NodePools},
    cloud::{CloudError, ProviderFactory, QuotaProvider, QuotaRef, QuotaView, Target, no_fleet},
    controller::{
        aggregate::{self, Contribution},
        decide::{
            Ask, Need, Observed,
            drive::{self, Outside},
            guardrails,
            outcome::{self, Filed},
            requests::History,
        },
        resolve::{self, AccountProblem},
    },
};

/// What the files say of the cluster: the accounts, and the labels of the namespaces they
/// define (a namespace not in the files has labels `plan` cannot know).
#[derive(Default)]
pub struct World<'a> {
    /// The admins' CloudAccounts (`--account-file`): used as they are.
    pub accounts: Vec<&'a CloudAccount>,
    /// CloudAccounts of the files under review, whose names `accounts` does not hold: read with
    /// the caller's own credentials only, so none may name a role or an endpoint.
    pub reviewed_accounts: Vec<&'a CloudAccount>,
    pub namespaces: BTreeMap<String, BTreeMap<String, String>>,
    /// The Karpenter NodePools `spec.capacity[].nodePools` select from (`--nodepools`).
    pub nodepools: NodePools,
}

/// One region of one requirement, once read.
struct Read<'a> {
    object: usize,
    target: Target,
    account: Option<&'a CloudAccount>,
    outcome: Result<(Arc<dyn QuotaProvider>, QuotaView), TargetPlan>,
}

/// The plan of every region of every requirement, in order.
pub async fn plan_all(
    requirements: &[QuotaRequirement],
    world: &World<'_>,
    factory: &dyn ProviderFactory,
) -> Vec<Vec<TargetPlan>> {
    let mut providers: HashMap<String, Result<Arc<dyn QuotaProvider>, CloudError>> = HashMap::new();
    let mut reads = vec![];
    for (object, qr) in requirements.iter().enumerate() {
        let Some(quota) = QuotaRef::from_spec(&qr.spec) else {
            continue;
        };
        let account = account_for(qr, world);
        for region in &qr.spec.regions {
            let target = Target {
                quota: quota.clone(),
                region: region.clone(),
            };
            let outcome = match &account {
                Err(problem) => Err(unplanned(qr, &target, Action::AccountProblem, problem)),
                Ok(account) if account.is_template() => Err(template_plan(qr, &target)),
                Ok(account) => {
                    let provider = match providers.get(&account.name_any()) {
                        Some(p) => p.clone(),
                        None => {
                            let p = factory.provider(account).await;
                            providers.insert(account.name_any(), p.clone());
                            p
                        }
                    };
                    match provider {
                        Err(e) => Err(unplanned(qr, &target, Action::Error, &e.to_string())),
                        Ok(p) => match p.quota(&target).await {
                            Ok(view) => Ok((p, view)),
                            Err(e) => {
                                let action = action_of(outcome::failed(&e).state);
                                Err(unplanned(qr, &target, action, &e.to_string()))
                            }
                        },
                    }
                }
            };
            reads.push(Read {
                object,
                target,
                account: account.as_ref().ok().copied(),
                outcome,
            });
        }
    }
    let mut plans = vec![vec![]; requirements.len()];
    for read in &reads {
        let plan = match &read.outcome {
            Err(plan) => plan.clone(),
            Ok((provider, view)) => {
                let mut others = others(requirements, &reads, read);
                others.extend(headroom_others(requirements, &reads, read).await);
                let pools = &world.nodepools;
                let capacity_others = capacity_others(requirements, &reads, read, pools).await;
                let needs = Needs {
                    share: None,
                    headroom: None,
                    others: &others,
                    capacity_others: &capacity_others,
                };
                plan_one(
                    &requirements[read.object],
                    read,
                    (provider.as_ref(), view),
                    needs,
                    pools,
                )
                .await
            }
        };
        plans[read.object].push(plan);
    }
    plans
}

/// The object's CloudAccount from the files, checked as the controller checks it; the namespace
/// rule only when the files define the namespace.
pub(super) fn account_for<'a>(
    qr: &QuotaRequirement,
    world: &World<'a>,
) -> Result<&'a CloudAccount, String> {
    let named = |a: &&&CloudAccount| a.name_any() == qr.spec.account_ref;
    let admins = world.accounts.iter().find(named).copied();
    let reviewed = world.reviewed_accounts.iter().find(named).copied();
    if admins.is_none()
        && let Some(field) = reviewed.and_then(untrusted_field)
    {
        return Err(format!(
            "CloudAccount {} comes from the files under review and sets {field}: plan --live \
             assumes roles and uses endpoints only of --account-file's CloudAccounts (the \
             admins'), so it reads nothing for this account",
            qr.spec.account_ref
        ));
    }
    let found = admins.or(reviewed);
    let namespace = namespace(qr);
    let labels = world.namespaces.get(&namespace);
    match resolve::check_account(&qr.spec, &namespace, labels, found) {
        Ok(account) => Ok(account),
        Err(AccountProblem::NotFound(m)) => Err(format!(
            "{m} in the files given (add it, or pass --account-file)"
        )),
        Err(AccountProblem::NotAllowed(_)) if labels.is_none() => {
            Ok(found.expect("only a found account is checked for the namespace"))
        }
        Err(other) => Err(other.message().to_string()),
    }
}

/// The field of a CloudAccount that would choose where the caller's credentials go.
fn untrusted_field(account: &CloudAccount) -> Option<&'static str> {
    if account
        .spec
        .aws
        .as_ref()
        .is_some_and(|a| a.role_arn.is_some())
    {
        Some("spec.aws.roleArn")
    } else if account.spec.endpoint.is_some() {
        Some("spec.endpoint")
    } else {
        None
    }
}

/// An object aimed at a template account: its need becomes a template entry (the largest of
/// the objects on that entry, as the operator aggregates them), never a request; read nothing.
fn template_plan(qr: &QuotaRequirement, target: &Target) -> TargetPlan {
    match (crate::controller::template_unfit(qr), qr.spec.desired_value) {
        (Some(why), _) => unplanned(qr, target, Action::Blocked, why),
        (None, None) => unplanned(
            qr,
            target,
            Action::Blocked,
            "a template entry needs spec.desiredValue",
        ),
        (None, Some(value)) => unplanned(
            qr,
            target,
            Action::Template { value },
            "the organization's quota request template would hold at least this (new accounts \
             start with it); nothing is filed in the management account",
        ),
    }
}

fn namespace(qr: &QuotaRequirement) -> String {
    qr.namespace().unwrap_or_else(|| "default".into())
}

fn unplanned(qr: &QuotaRequirement, target: &Target, action: Action, message: &str) -> TargetPlan {
    TargetPlan {
        region: target.region.clone(),
        quota: label(&target.quota, None),
        current: None,
        desired: qr.spec.desired_value,
        capacity: None,
        usage: None,
        headroom: None,
        action,
        message: message.to_string(),
    }
}

fn label(quota: &QuotaRef, view: Option<&QuotaView>) -> String {
    let id = view
        .map(|v| v.id.as_str())
        .or(quota.direct_id())
        .unwrap_or("(by name)");
    format!("{}/{id}", quota.service())
}

/// Where one value of the quota applies, as the aggregation keys it.
fn scope(read: &Read<'_>, view: &QuotaView) -> (String, String, String, String) {
    let region = if view.global {
        "global"
    } else {
        read.target.region.as_str()
    };
    let account = read.account.map(|a| a.name_any()).unwrap_or_default();
    let dims = match &read.target.quota {
        QuotaRef::Gcp { dimensions, .. } => format!("{dimensions:?}"),
        QuotaRef::Aws { .. } => String::new(),
    };
    (account, view.id.clone(), region.to_string(), dims)
}

/// The other reads of the files that are about the same quota in the same place as `me`.
fn same_place<'r, 'a>(
    reads: &'r [Read<'a>],
    me: &Read<'_>,
) -> Vec<(&'r Read<'a>, &'r dyn QuotaProvider, &'r QuotaView)> {
    let Ok((_, my_view)) = &me.outcome else {
        return vec![];
    };
    let key = scope(me, my_view);
    reads
        .iter()
        .filter(|r| r.object != me.object)
        .filter_map(|r| {
            let (provider, view) = r.outcome.as_ref().ok()?;
            (scope(r, view) == key).then_some((r, provider.as_ref(), view))
        })
        .collect()
}

/// Another object's need of `value`, as the aggregation counts it (not when a guardrail
/// blocks it).
fn contribution(qr: &QuotaRequirement, r: &Read<'_>, view: &QuotaView, value: i64) -> Contribution {
    let guardrails = r.account.and_then(|a| a.spec.guardrails.as_ref());
    Contribution {
        object: key_of(qr),
        value,
        eligible: guardrails::violation(guardrails, &view.id, value, view.value).is_none(),
        since: Timestamp::now(),
    }
}

/// The other objects of the files that need the same quota in the same place with a
/// `desiredValue`, as the aggregation sees them.
fn others(
    requirements: &[QuotaRequirement],
    reads: &[Read<'_>],
    me: &Read<'_>,
) -> Vec<Contribution> {
    same_place(reads, me)
        .into_iter()
        .filter_map(|(r, _, view)| {
            let qr = &requirements[r.object];
            Some(contribution(qr, r, view, qr.spec.desired_value?))
        })
        .collect()
}

/// What the other objects of the files with `spec.headroom` on the same quota in the same place
/// ask over its usage, by the function the controller uses for its peers: one team's headroom
/// is every team's need.
async fn headroom_others(
    requirements: &[QuotaRequirement],
    reads: &[Read<'_>],
    me: &Read<'_>,
) -> Vec<Contribution> {
    let mut found = vec![];
    for (r, provider, view) in same_place(reads, me) {
        let qr = &requirements[r.object];
        if qr.spec.headroom.is_none() {
            continue;
        }
        if let Some(value) = headroom_of(qr, r, provider, view).await {
            found.push(contribution(qr, r, view, value));
        }
    }
    found
}

/// What `qr`'s headroom asks in the read's region, as the controller computes it.
async fn headroom_of(
    qr: &QuotaRequirement,
    read: &Read<'_>,
    provider: &dyn QuotaProvider,
    view: &QuotaView,
) -> Option<i64> {
    let guardrails = read.account.and_then(|a| a.spec.guardrails.as_ref());
    let bounds = guardrails::headroom_bounds(guardrails, &view.id, view.value);
    let usage = provider.usage(&read.target, &view.id, &no_fleet).await;
    let h = qr.spec.headroom.as_ref();
    let seen = crate::usage::observation(&usage, h, view.value, None, &bounds, Timestamp::now());
    seen.headroom.map(|h| h.value)
}

/// The other objects of the files with a `capacity` on the same quota in the same place, with
/// their shares (they add up); one whose share cannot be computed counts for nothing.
async fn capacity_others(
    requirements: &[QuotaRequirement],
    reads: &[Read<'_>],
    me: &Read<'_>,
    pools: &NodePools,
) -> Vec<(String, i64)> {
    let mut found = vec![];
    for (r, provider, view) in same_place(reads, me) {
        let qr = &requirements[r.object];
        if let Ok(Some(share)) =
            capacity::share(&qr.spec, provider, &r.target.region, &view.id, pools).await
        {
            found.push((key_of(qr), share.value));
        }
    }
    found
}

fn key_of(qr: &QuotaRequirement) -> String {
    format!("{}/{}", namespace(qr), qr.name_any())
}

async fn plan_one(
    qr: &QuotaRequirement,
    read: &Read<'_>,
    (provider, view): (&dyn QuotaProvider, &QuotaView),
    needs: Needs<'_>,
    pools: &NodePools,
) -> TargetPlan {
    let share =
        match capacity::share(&qr.spec, provider, &read.target.region, &view.id, pools).await {
            Ok(share) => share,
            Err(e) => {
                // As the controller decides it.
                let action = action_of(match &e {
                    ShareError::Spec(m) => outcome::refused_spec(m.clone()).state,
                    ShareError::Cloud(e) => outcome::failed(e).state,
                });
                let mut plan = unplanned(qr, &read.target, action, &e.to_string());
                plan.current = Some(view.value);
                plan.quota = label(&read.target.quota, Some(view));
                return plan;
            }
        };
    let now = Timestamp::now();
    let guardrails = read.account.and_then(|a| a.spec.guardrails.as_ref());
    let bounds = guardrails::headroom_bounds(guardrails, &view.id, view.value);
    let usage_read = provider.usage(&read.target, &view.id, &no_fleet).await;
    let usage = crate::usage::observation(
        &usage_read,
        qr.spec.headroom.as_ref(),
        view.value,
        None,
        &bounds,
        now,
    );
    let headroom = usage.headroom.as_ref().map(|h| h.value);
    let needs = Needs {
        share: share.as_ref(),
        headroom,
        ..needs
    };
    let mut observed = as_observed(qr, read, view, &needs, now);
    if qr.spec.headroom.is_some() && headroom.is_none() {
        observed.usage_missing = Some(format!(
            "spec.headroom needs the quota's usage, which is unknown ({})",
            usage.usage.unknown.clone().unwrap_or_default()
        ));
    }
    let desired = observed.need.effective;
    let mut files = Files {
        provider,
        target: &read.target,
    };
    let verdict = match drive::run(&mut observed, &mut files).await {
        Ok(verdict) => verdict,
        Err(e) => {
            let mut plan = unplanned(qr, &read.target, Action::Error, &e.to_string());
            plan.current = Some(view.value);
            plan.quota = label(&read.target.quota, Some(view));
            return plan;
        }
    };
    let action = match verdict.filed {
        Some((value, _)) => Action::File { value },
        None => action_of(verdict.state),
    };
    TargetPlan {
        region: read.target.region.clone(),
        quota: label(&read.target.quota, Some(view)),
        current: Some(view.value),
        desired: Some(desired),
        capacity: share.map(|s| s.arithmetic),
        usage: Some(crate::usage::describe(&usage.usage)),
        headroom: usage.headroom.map(|h| match h.held {
            Some(held) => format!("{} ({held})", h.arithmetic),
            None => h.arithmetic,
        }),
        action,
        message: verdict.message,
    }
}

/// Every need on the target: this object's capacity share and headroom, and the other objects'.
struct Needs<'a> {
    share: Option<&'a capacity::Share>,
    headroom: Option<i64>,
    others: &'a [Contribution],
    capacity_others: &'a [(String, i64)],
}

/// The region as the controller's decision reads it, from the files and the cloud's value: the
/// other objects of the files added up as the controller adds them.
fn as_observed(
    qr: &QuotaRequirement,
    read: &Read<'_>,
    view: &QuotaView,
    needs: &Needs<'_>,
    now: Timestamp,
) -> Observed {
    let Needs {
        share,
        headroom,
        others,
        capacity_others,
    } = needs;
    let guardrails = read.account.and_then(|a| a.spec.guardrails.as_ref());
    // As the controller counts them: the other objects' capacity only while the sum stays within
    // the guardrails (a share that would break them does not count).
    let violates = |value| guardrails::violation(guardrails, &view.id, value, view.value);
    let mut from_capacity = 0;
    for (_, value) in capacity_others.iter() {
        if violates(from_capacity + value).is_none() {
            from_capacity += value;
        }
    }
    let floor = match &share {
        Some(s) => s.value + from_capacity,
        None => qr.spec.desired_value.unwrap_or_default(),
    };
    let need = aggregate::own_value(floor, *headroom);
    let blocked = violates(need);
    let me = key_of(qr);
    let own = Contribution {
        object: me.clone(),
        value: need,
        eligible: blocked.is_none(),
        since: now,
    };
    let mut others = others.to_vec();
    if let Some((first, _)) = capacity_others.first().filter(|_| from_capacity > 0) {
        others.push(Contribution {
            object: first.clone(),
            value: from_capacity,
            eligible: true,
            since: now,
        });
    }
    let effective = aggregate::effective(&own, &others);
    let need = Need {
        blocked,
        ..Need::new(me, need, effective)
    };
    // The files are new needs: a refusal from before them does not settle them.
    let fresh = Observed::new(now, view.value, view.id.clone(), now, need);
    Observed {
        adjustable: view.adjustable,
        ..fresh.governed(guardrails, qr.spec.allow_decrease)
    }
}

/// The decision's world in `plan --live`: the cloud is read, the other objects are the files
/// (all read already), and nothing is filed.
struct Files<'a> {
    provider: &'a dyn QuotaProvider,
    target: &'a Target,
}

impl Outside for Files<'_> {
    async fn read(&mut self, ask: Ask, o: &mut Observed) -> Result<(), CloudError> {
        match ask {
            // The operator reads the request history before it files: an open request is
            // adopted.
            Ask::History => {
                let open = self.provider.open_request(self.target, &o.quota_id).await?;
                let requests = self
                    .provider
                    .recent_requests(self.target, &o.quota_id)
                    .await?;
                o.history = Some(History {
                    open,
                    ..History::of(requests)
                });
            }
            Ask::Peers => o.peers_fresh = true,
        }
        Ok(())
    }

    async fn file(&mut self, _: &Observed, _: i64) -> Result<Filed, CloudError> {
        Ok(Filed::Dry)
    }
}

fn action_of(state: TargetState) -> Action {
    match state {
        TargetState::Satisfied => Action::Satisfied,
        TargetState::Requested => Action::Requested,
        TargetState::Queued => Action::Queued,
        TargetState::Blocked => Action::Blocked,
        TargetState::NotAdjustable => Action::NotAdjustable,
        // Denials need a recorded request, which a plan never has; anything else is a failure.
        TargetState::Denied | TargetState::PartiallyGranted | TargetState::Error => Action::Error,
    }
}

#[cfg(test)]
#[path = "live_tests.rs"]
mod tests;
