//! One region of one object: what every step of its reconcile needs.

use jiff::Timestamp;

use super::{context::Context, writes::Writes};
use crate::{
    api::{CloudAccount, QuotaRequirement},
    cloud::{QuotaProvider, Target},
};

/// One object's reconcile of one region: what every step of it needs.
pub struct Region<'a> {
    pub obj: &'a QuotaRequirement,
    pub ctx: &'a Context,
    pub writes: &'a Writes,
    pub account: &'a CloudAccount,
    pub provider: &'a dyn QuotaProvider,
    pub target: Target,
    /// When the object's current need was declared.
    pub since: Timestamp,
}
