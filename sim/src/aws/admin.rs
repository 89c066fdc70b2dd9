//! `/_sim/aws/...`: observe and steer the simulated account over HTTP. No signature needed;
//! bodies and answers are plain JSON (camelCase). Each route calls one `AwsControl` method.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::json;

use super::{
    control::AwsControl,
    fault::FaultInjection,
    scenario::{SeedRequest, ThrottleInjection},
    status::RequestStatus,
    usage_control::AutoAdjustRequest,
};
use crate::{
    admin::{counters, reply},
    usage::Usage,
};

/// Human-readable route list, served at `/_sim`.
pub const ROUTES: &[&str] = &[
    "GET  /_sim/aws/calls                      per-operation call counters (totals and by account/region)",
    "POST /_sim/aws/calls/reset                zero the counters",
    "GET  /_sim/aws/filed                      every request filed (API or console), oldest first",
    "GET  /_sim/aws/requests                   every request with its current status",
    "POST /_sim/aws/requests                   seed an open request {account?, region, serviceCode, quotaCode, desiredValue, status?}",
    "GET  /_sim/aws/requests/{id}              one request",
    "POST /_sim/aws/requests/{id}/approve      approve now (the applied value becomes DesiredValue)",
    "POST /_sim/aws/requests/{id}/deny         end without granting {status?: DENIED|NOT_APPROVED|CASE_CLOSED|INVALID_REQUEST, message?}",
    "POST /_sim/aws/requests/{id}/advance      make the next scheduled move now",
    "GET  /_sim/aws/values/{account}/{region}/{service}/{code}   applied and default value",
    "PUT  /_sim/aws/values/{account}/{region}/{service}/{code}   set the applied value {value}",
    "POST /_sim/aws/throttles                  throttle the next calls {operation, count, account?, region?, every?}",
    "POST /_sim/aws/throttles/clear            drop every injected throttle still to answer",
    "POST /_sim/aws/faults                     inject a fault {operation, fault: accessDenied|html500|stall, count?, account?, region?, delay?}",
    "POST /_sim/aws/faults/clear               drop every fault still to answer",
    "GET  /_sim/aws/sts/calls                  STS calls by action",
    "GET  /_sim/aws/usage/{account}/{region}/{service}/{code}    usage shape and value now {usage, now}",
    "PUT  /_sim/aws/usage/{account}/{region}/{service}/{code}    replace the usage shape, anchored now {shape: flat|growth|spike|daily, ...}",
    "GET  /_sim/aws/cases                      every support case with its messages",
    "POST /_sim/aws/cases/{id}/ask             AWS asks a question in the case {body}; it then waits for the customer",
    "POST /_sim/aws/auto-adjust                file a request as Automatic Management would {account?, region, serviceCode, quotaCode, desiredValue?}",
];

pub fn router(control: AwsControl) -> Router {
    Router::new()
        .route("/_sim/aws/calls", get(calls))
        .route("/_sim/aws/calls/reset", post(reset))
        .route("/_sim/aws/filed", get(filed))
        .route("/_sim/aws/requests", get(requests).post(seed))
        .route("/_sim/aws/requests/{id}", get(one))
        .route("/_sim/aws/requests/{id}/approve", post(approve))
        .route("/_sim/aws/requests/{id}/deny", post(deny))
        .route("/_sim/aws/requests/{id}/advance", post(advance))
        .route(
            "/_sim/aws/values/{account}/{region}/{service}/{code}",
            get(value).put(set_value),
        )
        .route("/_sim/aws/throttles", post(throttle))
        .route("/_sim/aws/throttles/clear", post(clear_throttles))
        .route("/_sim/aws/faults", post(inject_fault))
        .route("/_sim/aws/faults/clear", post(clear_faults))
        .route("/_sim/aws/sts/calls", get(sts_calls))
        .route(
            "/_sim/aws/usage/{account}/{region}/{service}/{code}",
            get(usage).put(set_usage),
        )
        .route("/_sim/aws/auto-adjust", post(auto_adjust))
        .route("/_sim/aws/cases", get(cases))
        .route("/_sim/aws/cases/{id}/ask", post(ask))
        .with_state(control)
}

type Ctl = State<AwsControl>;

async fn calls(State(c): Ctl) -> Response {
    counters(&c.counters(), "byScope", |s| (&s.operation, s.calls))
}

async fn reset(State(c): Ctl) -> StatusCode {
    c.reset_counters();
    StatusCode::NO_CONTENT
}

async fn filed(State(c): Ctl) -> Response {
    Json(c.filed()).into_response()
}

async fn requests(State(c): Ctl) -> Response {
    Json(c.requests()).into_response()
}

async fn one(State(c): Ctl, Path(id): Path<String>) -> Response {
    reply(c.request(&id))
}

async fn seed(State(c): Ctl, Json(s): Json<SeedRequest>) -> Response {
    reply(c.seed_open_request(s))
}

async fn approve(State(c): Ctl, Path(id): Path<String>) -> Response {
    reply(c.approve(&id))
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Deny {
    status: Option<RequestStatus>,
    message: Option<String>,
}

async fn deny(State(c): Ctl, Path(id): Path<String>, body: Option<Json<Deny>>) -> Response {
    let Deny { status, message } = body.map(|Json(d)| d).unwrap_or_default();
    let status = status.unwrap_or(RequestStatus::Denied);
    reply(
        c.deny(
            &id,
            status,
            message
                .as_deref()
                .unwrap_or("denied by the simulator admin"),
        ),
    )
}

async fn advance(State(c): Ctl, Path(id): Path<String>) -> Response {
    reply(c.advance(&id))
}

type QuotaPath = Path<(String, String, String, String)>;

async fn value(State(c): Ctl, Path((account, region, service, code)): QuotaPath) -> Response {
    reply(
        c.value(&account, &region, &service, &code)
            .map(|(applied, default)| {
                json!({ "applied": applied, "default": default, "current": applied.unwrap_or(default) })
            }),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetValue {
    value: f64,
}

async fn set_value(
    State(c): Ctl,
    Path((account, region, service, code)): QuotaPath,
    Json(v): Json<SetValue>,
) -> Response {
    reply(
        c.set_value(&account, &region, &service, &code, v.value)
            .map(|()| json!({ "value": v.value })),
    )
}

async fn throttle(State(c): Ctl, Json(t): Json<ThrottleInjection>) -> Response {
    reply(c.inject_throttles(t).map(|()| json!({ "ok": true })))
}

async fn clear_throttles(State(c): Ctl) -> StatusCode {
    c.clear_throttles();
    StatusCode::NO_CONTENT
}

async fn inject_fault(State(c): Ctl, Json(f): Json<FaultInjection>) -> Response {
    reply(c.inject_fault(f).map(|()| json!({ "ok": true })))
}

async fn clear_faults(State(c): Ctl) -> StatusCode {
    c.clear_faults();
    StatusCode::NO_CONTENT
}

async fn sts_calls(State(c): Ctl) -> Response {
    let actions = ["AssumeRole", "GetCallerIdentity"].map(|a| (a, c.sts_calls(a)));
    Json(
        actions
            .into_iter()
            .collect::<std::collections::BTreeMap<_, _>>(),
    )
    .into_response()
}

async fn usage(State(c): Ctl, Path((account, region, service, code)): QuotaPath) -> Response {
    reply(c.usage(&account, &region, &service, &code))
}

async fn set_usage(
    State(c): Ctl,
    Path((account, region, service, code)): QuotaPath,
    Json(u): Json<Usage>,
) -> Response {
    reply(
        c.set_usage(&account, &region, &service, &code, u)
            .and_then(|()| c.usage(&account, &region, &service, &code)),
    )
}

async fn auto_adjust(State(c): Ctl, Json(r): Json<AutoAdjustRequest>) -> Response {
    reply(c.auto_adjust(r))
}

async fn cases(State(c): Ctl) -> Response {
    Json(c.cases()).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ask {
    body: String,
}

async fn ask(State(c): Ctl, Path(id): Path<String>, Json(a): Json<Ask>) -> Response {
    reply(c.ask(&id, &a.body))
}
