//! What status records of a request, and back: the cloud's view of the request with its owner
//! (the quota and object it belongs to), and the check that a recorded request still belongs to
//! the object as its spec and account now stand.

use jiff::Timestamp;

use super::decide::requests::{Intent, Tracked};
use crate::{
    api::{FilingIntent, RequestOwner, RequestPhase, RequestStatus},
    cloud::{Origin, Phase, RequestView},
};

use super::status::time;

/// The owner a request for this object's quota would have now; `filed_by` is left out of the
/// comparison (an adopted request belongs to the quota as much as a filed one).
pub fn same_quota(recorded: &RequestOwner, now: &RequestOwner) -> bool {
    recorded.account_ref == now.account_ref
        && recorded.account == now.account
        && recorded.service == now.service
        && recorded.quota == now.quota
        && recorded.scope == now.scope
}

/// The request recorded in status, if it still belongs to `owner`'s quota (a record without
/// an owner belongs to no quota).
pub fn tracked(r: &RequestStatus, owner: &RequestOwner) -> Option<Tracked> {
    let recorded = r.owner.as_ref()?;
    if !same_quota(recorded, owner) {
        return None;
    }
    // Every record this operator writes has its phase: one without is followed, never trusted.
    let phase = r.phase.map_or(Phase::Unknown, phase_from_record);
    Some(Tracked {
        view: RequestView {
            id: r.id.clone(),
            case_id: r.case_id.clone(),
            status: r.status.clone(),
            phase,
            requested_value: r.requested_value,
            granted_value: r.granted_value,
            submitted_at: r.submitted_at.as_ref().map(|t| t.0),
            updated_at: r.updated_at.as_ref().map(|t| t.0),
            message: r.status_message.clone(),
            origin: r.made_by.as_deref().and_then(Origin::parse),
            justification: r.justification.clone(),
        },
        closed_at_generation: r.closed_at_generation,
        filed_by_me: recorded.filed_by.is_some(),
    })
}

/// What status records of a tracked request. `owner.filed_by` is kept only when this object
/// filed it.
pub fn record(t: &Tracked, owner: &RequestOwner) -> RequestStatus {
    let mut owner = owner.clone();
    if !t.filed_by_me {
        owner.filed_by = None;
    }
    RequestStatus {
        id: t.view.id.clone(),
        case_id: t.view.case_id.clone(),
        status: t.view.status.clone(),
        requested_value: t.view.requested_value,
        granted_value: t.view.granted_value,
        submitted_at: t.view.submitted_at.map(time),
        status_message: t.view.message.clone(),
        updated_at: t.view.updated_at.map(time),
        closed_at_generation: t.closed_at_generation,
        phase: Some(phase_to_record(t.view.phase)),
        owner: Some(owner),
        justification: t.view.justification.clone(),
        made_by: t.view.origin.map(|o| o.as_str().to_string()),
        // The case is read apart from the request (`case`), which fills this in.
        case: None,
    }
}

/// The filing intent recorded in status, if it is for `owner`'s quota.
pub fn intent(f: &FilingIntent, owner: &RequestOwner) -> Option<Intent> {
    same_quota(&f.owner, owner).then(|| Intent {
        value: f.value,
        at: f.at.0,
        generation: f.owner.filed_by.as_ref().map_or(0, |b| b.generation),
    })
}

/// The intent to write before filing `value` for `owner`.
pub fn filing(value: i64, owner: &RequestOwner, at: Timestamp) -> FilingIntent {
    FilingIntent {
        value,
        at: time(at),
        owner: owner.clone(),
    }
}

fn phase_to_record(p: Phase) -> RequestPhase {
    match p {
        Phase::Open => RequestPhase::Open,
        Phase::Approved => RequestPhase::Approved,
        Phase::Denied => RequestPhase::ClosedWithoutGrant,
        Phase::PartiallyGranted => RequestPhase::PartiallyGranted,
        Phase::Unknown => RequestPhase::Unknown,
    }
}

fn phase_from_record(p: RequestPhase) -> Phase {
    match p {
        RequestPhase::Open => Phase::Open,
        RequestPhase::Approved => Phase::Approved,
        RequestPhase::ClosedWithoutGrant => Phase::Denied,
        RequestPhase::PartiallyGranted => Phase::PartiallyGranted,
        RequestPhase::Unknown => Phase::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::FiledBy;

    fn owner(quota: &str, account: &str) -> RequestOwner {
        RequestOwner {
            account_ref: "prod".into(),
            account: account.into(),
            service: "ec2".into(),
            quota: quota.into(),
            scope: "us-east-1".into(),
            filed_by: Some(FiledBy {
                uid: "u1".into(),
                generation: 1,
            }),
        }
    }

    fn recorded(owner: Option<RequestOwner>) -> RequestStatus {
        RequestStatus {
            id: "r1".into(),
            case_id: None,
            status: "DENIED".into(),
            requested_value: 100.0,
            granted_value: None,
            submitted_at: None,
            status_message: None,
            updated_at: None,
            closed_at_generation: Some(1),
            phase: Some(RequestPhase::ClosedWithoutGrant),
            owner,
            justification: None,
            made_by: None,
            case: None,
        }
    }

    #[test]
    fn a_request_for_another_quota_or_account_is_not_this_objects() {
        let now = owner("L-1", "111111111111");
        let r = recorded(Some(owner("L-2", "111111111111")));
        assert_eq!(tracked(&r, &now), None, "quota changed");
        let r = recorded(Some(owner("L-1", "222222222222")));
        assert_eq!(tracked(&r, &now), None, "account re-pointed");
        let mut other_ref = owner("L-1", "111111111111");
        other_ref.account_ref = "staging".into();
        assert_eq!(
            tracked(&recorded(Some(other_ref)), &now),
            None,
            "accountRef changed"
        );
        let mut other_scope = owner("L-1", "111111111111");
        other_scope.scope = "eu-west-1".into();
        assert_eq!(tracked(&recorded(Some(other_scope)), &now), None);
    }

    #[test]
    fn the_recorded_phase_is_used_and_survives_a_round_trip() {
        let now = owner("L-1", "111111111111");
        let t = tracked(&recorded(Some(now.clone())), &now).expect("same quota");
        assert_eq!(t.view.phase, Phase::Denied);
        assert!(t.filed_by_me);
        assert_eq!(record(&t, &now), recorded(Some(now.clone())));
    }

    #[test]
    fn an_adopted_request_records_no_filer() {
        let now = owner("L-1", "111111111111");
        let mut adopted = now.clone();
        adopted.filed_by = None;
        let mut r = recorded(Some(adopted));
        r.phase = Some(RequestPhase::Open);
        r.status = "CASE_OPENED".into();
        let t = tracked(&r, &now).expect("the same quota");
        assert_eq!(t.view.phase, Phase::Open);
        assert!(!t.filed_by_me);
        assert_eq!(record(&t, &now).owner.unwrap().filed_by, None);
    }

    #[test]
    fn a_record_without_an_owner_or_a_phase_is_not_trusted() {
        let now = owner("L-1", "111111111111");
        assert_eq!(tracked(&recorded(None), &now), None, "no owner");
        let mut r = recorded(Some(now.clone()));
        r.phase = None;
        let t = tracked(&r, &now).expect("the same quota");
        assert_eq!(
            t.view.phase,
            Phase::Unknown,
            "followed, never taken as closed"
        );
    }

    #[test]
    fn an_intent_for_another_quota_is_ignored() {
        let now = owner("L-1", "111111111111");
        let at = Timestamp::from_second(1_700_000_000).unwrap();
        let f = filing(500, &now, at);
        assert_eq!(
            intent(&f, &now),
            Some(Intent {
                value: 500,
                at,
                generation: 1
            })
        );
        assert_eq!(intent(&f, &owner("L-2", "111111111111")), None);
    }
}
