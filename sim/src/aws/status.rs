//! The status of a quota increase request, as Service Quotas names it: plain vocabulary
//! shared by the scenario (seeded requests, outcomes) and the model (a request's life).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequestStatus {
    Pending,
    CaseOpened,
    Approved,
    Denied,
    CaseClosed,
    NotApproved,
    InvalidRequest,
}

impl RequestStatus {
    pub fn is_open(self) -> bool {
        matches!(self, RequestStatus::Pending | RequestStatus::CaseOpened)
    }

    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.into())).ok()
    }
}
