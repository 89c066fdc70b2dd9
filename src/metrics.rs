//! Prometheus metrics, served at `/metrics` on the probe port. The controller's series use
//! controller-runtime's names, so dashboards made for Go operators work; the product's own are
//! under `quota_operator_`. One process-wide registry: every layer reports into it without the
//! handle being threaded through the pipeline.

use std::{
    collections::HashMap,
    sync::{LazyLock, Mutex, atomic::AtomicU64},
    time::Duration,
};

use prometheus_client::{
    encoding::text::encode,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::{Registry, Unit},
};

use crate::api::{Shared, TargetState, TargetStatus};

/// The name the controller reports as, in every `controller` label.
pub const CONTROLLER: &str = "quotarequirement";

type Labels<const N: usize> = [(&'static str, String); N];
type FloatGauge = Gauge<f64, AtomicU64>;

struct Metrics {
    registry: Registry,
    reconciles: Family<Labels<2>, Counter>,
    reconcile_errors: Family<Labels<1>, Counter>,
    reconcile_time: Family<Labels<1>, Histogram>,
    active_workers: Family<Labels<1>, Gauge>,
    max_concurrent: Family<Labels<1>, Gauge>,
    current_value: Family<Labels<3>, FloatGauge>,
    desired_value: Family<Labels<3>, FloatGauge>,
    targets: Family<Labels<1>, Gauge>,
    open_requests: Family<Labels<3>, Gauge>,
    open_request_age: Family<Labels<3>, FloatGauge>,
    usage: Family<Labels<3>, FloatGauge>,
    usage_peak: Family<Labels<3>, FloatGauge>,
    utilization: Family<Labels<3>, FloatGauge>,
    exhaustion: Family<Labels<3>, FloatGauge>,
    threshold: Family<Labels<1>, FloatGauge>,
    request_duration: Histogram,
    cloud_calls: Family<Labels<2>, Counter>,
    cloud_errors: Family<Labels<3>, Counter>,
    cloud_throttles: Family<Labels<2>, Counter>,
    leader: Gauge,
    queue_depth: Family<Labels<2>, Gauge>,
    queue_adds: Family<Labels<2>, Counter>,
    queue_retries: Family<Labels<2>, Counter>,
    queue_duration: Family<Labels<2>, Histogram>,
    work_duration: Family<Labels<2>, Histogram>,
    /// What the metrics keep of each object, one entry an object (at 10,000 objects three maps
    /// keyed by name, holding label strings of their own, were 4 MB).
    objects: Mutex<HashMap<String, Held>>,
}

/// What the metrics keep of one object.
#[derive(Default)]
struct Held {
    /// When its next reconcile is due. kube-runtime keeps its queue private, so the work queue
    /// series are kept from here: an object is queued from the moment its scheduled reconcile is
    /// due until that reconcile starts (reconciles a watch event brings forward are not counted
    /// as waiting).
    due: Option<std::time::Instant>,
    /// Its target states, so `targets{state}` counts the fleet, not reconciles.
    states: Vec<TargetState>,
    /// The (account, region, quota) series it reports: a series goes once no object reports it
    /// any more, so labels never outlive the objects and accounts they came from.
    series: Vec<Series>,
}

/// A series' account, region and quota, shared with every other object that reports it.
type Series = [Shared; 3];

/// The entry of `object`, made when it has none (its name copied only then).
fn held_mut<'a>(objects: &'a mut HashMap<String, Held>, object: &str) -> &'a mut Held {
    if !objects.contains_key(object) {
        objects.insert(object.to_string(), Held::default());
    }
    objects.get_mut(object).expect("just inserted")
}

/// Moves `targets{state}` by `by` for each of `states`.
fn count_states(states: &[TargetState], by: i64) {
    for s in states {
        METRICS
            .targets
            .get_or_create(&[("state", s.as_str().into())])
            .inc_by(by);
    }
}

fn series_of(labels: &Labels<3>) -> Series {
    labels.clone().map(|(_, v)| Shared::from(v))
}

fn labels_of(series: &Series) -> Labels<3> {
    let [account, region, quota] = series;
    [
        ("account", account.to_string()),
        ("region", region.to_string()),
        ("quota", quota.to_string()),
    ]
}

fn seconds_buckets() -> Histogram {
    Histogram::new([
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    ])
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::default();
    let m = Metrics {
        registry: Registry::default(),
        reconciles: Family::default(),
        reconcile_errors: Family::default(),
        reconcile_time: Family::new_with_constructor(seconds_buckets),
        active_workers: Family::default(),
        max_concurrent: Family::default(),
        current_value: Family::default(),
        desired_value: Family::default(),
        targets: Family::default(),
        open_requests: Family::default(),
        open_request_age: Family::default(),
        usage: Family::default(),
        usage_peak: Family::default(),
        utilization: Family::default(),
        exhaustion: Family::default(),
        threshold: Family::default(),
        // Filing to close: minutes to weeks (support cases).
        request_duration: Histogram::new([
            60.0,
            300.0,
            900.0,
            3600.0,
            14400.0,
            86400.0,
            259_200.0,
            604_800.0,
            2_592_000.0,
        ]),
        cloud_calls: Family::default(),
        cloud_errors: Family::default(),
        cloud_throttles: Family::default(),
        leader: Gauge::default(),
        queue_depth: Family::default(),
        queue_adds: Family::default(),
        queue_retries: Family::default(),
        queue_duration: Family::new_with_constructor(seconds_buckets),
        work_duration: Family::new_with_constructor(seconds_buckets),
        objects: Mutex::default(),
    };
    registry.register(
        "controller_runtime_reconcile",
        "Reconciles by result (success, error, requeue_after)",
        m.reconciles.clone(),
    );
    registry.register(
        "controller_runtime_reconcile_errors",
        "Reconciles that returned an error",
        m.reconcile_errors.clone(),
    );
    registry.register_with_unit(
        "controller_runtime_reconcile_time",
        "Time per reconcile",
        Unit::Seconds,
        m.reconcile_time.clone(),
    );
    registry.register(
        "controller_runtime_active_workers",
        "Reconciles running now",
        m.active_workers.clone(),
    );
    registry.register(
        "controller_runtime_max_concurrent_reconciles",
        "Reconciles allowed at once",
        m.max_concurrent.clone(),
    );
    registry.register(
        "quota_operator_quota_current_value",
        "The quota's value as the cloud reports it (-1: unlimited)",
        m.current_value.clone(),
    );
    registry.register(
        "quota_operator_quota_desired_value",
        "The effective desired value (the largest need among the objects naming the quota)",
        m.desired_value.clone(),
    );
    registry.register(
        "quota_operator_targets",
        "Targets (object and region) by state",
        m.targets.clone(),
    );
    registry.register(
        "quota_operator_open_requests",
        "Open increase requests followed, per quota",
        m.open_requests.clone(),
    );
    registry.register_with_unit(
        "quota_operator_open_request_age",
        "Age of the open request, per quota",
        Unit::Seconds,
        m.open_request_age.clone(),
    );
    registry.register(
        "quota_operator_quota_usage",
        "Usage of the quota now, in its unit, as the cloud reports it (absent when unknown)",
        m.usage.clone(),
    );
    registry.register(
        "quota_operator_quota_usage_peak",
        "The highest usage over the object's window",
        m.usage_peak.clone(),
    );
    registry.register(
        "quota_operator_quota_utilization_ratio",
        "Usage now over the quota's current value (0.8 is 80 %)",
        m.utilization.clone(),
    );
    registry.register_with_unit(
        "quota_operator_quota_exhaustion_forecast",
        "Time until the usage trend reaches the quota's value (absent when not within 90 days)",
        Unit::Seconds,
        m.exhaustion.clone(),
    );
    registry.register(
        "quota_operator_account_utilization_threshold_ratio",
        "The CloudAccount's utilisation threshold (spec.usage.thresholdPercent / 100)",
        m.threshold.clone(),
    );
    registry.register_with_unit(
        "quota_operator_request_duration",
        "Time from filing a request to its close",
        Unit::Seconds,
        m.request_duration.clone(),
    );
    registry.register(
        "quota_operator_cloud_api_calls",
        "Calls to the clouds' quota APIs",
        m.cloud_calls.clone(),
    );
    registry.register(
        "quota_operator_cloud_api_errors",
        "Cloud API calls that failed, by the cloud's error code",
        m.cloud_errors.clone(),
    );
    registry.register(
        "quota_operator_cloud_api_throttles",
        "Cloud API calls answered with throttling",
        m.cloud_throttles.clone(),
    );
    registry.register(
        "quota_operator_leader",
        "1 while this replica holds the lease (or runs without leader election)",
        m.leader.clone(),
    );
    registry.register(
        "workqueue_depth",
        "Scheduled reconciles that are due and not yet started",
        m.queue_depth.clone(),
    );
    registry.register(
        "workqueue_adds",
        "Reconciles scheduled (resyncs, polls and retries)",
        m.queue_adds.clone(),
    );
    registry.register(
        "workqueue_retries",
        "Reconciles scheduled again after an error",
        m.queue_retries.clone(),
    );
    registry.register_with_unit(
        "workqueue_queue_duration",
        "How long a due reconcile waited for a worker",
        Unit::Seconds,
        m.queue_duration.clone(),
    );
    registry.register_with_unit(
        "workqueue_work_duration",
        "How long a reconcile took",
        Unit::Seconds,
        m.work_duration.clone(),
    );
    Metrics { registry, ..m }
});

fn queue() -> Labels<2> {
    [
        ("name", CONTROLLER.to_string()),
        ("controller", CONTROLLER.to_string()),
    ]
}

/// The object's next reconcile is due in `after` (`retry`: after an error).
pub fn scheduled(object: &str, after: Duration, retry: bool) {
    let due = std::time::Instant::now() + after;
    held_mut(
        &mut METRICS.objects.lock().expect("metrics objects"),
        object,
    )
    .due = Some(due);
    METRICS.queue_adds.get_or_create(&queue()).inc();
    if retry {
        METRICS.queue_retries.get_or_create(&queue()).inc();
    }
}

fn refresh_queue_depth() {
    let now = std::time::Instant::now();
    let objects = METRICS.objects.lock().expect("metrics objects");
    let depth = objects
        .values()
        .filter(|held| held.due.is_some_and(|at| at <= now))
        .count();
    METRICS
        .queue_depth
        .get_or_create(&queue())
        .set(depth as i64);
}

/// The exposition in OpenMetrics, what Prometheus asks for.
pub fn render_openmetrics() -> String {
    refresh_queue_depth();
    let mut out = String::new();
    encode(&mut out, &METRICS.registry).expect("metrics encode into a String");
    out
}

/// The exposition in the Prometheus text format (0.0.4), for clients that do not ask for
/// OpenMetrics (promtool, curl, older scrapers). The two differ in metadata only: OpenMetrics
/// names a counter family without `_total` and has `# UNIT` and `# EOF` lines.
pub fn render_text() -> String {
    let open = render_openmetrics();
    let counters: std::collections::HashSet<&str> = open
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(open.len());
    for line in open.lines() {
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        let meta = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|p| line.strip_prefix(p).map(|rest| (p, rest)));
        match meta {
            Some((prefix, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                let name = if counters.contains(name) {
                    format!("{name}_total")
                } else {
                    name.to_string()
                };
                out.push_str(&format!("{prefix}{name} {tail}\n"));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

fn controller() -> Labels<1> {
    [("controller", CONTROLLER.to_string())]
}

pub fn set_max_concurrent(n: u16) {
    METRICS
        .max_concurrent
        .get_or_create(&controller())
        .set(n.into());
}

pub fn set_leader(leading: bool) {
    METRICS.leader.set(leading.into());
}

/// A reconcile of `object` began; the guard records its time, result and the worker's release.
pub fn reconcile_started(object: &str) -> ReconcileTimer {
    let now = std::time::Instant::now();
    let due = METRICS
        .objects
        .lock()
        .expect("metrics objects")
        .get_mut(object)
        .and_then(|held| held.due.take());
    if let Some(due) = due
        && due <= now
    {
        METRICS
            .queue_duration
            .get_or_create(&queue())
            .observe((now - due).as_secs_f64());
    }
    METRICS.active_workers.get_or_create(&controller()).inc();
    ReconcileTimer(now)
}

pub struct ReconcileTimer(std::time::Instant);

impl ReconcileTimer {
    pub fn finished(self, ok: bool) {
        let c = controller();
        METRICS.active_workers.get_or_create(&c).dec();
        let took = self.0.elapsed().as_secs_f64();
        METRICS.reconcile_time.get_or_create(&c).observe(took);
        METRICS.work_duration.get_or_create(&queue()).observe(took);
        // Every successful reconcile asks to be requeued (resync or poll).
        let result = if ok { "requeue_after" } else { "error" };
        METRICS
            .reconciles
            .get_or_create(&[("controller", CONTROLLER.into()), ("result", result.into())])
            .inc();
        if !ok {
            METRICS.reconcile_errors.get_or_create(&c).inc();
        }
    }
}

/// One object's targets after a reconcile: values, states and open requests per quota.
/// An object's targets. `account` is None when the object may not use its account (it does
/// not exist, or the namespace is not allowed): such an object reports its states only, so a
/// spec string never becomes a label. A region reports values only once the cloud answered for
/// it, and only for a resolved quota: a region the cloud says it does not have (Blocked, its
/// carried value dropped by `controller::observe`) makes no series, so made-up region names
/// cannot mint labels.
/// `threshold` is the account's utilisation threshold in percent.
pub fn targets(
    object: &str,
    account: Option<&str>,
    quota: Option<&str>,
    targets: &[TargetStatus],
    threshold: f64,
) {
    let series: Vec<Labels<3>> = match (account, quota) {
        (Some(account), Some(quota)) => targets
            .iter()
            .filter(|t| t.current_value.is_some())
            .map(|t| {
                [
                    ("account", account.to_string()),
                    ("region", t.region.clone()),
                    ("quota", quota.to_string()),
                ]
            })
            .collect(),
        _ => vec![],
    };
    for (t, labels) in targets
        .iter()
        .filter(|t| t.current_value.is_some())
        .zip(&series)
    {
        let labels = labels.clone();
        if let Some(v) = t.current_value {
            METRICS.current_value.get_or_create(&labels).set(v);
        }
        if let Some(v) = t.desired_value {
            METRICS.desired_value.get_or_create(&labels).set(v as f64);
        }
        let open = t.state == TargetState::Requested
            && t.request.as_ref().is_some_and(|r| {
                r.phase.is_none_or(|p| {
                    matches!(
                        p,
                        crate::api::RequestPhase::Open | crate::api::RequestPhase::Unknown
                    )
                })
            });
        METRICS
            .open_requests
            .get_or_create(&labels)
            .set(open.into());
        let age = t
            .request
            .as_ref()
            .filter(|_| open)
            .and_then(|r| r.submitted_at.as_ref())
            .map(|at| jiff::Timestamp::now().duration_since(at.0).as_secs_f64())
            .unwrap_or(0.0);
        METRICS.open_request_age.get_or_create(&labels).set(age);
        usage_series(&labels, t);
    }
    if let (Some(account), false) = (account, series.is_empty()) {
        account_threshold(account, threshold);
    }
    report_series(object, &series);
    let states: Vec<TargetState> = targets.iter().map(|t| t.state).collect();
    let old = std::mem::replace(
        &mut held_mut(
            &mut METRICS.objects.lock().expect("metrics objects"),
            object,
        )
        .states,
        states.clone(),
    );
    count_states(&old, -1);
    count_states(&states, 1);
}

/// A target's usage series: set when known, removed when not (never a 0 for unknown).
fn usage_series(labels: &Labels<3>, t: &TargetStatus) {
    let u = t.usage.as_deref();
    let set = |family: &Family<Labels<3>, FloatGauge>, v: Option<f64>| match v {
        Some(v) => {
            family.get_or_create(labels).set(v);
        }
        None => {
            family.remove(labels);
        }
    };
    set(&METRICS.usage, u.and_then(|u| u.current));
    set(&METRICS.usage_peak, u.and_then(|u| u.peak));
    set(
        &METRICS.utilization,
        u.and_then(|u| u.utilization_percent).map(|p| p / 100.0),
    );
    let until = u.and_then(|u| u.exhaustion_at.as_ref()).map(|at| {
        jiff::Timestamp::now()
            .duration_until(at.0)
            .as_secs_f64()
            .max(0.0)
    });
    set(&METRICS.exhaustion, until);
}

/// The utilisation threshold of each CloudAccount that some object reports series for; it goes
/// with the last of them (`report_series`).
fn account_threshold(account: &str, percent: f64) {
    METRICS
        .threshold
        .get_or_create(&[("account", account.to_string())])
        .set(percent / 100.0);
}

/// A request this object followed closed: how long it was open.
pub fn request_closed(open_for: Duration) {
    METRICS.request_duration.observe(open_for.as_secs_f64());
}

/// One call to a cloud API, with what it came to (`Err` carries the cloud's error code).
pub fn cloud_call(cloud: &'static str, operation: &'static str, outcome: Result<(), (&str, bool)>) {
    let labels = [
        ("cloud", cloud.to_string()),
        ("operation", operation.to_string()),
    ];
    METRICS.cloud_calls.get_or_create(&labels).inc();
    if let Err((code, throttled)) = outcome {
        METRICS
            .cloud_errors
            .get_or_create(&[
                ("cloud", cloud.to_string()),
                ("operation", operation.to_string()),
                ("code", code.to_string()),
            ])
            .inc();
        if throttled {
            METRICS.cloud_throttles.get_or_create(&labels).inc();
        }
    }
}

/// Records a cloud call's result.
pub fn cloud_result<T>(
    cloud: &'static str,
    operation: &'static str,
    result: &Result<T, crate::cloud::boundary::CloudError>,
) {
    let outcome = match result {
        Ok(_) => Ok(()),
        Err(e) => Err((
            e.code.as_str(),
            e.kind == crate::cloud::boundary::ErrorKind::Throttled,
        )),
    };
    cloud_call(cloud, operation, outcome);
}

/// Records the series `object` reports now, and removes those no object reports any more.
fn report_series(object: &str, now: &[Labels<3>]) {
    let now: Vec<Series> = now.iter().map(series_of).collect();
    let mut objects = METRICS.objects.lock().expect("metrics objects");
    // An object that reports nothing and was never seen gets no entry.
    let before = match now.is_empty() && !objects.contains_key(object) {
        true => vec![],
        false => std::mem::replace(&mut held_mut(&mut objects, object).series, now.clone()),
    };
    for series in before {
        let held = |s: &Series| objects.values().any(|h| h.series.contains(s));
        if now.contains(&series) || held(&series) {
            continue;
        }
        let labels = labels_of(&series);
        METRICS.current_value.remove(&labels);
        METRICS.desired_value.remove(&labels);
        METRICS.open_requests.remove(&labels);
        METRICS.open_request_age.remove(&labels);
        METRICS.usage.remove(&labels);
        METRICS.usage_peak.remove(&labels);
        METRICS.utilization.remove(&labels);
        METRICS.exhaustion.remove(&labels);
        let [account, ..] = series;
        if !objects
            .values()
            .flat_map(|h| &h.series)
            .any(|held| held[0] == account)
        {
            METRICS
                .threshold
                .remove(&[("account", account.to_string())]);
        }
    }
}

/// An object was deleted: its targets no longer count.
pub fn forget(object: &str) {
    report_series(object, &[]);
    let held = METRICS
        .objects
        .lock()
        .expect("metrics objects")
        .remove(object);
    count_states(&held.map(|h| h.states).unwrap_or_default(), -1);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(name: &str, current: Option<f64>) -> TargetStatus {
        TargetStatus {
            region: name.into(),
            current_value: current,
            desired_value: Some(10),
            driven_by: None,
            state: TargetState::Satisfied,
            request: None,
            capacity: None,
            usage: None,
            headroom: None,
            message: None,
        }
    }

    #[test]
    fn spec_strings_become_labels_only_once_allowed_and_go_with_their_objects() {
        // Not allowed to use its account: states only, no account or region label.
        targets(
            "t/hostile",
            None,
            Some("ec2/L-1"),
            &[region("xx-hostile-1", Some(1.0))],
            80.0,
        );
        assert!(!render_text().contains("xx-hostile-1"));
        // Allowed, but the cloud never answered for the region: no series either.
        targets(
            "t/a",
            Some("acct-metrics"),
            Some("ec2/L-1"),
            &[region("zz-nowhere-9", None)],
            80.0,
        );
        let text = render_text();
        assert!(!text.contains("zz-nowhere-9"));
        assert!(
            !text.contains("acct-metrics"),
            "no threshold without a series"
        );
        // Two objects share a series; it goes when the last one does.
        let shared = [region("eu-metrics-1", Some(5.0))];
        targets("t/a", Some("acct-metrics"), Some("ec2/L-1"), &shared, 80.0);
        targets("t/b", Some("acct-metrics"), Some("ec2/L-1"), &shared, 80.0);
        forget("t/a");
        let text = render_text();
        assert!(text.contains("region=\"eu-metrics-1\""));
        assert!(
            text.contains(
                "quota_operator_account_utilization_threshold_ratio{account=\"acct-metrics\"} 0.8"
            ),
            "{text}"
        );
        // A changed region drops the old series.
        targets(
            "t/b",
            Some("acct-metrics"),
            Some("ec2/L-1"),
            &[region("eu-metrics-2", Some(5.0))],
            80.0,
        );
        let text = render_text();
        assert!(!text.contains("eu-metrics-1"), "{text}");
        assert!(text.contains("eu-metrics-2"));
        forget("t/b");
        assert!(
            !render_text().contains("acct-metrics"),
            "the account's threshold went with its last object"
        );
    }

    #[test]
    fn names_follow_controller_runtime_and_carry_the_suffixes_dashboards_expect() {
        scheduled("ns/x", Duration::ZERO, false);
        let t = reconcile_started("ns/x");
        t.finished(true);
        scheduled("ns/y", Duration::ZERO, true);
        cloud_call(
            "aws",
            "ListServiceQuotas",
            Err(("TooManyRequestsException", true)),
        );
        let text = render_text();
        assert!(render_openmetrics().ends_with("# EOF\n"));
        assert!(
            text.contains("# TYPE controller_runtime_reconcile_total counter"),
            "{text}"
        );
        for name in [
            "controller_runtime_reconcile_total{controller=\"quotarequirement\",result=\"requeue_after\"}",
            "controller_runtime_reconcile_time_seconds_bucket",
            "quota_operator_cloud_api_calls_total{cloud=\"aws\",operation=\"ListServiceQuotas\"}",
            "quota_operator_cloud_api_throttles_total",
            "workqueue_depth{name=\"quotarequirement\",controller=\"quotarequirement\"} 1",
            "workqueue_retries_total{name=\"quotarequirement\",controller=\"quotarequirement\"} 1",
            "workqueue_queue_duration_seconds_count{name=\"quotarequirement\",controller=\"quotarequirement\"} 1",
            "quota_operator_cloud_api_errors_total{cloud=\"aws\",operation=\"ListServiceQuotas\",code=\"TooManyRequestsException\"}",
        ] {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
    }
}
