//! The usage side of Service Quotas: quota utilisation reports and the Automatic Management
//! configuration, answered from `AwsState` as AWS answers them.

use jiff::Timestamp;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::aws::{
    caller::Caller,
    error::AwsError,
    model::report::{Report, ReportStatus, Row},
    model::state::AwsState,
    service_quotas::wire::Input,
    usage_settings::{NeverStarted, OptInStatus},
};
use crate::paging;

/// A report holds at most this many rows per page (and gives this many when MaxResults is
/// absent).
const MAX_PAGE: i64 = 1_000;

/// StartQuotaUtilizationReport: a new report, PENDING, over the quotas that have usage now.
pub fn start(st: &mut AwsState, who: &Caller, now: Timestamp) -> Value {
    let rows = rows(st, who, now);
    let seed = format!("report/{}/{}/{}", who.account, who.region, st.reports.len());
    let digest = hex::encode(&Sha256::digest(format!("{seed}/{now}"))[..16]);
    let id = format!(
        "{}-{}-{}-{}-{}",
        &digest[..8],
        &digest[8..12],
        &digest[12..16],
        &digest[16..20],
        &digest[20..32]
    );
    let report = Report::new(id.clone(), &who.account, &who.region, rows, now);
    st.reports.push(report);
    json!({ "ReportId": id, "Status": "PENDING", "Message": "The quota utilization report is being generated." })
}

/// One row per quota with usage in the caller's account and region: usage now over the value
/// in force, in percent.
fn rows(st: &AwsState, who: &Caller, now: Timestamp) -> Vec<Row> {
    let regional = |global: bool| {
        !global
            || st
                .scenario
                .global_quota_region
                .as_deref()
                .is_none_or(|r| r == who.region)
    };
    st.catalog
        .all()
        .filter(|d| regional(d.global))
        .filter_map(|d| {
            let used = st.usage_now(&who.account, &who.region, d, now)?;
            let applied = st.current_value(&who.account, &who.region, d);
            let utilization = match (used, applied) {
                (u, _) if u <= 0.0 => 0.0,
                (_, a) if a <= 0.0 => 100.0,
                (u, a) => u / a * 100.0,
            };
            Some(Row {
                quota_code: d.quota_code.clone(),
                service_code: d.service_code.clone(),
                quota_name: d.quota_name.clone(),
                namespace: d
                    .usage_metric
                    .as_ref()
                    .map_or("AWS/Usage".into(), |m| m.namespace.clone()),
                utilization: (utilization * 100.0).round() / 100.0,
                default_value: d.default_value,
                applied_value: applied,
                service_name: d.service_name.clone(),
                adjustable: d.adjustable,
            })
        })
        .collect()
}

/// GetQuotaUtilizationReport: the report's status, and its rows once COMPLETED.
pub fn get(
    st: &mut AwsState,
    who: &Caller,
    input: &Input,
    now: Timestamp,
) -> Result<Value, AwsError> {
    let id = input
        .report_id
        .as_deref()
        .ok_or_else(|| AwsError::missing("ReportId"))?;
    let size = match input.max_results {
        None => MAX_PAGE as usize,
        Some(n @ 1..=MAX_PAGE) => n as usize,
        Some(n) => {
            return Err(AwsError::illegal_argument(format!(
                "MaxResults must be between 1 and {MAX_PAGE}, got {n}."
            )));
        }
    };
    let settings = st.scenario.utilization_report.clone();
    let report = st
        .reports
        .iter_mut()
        .find(|r| r.id == id && r.account == who.account && r.region == who.region)
        .ok_or_else(|| {
            AwsError::no_such_resource(format!(
                "The quota utilization report {id} does not exist or has expired."
            ))
        })?;
    let mut out = Map::new();
    out.insert("ReportId".into(), json!(report.id));
    out.insert("Status".into(), json!(report.status));
    if let Some(at) = report.generated_at() {
        let query = format!("report/{id}");
        let token = input.next_token.as_deref().unwrap_or_default();
        let (rows, next) =
            paging::page(&report.rows, token, size, &query).map_err(|_| AwsError::bad_token())?;
        out.insert("GeneratedAt".into(), json!(super::wire::epoch_seconds(at)));
        out.insert("TotalCount".into(), json!(report.rows.len()));
        out.insert("Quotas".into(), json!(rows));
        if let Some(t) = next {
            out.insert("NextToken".into(), json!(t));
        }
    }
    if report.status != ReportStatus::Completed {
        report.record_read(&settings, now);
    }
    Ok(Value::Object(out))
}

/// GetAutoManagementConfiguration for the caller's account.
pub fn auto_management(st: &AwsState, who: &Caller) -> Result<Value, AwsError> {
    let Some(s) = st
        .scenario
        .auto_management
        .iter()
        .find(|s| s.account == who.account)
    else {
        return match st.scenario.auto_management_default {
            NeverStarted::Disabled => Ok(json!({ "OptInStatus": "DISABLED" })),
            NeverStarted::NoSuchResource => Err(AwsError::no_such_resource(
                "Automatic Management is not started for this account.",
            )),
        };
    };
    let exclusions: Map<String, Value> = s
        .exclusions
        .iter()
        .map(|(service, codes)| {
            let infos: Vec<Value> = codes
                .iter()
                .map(|code| {
                    let name = st
                        .catalog
                        .get(service, code)
                        .map_or(code.as_str(), |d| d.quota_name.as_str());
                    json!({ "QuotaCode": code, "QuotaName": name })
                })
                .collect();
            (service.clone(), Value::Array(infos))
        })
        .collect();
    let mut out = json!({
        "OptInLevel": "ACCOUNT",
        "OptInType": s.opt_in_type,
        "OptInStatus": match s.opt_in_status {
            OptInStatus::Enabled => "ENABLED",
            OptInStatus::Disabled => "DISABLED",
        },
        "ExclusionList": exclusions,
    });
    if let Some(arn) = &s.notification_arn {
        out["NotificationArn"] = json!(arn);
    }
    Ok(out)
}
