//! A support case as the cloud reports it: the plain types the AWS Support calls hand the
//! controller (a leaf, so `boundary` and the providers both import it without a circle).

use jiff::Timestamp;

/// One message on a case.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseMessage {
    pub at: Timestamp,
    /// Written by the cloud's support staff (AWS: "Amazon Web Services"), not the customer.
    pub from_cloud: bool,
    pub body: String,
}

/// A support case, now.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseView {
    /// The id the Support API takes (`case-...`).
    pub id: String,
    /// The number the Support Center shows.
    pub display_id: String,
    /// The cloud's status word (`opened`, `pending-customer-action`, ...).
    pub status: String,
    /// The most recent messages, newest first.
    pub messages: Vec<CaseMessage>,
}
