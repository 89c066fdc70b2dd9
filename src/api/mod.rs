//! The CRDs: `QuotaRequirement` (what a team needs) and `CloudAccount` (where, and who may ask).

pub(crate) mod cloud_account;
pub mod conditions;
mod quota_requirement;
pub mod reasons;
mod shared;

pub use cloud_account::*;
pub use quota_requirement::*;
pub use shared::{Condition, Shared};

use kube::CustomResourceExt;

/// API group of every resource the operator serves.
pub const GROUP: &str = "quota-operator.dev";

/// Every CRD the operator needs, as one multi-document YAML stream (what `quota-operator crd` prints
/// and what `crds/` holds).
pub fn crds_yaml() -> String {
    let crds = [CloudAccount::crd(), QuotaRequirement::crd()];
    crds.iter()
        .map(|crd| serde_yaml::to_string(crd).expect("a CRD always serializes"))
        .collect::<Vec<_>>()
        .join("---\n")
}
