//! The GCP Cloud Quotas simulator against independent clients: the official Rust client
//! (google-cloud-api-cloudquotas-v1) and gcloud, over HTTP on loopback. Schedules use polls or
//! manual moves, so the assertions do not depend on machine speed.

mod machine_types;
mod preferences;
mod regions;
mod usage;

use std::{collections::HashMap, process::Output};

use google_cloud_api_cloudquotas_v1::{
    client::CloudQuotas,
    model::{
        QuotaConfig, QuotaInfo, QuotaPreference, QuotaSafetyCheck,
        quota_config::Origin as WireOrigin, quota_increase_eligibility::IneligibilityReason,
        quota_info::ContainerType,
    },
};
use google_cloud_gax::error::{Error, rpc::Code};
use google_cloud_wkt::FieldMask;
use quota_sim::{
    GcpSim, Scenario, SimHandle,
    gcp::{Change, Code as SimCode, Fault, dims},
};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    process::Command,
};

const COMPUTE: &str = "compute.googleapis.com";
const CPUS: &str = "CPUS-per-project-region";
const L4: &str = "NVIDIA-L4-GPUS-per-project-region";

async fn start(yaml: &str) -> SimHandle {
    let scenario = Scenario::from_yaml(yaml).expect("test scenario");
    GcpSim::new(scenario)
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("start simulator")
}

async fn client(sim: &SimHandle) -> CloudQuotas {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    CloudQuotas::builder()
        .with_endpoint(sim.endpoint())
        .with_credentials(google_cloud_auth::credentials::anonymous::Builder::new().build())
        .build()
        .await
        .expect("Cloud Quotas client")
}

fn info_name(project: &str, quota_id: &str) -> String {
    format!("projects/{project}/locations/global/services/{COMPUTE}/quotaInfos/{quota_id}")
}

fn parent(project: &str) -> String {
    format!("projects/{project}/locations/global")
}

fn pref_name(project: &str, id: &str) -> String {
    format!("projects/{project}/locations/global/quotaPreferences/{id}")
}

/// A preference for `quota_id` in `region`, asking `value`, with a contact email.
fn want(quota_id: &str, region: &str, value: i64) -> QuotaPreference {
    QuotaPreference::new()
        .set_service(COMPUTE)
        .set_quota_id(quota_id)
        .set_dimensions([("region", region)])
        .set_quota_config(QuotaConfig::new().set_preferred_value(value))
        .set_contact_email("quota-admins@example.com")
}

/// The google.rpc code and HTTP status of a failed call.
fn failure<T: std::fmt::Debug>(r: Result<T, Error>) -> (Code, u16, String) {
    let e = r.expect_err("the call should fail");
    let status = e
        .status()
        .unwrap_or_else(|| panic!("no google.rpc status in {e:?}"));
    (
        status.code,
        e.http_status_code().unwrap_or(0),
        status.message.clone(),
    )
}

/// Region (None: the default entry) -> value, from a QuotaInfo.
fn values(info: &QuotaInfo) -> HashMap<Option<String>, i64> {
    let value = |d: &google_cloud_api_cloudquotas_v1::model::DimensionsInfo| {
        d.details.as_ref().map_or(-1, |x| x.value)
    };
    info.dimensions_infos
        .iter()
        .map(|d| (d.dimensions.get("region").cloned(), value(d)))
        .collect()
}

type R<T> = Result<T, Error>;

async fn info(c: &CloudQuotas, project: &str, quota_id: &str) -> R<QuotaInfo> {
    c.get_quota_info()
        .set_name(info_name(project, quota_id))
        .send()
        .await
}

async fn create(
    c: &CloudQuotas,
    project: &str,
    id: &str,
    p: QuotaPreference,
) -> R<QuotaPreference> {
    let call = c.create_quota_preference().set_parent(parent(project));
    call.set_quota_preference_id(id)
        .set_quota_preference(p)
        .send()
        .await
}

/// UpdateQuotaPreference flags besides the mask.
#[derive(Clone, Copy, Default)]
struct Flags {
    allow_missing: bool,
    validate_only: bool,
    ignore: &'static [QuotaSafetyCheck],
}

async fn update(
    c: &CloudQuotas,
    p: QuotaPreference,
    mask: &[&str],
    f: Flags,
) -> R<QuotaPreference> {
    let call = c.update_quota_preference().set_quota_preference(p);
    let call = call.set_update_mask(FieldMask::default().set_paths(mask.iter().copied()));
    let call = call
        .set_allow_missing(f.allow_missing)
        .set_validate_only(f.validate_only);
    call.set_ignore_safety_checks(f.ignore.iter().cloned())
        .send()
        .await
}

async fn region_value(c: &CloudQuotas, project: &str, quota_id: &str, region: &str) -> i64 {
    let v = values(&info(c, project, quota_id).await.unwrap());
    v.get(&Some(region.to_string()))
        .or(v.get(&None))
        .copied()
        .unwrap()
}

async fn get(c: &CloudQuotas, project: &str, id: &str) -> QuotaPreference {
    let call = c.get_quota_preference().set_name(pref_name(project, id));
    call.send().await.unwrap()
}

async fn list(
    c: &CloudQuotas,
    project: &str,
    filter: &str,
    order_by: &str,
) -> Vec<QuotaPreference> {
    let call = c.list_quota_preferences().set_parent(parent(project));
    let page = call
        .set_filter(filter)
        .set_order_by(order_by)
        .send()
        .await
        .unwrap();
    page.quota_preferences
}

async fn ids(c: &CloudQuotas, project: &str, filter: &str) -> Vec<String> {
    let id = |p: &QuotaPreference| p.name.rsplit('/').next().unwrap().to_string();
    list(c, project, filter, "").await.iter().map(id).collect()
}

fn config(p: &QuotaPreference) -> QuotaConfig {
    p.quota_config.clone().expect("quotaConfig")
}

const VALUES: &str = r#"
gcp:
  projects: [p1, p2]
  values:
  - {quotaId: CPUS-per-project-region, project: p1, region: us-central1, value: 100, usage: 60}
  - {quotaId: CPUS-per-project-region, region: europe-west4, value: 48}
  - {quotaId: GPUS-PER-GPU-FAMILY-per-project-region, project: p1, dimensions: {region: us-central1, gpu_family: NVIDIA_L4}, value: 8}
  schedule: {manual: true}
"#;

#[tokio::test]
async fn quota_infos_show_defaults_and_per_project_values() {
    let sim = start(VALUES).await;
    let c = client(&sim).await;
    let cpus = info(&c, "p1", CPUS).await.unwrap();
    assert_eq!(cpus.metric, "compute.googleapis.com/cpus");
    assert_eq!(cpus.dimensions, ["region"]);
    assert_eq!(cpus.container_type, ContainerType::Project);
    assert!(!cpus.is_fixed && !cpus.is_concurrent);
    let v = values(&cpus);
    let region = |r: &str| v[&Some(r.to_string())];
    assert_eq!(
        (v[&None], region("us-central1"), region("europe-west4")),
        (24, 100, 48)
    );
    let p2 = values(&info(&c, "p2", CPUS).await.unwrap());
    assert_eq!(
        p2.len(),
        2,
        "the default and the every-project europe-west4: {p2:?}"
    );

    let ops = info(&c, "p1", "GLOBAL-CONCURRENT-OPERATIONS-per-project")
        .await
        .unwrap();
    assert!(ops.is_concurrent && ops.dimensions.is_empty());
    assert_eq!(ops.dimensions_infos[0].applicable_locations, ["global"]);
    assert_eq!(values(&ops)[&None], 500);
    let regional = "REGIONAL-CONCURRENT-OPERATIONS-per-project-region";
    let regional = info(&c, "p1", regional).await.unwrap();
    assert!(regional.is_concurrent && regional.dimensions == ["region"]);
    assert_eq!(values(&regional)[&None], 500);
    let all = info(&c, "p1", "CPUS-ALL-REGIONS-per-project")
        .await
        .unwrap();
    let eligibility = all.quota_increase_eligibility.unwrap();
    assert!(!eligibility.is_eligible);
    let reason = eligibility.ineligibility_reason;
    assert_eq!(reason, IneligibilityReason::NotEnoughUsageHistory);
    let family = info(&c, "p1", "GPUS-PER-GPU-FAMILY-per-project-region")
        .await
        .unwrap();
    let by_family = family
        .dimensions_infos
        .iter()
        .find(|d| d.dimensions.len() == 2);
    assert_eq!(by_family.unwrap().details.as_ref().unwrap().value, 8);

    // Paging: every built-in compute quota, three at a time, in id order.
    let (mut seen, mut token, mut pages) = (Vec::new(), String::new(), 0);
    loop {
        let call = c
            .list_quota_infos()
            .set_parent(format!("{}/services/{COMPUTE}", parent("p1")));
        let page = call
            .set_page_size(3)
            .set_page_token(&token)
            .send()
            .await
            .unwrap();
        pages += 1;
        seen.extend(page.quota_infos.into_iter().map(|i| i.quota_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!((seen.len(), pages), (17, 6), "{seen:?}");
    assert!(
        seen.is_sorted()
            && seen
                .iter()
                .any(|q| q == "INSTANCES-PER-VPC-NETWORK-per-project")
    );

    assert_eq!(failure(info(&c, "p1", "NOPE").await).0, Code::NotFound);
    let (code, http, msg) = failure(info(&c, "p3", CPUS).await);
    assert_eq!((code, http), (Code::PermissionDenied, 403), "{msg}");
    assert_eq!(sim.gcp().calls("GetQuotaInfo"), 8);
    assert_eq!(sim.gcp().calls_in("p1", "ListQuotaInfos"), 6);
}

#[tokio::test]
async fn create_get_list_and_refusals() {
    let sim = start(VALUES).await;
    let c = client(&sim).await;
    let asked = QuotaConfig::new()
        .set_preferred_value(200)
        .set_annotations([("team", "batch")]);
    let ask = want(CPUS, "us-central1", 0)
        .set_quota_config(asked)
        .set_justification("Q4 batch");
    let made = create(&c, "p1", "cpus-usc1", ask.clone()).await.unwrap();
    assert_eq!(made.name, pref_name("p1", "cpus-usc1"));
    assert!(made.reconciling && !made.etag.is_empty() && made.create_time.is_some());
    let cfg = config(&made);
    assert_eq!((cfg.preferred_value, cfg.granted_value), (200, Some(100)));
    assert!(!cfg.trace_id.is_empty());
    assert_eq!(
        cfg.annotations.get("team").map(String::as_str),
        Some("batch")
    );
    assert_eq!(cfg.request_origin, WireOrigin::Unspecified);
    assert_eq!(made.justification, "Q4 batch");
    assert!(made.contact_email.is_empty(), "contactEmail is input only");
    assert_eq!(get(&c, "p1", "cpus-usc1").await.etag, made.etag);
    assert_eq!(ids(&c, "p1", "reconciling=true").await, ["cpus-usc1"]);
    assert!(ids(&c, "p1", "reconciling=false").await.is_empty());
    assert!(ids(&c, "p2", "").await.is_empty());

    let (code, http, _) = failure(create(&c, "p1", "cpus-usc1", ask.clone()).await);
    assert_eq!((code, http), (Code::AlreadyExists, 409));
    let (code, _, msg) = failure(create(&c, "p1", "another", ask).await);
    assert_eq!(
        code,
        Code::AlreadyExists,
        "one preference per quota and dimensions"
    );
    assert!(msg.contains("cpus-usc1"), "{msg}");
    let anonymous = want(CPUS, "europe-west4", 96).set_contact_email("");
    let (code, http, msg) = failure(create(&c, "p1", "no-email", anonymous).await);
    assert_eq!((code, http), (Code::InvalidArgument, 400));
    assert!(msg.contains("contact_email"), "{msg}");
    let (code, _, msg) = failure(create(&c, "p1", "moon", want(CPUS, "us-moon1", 96)).await);
    assert!(
        code == Code::InvalidArgument && msg.contains("us-moon1"),
        "{msg}"
    );
    let zoned = want(CPUS, "us-east1", 96).set_dimensions([("zone", "a")]);
    let (code, _, msg) = failure(create(&c, "p1", "zone", zoned).await);
    assert!(
        code == Code::InvalidArgument && msg.contains("zone"),
        "{msg}"
    );
    let (code, _, msg) = failure(create(&c, "p1", "Bad Id", want(CPUS, "us-east1", 96)).await);
    assert!(
        code == Code::InvalidArgument && msg.contains("Bad Id"),
        "{msg}"
    );

    let writes = sim.gcp().writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    let w = &writes[0];
    let summary = (w.id.as_str(), w.preferred_value, w.previous_value, w.change);
    assert_eq!(summary, ("cpus-usc1", 200, 100, Change::Increase));
    assert_eq!(w.source, "CreateQuotaPreference");
    assert_eq!(w.dimensions, dims([("region", "us-central1")]));
    assert_eq!(sim.gcp().calls("CreateQuotaPreference"), 7);

    sim.gcp().grant("p1", "cpus-usc1").unwrap();
    let granted = get(&c, "p1", "cpus-usc1").await;
    assert!(!granted.reconciling && granted.etag != made.etag);
    assert_eq!(config(&granted).granted_value, Some(200));
    assert_eq!(region_value(&c, "p1", CPUS, "us-central1").await, 200);
    assert!(ids(&c, "p1", "reconciling=true").await.is_empty());
}

#[tokio::test]
async fn patch_allow_missing_validate_only_and_etags() {
    let sim = start(VALUES).await;
    let c = client(&sim).await;
    let mask = ["quota_config.preferred_value", "contact_email"];
    let named = |value: i64| want(L4, "us-central1", value).set_name(pref_name("p1", "l4-usc1"));
    let missing = Flags {
        allow_missing: true,
        ..Flags::default()
    };
    let dry = Flags {
        validate_only: true,
        ..Flags::default()
    };

    let (code, _, _) = failure(update(&c, named(4), &mask, Flags::default()).await);
    assert_eq!(code, Code::NotFound, "absent and no allowMissing");
    let made = update(&c, named(4), &mask, missing).await.unwrap();
    assert!(made.reconciling);
    assert_eq!(config(&made).granted_value, Some(1));

    let checked = update(&c, named(8), &mask, dry).await.unwrap();
    assert_eq!(config(&checked).preferred_value, 8);
    let stored = get(&c, "p1", "l4-usc1").await;
    let seen = (config(&stored).preferred_value, &stored.etag);
    assert_eq!(seen, (4, &made.etag), "validateOnly stores nothing");
    assert_eq!(sim.gcp().writes().len(), 1);

    let raised = update(&c, named(6).set_etag(&made.etag), &mask, Flags::default())
        .await
        .unwrap();
    assert!(raised.reconciling && raised.etag != made.etag);
    let trace = config(&raised).trace_id;
    assert_ne!(
        trace,
        config(&made).trace_id,
        "a new value is a new request"
    );
    let stale = named(7).set_etag(&made.etag);
    let (code, http, msg) = failure(update(&c, stale, &mask, Flags::default()).await);
    assert_eq!((code, http), (Code::Aborted, 409), "{msg}");
    let moved = named(6).set_dimensions([("region", "us-east1")]);
    let (code, _, msg) = failure(update(&c, moved, &mask, Flags::default()).await);
    assert!(
        code == Code::InvalidArgument && msg.contains("immutable"),
        "{msg}"
    );
    let (code, _, msg) = failure(update(&c, named(6), &["reconciling"], Flags::default()).await);
    assert!(
        code == Code::InvalidArgument && msg.contains("reconciling"),
        "{msg}"
    );

    // Annotations only: a new etag, the open request untouched.
    let notes = QuotaConfig::new().set_annotations([("quota-operator.dev/from-value", "1")]);
    let only_notes = named(0).set_quota_config(notes).set_etag(&raised.etag);
    let mask = ["quotaConfig.annotations"];
    let annotated = update(&c, only_notes, &mask, Flags::default())
        .await
        .unwrap();
    let cfg = config(&annotated);
    assert_eq!((cfg.preferred_value, cfg.annotations.len()), (6, 1));
    assert!(annotated.reconciling && annotated.etag != raised.etag);
    assert_eq!(cfg.trace_id, trace);
    let writes = sim.gcp().writes();
    let changes: Vec<_> = writes
        .iter()
        .map(|w| (w.preferred_value, w.change))
        .collect();
    let up = Change::Increase;
    assert_eq!(changes, [(4, up), (6, up), (6, up)]);
}

#[tokio::test]
async fn increases_end_granted_partly_granted_or_refused_on_schedule() {
    let sim = start(
        r#"
gcp:
  schedule:
    default: {outcome: grant, after: 2 polls}
    rules:
    - {region: us-east1, outcome: partial, grantFraction: 0.5, after: 1 poll, stateDetail: "Half now"}
    - {region: europe-west4, outcome: refuse, after: 0, stateDetail: "Not enough usage history"}
    - {quotaId: NVIDIA-L4-GPUS-per-project-region, outcome: stay}
"#,
    )
    .await;
    let c = client(&sim).await;
    let asks = [
        ("a", CPUS, "us-central1", 100),
        ("b", CPUS, "us-east1", 124),
        ("c", CPUS, "europe-west4", 96),
        ("d", L4, "us-central1", 8),
    ];
    for (id, quota, region, value) in asks {
        let made = create(&c, "p", id, want(quota, region, value))
            .await
            .unwrap();
        assert!(made.reconciling, "{id} starts reconciling");
    }
    assert!(get(&c, "p", "a").await.reconciling);
    assert!(get(&c, "p", "a").await.reconciling);
    let a = get(&c, "p", "a").await;
    assert_eq!(
        (a.reconciling, config(&a).granted_value),
        (false, Some(100))
    );
    assert_eq!(region_value(&c, "p", CPUS, "us-central1").await, 100);

    assert!(get(&c, "p", "b").await.reconciling);
    let b = get(&c, "p", "b").await;
    let cfg = config(&b);
    assert!(!b.reconciling);
    assert_eq!(
        (cfg.granted_value, cfg.state_detail.as_str()),
        (Some(74), "Half now")
    );
    assert_eq!(region_value(&c, "p", CPUS, "us-east1").await, 74);

    let refused = get(&c, "p", "c").await;
    let cfg = config(&refused);
    assert!(!refused.reconciling);
    let seen = (cfg.granted_value, cfg.state_detail.as_str());
    assert_eq!(seen, (Some(24), "Not enough usage history"));
    assert_eq!(region_value(&c, "p", CPUS, "europe-west4").await, 24);

    for _ in 0..3 {
        assert!(
            get(&c, "p", "d").await.reconciling,
            "`stay` waits for an admin"
        );
    }
    assert!(sim.gcp().advance("p", "d").is_err());
    assert!(sim.gcp().grant_partial("p", "d", 8, "all of it").is_err());
    sim.gcp()
        .grant_partial("p", "d", 4, "4 of 8 for now")
        .unwrap();
    let d = config(&get(&c, "p", "d").await);
    assert_eq!(
        (d.granted_value, d.state_detail.as_str()),
        (Some(4), "4 of 8 for now")
    );
    assert_eq!(region_value(&c, "p", L4, "us-central1").await, 4);
}

#[tokio::test]
async fn decreases_apply_at_once_behind_the_safety_checks() {
    let sim = start(VALUES).await;
    let c = client(&sim).await;
    let to = |v: i64| {
        let p = want(CPUS, "us-central1", v).set_contact_email("");
        p.set_name(pref_name("p1", "down"))
    };
    let made = create(&c, "p1", "down", to(95)).await.unwrap();
    assert!(!made.reconciling && config(&made).trace_id.is_empty());
    assert_eq!(config(&made).granted_value, Some(95));
    assert_eq!(region_value(&c, "p1", CPUS, "us-central1").await, 95);

    use QuotaSafetyCheck::{
        QuotaDecreaseBelowUsage as Usage, QuotaDecreasePercentageTooHigh as Pct,
    };
    let mask = ["quotaConfig.preferredValue"];
    let ignoring = |ignore| Flags {
        ignore,
        ..Flags::default()
    };
    let (code, http, msg) = failure(update(&c, to(50), &mask, Flags::default()).await);
    assert_eq!((code, http), (Code::FailedPrecondition, 400));
    assert!(msg.contains("QUOTA_DECREASE_PERCENTAGE_TOO_HIGH"), "{msg}");
    let (code, _, msg) = failure(update(&c, to(50), &mask, ignoring(&[Pct])).await);
    let named = msg.contains("QUOTA_DECREASE_BELOW_USAGE") && msg.contains("60");
    assert!(code == Code::FailedPrecondition && named, "{msg}");
    let now = region_value(&c, "p1", CPUS, "us-central1").await;
    assert_eq!(now, 95, "a refused decrease changes nothing");
    let done = update(&c, to(50), &mask, ignoring(&[Pct, Usage]))
        .await
        .unwrap();
    assert_eq!(
        (done.reconciling, config(&done).granted_value),
        (false, Some(50))
    );
    assert_eq!(region_value(&c, "p1", CPUS, "us-central1").await, 50);

    let (code, _, msg) = failure(update(&c, to(80), &mask, Flags::default()).await);
    assert!(
        code == Code::InvalidArgument && msg.contains("contact_email"),
        "{msg}"
    );
    let writes = sim.gcp().writes();
    let changes: Vec<_> = writes
        .iter()
        .map(|w| (w.previous_value, w.preferred_value, w.change))
        .collect();
    let down = Change::Decrease;
    assert_eq!(changes, [(100, 95, down), (95, 50, down)]);
}

const DEFINITIONS: &str = r#"
gcp:
  quotaInfos:
  - {service: run.googleapis.com, quotaId: CPU-per-project-region, metric: run.googleapis.com/cpu, dimensions: [region], default: 1000}
  - {quotaId: CPUS-per-project-region, eligible: false, ineligibilityReason: NO_VALID_BILLING_ACCOUNT}
"#;

#[tokio::test]
async fn fixed_and_ineligible_quotas_refuse_increases() {
    let sim = start(DEFINITIONS).await;
    let c = client(&sim).await;
    let no_dims = |p: QuotaPreference| p.set_dimensions(HashMap::<String, String>::new());
    let fixed = no_dims(want("INSTANCES-PER-VPC-NETWORK-per-project", "-", 20_000));
    let (code, http, msg) = failure(create(&c, "p", "fixed", fixed).await);
    assert_eq!((code, http), (Code::FailedPrecondition, 400));
    assert!(msg.contains("fixed"), "{msg}");
    let all = no_dims(want("CPUS-ALL-REGIONS-per-project", "-", 64));
    let (code, _, msg) = failure(create(&c, "p", "all", all).await);
    let named = msg.contains("NOT_ENOUGH_USAGE_HISTORY");
    assert!(code == Code::FailedPrecondition && named, "{msg}");
    let (_, _, msg) = failure(create(&c, "p", "cpus", want(CPUS, "us-east1", 64)).await);
    assert!(
        msg.contains("NO_VALID_BILLING_ACCOUNT"),
        "the scenario's override: {msg}"
    );

    let name =
        "projects/p/locations/global/services/run.googleapis.com/quotaInfos/CPU-per-project-region";
    let run = c.get_quota_info().set_name(name).send().await.unwrap();
    let seen = (run.metric.as_str(), values(&run)[&None]);
    assert_eq!(seen, ("run.googleapis.com/cpu", 1000));
    let more = want("CPU-per-project-region", "us-east1", 2000).set_service("run.googleapis.com");
    assert!(create(&c, "p", "run", more).await.unwrap().reconciling);
    assert_eq!(sim.gcp().writes().len(), 1);
}

#[tokio::test]
async fn injected_faults_answer_google_errors_and_are_counted() {
    let yaml = "gcp:\n  faults:\n  - {method: GetQuotaPreference, count: 1, code: PERMISSION_DENIED, message: nope}\n";
    let sim = start(yaml).await;
    let c = client(&sim).await;
    let fault = Fault {
        method: "CreateQuotaPreference".into(),
        count: 1,
        project: Some("p".into()),
        code: SimCode::ResourceExhausted,
        message: None,
    };
    sim.gcp().inject_fault(fault).unwrap();
    let (code, http, msg) = failure(create(&c, "p", "x", want(CPUS, "us-east1", 48)).await);
    assert_eq!((code, http), (Code::ResourceExhausted, 429));
    assert!(msg.contains("Write requests"), "{msg}");
    create(&c, "p", "x", want(CPUS, "us-east1", 48))
        .await
        .unwrap();
    let call = c.get_quota_preference().set_name(pref_name("p", "x"));
    let (code, http, msg) = failure(call.send().await);
    assert_eq!(
        (code, http, msg.as_str()),
        (Code::PermissionDenied, 403, "nope")
    );
    get(&c, "p", "x").await;
    let counters = sim.gcp().counters();
    let made = counters
        .iter()
        .find(|c| c.method == "CreateQuotaPreference")
        .unwrap();
    assert_eq!(
        (made.calls, made.errors.get("RESOURCE_EXHAUSTED")),
        (2, Some(&1))
    );
    sim.gcp().reset_counters();
    assert_eq!(sim.gcp().calls("GetQuotaPreference"), 0);
}

/// A plain HTTP/1.1 call to the admin routes: (status, JSON body or Null).
async fn admin(sim: &SimHandle, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut stream = TcpStream::connect(sim.addr()).await.unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\nContent-Type: application/json\r\n"
    );
    let req = format!("{head}Content-Length: {}\r\n\r\n{body}", body.len());
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let status = raw[9..12].parse().unwrap();
    let payload = raw.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(payload).unwrap_or(Value::Null))
}

#[tokio::test]
async fn admin_routes_seed_steer_and_report() {
    let sim = start(
        "gcp:\n  schedule: {manual: true}\n  preferences:\n  - {project: p, id: console-cpus, \
         quotaId: CPUS-per-project-region, region: us-west1, preferredValue: 64}\n",
    )
    .await;
    let c = client(&sim).await;
    let (status, routes) = admin(&sim, "GET", "/_sim", None).await;
    assert!(
        status == 200 && routes.to_string().contains("/_sim/gcp/preferences"),
        "{routes}"
    );

    // Someone else's open increases are visible for adoption, marked as from the console.
    let (status, seeded) = admin(&sim, "POST", "/_sim/gcp/preferences", Some(json!({"project": "p", "id": "console-l4", "quotaId": L4, "region": "us-west1", "preferredValue": 4}))).await;
    assert_eq!(
        (status, &seeded["reconciling"]),
        (200, &json!(true)),
        "{seeded}"
    );
    let listed = c
        .list_quota_preferences()
        .set_parent(parent("p"))
        .set_filter("reconciling=true AND request_type=CLOUD_CONSOLE")
        .set_order_by("create_time desc")
        .send()
        .await
        .unwrap();
    let names: Vec<_> = listed
        .quota_preferences
        .iter()
        .map(|p| p.name.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(names, ["console-l4", "console-cpus"]);
    assert_eq!(
        config(&listed.quota_preferences[0]).request_origin,
        WireOrigin::CloudConsole
    );
    let (status, _) = admin(&sim, "POST", "/_sim/gcp/preferences", Some(json!({"project": "p", "id": "dup", "quotaId": L4, "region": "us-west1", "preferredValue": 5}))).await;
    assert_eq!(status, 400, "one preference per quota and dimensions");

    let (status, p) = admin(
        &sim,
        "POST",
        "/_sim/gcp/preferences/p/console-cpus/partial",
        Some(json!({"grantedValue": 30})),
    )
    .await;
    assert_eq!((status, &p["grantedValue"]), (200, &json!(30)), "{p}");
    let (status, v) = admin(
        &sim,
        "GET",
        "/_sim/gcp/values/p/compute.googleapis.com/CPUS-per-project-region?region=us-west1",
        None,
    )
    .await;
    assert_eq!((status, &v["value"]), (200, &json!(30)), "{v}");
    assert_eq!(region_value(&c, "p", CPUS, "us-west1").await, 30);
    let (status, _) = admin(
        &sim,
        "POST",
        "/_sim/gcp/preferences/p/console-l4/refuse",
        Some(json!({"stateDetail": "no"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(config(&get(&c, "p", "console-l4").await).state_detail, "no");
    let (status, _) = admin(
        &sim,
        "POST",
        "/_sim/gcp/preferences/p/console-l4/grant",
        None,
    )
    .await;
    assert_eq!(status, 400, "already ended");

    let (status, _) = admin(
        &sim,
        "PUT",
        "/_sim/gcp/values/p/compute.googleapis.com/CPUS-per-project-region?region=us-west1",
        Some(json!({"value": 40, "usage": 39})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        sim.gcp()
            .usage("p", COMPUTE, CPUS, &dims([("region", "us-west1")]))
            .unwrap(),
        39
    );
    let (status, _) = admin(
        &sim,
        "PUT",
        "/_sim/gcp/values/p/compute.googleapis.com/CPUS-per-project-region?zone=a",
        Some(json!({"value": 1})),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = admin(
        &sim,
        "POST",
        "/_sim/gcp/faults",
        Some(json!({"method": "ListQuotaInfos", "count": 1, "code": "UNAVAILABLE"})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, writes) = admin(&sim, "GET", "/_sim/gcp/writes", None).await;
    assert_eq!(writes.as_array().map(Vec::len), Some(2), "{writes}");
    assert_eq!(writes[0]["source"], "console");
    let (_, calls) = admin(&sim, "GET", "/_sim/gcp/calls", None).await;
    assert_eq!(calls["totals"]["ListQuotaPreferences"], 1, "{calls}");
}

#[test]
fn scenario_errors_name_the_field() {
    let cpus = "quotaId: CPUS-per-project-region";
    let cases: &[(String, &str)] = &[
        (
            "gcp:\n  values:\n  - {quotaId: NOPE, value: 1}\n".into(),
            "gcp.values[0].quotaId",
        ),
        (
            format!("gcp:\n  values:\n  - {{{cpus}, region: us-moon1, value: 1}}\n"),
            "gcp.values[0].region",
        ),
        (
            format!("gcp:\n  values:\n  - {{{cpus}, dimensions: {{zone: a}}, value: 1}}\n"),
            "gcp.values[0].dimensions.zone",
        ),
        (
            format!("gcp:\n  values:\n  - {{{cpus}}}\n"),
            "gcp.values[0].value",
        ),
        (
            format!("gcp:\n  values:\n  - {{{cpus}, valu: 3}}\n"),
            "gcp.values[0].valu",
        ),
        (
            format!("gcp:\n  projects: [p1]\n  values:\n  - {{{cpus}, project: p9, value: 5}}\n"),
            "gcp.values[0].project",
        ),
        (
            "gcp:\n  quotaInfos:\n  - {service: run.googleapis.com, quotaId: X}\n".into(),
            "gcp.quotaInfos[0].metric",
        ),
        (
            "gcp:\n  schedule:\n    rules:\n    - {outcome: grant, grantFraction: 0.5}\n".into(),
            "gcp.schedule.rules[0].grantFraction",
        ),
        (
            "gcp:\n  schedule:\n    default: {outcome: partial, grantFraction: 1.5}\n".into(),
            "gcp.schedule.default.grantFraction",
        ),
        (
            "gcp:\n  schedule:\n    default: {after: soon}\n".into(),
            "gcp.schedule.default.after",
        ),
        (
            "gcp:\n  schedule:\n    rules:\n    - {outcome: maybe}\n".into(),
            "gcp.schedule.rules[0].outcome",
        ),
        (
            "gcp:\n  faults:\n  - {method: DeleteQuotaPreference, count: 1}\n".into(),
            "gcp.faults[0].method",
        ),
        (
            "gcp:\n  faults:\n  - {method: GetQuotaInfo, count: 1, code: TEAPOT}\n".into(),
            "gcp.faults[0].code",
        ),
        (
            format!(
                "gcp:\n  projects: [p1]\n  preferences:\n  - {{project: p2, id: x, {cpus}, preferredValue: 50}}\n"
            ),
            "gcp.preferences[0].project",
        ),
        (
            format!(
                "gcp:\n  preferences:\n  - {{project: p1, id: x, {cpus}, region: us-east1, preferredValue: 10}}\n"
            ),
            "gcp.preferences[0].preferredValue",
        ),
        (
            format!("gcp:\n  preferences:\n  - {{project: p1, {cpus}, preferredValue: 50}}\n"),
            "gcp.preferences[0].id",
        ),
        (
            format!(
                "gcp:\n  preferences:\n  - {{project: p1, id: a, {cpus}, preferredValue: 50}}\n  - {{project: p1, id: b, {cpus}, preferredValue: 60}}\n"
            ),
            "gcp.preferences[1].dimensions",
        ),
        ("gcp:\n  regionz: [x]\n".into(), "gcp.regionz"),
    ];
    for (yaml, field) in cases {
        let err = Scenario::from_yaml(yaml).expect_err(yaml);
        assert_eq!(err.field, *field, "{yaml} -> {err}");
        assert!(err.to_string().contains(field), "{err}");
    }
    Scenario::from_yaml("gcp: {}\n").expect("an empty gcp section is the default");
    Scenario::from_yaml(quota_sim::EXAMPLE_SCENARIO).expect("the example parses");
}

/// Runs `gcloud alpha quotas <args>` against the simulator with a throwaway configuration, a
/// dummy token and the Cloud Quotas endpoint overridden; nothing leaves the machine.
async fn gcloud(sim: &SimHandle, config: &std::path::Path, args: &[&str]) -> Output {
    let mut cmd = Command::new("gcloud");
    cmd.args(["alpha", "quotas"])
        .args(args)
        .args(["--format", "json"]);
    let endpoint = format!("{}/", sim.endpoint());
    cmd.envs([
        ("CLOUDSDK_CONFIG", config.to_str().unwrap()),
        (
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDQUOTAS",
            endpoint.as_str(),
        ),
        ("CLOUDSDK_AUTH_ACCESS_TOKEN", "dummy"),
        ("CLOUDSDK_CORE_DISABLE_USAGE_REPORTING", "true"),
        ("CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK", "true"),
        ("CLOUDSDK_CORE_DISABLE_PROMPTS", "1"),
    ]);
    for var in [
        "CLOUDSDK_CORE_PROJECT",
        "CLOUDSDK_ACTIVE_CONFIG_NAME",
        "GOOGLE_APPLICATION_CREDENTIALS",
    ] {
        cmd.env_remove(var);
    }
    cmd.output()
        .await
        .expect("gcloud (google-cloud-cli) must be installed")
}

/// An int64 from gcloud's JSON, a string or a number.
fn int(v: &Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not an int64: {v}"))
}

/// gcloud's JSON answer, skipping anything it prints before it (528.0.0's `preferences list`
/// prints its page size first); panics with stderr when it failed.
async fn gcloud_ok(sim: &SimHandle, config: &std::path::Path, args: &[&str]) -> Value {
    let out = gcloud(sim, config, args).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "gcloud {args:?} failed: {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let start = stdout
        .find(['[', '{'])
        .unwrap_or_else(|| panic!("no JSON from gcloud: {stdout}"));
    serde_json::from_str(&stdout[start..]).expect("gcloud JSON output")
}

#[tokio::test]
async fn gcloud_drives_the_simulator() {
    let sim = start(VALUES).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path();
    let p1 = ["--project", "p1"];
    let info = gcloud_ok(
        &sim,
        cfg,
        &["info", "describe", CPUS, "--service", COMPUTE, p1[0], p1[1]],
    )
    .await;
    assert_eq!(
        info["containerType"], "PROJECT",
        "gcloud asks for enum names: {info}"
    );
    assert_eq!(
        info["dimensionsInfos"].as_array().map(Vec::len),
        Some(3),
        "{info}"
    );

    let pref = [
        "--service",
        COMPUTE,
        "--quota-id",
        CPUS,
        "--dimensions",
        "region=us-central1",
        "--project",
        "p1",
    ];
    let create = [
        "preferences",
        "create",
        "--preference-id",
        "g1",
        "--preferred-value",
        "150",
        "--email",
        "ops@example.com",
    ];
    let made = gcloud_ok(&sim, cfg, &[&create[..], &pref[..]].concat()).await;
    assert_eq!(
        (&made["reconciling"], &made["quotaConfig"]["requestOrigin"]),
        (&json!(true), &json!("ORIGIN_UNSPECIFIED")),
        "{made}"
    );
    let listed = gcloud_ok(
        &sim,
        cfg,
        &["preferences", "list", "--reconciling-only", p1[0], p1[1]],
    )
    .await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    let described = gcloud_ok(&sim, cfg, &["preferences", "describe", "g1", p1[0], p1[1]]).await;
    assert_eq!(described["etag"], made["etag"]);

    let update = |value: &'static str| {
        [
            "preferences",
            "update",
            "g1",
            "--preferred-value",
            value,
            "--email",
            "ops@example.com",
        ]
    };
    let checked = gcloud(&sim, cfg, &[&update("80")[..], &pref[..]].concat()).await;
    let stderr = String::from_utf8_lossy(&checked.stderr);
    assert!(
        !checked.status.success()
            && stderr.contains("FAILED_PRECONDITION")
            && stderr.contains("QUOTA_DECREASE_PERCENTAGE_TOO_HIGH"),
        "{stderr}"
    );
    let dry = gcloud_ok(
        &sim,
        cfg,
        &[
            &update("95")[..],
            &pref[..],
            &["--validate-only", "--allow-high-percentage-quota-decrease"],
        ]
        .concat(),
    )
    .await;
    assert_eq!(int(&dry["quotaConfig"]["grantedValue"]), 95, "{dry}");
    let flags = [
        "--allow-high-percentage-quota-decrease",
        "--allow-quota-decrease-below-usage",
    ];
    let lowered = gcloud_ok(
        &sim,
        cfg,
        &[&update("50")[..], &pref[..], &flags[..]].concat(),
    )
    .await;
    assert_eq!(lowered["reconciling"], json!(false), "{lowered}");
    assert_eq!(
        int(&lowered["quotaConfig"]["grantedValue"]),
        50,
        "{lowered}"
    );
    let missing = [
        "preferences",
        "update",
        "g2",
        "--preferred-value",
        "2",
        "--email",
        "ops@example.com",
        "--allow-missing",
        "--service",
        COMPUTE,
        "--quota-id",
        L4,
        "--dimensions",
        "region=us-east1",
        "--project",
        "p1",
    ];
    assert_eq!(
        gcloud_ok(&sim, cfg, &missing).await["reconciling"],
        json!(true)
    );

    let writes: Vec<_> = sim
        .gcp()
        .writes()
        .into_iter()
        .map(|w| (w.id, w.preferred_value, w.source))
        .collect();
    let src = |id: &str, v: i64, s: &str| (id.to_string(), v, s.to_string());
    assert_eq!(
        writes,
        [
            src("g1", 150, "CreateQuotaPreference"),
            src("g1", 50, "UpdateQuotaPreference"),
            src("g2", 2, "UpdateQuotaPreference")
        ]
    );
    assert_eq!(sim.gcp().calls_in("p1", "UpdateQuotaPreference"), 4);
}
