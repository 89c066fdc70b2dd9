//! DescribeCases, DescribeCommunications and AddCommunicationToCase, answered from the case book
//! the way AWS answers them: camelCase JSON, times as ISO-8601 strings, newest message first,
//! pages of `maxResults` with an opaque `nextToken`.

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::aws::{
    caller::Caller,
    error::AwsError,
    model::cases::{Case, Communication, SERVICE_CODE},
    model::state::AwsState,
    operation::Operation,
};
use crate::shared::Ticks;

/// What AWS answers an account without Business or Enterprise support, for every call.
pub const SUBSCRIPTION_REQUIRED: &str =
    "AWS Premium Support Subscription is required to use this service.";

/// The request fields of the three calls (each reads its own).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Input {
    case_id_list: Option<Vec<String>>,
    display_id: Option<String>,
    case_id: Option<String>,
    after_time: Option<String>,
    before_time: Option<String>,
    include_resolved_cases: Option<bool>,
    include_communications: Option<bool>,
    next_token: Option<String>,
    max_results: Option<i64>,
    communication_body: Option<String>,
}

/// Answers one call. Rate limiting and counting happen before, in the HTTP layer.
pub fn dispatch(
    st: &mut AwsState,
    who: &Caller,
    op: Operation,
    body: &[u8],
    now: Timestamp,
) -> Result<Value, AwsError> {
    st.tick(now);
    if st.scenario.no_support_plan.contains(&who.account) {
        return Err(AwsError::new(
            "SubscriptionRequiredException",
            SUBSCRIPTION_REQUIRED,
        ));
    }
    let input: Input = if body.iter().all(u8::is_ascii_whitespace) {
        Input::default()
    } else {
        serde_json::from_slice(body)
            .map_err(|e| AwsError::new("SerializationException", e.to_string()))?
    };
    match op {
        Operation::DescribeCases => describe_cases(st, who, &input),
        Operation::DescribeCommunications => describe_communications(st, who, &input),
        Operation::AddCommunicationToCase => add_communication(st, who, &input, now),
        _ => Err(AwsError::new(
            "UnknownOperationException",
            format!("`{op}` is not an AWS Support operation."),
        )),
    }
}

fn describe_cases(st: &AwsState, who: &Caller, input: &Input) -> Result<Value, AwsError> {
    let (after, before) = window(input)?;
    let resolved = input.include_resolved_cases.unwrap_or(false);
    let ids = input.case_id_list.as_deref().unwrap_or_default();
    for id in ids {
        if find(st, who, id).is_err() {
            return Err(not_found(id));
        }
    }
    let cases: Vec<&Case> = (st.case_book.all())
        .filter(|c| c.account == who.account)
        .filter(|c| ids.is_empty() || ids.contains(&c.case_id))
        .filter(|c| input.display_id.as_ref().is_none_or(|d| *d == c.display_id))
        .filter(|c| resolved || c.status != "resolved")
        .filter(|c| after.is_none_or(|t| c.time_created >= t))
        .filter(|c| before.is_none_or(|t| c.time_created <= t))
        .collect();
    let with_messages = input.include_communications.unwrap_or(true);
    let (page, next) = page(&cases, input)?;
    let shown: Vec<Value> = page.iter().map(|c| case(c, with_messages)).collect();
    Ok(json!({ "cases": shown, "nextToken": next }))
}

fn describe_communications(st: &AwsState, who: &Caller, input: &Input) -> Result<Value, AwsError> {
    let id = input
        .case_id
        .as_deref()
        .ok_or_else(|| AwsError::new("ValidationException", "caseId is required."))?;
    let case = find(st, who, id)?;
    let (after, before) = window(input)?;
    let messages: Vec<&Communication> = newest_first(case)
        .into_iter()
        .filter(|m| after.is_none_or(|t| m.time_created >= t))
        .filter(|m| before.is_none_or(|t| m.time_created <= t))
        .collect();
    let (page, next) = page(&messages, input)?;
    let shown: Vec<Value> = page.iter().map(|m| communication(id, m)).collect();
    Ok(json!({ "communications": shown, "nextToken": next }))
}

fn add_communication(
    st: &mut AwsState,
    who: &Caller,
    input: &Input,
    now: Timestamp,
) -> Result<Value, AwsError> {
    let body = input.communication_body.as_deref().unwrap_or_default();
    if body.trim().is_empty() || body.chars().count() > 8000 {
        return Err(AwsError::new(
            "ValidationException",
            "communicationBody must be 1 to 8000 characters.",
        ));
    }
    let id = input
        .case_id
        .as_deref()
        .ok_or_else(|| AwsError::new("ValidationException", "caseId is required."))?;
    find(st, who, id)?;
    st.case_book.reply(id, body, now);
    tracing::info!(case = id, account = %who.account, "sim: support case reply");
    Ok(json!({ "result": true }))
}

fn find<'a>(st: &'a AwsState, who: &Caller, id: &str) -> Result<&'a Case, AwsError> {
    st.case_book
        .get(id)
        .filter(|c| c.account == who.account)
        .ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> AwsError {
    AwsError::new(
        "CaseIdNotFound",
        format!("Requested case ID {id} does not exist."),
    )
}

fn newest_first(case: &Case) -> Vec<&Communication> {
    case.communications.iter().rev().collect()
}

fn case(c: &Case, with_messages: bool) -> Value {
    let mut v = json!({
        "caseId": c.case_id,
        "displayId": c.display_id,
        "subject": c.subject,
        "status": c.status,
        "serviceCode": SERVICE_CODE,
        "categoryCode": "increase",
        "severityCode": "normal",
        "submittedBy": c.submitted_by,
        "timeCreated": time(c.time_created),
        "ccEmailAddresses": [],
        "language": "en",
    });
    if with_messages {
        // AWS returns the five most recent messages here; DescribeCommunications has the rest.
        let recent: Vec<Value> = (newest_first(c).into_iter().take(5))
            .map(|m| communication(&c.case_id, m))
            .collect();
        v["recentCommunications"] = json!({ "communications": recent });
    }
    v
}

fn communication(case_id: &str, m: &Communication) -> Value {
    json!({
        "caseId": case_id,
        "body": m.body,
        "submittedBy": m.submitted_by,
        "timeCreated": time(m.time_created),
        "attachmentSet": [],
    })
}

/// The Support API's times: ISO-8601 strings with milliseconds.
pub fn time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn window(input: &Input) -> Result<(Option<Timestamp>, Option<Timestamp>), AwsError> {
    let parse = |field: &str, v: &Option<String>| {
        v.as_deref()
            .map(|s| {
                s.parse::<Timestamp>().map_err(|_| {
                    AwsError::new(
                        "ValidationException",
                        format!("{field} `{s}` is not a time."),
                    )
                })
            })
            .transpose()
    };
    Ok((
        parse("afterTime", &input.after_time)?,
        parse("beforeTime", &input.before_time)?,
    ))
}

/// One page of `items` (maxResults 10 to 100, default 100), and the token of the next.
fn page<'a, T>(items: &'a [T], input: &Input) -> Result<(&'a [T], Option<String>), AwsError> {
    let size = match input.max_results {
        None => 100,
        Some(n @ 10..=100) => n as usize,
        Some(n) => {
            return Err(AwsError::new(
                "ValidationException",
                format!("maxResults {n} must be between 10 and 100."),
            ));
        }
    };
    let start = match input.next_token.as_deref() {
        None => 0,
        Some(t) => t
            .strip_prefix("sim-page-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| AwsError::new("ValidationException", "Invalid nextToken."))?,
    };
    let end = (start + size).min(items.len());
    let next = (end < items.len()).then(|| format!("sim-page-{end}"));
    Ok((&items[start..end], next))
}
