//! The support case of an AWS increase request, as status shows it, and the record of the one
//! reply the operator may send to it.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The request's support case, as AWS Support last reported it.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CaseStatus {
    /// AWS's case status (`opened`, `pending-customer-action`, `customer-action-completed`,
    /// `work-in-progress`, `reopened`, `resolved`, `unassigned`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The case number the Support Center shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_id: Option<String>,
    /// AWS waits for an answer from you: the case is `pending-customer-action`, or AWS's
    /// message is the latest.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub awaiting_customer: bool,
    /// When AWS wrote its latest message in the case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_aws_message_at: Option<Time>,
    /// The first lines of AWS's latest message (about 300 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_aws_message: Option<String>,
    /// When the operator sent `spec.aws.caseReply` to the case (once per case, never more).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_sent_at: Option<Time>,
    /// What the operator could not do with the case, and where to do it instead (the case is
    /// not readable with the operator's credentials: no Business or Enterprise support, or no
    /// `support:` permissions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The one reply this object sends to a support case, recorded before it is sent: after a
/// crash between the call and the status write, the reply is never sent a second time.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CaseReply {
    /// When the operator decided to send it (before calling AWS).
    pub at: Time,
    /// When AWS took it; absent if the operator stopped between the two (then AWS's case
    /// messages tell whether it arrived, and it is not sent again either way).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<Time>,
}
