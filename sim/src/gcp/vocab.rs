//! The plain words the scenario and the model share: dimensions, the Compute Engine service,
//! quota values (with -1 for unlimited), why a quota cannot be raised, and who made a
//! preference. Nothing here depends on the rest of `gcp`, so the scenario can use these types
//! without reaching into the catalog or the state it is validated into.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Dimension name -> value, e.g. `{region: us-central1}`. Ordered so that keys and listings are
/// stable.
pub type Dims = BTreeMap<String, String>;

pub const COMPUTE: &str = "compute.googleapis.com";

/// A quota value without a limit, as QuotaInfo shows it and as a preference may ask or be granted.
pub const UNLIMITED: i64 = -1;

/// Orders quota values, with [`UNLIMITED`] above every other value.
pub fn compare_values(a: i64, b: i64) -> std::cmp::Ordering {
    let rank = |v: i64| if v == UNLIMITED { i64::MAX } else { v };
    rank(a).cmp(&rank(b))
}

/// Why a value cannot be a quota value, if it cannot: below -1 (unlimited).
pub fn check_value(v: i64) -> Result<(), String> {
    if v < UNLIMITED {
        return Err(format!("{v} must be >= 0, or -1 for unlimited"));
    }
    Ok(())
}

/// Why a quota cannot be raised (QuotaIncreaseEligibility.IneligibilityReason).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IneligibilityReason {
    NoValidBillingAccount,
    NotSupported,
    NotEnoughUsageHistory,
    Other,
}

impl IneligibilityReason {
    /// The proto enum number (the client asks for numbers with `enum-encoding=int`).
    pub fn number(self) -> i32 {
        match self {
            IneligibilityReason::NoValidBillingAccount => 1,
            IneligibilityReason::Other => 2,
            IneligibilityReason::NotSupported => 3,
            IneligibilityReason::NotEnoughUsageHistory => 4,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            IneligibilityReason::NoValidBillingAccount => "NO_VALID_BILLING_ACCOUNT",
            IneligibilityReason::Other => "OTHER",
            IneligibilityReason::NotSupported => "NOT_SUPPORTED",
            IneligibilityReason::NotEnoughUsageHistory => "NOT_ENOUGH_USAGE_HISTORY",
        }
    }
}

/// Who made the preference (QuotaConfig.requestOrigin). The simulator keeps the origin of the
/// creation when the preference is later updated through the API (Google does not say).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Origin {
    /// Through the API: gcloud, Terraform, client libraries (`ORIGIN_UNSPECIFIED` on the wire).
    #[serde(alias = "ORIGIN_UNSPECIFIED")]
    Api,
    #[default]
    CloudConsole,
    /// Google's Quota Adjuster, which raises quotas by itself as usage grows.
    AutoAdjuster,
}

impl Origin {
    pub fn number(self) -> i32 {
        match self {
            Origin::Api => 0,
            Origin::CloudConsole => 1,
            Origin::AutoAdjuster => 2,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Origin::Api => "ORIGIN_UNSPECIFIED",
            Origin::CloudConsole => "CLOUD_CONSOLE",
            Origin::AutoAdjuster => "AUTO_ADJUSTER",
        }
    }
}
