//! The REST surface: `/v1/projects/{p}/locations/global/...` as the official client and gcloud
//! call it. No token is checked (the Rust client sends none with anonymous credentials, gcloud a
//! bearer token); the project comes from the path.

use axum::{
    Router,
    body::Bytes,
    extract::{Path, Query, State, rejection::QueryRejection},
    http::{HeaderValue, Method as HttpMethod, StatusCode, Uri, header},
    response::{IntoResponse, Response},
    routing::get,
};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::{
    Shared,
    error::{Code, GcpError},
    listing::{Filter, order, page},
    lock,
    method::Method,
    params::Params,
    state::GcpState,
    wire::{self, Mask, SafetyChecks},
    write::{self, WriteRequest},
};

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

/// The project and location from the path, for one call.
struct Scope {
    kind: String,
    project: String,
    location: String,
}

/// Runs one API call: due moves first, then the container and fault checks, then `op`; counts
/// it and renders the answer.
fn call(
    shared: &Shared,
    method: Method,
    scope: Scope,
    query: Q,
    op: impl FnOnce(&mut GcpState, &str, &Params, Timestamp) -> Result<Value, GcpError>,
) -> Response {
    let now = Timestamp::now();
    let mut st = lock(shared);
    st.tick(now);
    let project = scope.project.as_str();
    let result = check_scope(&st, &scope)
        .and_then(|()| st.take_fault(method, project).map_or(Ok(()), Err))
        .and_then(|()| {
            let Query(pairs) = query.map_err(|e| GcpError::invalid(e.body_text()))?;
            op(&mut st, project, &Params(pairs), now)
        });
    let code = result.as_ref().err().map(|e| e.code);
    st.counters.record(project, method, code);
    tracing::debug!(%method, project, error = ?code, "sim: gcp call");
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

type InfosPath = Path<(String, String, String, String)>;

async fn list_infos(
    State(s): State<Shared>,
    Path((kind, project, location, service)): InfosPath,
    q: Q,
) -> Response {
    let scope = Scope {
        kind,
        project,
        location,
    };
    call(
        &s,
        Method::ListQuotaInfos,
        scope,
        q,
        |st, project, params, _| {
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
            let (items, next) = page(
                &infos,
                &params.text("pageToken"),
                params.number("pageSize")?,
                &query,
            )?;
            Ok(json!({"quotaInfos": items, "nextPageToken": next}))
        },
    )
}

async fn get_info(
    State(s): State<Shared>,
    Path((kind, project, location, service, quota_id)): Path<(
        String,
        String,
        String,
        String,
        String,
    )>,
    q: Q,
) -> Response {
    let scope = Scope {
        kind,
        project,
        location,
    };
    call(
        &s,
        Method::GetQuotaInfo,
        scope,
        q,
        |st, project, params, _| {
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
        },
    )
}

type PrefsPath = Path<(String, String, String)>;
type PrefPath = Path<(String, String, String, String)>;

async fn list_prefs(
    State(s): State<Shared>,
    Path((kind, project, location)): PrefsPath,
    q: Q,
) -> Response {
    let scope = Scope {
        kind,
        project,
        location,
    };
    call(
        &s,
        Method::ListQuotaPreferences,
        scope,
        q,
        |st, project, params, now| {
            let (filter_text, order_by) = (params.text("filter"), params.text("orderBy"));
            let filter = Filter::parse(&filter_text)?;
            let mut matching: Vec<_> = (st.prefs.iter())
                .filter(|p| p.project == project && filter.matches(p))
                .cloned()
                .collect();
            order(&mut matching, &order_by)?;
            let query = format!("prefs/{project}/{filter_text}/{order_by}");
            let (items, next) = page(
                &matching,
                &params.text("pageToken"),
                params.number("pageSize")?,
                &query,
            )?;
            let enc = params.enc();
            let out: Vec<Value> = items.iter().map(|p| wire::preference(p, enc)).collect();
            // The listing counts as a read of every preference it returned (for `<n> polls`).
            for p in &items {
                if let Some(idx) = st.find(&p.project, &p.id) {
                    st.record_read(idx, now);
                }
            }
            Ok(json!({"quotaPreferences": out, "nextPageToken": next}))
        },
    )
}

async fn get_pref(
    State(s): State<Shared>,
    Path((kind, project, location, id)): PrefPath,
    q: Q,
) -> Response {
    let scope = Scope {
        kind,
        project,
        location,
    };
    call(
        &s,
        Method::GetQuotaPreference,
        scope,
        q,
        |st, project, params, now| {
            let idx = st.find(project, &id).ok_or_else(|| {
            GcpError::not_found(format!(
                "QuotaPreference projects/{project}/locations/global/quotaPreferences/{id} not found."
            ))
        })?;
            let out = wire::preference(&st.prefs[idx], params.enc());
            st.record_read(idx, now);
            Ok(out)
        },
    )
}

async fn create_pref(
    State(s): State<Shared>,
    Path((kind, project, location)): PrefsPath,
    q: Q,
    body: Bytes,
) -> Response {
    let scope = Scope {
        kind,
        project,
        location,
    };
    call(
        &s,
        Method::CreateQuotaPreference,
        scope,
        q,
        |st, project, params, now| {
            let id = params.text("quotaPreferenceId");
            let req = WriteRequest {
                method: Method::CreateQuotaPreference,
                project,
                id: &id,
                body: wire::parse_preference(&body)?,
                checks: SafetyChecks::parse(params.all("ignoreSafetyChecks"))?,
                validate_only: false,
                allow_missing: false,
                mask: Mask::ALL,
            };
            let p = write::create(st, req, now)?;
            Ok(wire::preference(&p, params.enc()))
        },
    )
}

async fn update_pref(
    State(s): State<Shared>,
    Path((kind, project, location, id)): PrefPath,
    q: Q,
    body: Bytes,
) -> Response {
    let scope = Scope {
        kind,
        project,
        location,
    };
    call(
        &s,
        Method::UpdateQuotaPreference,
        scope,
        q,
        |st, project, params, now| {
            let req = WriteRequest {
                method: Method::UpdateQuotaPreference,
                project,
                id: &id,
                body: wire::parse_preference(&body)?,
                checks: SafetyChecks::parse(params.all("ignoreSafetyChecks"))?,
                validate_only: params.flag("validateOnly")?,
                allow_missing: params.flag("allowMissing")?,
                mask: Mask::parse(params.get("updateMask"))?,
            };
            let p = write::update(st, req, now)?;
            Ok(wire::preference(&p, params.enc()))
        },
    )
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
