//! Compute Engine (REST+JSON under `/compute/v1/`): machine types in `responses` (with
//! Compute's errors and list filters), answered from the machine-type catalog
//! (`gcp::machine_types`, a leaf the scenario and the model use too); `regions.list` in
//! `regions`, from the catalog's regions.

mod regions;
mod responses;

use axum::{Router, routing::get};

use crate::gcp::model::state::Shared;

/// Every Compute route the simulator serves.
pub fn router(shared: Shared) -> Router {
    let regions = Router::new()
        .route("/compute/v1/projects/{project}/regions", get(regions::list))
        .with_state(shared.clone());
    responses::router(shared).merge(regions)
}
