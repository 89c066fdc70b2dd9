//! The Service Quotas operations, answered from `AwsState` the way AWS answers them.

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::aws::{
    error::AwsError,
    model::catalog::QuotaDef,
    model::request::Source,
    model::state::{AwsState, Filing},
    operation::Operation,
    service_quotas::paging::page,
    service_quotas::templates,
    service_quotas::utilization,
    service_quotas::wire::{self, Input, ServiceInfo},
    status::RequestStatus,
};
use crate::shared::Ticks;

pub use crate::aws::caller::Caller;

/// Answers one call. Rate limiting and counting happen before, in the HTTP layer.
pub fn dispatch(
    st: &mut AwsState,
    who: &Caller,
    op: Operation,
    input: Input,
    now: Timestamp,
) -> Result<Value, AwsError> {
    st.tick(now);
    match op {
        Operation::ListServices => list_services(st, who, &input),
        Operation::GetServiceQuota => get_quota(st, who, &input),
        Operation::GetAWSDefaultServiceQuota => {
            let def = quota(st, who, &input)?;
            // Default quotas belong to no account: their ARN has an empty account field.
            let q = wire::service_quota(&def, "", &who.region, def.default_value);
            Ok(json!({ "Quota": q }))
        }
        Operation::ListServiceQuotas | Operation::ListAWSDefaultServiceQuotas => {
            list_quotas(st, who, op, &input)
        }
        Operation::RequestServiceQuotaIncrease => request_increase(st, who, &input, now),
        Operation::GetRequestedServiceQuotaChange => get_request(st, who, &input, now),
        Operation::ListRequestedServiceQuotaChangeHistory
        | Operation::ListRequestedServiceQuotaChangeHistoryByQuota => {
            history(st, who, op, &input, now)
        }
        Operation::StartQuotaUtilizationReport => Ok(utilization::start(st, who, now)),
        Operation::GetQuotaUtilizationReport => utilization::get(st, who, &input, now),
        Operation::GetAutoManagementConfiguration => utilization::auto_management(st, who),
        Operation::GetAssociationForServiceQuotaTemplate
        | Operation::ListServiceQuotaIncreaseRequestsInTemplate
        | Operation::PutServiceQuotaIncreaseRequestIntoTemplate
        | Operation::DeleteServiceQuotaIncreaseRequestFromTemplate => {
            templates::dispatch(st, who, op, &input)
        }
        // EC2's and CloudWatch's actions come on their own protocols, never through this
        // target header.
        Operation::DescribeInstanceTypes
        | Operation::DescribeRegions
        | Operation::GetMetricData
        | Operation::DescribeCases
        | Operation::DescribeCommunications
        | Operation::AddCommunicationToCase => Err(AwsError::new(
            "UnknownOperationException",
            format!("{op} is not a Service Quotas operation."),
        )),
    }
}

/// GetServiceQuota: the applied value, or the quota's ErrorReason when the scenario gives one.
fn get_quota(st: &AwsState, who: &Caller, input: &Input) -> Result<Value, AwsError> {
    let def = quota(st, who, input)?;
    if let Some(reason) = st.error_reason(&who.account, &who.region, &def) {
        let q = wire::service_quota(&def, &who.account, &who.region, 0.0).failed(reason);
        return Ok(json!({ "Quota": q }));
    }
    let value = st
        .applied_value(&who.account, &who.region, &def)
        .ok_or_else(|| {
            AwsError::no_such_resource(format!(
                "The request failed because quota {} has no applied value in this account and \
             Region; its default is given by GetAWSDefaultServiceQuota.",
                def.quota_code
            ))
        })?;
    let q = wire::service_quota(&def, &who.account, &who.region, value);
    Ok(json!({ "Quota": q }))
}

/// GetRequestedServiceQuotaChange: one request the caller can see, its read recorded.
fn get_request(
    st: &mut AwsState,
    who: &Caller,
    input: &Input,
    now: Timestamp,
) -> Result<Value, AwsError> {
    let id = input
        .request_id
        .as_deref()
        .ok_or_else(|| AwsError::missing("RequestId"))?;
    let idx = st
        .index_of(id)
        .filter(|&i| st.visible(&st.requests[i], &who.account, &who.region))
        .ok_or_else(|| AwsError::no_such_resource(format!("The request {id} does not exist.")))?;
    let out = changes(st, &[idx]);
    st.record_read(idx, now);
    Ok(json!({ "RequestedQuota": out[0] }))
}

fn list_services(st: &AwsState, who: &Caller, input: &Input) -> Result<Value, AwsError> {
    let services: Vec<ServiceInfo> = st
        .catalog
        .services()
        .into_iter()
        .map(|(service_code, service_name)| ServiceInfo {
            service_code,
            service_name,
        })
        .collect();
    let query = format!("ListServices/{}/{}", who.account, who.region);
    let (items, next) = page_of(&services, input, &query)?;
    Ok(with_token(json!({ "Services": items }), next))
}

/// The quota an input names, or the error AWS gives for it.
fn quota(st: &AwsState, who: &Caller, input: &Input) -> Result<QuotaDef, AwsError> {
    let service = input
        .service_code
        .as_deref()
        .ok_or_else(|| AwsError::missing("ServiceCode"))?;
    let code = input
        .quota_code
        .as_deref()
        .ok_or_else(|| AwsError::missing("QuotaCode"))?;
    if !st.catalog.has_service(service) {
        return Err(AwsError::no_such_service());
    }
    let def = st
        .catalog
        .get(service, code)
        .filter(|d| reachable(st, d, &who.region))
        .ok_or_else(|| AwsError::no_such_quota(service, code))?;
    if input.context_id.is_some() && def.resource_type.is_none() {
        return Err(AwsError::illegal_argument(format!(
            "ContextId is only valid for resource-level quotas; {code} is applied at ACCOUNT level."
        )));
    }
    Ok(def.clone())
}

/// Global quotas may be served from one region only (scenario `globalQuotaRegion`).
fn reachable(st: &AwsState, def: &QuotaDef, region: &str) -> bool {
    !def.global
        || st
            .scenario
            .global_quota_region
            .as_deref()
            .is_none_or(|r| r == region)
}

fn list_quotas(
    st: &AwsState,
    who: &Caller,
    op: Operation,
    input: &Input,
) -> Result<Value, AwsError> {
    let service = input
        .service_code
        .as_deref()
        .ok_or_else(|| AwsError::missing("ServiceCode"))?;
    if !st.catalog.has_service(service) {
        return Err(AwsError::no_such_service());
    }
    let defaults = op == Operation::ListAWSDefaultServiceQuotas;
    // Only ListServiceQuotas takes a QuotaCode filter.
    let code_filter = input.quota_code.as_deref().filter(|_| !defaults);
    let quotas: Vec<_> = st
        .catalog
        .in_service(service)
        .filter(|d| reachable(st, d, &who.region))
        .filter(|d| code_filter.is_none_or(|c| c == d.quota_code))
        .filter_map(|d| {
            if defaults {
                Some(wire::service_quota(d, "", &who.region, d.default_value))
            } else if let Some(reason) = st.error_reason(&who.account, &who.region, d) {
                let q = wire::service_quota(d, &who.account, &who.region, 0.0);
                Some(q.failed(reason))
            } else {
                let v = st.applied_value(&who.account, &who.region, d)?;
                Some(wire::service_quota(d, &who.account, &who.region, v))
            }
        })
        .collect();
    let query = format!(
        "{op}/{}/{}/{service}/{}",
        who.account,
        who.region,
        code_filter.unwrap_or("")
    );
    let (items, next) = page_of(&quotas, input, &query)?;
    Ok(with_token(json!({ "Quotas": items }), next))
}

fn request_increase(
    st: &mut AwsState,
    who: &Caller,
    input: &Input,
    now: Timestamp,
) -> Result<Value, AwsError> {
    let def = quota(st, who, input)?;
    let desired = desired_for(&def, input)?;
    // The duplicate check comes before the value check, so a client that re-files after a
    // crash learns of the open request and can adopt it.
    if st
        .open_request_for(&who.account, &who.region, &def)
        .is_some()
    {
        return Err(AwsError::new(
            "ResourceAlreadyExistsException",
            "Only one open service quota increase request is allowed per quota.",
        ));
    }
    if desired <= st.current_value(&who.account, &who.region, &def) {
        return Err(AwsError::illegal_argument(
            "You must provide a quota value greater than the current quota value.",
        ));
    }
    let (in_region, in_account) = st.open_counts(&who.account, &who.region);
    let limits = &st.scenario.limits;
    for (open, max, scope) in [
        (in_region, limits.open_per_region, "in this Region"),
        (in_account, limits.open_per_account, "for this account"),
    ] {
        if open >= max {
            return Err(AwsError::new(
                "QuotaExceededException",
                format!(
                    "You have exceeded the maximum number ({max}) of open service quota increase requests {scope}."
                ),
            ));
        }
    }
    let idx = st.file(
        Filing {
            account: &who.account,
            region: &who.region,
            def: &def,
            desired_value: desired,
            support_case_allowed: input.support_case_allowed.unwrap_or(true),
            source: Source::Api,
        },
        now,
    );
    Ok(json!({ "RequestedQuota": changes(st, &[idx])[0] }))
}

/// The DesiredValue an increase of `def` asks for, refused as AWS refuses it: missing, out of
/// range, or on a quota that is not adjustable.
fn desired_for(def: &QuotaDef, input: &Input) -> Result<f64, AwsError> {
    let desired = input
        .desired_value
        .ok_or_else(|| AwsError::missing("DesiredValue"))?;
    if !(desired.is_finite() && (0.0..=10_000_000_000.0).contains(&desired)) {
        return Err(AwsError::illegal_argument(
            "DesiredValue must be between 0 and 10000000000.",
        ));
    }
    if !def.adjustable {
        return Err(AwsError::illegal_argument(format!(
            "The quota {} for {} is not adjustable; it cannot be increased.",
            def.quota_code, def.service_code
        )));
    }
    Ok(desired)
}

fn history(
    st: &mut AwsState,
    who: &Caller,
    op: Operation,
    input: &Input,
    now: Timestamp,
) -> Result<Value, AwsError> {
    let by_quota = op == Operation::ListRequestedServiceQuotaChangeHistoryByQuota;
    let (service, code) = if by_quota {
        let def = quota(st, who, input)?;
        (Some(def.service_code), Some(def.quota_code))
    } else {
        match input.service_code.as_deref() {
            Some(s) if !st.catalog.has_service(s) => return Err(AwsError::no_such_service()),
            s => (s.map(String::from), None),
        }
    };
    let status = match input.status.as_deref() {
        None => None,
        Some(s) => Some(RequestStatus::parse(s).ok_or_else(|| {
            AwsError::illegal_argument(format!("{s} is not a valid request status."))
        })?),
    };
    // Newest first.
    let matching: Vec<usize> = (0..st.requests.len())
        .rev()
        .filter(|&i| {
            let r = &st.requests[i];
            st.visible(r, &who.account, &who.region)
                && service.as_deref().is_none_or(|s| s == r.service_code)
                && code.as_deref().is_none_or(|c| c == r.quota_code)
                && status.is_none_or(|s| s == r.status)
        })
        .collect();
    let query = format!(
        "{op}/{}/{}/{}/{}/{:?}",
        who.account,
        who.region,
        service.unwrap_or_default(),
        code.unwrap_or_default(),
        status
    );
    let (idxs, next) = page_of(&matching, input, &query)?;
    let out = changes(st, &idxs);
    for i in idxs {
        st.record_read(i, now);
    }
    Ok(with_token(json!({ "RequestedQuotas": out }), next))
}

fn changes(st: &AwsState, idxs: &[usize]) -> Vec<wire::RequestedServiceQuotaChange> {
    idxs.iter()
        .filter_map(|&i| {
            let r = &st.requests[i];
            let def = st.catalog.get(&r.service_code, &r.quota_code)?;
            Some(wire::requested_change(r, def))
        })
        .collect()
}

/// A page of `items` as the input's NextToken and MaxResults ask.
fn page_of<T: Clone>(
    items: &[T],
    input: &Input,
    query: &str,
) -> Result<(Vec<T>, Option<String>), AwsError> {
    page(items, input.next_token.as_deref(), input.max_results, query)
}

fn with_token(mut body: Value, next: Option<String>) -> Value {
    if let Some(t) = next {
        body["NextToken"] = Value::String(t);
    }
    body
}
