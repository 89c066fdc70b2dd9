//! Status: turn the targets' outcomes into conditions and a summary (written by `writes`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::decide::outcome::Blocker;
use crate::api::{
    QuotaRequirement, QuotaRequirementStatus, TargetState, TargetStatus,
    conditions::{self, Desired, NEAR_LIMIT, READY, RECONCILING, SATISFIED, STALLED},
    reasons,
};

/// The status the object should have, given its targets (or a blocker that stops them all).
pub fn build(
    obj: &QuotaRequirement,
    quota: Option<String>,
    targets: Vec<TargetStatus>,
    blocker: Option<&Blocker>,
    since: jiff::Timestamp,
    threshold: f64,
) -> QuotaRequirementStatus {
    let old = obj.status.clone().unwrap_or_default();
    let generation = obj.metadata.generation;
    let mut desired = desired_conditions(&targets, blocker);
    desired.extend(near_limit(&targets, threshold));
    let now = time(jiff::Timestamp::now());
    let summary = match blocker {
        Some(b) if targets.iter().all(|t| t.state == TargetState::Blocked) => b.reason.to_string(),
        _ => summary(&targets),
    };
    QuotaRequirementStatus {
        observed_generation: generation,
        conditions: conditions::merge(&old.conditions, desired, generation, &now),
        quota: (quota.map(Into::into).or(old.quota)).or_else(|| named_by_spec(obj).map(Into::into)),
        summary: Some(summary.into()),
        targets,
        filings: old.filings,
        case_replies: old.case_replies,
        generation_observed_at: Some(time(since)),
    }
}

/// The quota as the spec names it, for `kubectl get` before the cloud has answered (or when it
/// answered that there is no such quota).
fn named_by_spec(obj: &QuotaRequirement) -> Option<String> {
    match (&obj.spec.aws, &obj.spec.gcp) {
        (Some(aws), _) => {
            let quota = aws.quota_code.as_ref().or(aws.quota_name.as_ref())?;
            Some(format!("{}/{quota}", aws.service_code))
        }
        (None, Some(gcp)) => Some(format!("{}/{}", gcp.service, gcp.quota_id)),
        (None, None) => None,
    }
}

/// A timestamp as the API server keeps it (whole seconds), so a status read back compares equal
/// to the one written and no patch is sent for nothing.
pub fn time(t: jiff::Timestamp) -> Time {
    Time(jiff::Timestamp::from_second(t.as_second()).unwrap_or(t))
}

/// One word when every target agrees, else how many are satisfied.
pub fn summary(targets: &[TargetStatus]) -> String {
    let Some(first) = targets.first() else {
        return "Pending".into();
    };
    if targets.iter().all(|t| t.state == first.state) {
        return first.state.as_str().into();
    }
    let satisfied = targets
        .iter()
        .filter(|t| t.state == TargetState::Satisfied)
        .count();
    format!("{satisfied}/{} satisfied", targets.len())
}

fn desired_conditions(targets: &[TargetStatus], blocker: Option<&Blocker>) -> Vec<Desired> {
    let regions = Regions { targets, blocker };
    let stalled_by = regions.stalled_by();
    let reconciling_by = regions.reconciling_by(stalled_by.is_some());
    let why_not = stalled_by.clone().or_else(|| reconciling_by.clone());
    // Stalled before Reconciling: kstatus reads the first of the two that is true, and they are
    // never both true. Both are abnormal-true and present only while true, as on Flux's own
    // objects: kstatus reads an absent one as false, and at 10,000 objects the two False copies
    // were a fifth of every status the API server decodes, validates and stores.
    let mut conditions = vec![
        regions.ready(READY, why_not.clone()),
        regions.ready(SATISFIED, why_not),
    ];
    let abnormal = [(STALLED, stalled_by), (RECONCILING, reconciling_by)];
    conditions.extend(abnormal.into_iter().filter_map(|(type_, by)| {
        by.map(|(reason, message)| condition(type_, true, &reason, message))
    }));
    conditions
}

/// The regions' states, and what stops the whole object, as the conditions read them.
struct Regions<'a> {
    targets: &'a [TargetStatus],
    blocker: Option<&'a Blocker>,
}

/// A condition's reason and message.
type Why = (String, String);

/// The most telling state names the reason: a terminal outcome outranks work in flight.
const TERMINAL: [TargetState; 4] = [
    TargetState::Denied,
    TargetState::PartiallyGranted,
    TargetState::NotAdjustable,
    TargetState::Blocked,
];
const WORKING: [TargetState; 3] = [
    TargetState::Error,
    TargetState::Requested,
    TargetState::Queued,
];

impl Regions<'_> {
    fn has(&self, s: TargetState) -> bool {
        self.targets.iter().any(|t| t.state == s)
    }

    fn describe(&self, states: &[TargetState]) -> String {
        self.targets
            .iter()
            .filter(|t| states.contains(&t.state))
            .map(|t| {
                format!(
                    "{}: {}",
                    t.region,
                    t.message.as_deref().unwrap_or(t.state.as_str())
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Ready (and Satisfied, its twin for `kubectl wait`): every region satisfied.
    fn ready(&self, type_: &'static str, why_not: Option<Why>) -> Desired {
        let all_satisfied = !self.targets.is_empty()
            && self
                .targets
                .iter()
                .all(|t| t.state == TargetState::Satisfied);
        if all_satisfied {
            let message = self.describe(&[TargetState::Satisfied]);
            return condition(type_, true, reasons::ALL_SATISFIED, message);
        }
        let (reason, message) =
            why_not.unwrap_or_else(|| (reasons::PENDING.into(), "not yet observed".into()));
        condition(type_, false, &reason, message)
    }

    /// What stalls the object: an account problem not being retried, else a terminal region.
    fn stalled_by(&self) -> Option<Why> {
        match self.blocker {
            Some(b) if !self.has(TargetState::Error) => {
                Some((b.reason.to_string(), b.message.clone()))
            }
            _ => TERMINAL
                .iter()
                .find(|s| self.has(**s))
                .map(|s| (self.reason(*s), self.describe(&TERMINAL))),
        }
    }

    /// A terminal state's reason: its name, or for Blocked regions that all say why in one
    /// word (`QuotaNotFound: ...`), that word, which alerts and scripts can match.
    fn reason(&self, state: TargetState) -> String {
        let mut named = (self.targets.iter())
            .filter(|t| t.state == state)
            .map(|t| reasons::named_in(t.message.as_deref().unwrap_or_default()));
        let first = named.next().flatten();
        match first {
            Some(reason) if state == TargetState::Blocked && named.all(|r| r == first) => {
                reason.to_string()
            }
            _ => state.as_str().to_string(),
        }
    }

    /// Some open request's support case waits for an answer from the customer (its region's
    /// message starts with the reason).
    fn awaiting_customer(&self) -> bool {
        let prefix = format!("{}: ", reasons::AWAITING_CUSTOMER_REPLY);
        (self.targets.iter())
            .filter(|t| t.state == TargetState::Requested)
            .any(|t| t.message.as_deref().is_some_and(|m| m.starts_with(&prefix)))
    }

    /// What the operator is still working on, when nothing stalls.
    fn reconciling_by(&self, stalled: bool) -> Option<Why> {
        if stalled {
            return None;
        }
        if let Some(b) = self.blocker {
            return Some((b.reason.to_string(), b.message.clone()));
        }
        let reason = if self.has(TargetState::Error) {
            return Some((
                reasons::CLOUD_ERROR.to_string(),
                self.describe(&[TargetState::Error]),
            ));
        } else if self.awaiting_customer() {
            reasons::AWAITING_CUSTOMER_REPLY
        } else if self.has(TargetState::Requested) {
            reasons::REQUEST_OPEN
        } else if self.has(TargetState::Queued) {
            reasons::QUEUED
        } else {
            return None;
        };
        Some((reason.to_string(), self.describe(&WORKING)))
    }
}

/// The regions whose usage is at or above `threshold` percent of the quota's value.
pub fn near(targets: &[TargetStatus], threshold: f64) -> Vec<(&TargetStatus, f64)> {
    targets
        .iter()
        .filter_map(|t| {
            let used = t.usage.as_ref()?.utilization_percent?;
            (used >= threshold).then_some((t, used))
        })
        .collect()
}

/// NearLimit: some region's usage is at or above the account's threshold. Beside Ready, not in
/// it: a quota near its limit still meets its declared need. A warning, so present only while it
/// holds or cannot be told (False, `UsageUnknown`, once a read found no usage anywhere): once
/// some region's usage is known and none is at the threshold it is left out, as Reconciling and
/// Stalled are, and each region's `usage.utilizationPercent` says by how much. Before any read
/// (a region blocked, an account not reached) nothing is claimed either way.
fn near_limit(targets: &[TargetStatus], threshold: f64) -> Option<Desired> {
    let near = near(targets, threshold);
    if !near.is_empty() {
        let message = near
            .iter()
            .map(|(t, used)| {
                format!(
                    "{}: {used} % of {} used (threshold {threshold} %)",
                    t.region,
                    t.current_value.map_or("?".into(), crate::usage::number)
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        return Some(condition(
            NEAR_LIMIT,
            true,
            reasons::UTILIZATION_HIGH,
            message,
        ));
    }
    let usages = || targets.iter().filter_map(|t| Some((t, t.usage.as_ref()?)));
    if usages().any(|(_, u)| u.utilization_percent.is_some()) {
        return None;
    }
    let unknown: Vec<String> = usages()
        .filter_map(|(t, u)| Some(format!("{}: {}", t.region, u.unknown.as_deref()?)))
        .collect();
    (!unknown.is_empty()).then(|| {
        condition(
            NEAR_LIMIT,
            false,
            reasons::USAGE_UNKNOWN,
            format!("usage is unknown: {}", unknown.join("; ")),
        )
    })
}

fn condition(type_: &'static str, status: bool, reason: &str, message: String) -> Desired {
    Desired {
        type_,
        status,
        reason: reason.into(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(region: &str, state: TargetState) -> TargetStatus {
        TargetStatus {
            region: region.into(),
            current_value: Some(1.0),
            desired_value: Some(2),
            capacity: None,
            driven_by: None,
            state,
            request: None,
            usage: None,
            headroom: None,
            message: Some(format!("{state:?} here")),
        }
    }

    fn used(region: &str, percent: Option<f64>) -> TargetStatus {
        TargetStatus {
            current_value: Some(640.0),
            usage: Some(Box::new(crate::api::UsageStatus {
                utilization_percent: percent,
                unknown: percent.is_none().then(|| "NoUsageMetric: none".into()),
                ..Default::default()
            })),
            ..target(region, TargetState::Satisfied)
        }
    }

    #[test]
    fn near_limit_names_the_regions_at_or_above_the_threshold_and_leaves_ready_alone() {
        let targets = [
            used("us-east-1", Some(86.2)),
            used("eu-west-1", Some(80.0)),
            used("ap-south-1", Some(79.9)),
        ];
        let d = near_limit(&targets, 80.0).unwrap();
        assert_eq!((d.status, d.reason.as_str()), (true, "UtilizationHigh"));
        assert!(
            d.message.contains("us-east-1: 86.2 % of 640 used"),
            "{}",
            d.message
        );
        assert!(
            d.message.contains("eu-west-1"),
            "the threshold itself counts"
        );
        assert!(!d.message.contains("ap-south-1"), "{}", d.message);
        let ready = desired_conditions(&targets, None);
        assert!(ready.iter().find(|c| c.type_ == READY).unwrap().status);

        assert_eq!(
            near_limit(&targets, 90.0),
            None,
            "left out below the threshold"
        );
        let d = near_limit(&[used("us-east-1", None)], 80.0).unwrap();
        assert_eq!((d.status, d.reason.as_str()), (false, "UsageUnknown"));
        assert_eq!(
            d.message,
            "usage is unknown: us-east-1: NoUsageMetric: none"
        );
    }

    #[test]
    fn near_limit_claims_nothing_before_usage_is_read() {
        let never_read = target("us-east-1", TargetState::Blocked);
        assert_eq!(near_limit(std::slice::from_ref(&never_read), 80.0), None);
        let read = [never_read, used("eu-west-1", None)];
        let d = near_limit(&read, 80.0).unwrap();
        assert_eq!(
            d.message, "usage is unknown: eu-west-1: NoUsageMetric: none",
            "only the region read is named"
        );
    }

    /// (Ready, Reconciling, Stalled) and the reason of Ready.
    fn verdict(states: &[TargetState], blocker: Option<&Blocker>) -> (bool, bool, bool, String) {
        let targets: Vec<_> = states
            .iter()
            .enumerate()
            .map(|(i, s)| target(&format!("r{i}"), *s))
            .collect();
        let c = desired_conditions(&targets, blocker);
        let get = |t: &str| c.iter().find(|d| d.type_ == t);
        // Stalled and Reconciling are there only while true.
        let abnormal = |t: &str| {
            if let Some(d) = get(t) {
                assert!(d.status, "{t} present while false");
            }
            get(t).is_some()
        };
        let ready = get(READY).unwrap();
        (
            ready.status,
            abnormal(RECONCILING),
            abnormal(STALLED),
            ready.reason.clone(),
        )
    }

    #[test]
    fn ready_only_when_every_region_is_satisfied() {
        use TargetState::*;
        assert_eq!(
            verdict(&[Satisfied, Satisfied], None),
            (true, false, false, "AllSatisfied".into())
        );
        assert!(!verdict(&[Satisfied, Requested], None).0);
        assert!(!verdict(&[], None).0);
    }

    #[test]
    fn open_queued_and_failing_regions_are_reconciling() {
        use TargetState::*;
        assert_eq!(
            verdict(&[Requested], None),
            (false, true, false, "RequestOpen".into())
        );
        assert_eq!(
            verdict(&[Queued], None),
            (false, true, false, "Queued".into())
        );
        assert_eq!(
            verdict(&[Satisfied, Error], None),
            (false, true, false, "CloudError".into())
        );
    }

    #[test]
    fn terminal_states_stall_and_outrank_work_in_flight() {
        use TargetState::*;
        for state in [Denied, PartiallyGranted, NotAdjustable, Blocked] {
            let (ready, reconciling, stalled, reason) =
                verdict(&[Satisfied, state, Requested], None);
            assert!(!ready && !reconciling && stalled, "{state:?}");
            assert_eq!(reason, state.as_str());
        }
    }

    #[test]
    fn a_blocked_region_that_names_its_reason_gives_it_to_stalled() {
        let named = |region: &str, message: &str| TargetStatus {
            message: Some(message.into()),
            ..target(region, TargetState::Blocked)
        };
        let code = named(
            "us-east-1",
            "QuotaNotFound: service ec2 has no quota L-34B43A09",
        );
        let c = desired_conditions(std::slice::from_ref(&code), None);
        let stalled = c.iter().find(|d| d.type_ == STALLED).unwrap();
        assert_eq!(stalled.reason, "QuotaNotFound");
        assert_eq!(
            c.iter().find(|d| d.type_ == READY).unwrap().reason,
            "QuotaNotFound"
        );
        // Regions blocked for different reasons, or one that names none: the state's name.
        let guardrail = named("eu-west-1", "2000 exceeds the account's guardrail");
        let c = desired_conditions(&[code, guardrail], None);
        assert_eq!(
            c.iter().find(|d| d.type_ == STALLED).unwrap().reason,
            "Blocked"
        );
        let lookalike = named("us-east-1", "QuotaNotFoundish: no");
        let c = desired_conditions(&[lookalike], None);
        assert_eq!(
            c.iter().find(|d| d.type_ == STALLED).unwrap().reason,
            "Blocked"
        );
    }

    #[test]
    fn an_account_problem_stalls_unless_it_is_being_retried() {
        let blocker = Blocker::until_changed("AccountMismatch", "STS says 222".into());
        assert_eq!(
            verdict(&[TargetState::Blocked], Some(&blocker)),
            (false, false, true, "AccountMismatch".into())
        );
        let retried = Blocker {
            reason: "CloudError",
            message: "STS unavailable".into(),
            retry: true,
        };
        assert_eq!(
            verdict(&[TargetState::Error], Some(&retried)),
            (false, true, false, "CloudError".into())
        );
    }

    #[test]
    fn a_support_case_waiting_for_the_customer_names_the_reason_while_in_progress() {
        let mut waiting = target("us-east-1", TargetState::Requested);
        waiting.message =
            Some("AwaitingCustomerReply: AWS asked a question in support case 1: why?".into());
        let other = target("eu-west-1", TargetState::Requested);
        let reason = |targets: &[TargetStatus]| {
            let desired = desired_conditions(targets, None);
            let of = |t: &str| {
                desired
                    .iter()
                    .find(|d| d.type_ == t)
                    .map(|d| d.reason.clone())
            };
            (of(READY), of(RECONCILING), of(STALLED))
        };
        let awaiting = Some("AwaitingCustomerReply".to_string());
        assert_eq!(
            reason(&[waiting.clone(), other.clone()]),
            (awaiting.clone(), awaiting, None)
        );
        let open = Some("RequestOpen".to_string());
        assert_eq!(
            reason(std::slice::from_ref(&other)),
            (open.clone(), open, None)
        );
        let mut error = target("ap-south-1", TargetState::Error);
        error.message = Some("boom".into());
        let cloud_error = Some("CloudError".to_string());
        assert_eq!(
            reason(&[waiting, error]).0,
            cloud_error,
            "a failing region is told first"
        );
    }
}
