//! The shape both clouds' schedules share: a default rule, rules tried in order, and a switch
//! that leaves every move to admin calls. A leaf module below both clouds.

use serde::Deserialize;

/// How a cloud's increase requests end: the first rule that matches one, else `default`.
#[derive(Clone, Debug, Deserialize)]
#[serde(
    default,
    deny_unknown_fields,
    bound(deserialize = "R: ScheduleRule + Deserialize<'de>")
)]
pub struct Schedule<R> {
    /// Every request waits for admin calls, whatever the rules say.
    pub manual: bool,
    /// The rule for requests no rule matches.
    pub default: R,
    /// The first matching rule decides a request's fate.
    pub rules: Vec<R>,
}

/// What a cloud's rule type tells the shared `Schedule`.
pub trait ScheduleRule: Clone {
    /// The rule of a scenario that sets none: the cloud's usual pace.
    fn usual() -> Self;
    /// The rule with every timed move left to admin calls (`schedule.manual`).
    fn manual(self) -> Self;
}

impl<R: ScheduleRule> Default for Schedule<R> {
    fn default() -> Self {
        Self {
            manual: false,
            default: R::usual(),
            rules: Vec::new(),
        }
    }
}

impl<R: ScheduleRule> Schedule<R> {
    /// The rule deciding a request's fate: the first that `matches`, else the default, made
    /// manual when the whole schedule is.
    pub fn rule_for(&self, matches: impl Fn(&R) -> bool) -> R {
        let rule = self.rules.iter().find(|r| matches(r));
        let rule = rule.unwrap_or(&self.default).clone();
        if self.manual { rule.manual() } else { rule }
    }
}
