//! Compute Engine's `regions.list` (`GET /compute/v1/projects/{p}/regions`, with filter,
//! maxResults and pageToken), as the official client (feature `regions`) and gcloud call it:
//! the scenario's regions (Google's, plus its `regions`), each `UP` with its zones, sorted by
//! name as Google lists them.

use axum::{
    extract::{Path, Query, State},
    response::Response,
};
use serde_json::{Value, json};

use super::responses::{MAX_PAGE, NameFilter, SELF_LINK_BASE, page_size, run};
use crate::gcp::{
    error::GcpError, machine_types::zones_of, method::Method, model::state::GcpState,
    model::state::Shared, params::Params,
};
use crate::paging;

pub async fn list(
    State(shared): State<Shared>,
    Path(project): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    run(&shared, Method::ListRegions, &project, |st| {
        regions(st, &project, &Params(pairs))
    })
}

fn regions(st: &GcpState, project: &str, params: &Params) -> Result<Value, GcpError> {
    let filter = NameFilter::parse(&params.text("filter"))?;
    let size = page_size(params, MAX_PAGE)?;
    let mut names: Vec<&String> = (st.catalog.regions.iter())
        .filter(|r| filter.matches(r))
        .collect();
    names.sort();
    names.dedup();
    let query = format!("regions/{project}/{}", params.text("filter"));
    let (page, next) = paging::page(&names, &params.text("pageToken"), size, &query)
        .map_err(|_| GcpError::invalid("Invalid value for field 'pageToken'."))?;
    let base = format!("{SELF_LINK_BASE}/projects/{project}");
    let items: Vec<Value> = page.iter().map(|r| region(&base, r)).collect();
    let mut out = json!({
        "kind": "compute#regionList",
        "id": format!("projects/{project}/regions"),
        "items": items,
        "selfLink": format!("{base}/regions"),
    });
    if let Some(token) = next {
        out["nextPageToken"] = json!(token);
    }
    Ok(out)
}

/// A region as Compute describes it (without its `quotas`, which the simulator does not keep).
fn region(base: &str, name: &str) -> Value {
    let zones: Vec<String> = (zones_of(name).iter())
        .map(|z| format!("{base}/zones/{z}"))
        .collect();
    json!({
        "kind": "compute#region",
        "id": id(name),
        "creationTimestamp": "1969-12-31T16:00:00.000-08:00",
        "name": name,
        "description": name,
        "status": "UP",
        "zones": zones,
        "selfLink": format!("{base}/regions/{name}"),
        "supportsPzs": false,
    })
}

/// Google's ids are opaque numbers (as strings); one from the name keeps them stable.
fn id(name: &str) -> String {
    let n = name.bytes().fold(1000u64, |h, b| {
        h.wrapping_mul(31).wrapping_add(u64::from(b))
    });
    (n % 10_000).to_string()
}
