//! The REST surface: `/v1/projects/{p}/locations/global/...` as the official client and gcloud
//! call it. No token is checked (the Rust client sends none with anonymous credentials, gcloud a
//! bearer token); the project comes from the path.

use axum::{
    Router,
    body::Bytes,
    extract::{
        FromRequestParts, Path, Query,
        rejection::{PathRejection, QueryRejection},
    },
    http::{HeaderValue, Method as HttpMethod, StatusCode, Uri, header, request::Parts},
    response::{IntoResponse, Response},
    routing::get,
};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::gcp::{
    cloud_quotas::listing::{Filter, order, page},
    cloud_quotas::wire::{self, Mask, SafetyChecks},
    cloud_quotas::write::{self, WriteRequest},
    error::{Code, GcpError},
    method::Method,
    model::state::{GcpState, Shared},
    params::Params,
};
use crate::shared::current;

pub fn router(shared: Shared) -> Router {
    const BASE: &str = "/v1/{kind}/{project}/locations/{location}";
    Router::new()
        .route(
            &format!("{BASE}/services/{{service}}/quotaInfos"),
            get(list_infos),
        )
        .route(
            &format!("{BASE}/services/{{service}}/quotaInfos/{{quota_id}}"),
            get(get_info),
        )
        .route(
            &format!("{BASE}/quotaPreferences"),
            get(list_prefs).post(create_pref),
        )
        .route(
            &format!("{BASE}/quotaPreferences/{{id}}"),
            get(get_pref).patch(update_pref),
        )
        // A fallback, not a `/v1/{*rest}` route, which would clash with the routes above; it
        // sees every unmatched path of the merged server, so it answers non-/v1 ones plainly.
        .fallback(not_served)
        .with_state(shared)
}

type Q = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// The project and location from the path, for one call; a route's other segments are the
/// handler's own.
#[derive(Deserialize)]
struct Scope {
    kind: String,
    project: String,
    location: String,
}

/// What every API handler starts from. The query is kept unparsed so a bad one is answered
/// only after the container and fault checks, in the order Google checks them.
pub(super) struct Call {
    shared: Shared,
    scope: Scope,
    query: Q,
}

impl FromRequestParts<Shared> for Call {
    type Rejection = PathRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        shared: &Shared,
    ) -> Result<Self, Self::Rejection> {
        let Path(scope) = Path::<Scope>::from_request_parts(parts, shared).await?;
        let query = Query::from_request_parts(parts, shared).await;
        Ok(Self {
            shared: shared.clone(),
            scope,
            query,
        })
    }
}

impl Call {
    /// Runs one API call: due moves first, then the container and fault checks, then `op`;
    /// counts it and renders the answer.
    pub(super) fn run(
        self,
        method: Method,
        op: impl FnOnce(&mut GcpState, &str, &Params, Timestamp) -> Result<Value, GcpError>,
    ) -> Response {
        let project = self.scope.project.as_str();
        let result = current(&self.shared, |st, now| {
            let result = check_scope(st, &self.scope)
                .and_then(|()| st.take_fault(method, project).map_or(Ok(()), Err))
                .and_then(|()| {
                    let Query(pairs) = self.query.map_err(|e| GcpError::invalid(e.body_text()))?;
                    op(st, project, &Params(pairs), now)
                });
            let code = result.as_ref().err().map(|e| e.code);
            st.counters.record(project, method, code);
            tracing::debug!(%method, project, error = ?code, "sim: gcp call");
            result
        });
        match result {
            Ok(value) => {
                let mut resp = (StatusCode::OK, value.to_string()).into_response();
                resp.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json; charset=UTF-8"),
                );
                resp
            }
            Err(e) => e.into_response(),
        }
    }
}

fn check_scope(st: &GcpState, s: &Scope) -> Result<(), GcpError> {
    if s.kind != "projects" {
        return Err(GcpError::new(
            Code::Unimplemented,
            format!("The simulator serves projects/ only, not {}/.", s.kind),
        ));
    }
    if s.location != "global" {
        return Err(GcpError::invalid(format!(
            "Location `{}` is not supported: the location must be `global`.",
            s.location
        )));
    }
    if !st.scenario.project_exists(&s.project) {
        return Err(GcpError::new(
            Code::PermissionDenied,
            format!(
                "Permission denied on resource project {} (or it may not exist).",
                s.project
            ),
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
struct InfosPath {
    service: String,
}

#[derive(Deserialize)]
struct InfoPath {
    service: String,
    quota_id: String,
}

#[derive(Deserialize)]
struct PrefPath {
    id: String,
}

async fn list_infos(call: Call, Path(InfosPath { service }): Path<InfosPath>) -> Response {
    call.run(Method::ListQuotaInfos, |st, project, params, _| {
        if !st.catalog.has_service(&service) {
            return Err(GcpError::not_found(format!(
                "Service `{service}` is not known to the simulator."
            )));
        }
        let enc = params.enc();
        let infos: Vec<Value> = (st.catalog.of_service(&service).into_iter())
            .map(|def| {
                wire::quota_info(
                    project,
                    def,
                    &st.dimension_infos(project, def),
                    &st.catalog.regions,
                    enc,
                )
            })
            .collect();
        let query = format!("infos/{project}/{service}");
        let (items, next) = page_of(&infos, params, &query)?;
        Ok(json!({"quotaInfos": items, "nextPageToken": next}))
    })
}

async fn get_info(call: Call, Path(path): Path<InfoPath>) -> Response {
    let InfoPath { service, quota_id } = path;
    call.run(Method::GetQuotaInfo, |st, project, params, _| {
        let def = st.catalog.get(&service, &quota_id).ok_or_else(|| {
            GcpError::not_found(format!(
                "QuotaInfo projects/{project}/locations/global/services/{service}/quotaInfos/{quota_id} not found."
            ))
        })?;
        let infos = st.dimension_infos(project, def);
        Ok(wire::quota_info(
            project,
            def,
            &infos,
            &st.catalog.regions,
            params.enc(),
        ))
    })
}

async fn list_prefs(call: Call) -> Response {
    call.run(Method::ListQuotaPreferences, |st, project, params, now| {
        let (filter_text, order_by) = (params.text("filter"), params.text("orderBy"));
        let filter = Filter::parse(&filter_text)?;
        let mut matching: Vec<_> = (st.prefs.iter())
            .filter(|p| p.project == project && filter.matches(p))
            .cloned()
            .collect();
        order(&mut matching, &order_by)?;
        let query = format!("prefs/{project}/{filter_text}/{order_by}");
        let (items, next) = page_of(&matching, params, &query)?;
        let enc = params.enc();
        let out: Vec<Value> = items.iter().map(|p| wire::preference(p, enc)).collect();
        // The listing counts as a read of every preference it returned (for `<n> polls`).
        for p in &items {
            if let Some(idx) = st.find(&p.project, &p.id) {
                st.record_read(idx, now);
            }
        }
        Ok(json!({"quotaPreferences": out, "nextPageToken": next}))
    })
}

/// A page of `items` as the request's pageToken and pageSize ask.
fn page_of<T: Clone>(
    items: &[T],
    params: &Params,
    query: &str,
) -> Result<(Vec<T>, String), GcpError> {
    page(
        items,
        &params.text("pageToken"),
        params.number("pageSize")?,
        query,
    )
}

async fn get_pref(call: Call, Path(PrefPath { id }): Path<PrefPath>) -> Response {
    call.run(Method::GetQuotaPreference, |st, project, params, now| {
        let idx = st.find(project, &id).ok_or_else(|| {
            GcpError::not_found(format!(
                "QuotaPreference projects/{project}/locations/global/quotaPreferences/{id} not found."
            ))
        })?;
        let out = wire::preference(&st.prefs[idx], params.enc());
        st.record_read(idx, now);
        Ok(out)
    })
}

async fn create_pref(call: Call, body: Bytes) -> Response {
    let method = Method::CreateQuotaPreference;
    call.run(method, |st, project, params, now| {
        let id = params.text("quotaPreferenceId");
        let req = write_request(method, project, &id, &body, params)?;
        let p = write::create(st, req, now)?;
        Ok(wire::preference(&p, params.enc()))
    })
}

async fn update_pref(call: Call, Path(PrefPath { id }): Path<PrefPath>, body: Bytes) -> Response {
    let method = Method::UpdateQuotaPreference;
    call.run(method, |st, project, params, now| {
        let base = write_request(method, project, &id, &body, params)?;
        let req = WriteRequest {
            validate_only: params.flag("validateOnly")?,
            allow_missing: params.flag("allowMissing")?,
            mask: Mask::parse(params.get("updateMask"))?,
            ..base
        };
        let p = write::update(st, req, now)?;
        Ok(wire::preference(&p, params.enc()))
    })
}

/// What create and update read alike (the body, then the safety checks); the flags and mask
/// that only update takes start as a create has them.
fn write_request<'a>(
    method: Method,
    project: &'a str,
    id: &'a str,
    body: &[u8],
    params: &Params,
) -> Result<WriteRequest<'a>, GcpError> {
    Ok(WriteRequest {
        method,
        project,
        id,
        body: wire::parse_preference(body)?,
        checks: SafetyChecks::parse(params.all("ignoreSafetyChecks"))?,
        validate_only: false,
        allow_missing: false,
        mask: Mask::ALL,
    })
}

/// Anything else under /v1 gets a google.rpc answer the clients can read, not an empty 404.
async fn not_served(method: HttpMethod, uri: Uri) -> Response {
    if !uri.path().starts_with("/v1/") {
        return StatusCode::NOT_FOUND.into_response();
    }
    GcpError::not_found(format!(
        "The simulator does not serve {method} {}.",
        uri.path()
    ))
    .into_response()
}
