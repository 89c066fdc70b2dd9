//! `/_sim/gcp/...`: observe and steer the simulated Cloud Quotas over HTTP. Plain JSON
//! (camelCase), no token. Each route calls one `GcpControl` method.

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::json;

use super::{
    control::GcpControl,
    scenario::{Fault, SeedPreference},
    usage_control::AdjusterRaise,
    vocab::Dims,
};
use crate::{
    admin::{SimError, counters, reply},
    usage::Usage,
};

/// Human-readable route list, served at `/_sim` with the other clouds'.
pub const ROUTES: &[&str] = &[
    "GET  /_sim/gcp/calls                      per-method call counters (totals and by project)",
    "POST /_sim/gcp/calls/reset                zero the counters",
    "GET  /_sim/gcp/writes                     every preference write (API or console), oldest first",
    "GET  /_sim/gcp/preferences                every preference in every project",
    "POST /_sim/gcp/preferences                seed a reconciling increase {project, id, service?, quotaId, region?, dimensions?, preferredValue, contactEmail?, justification?, annotations?, origin?}",
    "GET  /_sim/gcp/preferences/{project}/{id} one preference",
    "POST /_sim/gcp/preferences/{project}/{id}/grant    grant in full now",
    "POST /_sim/gcp/preferences/{project}/{id}/unlimited grant without a limit (-1) now",
    "POST /_sim/gcp/preferences/{project}/{id}/partial  grant in part now {grantedValue, stateDetail?}",
    "POST /_sim/gcp/preferences/{project}/{id}/refuse   refuse now {stateDetail?}",
    "POST /_sim/gcp/preferences/{project}/{id}/advance  end it as its schedule rule says, now",
    "GET  /_sim/gcp/values/{project}/{service}/{quotaId}?region=..&<dimension>=..   value and usage for those dimensions",
    "PUT  /_sim/gcp/values/{project}/{service}/{quotaId}?region=..&<dimension>=..   set {value?, usage?}",
    "POST /_sim/gcp/faults                     answer the next calls with an error {method, count, project?, code?, message?}",
    "GET  /_sim/gcp/usage/{project}/{service}/{quotaId}?region=..&<dimension>=..   usage shape and value now {usage, now}",
    "PUT  /_sim/gcp/usage/{project}/{service}/{quotaId}?region=..&<dimension>=..   replace the usage shape, anchored now {shape: flat|growth|spike|daily, ...}",
    "GET  /_sim/gcp/adjuster/{project}         QuotaAdjusterSettings now {project, enabled, inherited, inheritedFrom, etag, updateTime}",
    "POST /_sim/gcp/adjuster/{project}/raise   the Quota Adjuster raises a quota {service?, quotaId, region?, dimensions?, preferredValue?}",
];

pub fn router(control: GcpControl) -> Router {
    const PREF: &str = "/_sim/gcp/preferences/{project}/{id}";
    Router::new()
        .route("/_sim/gcp/calls", get(calls))
        .route("/_sim/gcp/calls/reset", post(reset))
        .route("/_sim/gcp/writes", get(writes))
        .route("/_sim/gcp/preferences", get(preferences).post(seed))
        .route(PREF, get(one))
        .route(&format!("{PREF}/grant"), post(grant))
        .route(&format!("{PREF}/unlimited"), post(unlimited))
        .route(&format!("{PREF}/partial"), post(partial))
        .route(&format!("{PREF}/refuse"), post(refuse))
        .route(&format!("{PREF}/advance"), post(advance))
        .route(
            "/_sim/gcp/values/{project}/{service}/{quota_id}",
            get(value).put(set_value),
        )
        .route("/_sim/gcp/faults", post(fault))
        .route(
            "/_sim/gcp/usage/{project}/{service}/{quota_id}",
            get(usage).put(set_usage),
        )
        .route("/_sim/gcp/adjuster/{project}", get(adjuster))
        .route("/_sim/gcp/adjuster/{project}/raise", post(adjuster_raise))
        .with_state(control)
}

type Ctl = State<GcpControl>;
type PrefPath = Path<(String, String)>;

async fn calls(State(c): Ctl) -> Response {
    counters(&c.counters(), "byProject", |s| (&s.method, s.calls))
}

async fn reset(State(c): Ctl) -> StatusCode {
    c.reset_counters();
    StatusCode::NO_CONTENT
}

async fn writes(State(c): Ctl) -> Response {
    Json(c.writes()).into_response()
}

async fn preferences(State(c): Ctl) -> Response {
    Json(c.preferences()).into_response()
}

async fn seed(State(c): Ctl, Json(s): Json<SeedPreference>) -> Response {
    reply(c.seed_preference(s))
}

async fn one(State(c): Ctl, Path((project, id)): PrefPath) -> Response {
    reply(c.preference(&project, &id))
}

async fn grant(State(c): Ctl, Path((project, id)): PrefPath) -> Response {
    reply(c.grant(&project, &id))
}

async fn unlimited(State(c): Ctl, Path((project, id)): PrefPath) -> Response {
    reply(c.grant_unlimited(&project, &id))
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct Ending {
    granted_value: Option<i64>,
    state_detail: Option<String>,
}

async fn partial(
    State(c): Ctl,
    Path((project, id)): PrefPath,
    body: Option<Json<Ending>>,
) -> Response {
    let e = body.map(|Json(e)| e).unwrap_or_default();
    let Some(granted) = e.granted_value else {
        return reply::<()>(Err(SimError::Invalid("grantedValue is required".into())));
    };
    let detail = e.state_detail.unwrap_or_else(|| {
        format!("Partially approved: {granted} granted by the simulator admin.")
    });
    reply(c.grant_partial(&project, &id, granted, &detail))
}

async fn refuse(
    State(c): Ctl,
    Path((project, id)): PrefPath,
    body: Option<Json<Ending>>,
) -> Response {
    let e = body.map(|Json(e)| e).unwrap_or_default();
    if e.granted_value.is_some() {
        return reply::<()>(Err(SimError::Invalid("a refusal grants nothing".into())));
    }
    let detail = e
        .state_detail
        .unwrap_or_else(|| "Refused by the simulator admin.".into());
    reply(c.refuse(&project, &id, &detail))
}

async fn advance(State(c): Ctl, Path((project, id)): PrefPath) -> Response {
    reply(c.advance(&project, &id))
}

type ValuePath = Path<(String, String, String)>;

async fn value(
    State(c): Ctl,
    Path((project, service, quota_id)): ValuePath,
    Query(d): Query<Dims>,
) -> Response {
    let value = c.value(&project, &service, &quota_id, &d);
    let usage = c.usage(&project, &service, &quota_id, &d);
    reply(value.and_then(|v| usage.map(|u| json!({ "value": v, "usage": u, "dimensions": d }))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetValue {
    value: Option<i64>,
    usage: Option<i64>,
}

async fn set_value(
    State(c): Ctl,
    Path((project, service, quota_id)): ValuePath,
    Query(d): Query<Dims>,
    Json(v): Json<SetValue>,
) -> Response {
    if v.value.is_none() && v.usage.is_none() {
        return reply::<()>(Err(SimError::Invalid("set value and/or usage".into())));
    }
    let mut r = Ok(());
    if let Some(n) = v.value {
        r = c.set_value(&project, &service, &quota_id, &d, n);
    }
    if let (Ok(()), Some(n)) = (&r, v.usage) {
        r = c.set_usage(&project, &service, &quota_id, &d, n);
    }
    reply(r.map(|()| json!({ "value": v.value, "usage": v.usage, "dimensions": d })))
}

async fn fault(State(c): Ctl, Json(f): Json<Fault>) -> Response {
    reply(c.inject_fault(f).map(|()| json!({ "ok": true })))
}

async fn usage(
    State(c): Ctl,
    Path((project, service, quota_id)): ValuePath,
    Query(d): Query<Dims>,
) -> Response {
    reply(c.usage_now(&project, &service, &quota_id, &d))
}

async fn set_usage(
    State(c): Ctl,
    Path((project, service, quota_id)): ValuePath,
    Query(d): Query<Dims>,
    Json(u): Json<Usage>,
) -> Response {
    reply(
        c.set_usage_shape(&project, &service, &quota_id, &d, u)
            .and_then(|()| c.usage_now(&project, &service, &quota_id, &d)),
    )
}

async fn adjuster(State(c): Ctl, Path(project): Path<String>) -> Response {
    Json(c.adjuster_settings(&project)).into_response()
}

async fn adjuster_raise(
    State(c): Ctl,
    Path(project): Path<String>,
    Json(r): Json<AdjusterRaise>,
) -> Response {
    reply(c.quota_adjuster_raise(&project, r))
}
