//! `quota-operator explain`: from a pasted cloud error to the QuotaRequirement that prevents it.
//!
//! Each cloud's recognisers ([`ec2_errors`], [`aws_errors`], [`gcp_errors`]) apply the
//! [`catalog`] (catalog.yaml: which errors mean which quota) to the text and make a [`Finding`] (which quota, where, what limit the text states); [`value`] decides the
//! desiredValue; [`render`] writes the YAML and the explanation; [`live`] reads the current value
//! through the operator's own providers when asked to.

mod aws_errors;
pub mod catalog;
pub mod cli;
mod ec2_errors;
pub mod exit;
mod finding;
mod gcp_errors;
mod gcp_metrics;
mod live;
mod not_quotas;
pub mod render;
pub mod text;
pub mod value;

pub use crate::capacity::families::Market;
pub use finding::{ExplainError, Finding, Options, QuotaId};

/// Recognises the error in `text`: GCP first (its JSON bodies may quote words AWS uses), then
/// EC2's family-group errors, then the rest of the AWS catalog; a text that is none of them may
/// be a stock-out or throttling, which is said so.
pub fn recognise(text: &str, options: &Options) -> Result<Finding, ExplainError> {
    let normalised = text::normalise(text);
    if let Some(found) = gcp_errors::recognise(text, &normalised, options) {
        return found;
    }
    if let Some(found) = ec2_errors::recognise(text, &normalised, options) {
        return found;
    }
    if let Some(found) = aws_errors::recognise(text, &normalised, options) {
        return found;
    }
    if let Some(not_a_quota) = not_quotas::recognise(&normalised) {
        return Err(not_a_quota);
    }
    let hint = if text::says(text, "quota") || text::says(text, "limit") {
        ": it mentions a quota or limit, but not in a shape recognised here (with --live, an \
         unknown ...LimitExceeded code is looked up by name in Service Quotas)"
    } else {
        ""
    };
    Err(ExplainError::NotRecognised(hint.into()))
}

#[cfg(test)]
mod tests;
