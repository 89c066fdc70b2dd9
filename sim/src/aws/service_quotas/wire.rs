//! The JSON shapes on the wire, field for field as in the botocore model
//! `service-quotas/2019-06-24` (PascalCase; timestamps as epoch seconds).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::aws::{
    model::catalog::QuotaDef,
    model::request::{Request, Source},
    scenario::ErrorReason,
};

/// Every input member of the operations served; each operation reads the ones it has.
/// Unknown members are ignored, as the SDKs may send newer ones.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    pub service_code: Option<String>,
    pub quota_code: Option<String>,
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
    pub desired_value: Option<f64>,
    pub context_id: Option<String>,
    pub support_case_allowed: Option<bool>,
    pub request_id: Option<String>,
    pub status: Option<String>,
    pub report_id: Option<String>,
    pub aws_region: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceInfo {
    pub service_code: String,
    pub service_name: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricInfo {
    pub metric_namespace: String,
    pub metric_name: String,
    pub metric_dimensions: BTreeMap<String, String>,
    pub metric_statistic_recommendation: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceQuota {
    pub service_code: String,
    pub service_name: String,
    pub quota_arn: String,
    pub quota_code: String,
    pub quota_name: String,
    /// Absent when AWS could not fetch it (`ErrorReason` says why).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    pub unit: String,
    pub adjustable: bool,
    pub global_quota: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_metric: Option<MetricInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_reason: Option<ErrorReason>,
    pub quota_applied_at_level: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota_context: Option<QuotaContext>,
}

/// What a resource-level quota applies to; `ContextId` `*` is every resource of the type.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct QuotaContext {
    pub context_scope: &'static str,
    pub context_scope_type: String,
    pub context_id: String,
}

impl ServiceQuota {
    /// The quota as AWS answers it when the value could not be fetched: no Value.
    pub fn failed(mut self, reason: ErrorReason) -> Self {
        self.value = None;
        self.error_reason = Some(reason);
        self
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RequestedServiceQuotaChange {
    pub id: String,
    /// `AutomaticManagement` for AWS's own requests; absent for a person's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<String>,
    pub service_code: String,
    pub service_name: String,
    pub quota_code: String,
    pub quota_name: String,
    pub desired_value: f64,
    pub status: crate::aws::status::RequestStatus,
    pub created: f64,
    pub last_updated: f64,
    pub requester: String,
    pub quota_arn: String,
    pub global_quota: bool,
    pub unit: String,
    pub quota_requested_at_level: &'static str,
}

/// `arn:aws:servicequotas:<region>:<account>:<service>/<code>`, as AWS formats quota ARNs.
pub fn quota_arn(def: &QuotaDef, account: &str, region: &str) -> String {
    format!(
        "arn:aws:servicequotas:{region}:{account}:{}/{}",
        def.service_code, def.quota_code
    )
}

pub fn service_quota(def: &QuotaDef, account: &str, region: &str, value: f64) -> ServiceQuota {
    ServiceQuota {
        service_code: def.service_code.clone(),
        service_name: def.service_name.clone(),
        quota_arn: quota_arn(def, account, region),
        quota_code: def.quota_code.clone(),
        quota_name: def.quota_name.clone(),
        value: Some(value),
        unit: def.unit.clone(),
        adjustable: def.adjustable,
        global_quota: def.global,
        usage_metric: def.usage_metric.as_ref().map(|m| MetricInfo {
            metric_namespace: m.namespace.clone(),
            metric_name: m.name.clone(),
            metric_dimensions: m.dimensions.clone(),
            metric_statistic_recommendation: m.statistic.clone(),
        }),
        error_reason: None,
        quota_applied_at_level: level(def),
        quota_context: def.resource_type.as_ref().map(|t| QuotaContext {
            context_scope: "RESOURCE",
            context_scope_type: t.clone(),
            context_id: "*".into(),
        }),
    }
}

fn level(def: &QuotaDef) -> &'static str {
    if def.resource_type.is_some() {
        "RESOURCE"
    } else {
        "ACCOUNT"
    }
}

pub fn requested_change(req: &Request, def: &QuotaDef) -> RequestedServiceQuotaChange {
    let caller = match req.source {
        Source::Api => "root",
        Source::Console => "user/console",
        // The service acts through its service-linked role, so the requester names it.
        Source::AutomaticManagement => {
            "role/aws-service-role/servicequotas.amazonaws.com/AWSServiceRoleForServiceQuotas"
        }
    };
    let requester = format!(
        r#"{{"accountId":"{0}","callerArn":"arn:aws:iam::{0}:{caller}"}}"#,
        req.account
    );
    RequestedServiceQuotaChange {
        id: req.id.clone(),
        request_type: (req.source == Source::AutomaticManagement).then_some("AutomaticManagement"),
        case_id: req.case_id.clone(),
        service_code: def.service_code.clone(),
        service_name: def.service_name.clone(),
        quota_code: def.quota_code.clone(),
        quota_name: def.quota_name.clone(),
        desired_value: req.desired_value,
        status: req.status,
        created: epoch_seconds(req.created),
        last_updated: epoch_seconds(req.last_updated),
        requester,
        quota_arn: quota_arn(def, &req.account, &req.region),
        global_quota: def.global,
        unit: def.unit.clone(),
        quota_requested_at_level: level(def),
    }
}

/// awsJson1_1 timestamps are epoch seconds, as JSON numbers, here to the millisecond.
pub fn epoch_seconds(t: Timestamp) -> f64 {
    t.as_millisecond() as f64 / 1000.0
}
