//! `quota-operator plan -f FILE|DIR...`: what a GitOps pull request would do, before it merges.
//!
//! First [`admission`]: each object is validated offline exactly as the API server admits it
//! ([`schema`] for the CRD's OpenAPI schema, [`cel`] for its x-kubernetes-validations, errors in
//! the server's words from [`field`]). Then, with `--live`, [`live`] reads each target's current
//! value through the operator's own providers and asks the controller's pure planner what it
//! would do. [`render`] prints the [`report`] as a table, JSON or Markdown; [`cli`] wires it up.

pub mod admission;
pub mod cel;
pub mod cli;
pub mod exit;
pub mod field;
pub mod files;
pub mod limits;
pub mod live;
pub mod nodepools;
pub mod render;
pub mod report;
pub mod schema;
