//! The Cloud Quotas, Compute Engine and Cloud Monitoring methods the simulator serves, and how
//! often each was called.

use std::{collections::BTreeMap, fmt, str::FromStr};

use serde::Serialize;

use super::error::Code;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    ListQuotaInfos,
    GetQuotaInfo,
    ListQuotaPreferences,
    GetQuotaPreference,
    CreateQuotaPreference,
    UpdateQuotaPreference,
    /// Compute Engine `compute.machineTypes.aggregatedList`.
    AggregatedListMachineTypes,
    /// Compute Engine `compute.machineTypes.get`.
    GetMachineType,
    /// Compute Engine `compute.regions.list`.
    ListRegions,
    GetQuotaAdjusterSettings,
    UpdateQuotaAdjusterSettings,
    /// Cloud Monitoring `projects.timeSeries.list` (quota usage and limits).
    ListTimeSeries,
}

impl Method {
    pub const ALL: [Method; 12] = [
        Method::ListQuotaInfos,
        Method::GetQuotaInfo,
        Method::ListQuotaPreferences,
        Method::GetQuotaPreference,
        Method::CreateQuotaPreference,
        Method::UpdateQuotaPreference,
        Method::AggregatedListMachineTypes,
        Method::GetMachineType,
        Method::ListRegions,
        Method::GetQuotaAdjusterSettings,
        Method::UpdateQuotaAdjusterSettings,
        Method::ListTimeSeries,
    ];

    /// The RPC name, as in `google.api.cloudquotas.v1.CloudQuotas/<name>`; Compute's by its
    /// method id (`compute.machineTypes.get`).
    pub fn name(self) -> &'static str {
        match self {
            Method::ListQuotaInfos => "ListQuotaInfos",
            Method::GetQuotaInfo => "GetQuotaInfo",
            Method::ListQuotaPreferences => "ListQuotaPreferences",
            Method::GetQuotaPreference => "GetQuotaPreference",
            Method::CreateQuotaPreference => "CreateQuotaPreference",
            Method::UpdateQuotaPreference => "UpdateQuotaPreference",
            Method::AggregatedListMachineTypes => "compute.machineTypes.aggregatedList",
            Method::GetMachineType => "compute.machineTypes.get",
            Method::ListRegions => "compute.regions.list",
            Method::GetQuotaAdjusterSettings => "GetQuotaAdjusterSettings",
            Method::UpdateQuotaAdjusterSettings => "UpdateQuotaAdjusterSettings",
            Method::ListTimeSeries => "ListTimeSeries",
        }
    }

    /// The IAM permission the method needs, as Google's REST reference names it: for
    /// PERMISSION_DENIED messages and the call log. The Quota Adjuster's settings have no
    /// permission of their own: reading them takes `cloudquotas.quotas.get`, changing them
    /// `cloudquotas.quotas.update`.
    pub fn permission(self) -> &'static str {
        match self {
            Method::ListQuotaInfos | Method::GetQuotaInfo => "cloudquotas.quotas.get",
            Method::ListQuotaPreferences | Method::GetQuotaPreference => "cloudquotas.quotas.get",
            Method::CreateQuotaPreference | Method::UpdateQuotaPreference => {
                "cloudquotas.quotas.update"
            }
            Method::AggregatedListMachineTypes => "compute.machineTypes.list",
            Method::GetMachineType => "compute.machineTypes.get",
            Method::ListRegions => "compute.regions.list",
            Method::GetQuotaAdjusterSettings => "cloudquotas.quotas.get",
            Method::UpdateQuotaAdjusterSettings => "cloudquotas.quotas.update",
            Method::ListTimeSeries => "monitoring.timeSeries.list",
        }
    }

    /// The API the method belongs to, for quota-exceeded messages.
    pub fn service(self) -> &'static str {
        match self {
            Method::AggregatedListMachineTypes | Method::GetMachineType | Method::ListRegions => {
                "compute.googleapis.com"
            }
            Method::ListTimeSeries => "monitoring.googleapis.com",
            _ => "cloudquotas.googleapis.com",
        }
    }

    pub fn is_write(self) -> bool {
        matches!(
            self,
            Method::CreateQuotaPreference
                | Method::UpdateQuotaPreference
                | Method::UpdateQuotaAdjusterSettings
        )
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Method::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                let all: Vec<_> = Method::ALL.iter().map(|m| m.name()).collect();
                format!("unknown method `{s}`; one of {}", all.join(", "))
            })
    }
}

/// Calls of one method in one project, and the errors answered, by google.rpc code.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallCount {
    pub project: String,
    pub method: String,
    pub calls: u64,
    pub errors: BTreeMap<String, u64>,
}

#[derive(Default)]
pub struct Counters {
    by: BTreeMap<(String, Method), CallCount>,
}

impl Counters {
    pub fn record(&mut self, project: &str, method: Method, error: Option<Code>) {
        crate::call_log::record("gcp", method.permission(), method.name());
        let c = self
            .by
            .entry((project.to_string(), method))
            .or_insert_with(|| CallCount {
                project: project.to_string(),
                method: method.name().to_string(),
                ..CallCount::default()
            });
        c.calls += 1;
        if let Some(code) = error {
            *c.errors.entry(code.name().to_string()).or_default() += 1;
        }
    }

    pub fn total(&self, method: Method) -> u64 {
        self.by
            .iter()
            .filter(|((_, m), _)| *m == method)
            .map(|(_, c)| c.calls)
            .sum()
    }

    pub fn all(&self) -> Vec<CallCount> {
        self.by.values().cloned().collect()
    }

    pub fn reset(&mut self) {
        self.by.clear();
    }
}
