//! What `spec.headroom` asks the quota to be: usage plus the percentage, rounded up, bounded
//! by `max` and the account's guardrails, raised at most once per cooldown, never lowered.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::reading::{Reading, duration_text, number};
use crate::api::{Headroom, HeadroomStatus, UsageBasis};

/// A bound from the account (a guardrail): the value, and the guardrail's words.
#[derive(Clone, Debug, PartialEq)]
pub struct Cap {
    pub value: i64,
    pub why: String,
}

/// What the account allows headroom, whatever a team's spec says: a cap on the value, and the
/// least time between two raises (a tenant's short `spec.headroom.cooldown` cannot pace raises
/// faster than the admin allows).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bounds {
    pub cap: Option<Cap>,
    pub min_cooldown: jiff::SignedDuration,
}

/// What headroom asks, from this reading and what it asked before (`previous`, from status).
/// None when usage was never read: there is no number to ask for yet.
pub fn headroom(
    h: &Headroom,
    reading: Option<&Reading>,
    previous: Option<&HeadroomStatus>,
    current_value: f64,
    bounds: &Bounds,
    now: Timestamp,
) -> Option<HeadroomStatus> {
    let prev = previous.map(|p| HeadroomStatus {
        value: p.value.min(h.max),
        ..p.clone()
    });
    let Some(r) = reading else {
        return prev.map(|p| HeadroomStatus {
            held: Some("usage is unknown: headroom keeps the value it last asked for".into()),
            ..p
        });
    };
    let (value, arithmetic, held) = asked(h, r, bounds.cap.clone());
    let cooldown = h.cooldown().max(bounds.min_cooldown);
    let raise = value as f64 > current_value;
    Some(match prev {
        Some(p) if value <= p.value => HeadroomStatus {
            held: held.or_else(|| {
                (value < p.value).then(|| {
                    format!(
                        "usage asks {}; headroom never lowers: kept at {}",
                        number(value as f64),
                        number(p.value as f64)
                    )
                })
            }),
            arithmetic,
            ..p
        },
        Some(p) if raise && cooling(cooldown, &p, now).is_some() => {
            let until = cooling(cooldown, &p, now).expect("checked");
            HeadroomStatus {
                held: Some(format!(
                    "usage asks {}; held at {} until {until} ({})",
                    number(value as f64),
                    number(p.value as f64),
                    paced_by(h, bounds)
                )),
                arithmetic,
                ..p
            }
        }
        p => HeadroomStatus {
            value,
            arithmetic,
            raised_at: match raise {
                true => Some(Time(now)),
                false => p.and_then(|p| p.raised_at),
            },
            held,
        },
    })
}

/// The value usage asks for, how it was reached, and what bounded it.
fn asked(h: &Headroom, r: &Reading, cap: Option<Cap>) -> (i64, String, Option<String>) {
    let (name, basis) = match h.of {
        UsageBasis::Peak => (
            format!("peak {} over {}", number(r.peak), duration_text(r.window)),
            r.peak,
        ),
        UsageBasis::Current => (format!("usage {}", number(r.current)), r.current),
    };
    let wanted = (basis * f64::from(100 + h.percent) / 100.0 - 1e-9)
        .ceil()
        .max(0.0) as i64;
    let arithmetic = format!("{name} + {} % = {}", h.percent, number(wanted as f64));
    let (mut value, mut held) = (wanted, None);
    if value > h.max {
        value = h.max;
        held = Some(format!(
            "capped at spec.headroom.max {}",
            number(h.max as f64)
        ));
    }
    if let Some(cap) = cap.filter(|c| value > c.value) {
        value = cap.value;
        held = Some(format!(
            "capped at {} by the account's {}",
            number(cap.value as f64),
            cap.why
        ));
    }
    (value, arithmetic, held)
}

/// The end of the cooldown after the last raise, while it lasts.
fn cooling(
    cooldown: jiff::SignedDuration,
    p: &HeadroomStatus,
    now: Timestamp,
) -> Option<Timestamp> {
    let at = p.raised_at.as_ref()?.0;
    let until = at.checked_add(cooldown).ok()?;
    (until > now).then_some(until)
}

/// Which cooldown paces the raises: the spec's, or the account's minimum when longer.
fn paced_by(h: &Headroom, bounds: &Bounds) -> String {
    if bounds.min_cooldown > h.cooldown() {
        format!(
            "the account's spec.guardrails.headroomMinCooldown {}, over spec.headroom.cooldown {}",
            duration_text(bounds.min_cooldown),
            duration_text(h.cooldown())
        )
    } else {
        format!("spec.headroom.cooldown {}", duration_text(h.cooldown()))
    }
}
