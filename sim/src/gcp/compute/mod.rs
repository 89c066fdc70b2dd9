//! Compute Engine (REST+JSON under `/compute/v1/`): machine types in `responses` (routes,
//! Compute's errors and list filters), answered from the machine-type catalog
//! (`gcp::machine_types`, a leaf the scenario and the model use too); `regions.list` in
//! `regions`, from the catalog's regions.

mod regions;
pub mod responses;
