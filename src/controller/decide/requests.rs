//! What is known of a quota's requests, as plain facts for the decision: a request an object
//! recorded (as the cloud reports it now), the cloud's history of the quota, and a filing an
//! object began. Nothing here decides; `decide` reads these.

use jiff::Timestamp;

use crate::cloud::{Phase, RequestView};

/// A request this object recorded in its status, as the cloud reports it now.
#[derive(Clone, Debug, PartialEq)]
pub struct Tracked {
    pub view: RequestView,
    /// The object's generation when the request closed without a full grant.
    pub closed_at_generation: Option<i64>,
    /// This object filed it (rather than adopting one filed by someone else).
    pub filed_by_me: bool,
}

/// What the cloud's request history says of the quota, read (under the quota's filing lock)
/// only when a request might be filed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    pub open: Option<RequestView>,
    pub latest: Option<RequestView>,
    /// Every request for the quota that closed without a full grant, whoever made it.
    pub refusals: Vec<RequestView>,
}

impl History {
    /// The history as the cloud lists the quota's requests: the newest open one, the latest, and
    /// every refusal.
    pub fn of(requests: Vec<RequestView>) -> Self {
        let refusals = requests.iter().filter(|r| counts(r)).cloned().collect();
        let open = requests
            .iter()
            .filter(|r| r.phase.is_open())
            .max_by_key(|r| r.submitted_at)
            .cloned();
        let latest = requests.into_iter().max_by_key(|r| r.submitted_at);
        Self {
            open,
            latest,
            refusals,
        }
    }

    /// The refusals read, when the history was read.
    pub fn refusals(history: Option<&Self>) -> &[RequestView] {
        history.map_or(&[], |h| h.refusals.as_slice())
    }
}

/// A filing this object began: recorded before the cloud was called, so that after a crash the
/// request it made is known to be this object's.
#[derive(Clone, Debug, PartialEq)]
pub struct Intent {
    pub value: i64,
    pub at: Timestamp,
    /// The object's generation when it decided to file.
    pub generation: i64,
}

/// Whether a request is a refusal that speaks for the needs on the quota. The clouds' own
/// auto-adjusters ask without a case or a reason and are refused for their own rules (AWS
/// approves only what it approves automatically): their refusal settles no declared need, and
/// the operator then files its own request, once.
pub fn counts(r: &RequestView) -> bool {
    matches!(r.phase, Phase::Denied | Phase::PartiallyGranted) && r.origin.is_none()
}
