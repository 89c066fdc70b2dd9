//! Compute Engine's machine types (REST, JSON), read-only, for capacity arithmetic:
//! `GET /compute/v1/projects/{p}/aggregated/machineTypes` (filter, maxResults, pageToken) and
//! `GET /compute/v1/projects/{p}/zones/{z}/machineTypes/{name}`, as the official Rust client
//! (google-cloud-compute-v1) and gcloud call them. Errors are Compute's: `{"error": {"code",
//! "message", "errors": [{"message", "domain", "reason"}]}}`, without a google.rpc `status`.

use axum::{
    Router,
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::gcp::{
    error::{Code, GcpError},
    machine_types::{MachineTypeDef, zones_of},
    method::Method,
    model::state::{GcpState, Shared},
    params::Params,
};
use crate::{paging, shared::current};

pub(super) const SELF_LINK_BASE: &str = "https://www.googleapis.com/compute/v1";
/// Compute's page size when maxResults is absent, and the most it allows.
pub(super) const MAX_PAGE: i64 = 500;

pub(super) fn router(shared: Shared) -> Router {
    Router::new()
        .route(
            "/compute/v1/projects/{project}/aggregated/machineTypes",
            get(aggregated_list),
        )
        .route(
            "/compute/v1/projects/{project}/zones/{zone}/machineTypes/{name}",
            get(get_one),
        )
        .with_state(shared)
}

type Pairs = Query<Vec<(String, String)>>;

async fn aggregated_list(
    State(shared): State<Shared>,
    Path(project): Path<String>,
    Query(pairs): Pairs,
) -> Response {
    run(
        &shared,
        Method::AggregatedListMachineTypes,
        &project,
        |st| aggregated(st, &project, &Params(pairs)),
    )
}

async fn get_one(
    State(shared): State<Shared>,
    Path((project, zone, name)): Path<(String, String, String)>,
) -> Response {
    run(&shared, Method::GetMachineType, &project, |st| {
        let not_found =
            |what: String| GcpError::not_found(format!("The resource '{what}' was not found"));
        if !zones(st).contains(&zone) {
            return Err(not_found(format!("projects/{project}/zones/{zone}")));
        }
        match st.machine_types.get(&name) {
            Some(t) if st.machine_types.offered_in(&name, &zone) => {
                Ok(machine_type(&project, &zone, t))
            }
            _ => Err(not_found(format!(
                "projects/{project}/zones/{zone}/machineTypes/{name}"
            ))),
        }
    })
}

/// One call: the project check, then an injected fault, then `op`; counted like Cloud Quotas'.
pub(super) fn run(
    shared: &Shared,
    method: Method,
    project: &str,
    op: impl FnOnce(&mut GcpState) -> Result<Value, GcpError>,
) -> Response {
    let result = current(shared, |st, _| {
        let result = if !st.scenario.project_exists(project) {
            Err(GcpError::new(
                Code::PermissionDenied,
                format!("Permission denied on resource project {project} (or it may not exist)."),
            ))
        } else {
            st.take_fault(method, project).map_or_else(|| op(st), Err)
        };
        let code = result.as_ref().err().map(|e| e.code);
        st.counters.record(project, method, code);
        tracing::debug!(%method, project, error = ?code, "sim: gcp compute call");
        result
    });
    match result {
        Ok(value) => json_response(StatusCode::OK, &value),
        Err(e) => error_response(&e),
    }
}

/// Every zone of every region the scenario knows, sorted as Google lists them.
fn zones(st: &GcpState) -> Vec<String> {
    let mut zones: Vec<String> = st
        .catalog
        .regions
        .iter()
        .flat_map(|r| zones_of(r))
        .collect();
    zones.sort();
    zones.dedup();
    zones
}

fn aggregated(st: &GcpState, project: &str, params: &Params) -> Result<Value, GcpError> {
    let filter = NameFilter::parse(&params.text("filter"))?;
    let size = page_size(params, MAX_PAGE)?;
    let zones = zones(st);
    let entries: Vec<(String, &MachineTypeDef)> = (zones.iter())
        .flat_map(|z| {
            (st.machine_types.all().iter())
                .filter(|t| filter.matches(&t.name) && st.machine_types.offered_in(&t.name, z))
                .map(move |t| (z.clone(), t))
        })
        .collect();
    let query = format!("machineTypes/{project}/{}", params.text("filter"));
    let (page, next) = paging::page(&entries, &params.text("pageToken"), size, &query)
        .map_err(|_| GcpError::invalid("Invalid value for field 'pageToken'."))?;
    let mut items = Map::new();
    for zone in &zones {
        let scope = format!("zones/{zone}");
        let here: Vec<Value> = (page.iter())
            .filter(|(z, _)| z == zone)
            .map(|(z, t)| machine_type(project, z, t))
            .collect();
        let entry = if here.is_empty() {
            json!({"warning": {
                "code": "NO_RESULTS_ON_PAGE",
                "message": format!("There are no results for scope '{scope}' on this page."),
                "data": [{"key": "scope", "value": scope}],
            }})
        } else {
            json!({"machineTypes": here})
        };
        items.insert(scope, entry);
    }
    let mut out = json!({
        "kind": "compute#machineTypeAggregatedList",
        "id": format!("projects/{project}/aggregated/machineTypes"),
        "items": items,
        "selfLink": format!("{SELF_LINK_BASE}/projects/{project}/aggregated/machineTypes"),
    });
    if let Some(token) = next {
        out["nextPageToken"] = json!(token);
    }
    Ok(out)
}

/// A listing's `maxResults`: `max` when absent or 0, refused above `max`.
pub(super) fn page_size(params: &Params, max: i64) -> Result<usize, GcpError> {
    let size = match params.get("maxResults") {
        None => max,
        Some(_) => params.number("maxResults")?,
    };
    if !(0..=max).contains(&size) {
        return Err(GcpError::invalid(format!(
            "Invalid value for field 'maxResults': '{size}'. Must be less than or equal to {max}"
        )));
    }
    Ok(if size == 0 { max } else { size } as usize)
}

/// A machine type as Compute describes it in one zone.
fn machine_type(project: &str, zone: &str, t: &MachineTypeDef) -> Value {
    // Google's ids are opaque numbers (as strings); a hash of the name keeps them stable.
    let id = u64::from_be_bytes(
        Sha256::digest(t.name.as_bytes())[..8]
            .try_into()
            .unwrap_or([0; 8]),
    ) % 10_000_000_000_000;
    let description = t
        .description
        .clone()
        .unwrap_or_else(|| format!("{} vCPUs, {} GB RAM", t.guest_cpus, t.memory_mb / 1024));
    let mut v = json!({
        "kind": "compute#machineType",
        "id": id.to_string(),
        // What Google answers for every predefined machine type.
        "creationTimestamp": "1969-12-31T16:00:00.000-08:00",
        "name": t.name,
        "description": description,
        "guestCpus": t.guest_cpus,
        "memoryMb": t.memory_mb,
        "imageSpaceGb": 0,
        "maximumPersistentDisks": 128,
        "maximumPersistentDisksSizeGb": "263168",
        "zone": zone,
        "selfLink": format!("{SELF_LINK_BASE}/projects/{project}/zones/{zone}/machineTypes/{}", t.name),
        "isSharedCpu": t.is_shared_cpu,
    });
    if !t.accelerators.is_empty() {
        v["accelerators"] = t
            .accelerators
            .iter()
            .map(|a| {
                json!({"guestAcceleratorType": a.guest_accelerator_type,
                       "guestAcceleratorCount": a.guest_accelerator_count})
            })
            .collect();
    }
    v
}

/// Compute list filters on the name, the forms clients send: `name = "n2-standard-8"` (or
/// unquoted, or `!=`) and `name eq n2-standard-8` (`eq`/`ne` take a regular expression that
/// must match the whole name; the simulator understands literal names and `.*`).
#[derive(Debug, PartialEq)]
pub(super) enum NameFilter {
    All,
    Is { pattern: String, negate: bool },
}

impl NameFilter {
    pub(super) fn parse(text: &str) -> Result<Self, GcpError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(NameFilter::All);
        }
        let bad = || {
            GcpError::invalid(format!(
                "Invalid value for field 'filter': '{text}'. Invalid list filter expression \
                 (the simulator filters on name only)."
            ))
        };
        let text = text
            .strip_prefix('(')
            .and_then(|t| t.strip_suffix(')'))
            .unwrap_or(text)
            .trim();
        let rest = text.strip_prefix("name").ok_or_else(bad)?.trim_start();
        let ops = [
            ("!=", true, false),
            ("=", false, false),
            ("eq ", false, true),
            ("ne ", true, true),
        ];
        let (value, negate, regex) = ops
            .iter()
            .find_map(|(op, neg, re)| rest.strip_prefix(op).map(|v| (v.trim(), *neg, *re)))
            .ok_or_else(bad)?;
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        if value.is_empty() || value.contains(' ') {
            return Err(bad());
        }
        let pattern = if regex {
            value.replace(".*", "*")
        } else {
            // `=` compares literally; a `*` in it is not a wildcard.
            value.replace('*', "\u{0}")
        };
        Ok(NameFilter::Is { pattern, negate })
    }

    pub(super) fn matches(&self, name: &str) -> bool {
        match self {
            NameFilter::All => true,
            NameFilter::Is { pattern, negate } => glob(pattern, name) != *negate,
        }
    }
}

fn glob(p: &str, n: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    go(p.as_bytes(), n.as_bytes())
}

/// Compute's reason for a google.rpc code, as its `errors[].reason`.
fn reason(code: Code) -> &'static str {
    match code {
        Code::NotFound => "notFound",
        Code::PermissionDenied => "forbidden",
        Code::ResourceExhausted => "rateLimitExceeded",
        Code::Unauthenticated => "required",
        Code::AlreadyExists => "alreadyExists",
        Code::Internal | Code::Unavailable => "backendError",
        _ => "invalid",
    }
}

fn error_response(e: &GcpError) -> Response {
    let status = e.code.http();
    let body = json!({"error": {
        "code": status.as_u16(),
        "message": e.message,
        "errors": [{"message": e.message, "domain": "global", "reason": reason(e.code)}],
    }});
    json_response(status, &body)
}

fn json_response(status: StatusCode, value: &Value) -> Response {
    let mut resp = (status, value.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_filters_in_the_forms_clients_send() {
        for f in [
            "name = \"n2-standard-8\"",
            "name = n2-standard-8",
            "name eq n2-standard-8",
            "(name eq \"n2-standard-8\")",
        ] {
            let parsed = NameFilter::parse(f).unwrap();
            assert!(parsed.matches("n2-standard-8"), "{f}");
            assert!(!parsed.matches("n2-standard-80"), "{f}");
        }
        assert!(
            NameFilter::parse("name eq n2-.*")
                .unwrap()
                .matches("n2-standard-2")
        );
        assert!(
            NameFilter::parse("name != e2-medium")
                .unwrap()
                .matches("n2-standard-2")
        );
        assert!(NameFilter::parse("").unwrap().matches("anything"));
        assert!(NameFilter::parse("guestCpus > 4").is_err());
    }
}
