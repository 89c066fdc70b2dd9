//! The decision's cases in `cases.yaml`, run through the controller's own loop: a case reads like
//! a region's story (what status records, what the cloud's history holds) and says the verdict,
//! so a new rule gets a case without a new Rust fixture.

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use super::{
    Need, Observed,
    drive::{self, Outside},
    outcome::{Filed, Verdict},
    types::Ask,
};
use crate::{
    api::Guardrails,
    cloud::{CloudError, Origin, Phase, RequestView},
    controller::decide::requests::{History, Intent, Tracked},
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    case: String,
    #[serde(default)]
    current: f64,
    adjustable: Option<bool>,
    generation: Option<i64>,
    need: Option<NeedCase>,
    since_ago: Option<String>,
    cooldown: Option<String>,
    #[serde(default)]
    allow_decrease: bool,
    decrease_floor: Option<i64>,
    guardrails: Option<Guardrails>,
    own_request: Option<Request>,
    open_request: Option<Request>,
    peer_request: Option<Request>,
    intent: Option<IntentCase>,
    #[serde(default)]
    history: Vec<Request>,
    /// Headroom has no value: why (usage unknown).
    usage_missing: Option<String>,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NeedCase {
    own: i64,
    effective: Option<i64>,
    driven_by: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    id: String,
    status: String,
    /// The phase, when the status word alone does not say it (a partial grant).
    phase: Option<String>,
    value: f64,
    granted: Option<f64>,
    submitted_ago: Option<String>,
    updated_ago: Option<String>,
    closed_at_generation: Option<i64>,
    filed_by_me: Option<bool>,
    message: Option<String>,
    /// Made by the cloud's auto-adjuster (`aws` or `gcp`).
    made_by: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IntentCase {
    value: i64,
    ago: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    state: Option<String>,
    file: Option<i64>,
    message: Option<String>,
    request: Option<String>,
    #[serde(default)]
    wakes: bool,
}

const ME: &str = "team/me";

fn ago(now: Timestamp, span: &str) -> Timestamp {
    let span: SignedDuration = span.parse().unwrap_or_else(|e| panic!("{span:?}: {e}"));
    now - span
}

impl Request {
    fn view(&self, now: Timestamp) -> RequestView {
        let phase = match self.phase.as_deref() {
            Some("PartiallyGranted") => Phase::PartiallyGranted,
            Some(other) => panic!("phase {other:?}: only PartiallyGranted needs saying"),
            None => Phase::from_aws_status(&self.status),
        };
        RequestView {
            id: self.id.clone(),
            case_id: None,
            status: self.status.clone(),
            phase,
            requested_value: self.value,
            granted_value: self.granted,
            submitted_at: self.submitted_ago.as_deref().map(|a| ago(now, a)),
            updated_at: self.updated_ago.as_deref().map(|a| ago(now, a)),
            message: self.message.clone(),
            origin: self.made_by.as_deref().map(|m| match m {
                "aws" => Origin::AwsAutomaticManagement,
                "gcp" => Origin::GcpQuotaAdjuster,
                other => panic!("made_by {other:?}: aws or gcp"),
            }),
            justification: None,
        }
    }

    fn tracked(&self, now: Timestamp) -> Tracked {
        Tracked {
            view: self.view(now),
            closed_at_generation: self.closed_at_generation,
            filed_by_me: self.filed_by_me.unwrap_or(true),
        }
    }
}

impl Case {
    fn observed(&self, now: Timestamp) -> Observed {
        let since = self
            .since_ago
            .as_deref()
            .map_or(ago(now, "720h"), |a| ago(now, a));
        let own = self.need.as_ref().map_or(100, |n| n.own);
        let effective = self.need.as_ref().and_then(|n| n.effective).unwrap_or(own);
        let driven_by = self.need.as_ref().and_then(|n| n.driven_by.clone());
        let driven_by = driven_by.unwrap_or_else(|| ME.into());
        let need = Need {
            me: ME.into(),
            own,
            effective,
            is_driver: driven_by == ME,
            driven_by,
            driver_since: since,
            blocked: None,
            peer_request: self.peer_request.as_ref().map(|r| r.tracked(now)),
            capacity: None,
        };
        Observed {
            generation: self.generation.unwrap_or(1),
            adjustable: self.adjustable.unwrap_or(true),
            cooldown: self
                .cooldown
                .as_deref()
                .map_or(SignedDuration::ZERO, |c| c.parse().expect("a cooldown")),
            allow_decrease: self.allow_decrease,
            decrease_floor: self.decrease_floor,
            guardrails: self.guardrails.clone(),
            own_request: self.own_request.as_ref().map(|r| r.tracked(now)),
            open_request: self.open_request.as_ref().map(|r| r.view(now)),
            intent: self.intent.as_ref().map(|i| Intent {
                value: i.value,
                at: ago(now, &i.ago),
                generation: self.generation.unwrap_or(1),
            }),
            usage_missing: self.usage_missing.clone(),
            ..Observed::new(now, self.current, "L-1".into(), since, need)
        }
    }

    fn check(&self, v: &Verdict) -> Result<(), String> {
        let e = &self.expect;
        let filed = v.filed.as_ref().map(|(value, _)| *value);
        if filed != e.file {
            return Err(format!("filed {filed:?}, expected {:?}", e.file));
        }
        if let Some(state) = &e.state
            && v.state.as_str() != state
        {
            return Err(format!("state {:?}, expected {state}", v.state));
        }
        if let Some(part) = &e.message
            && !v.message.contains(part.as_str())
        {
            return Err(format!("message {:?} lacks {part:?}", v.message));
        }
        let shown = v.request.as_ref().map(|t| t.view.id.as_str());
        if e.request.is_some() && shown != e.request.as_deref() {
            return Err(format!("request {shown:?}, expected {:?}", e.request));
        }
        if v.wake_at.is_some() != e.wakes {
            return Err(format!(
                "wakes at {:?}, expected a wake: {}",
                v.wake_at, e.wakes
            ));
        }
        Ok(())
    }
}

/// The cloud's history as the case gives it; the other objects are all in the case; nothing is
/// filed (the verdict says the value).
struct Story<'a> {
    history: &'a [Request],
    now: Timestamp,
}

impl Outside for Story<'_> {
    async fn read(&mut self, ask: Ask, o: &mut Observed) -> Result<(), CloudError> {
        match ask {
            Ask::History => {
                let views = self.history.iter().map(|r| r.view(self.now)).collect();
                o.history = Some(History::of(views));
            }
            Ask::Peers => o.peers_fresh = true,
        }
        Ok(())
    }

    async fn file(&mut self, _: &Observed, _: i64) -> Result<Filed, CloudError> {
        Ok(Filed::Dry)
    }
}

#[test]
fn every_case_comes_to_its_verdict() {
    let cases: Vec<Case> =
        serde_yaml::from_str(include_str!("cases.yaml")).expect("cases.yaml parses");
    assert!(cases.len() >= 15, "{} cases", cases.len());
    let now = Timestamp::now();
    let failed: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            let mut o = c.observed(now);
            let mut story = Story {
                history: &c.history,
                now,
            };
            let verdict = futures::executor::block_on(drive::run(&mut o, &mut story));
            let verdict = verdict.map_err(|e| e.to_string()).and_then(|v| {
                c.check(&v)?;
                Ok(v)
            });
            verdict.err().map(|why| format!("{}: {why}", c.case))
        })
        .collect();
    assert!(failed.is_empty(), "cases failed:\n{}", failed.join("\n"));
}
