//! The quota request template operations, per management account: put, list, delete and the
//! association, with the errors AWS documents for an account in no organization, a call from
//! another region, a full template and a quota that does not exist or cannot be raised.

use serde_json::{Value, json};

use crate::aws::{
    caller::Caller,
    error::AwsError,
    model::{catalog::QuotaDef, state::AwsState},
    operation::Operation,
    service_quotas::{paging::page, wire::Input},
};

/// (service code, quota code, region).
pub type EntryKey = (String, String, String);

pub fn dispatch(
    st: &mut AwsState,
    who: &Caller,
    op: Operation,
    input: &Input,
) -> Result<Value, AwsError> {
    check_caller(st, who)?;
    match op {
        Operation::GetAssociationForServiceQuotaTemplate => {
            let status = if st
                .scenario
                .quota_template
                .disassociated
                .contains(&who.account)
            {
                "DISASSOCIATED"
            } else {
                "ASSOCIATED"
            };
            Ok(json!({ "ServiceQuotaTemplateAssociationStatus": status }))
        }
        Operation::ListServiceQuotaIncreaseRequestsInTemplate => list(st, who, input),
        Operation::PutServiceQuotaIncreaseRequestIntoTemplate => put(st, who, input),
        _ => delete(st, who, input),
    }
}

fn check_caller(st: &AwsState, who: &Caller) -> Result<(), AwsError> {
    let settings = &st.scenario.quota_template;
    if settings.no_organization.contains(&who.account) {
        return Err(AwsError::new(
            "NoAvailableOrganizationException",
            "The Amazon Web Services account making this call is not a member of an organization.",
        ));
    }
    if who.region != settings.region {
        return Err(AwsError::new(
            "TemplatesNotAvailableInRegionException",
            "The Service Quotas template is not available in this Amazon Web Services Region.",
        ));
    }
    Ok(())
}

fn key(input: &Input) -> Result<EntryKey, AwsError> {
    let field = |v: &Option<String>, name: &str| v.clone().ok_or_else(|| AwsError::missing(name));
    Ok((
        field(&input.service_code, "ServiceCode")?,
        field(&input.quota_code, "QuotaCode")?,
        field(&input.aws_region, "AwsRegion")?,
    ))
}

fn def(st: &AwsState, k: &EntryKey) -> Result<QuotaDef, AwsError> {
    if !st.catalog.has_service(&k.0) {
        return Err(AwsError::no_such_service());
    }
    st.catalog
        .get(&k.0, &k.1)
        .cloned()
        .ok_or_else(|| AwsError::no_such_quota(&k.0, &k.1))
}

fn entry(def: &QuotaDef, region: &str, value: f64) -> Value {
    json!({
        "ServiceCode": def.service_code,
        "ServiceName": def.service_name,
        "QuotaCode": def.quota_code,
        "QuotaName": def.quota_name,
        "DesiredValue": value,
        "AwsRegion": region,
        "Unit": def.unit,
        "GlobalQuota": def.global,
    })
}

fn put(st: &mut AwsState, who: &Caller, input: &Input) -> Result<Value, AwsError> {
    let k = key(input)?;
    let value = input
        .desired_value
        .ok_or_else(|| AwsError::missing("DesiredValue"))?;
    let def = def(st, &k)?;
    if !def.adjustable {
        return Err(AwsError::illegal_argument(format!(
            "The quota {} is not adjustable.",
            def.quota_code
        )));
    }
    if !(0.0..=10_000_000_000.0).contains(&value) {
        return Err(AwsError::illegal_argument(
            "DesiredValue must be between 0 and 10000000000.",
        ));
    }
    let limit = st.scenario.quota_template.limit;
    let template = st.templates.entry(who.account.clone()).or_default();
    if !template.contains_key(&k) && template.len() >= limit {
        return Err(AwsError::new(
            "QuotaExceededException",
            format!(
                "You have reached the maximum number of quota increase requests in your \
                 template ({limit})."
            ),
        ));
    }
    template.insert(k.clone(), value);
    Ok(json!({ "ServiceQuotaIncreaseRequestInTemplate": entry(&def, &k.2, value) }))
}

fn list(st: &AwsState, who: &Caller, input: &Input) -> Result<Value, AwsError> {
    let items: Vec<Value> = (st.templates.get(&who.account).into_iter().flatten())
        .filter(|((service, _, region), _)| {
            input.service_code.as_ref().is_none_or(|s| s == service)
                && input.aws_region.as_ref().is_none_or(|r| r == region)
        })
        .filter_map(|(k, value)| Some(entry(st.catalog.get(&k.0, &k.1)?, &k.2, *value)))
        .collect();
    let query = format!(
        "ListServiceQuotaIncreaseRequestsInTemplate/{}/{:?}/{:?}",
        who.account, input.service_code, input.aws_region
    );
    let (items, next) = page(
        &items,
        input.next_token.as_deref(),
        input.max_results,
        &query,
    )?;
    let mut body = json!({ "ServiceQuotaIncreaseRequestInTemplateList": items });
    if let Some(t) = next {
        body["NextToken"] = Value::String(t);
    }
    Ok(body)
}

fn delete(st: &mut AwsState, who: &Caller, input: &Input) -> Result<Value, AwsError> {
    let k = key(input)?;
    def(st, &k)?;
    let removed = (st.templates.get_mut(&who.account)).and_then(|t| t.remove(&k));
    match removed {
        Some(_) => Ok(json!({})),
        None => Err(AwsError::no_such_resource(format!(
            "The template has no quota increase request for {} {} in {}.",
            k.0, k.1, k.2
        ))),
    }
}
