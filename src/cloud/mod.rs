//! The cloud boundary: one trait every cloud implements, and the plain types that cross it.

pub mod aws;
pub(crate) mod boundary;
pub(crate) mod case;
mod clouds;
pub mod gcp;
pub mod iam_files;
mod limiter;
mod per_account;
pub mod permissions;
mod regions;

pub use boundary::{
    AutoAdjuster, CloudError, ErrorKind, FileContext, FleetServices, Origin, Phase,
    ProviderFactory, QuotaProvider, QuotaRef, QuotaTemplate, QuotaView, RequestView, Target,
    TemplateEntry, UNLIMITED, UsageView, meets, no_fleet,
};
pub use case::{CaseMessage, CaseView};
pub use clouds::Clouds;
pub use regions::is_not_a_region;
