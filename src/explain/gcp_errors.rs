//! Google Cloud quota errors: Compute's `Quota 'CPUS' exceeded. Limit: 8.0 in region us-east1.`
//! (also inside a JSON body, with `quotaInfo` when Compute sends it), GKE's "Insufficient
//! regional quota", and the `google.rpc.ErrorInfo` of `CONCURRENT_OPERATIONS_QUOTA_EXCEEDED`.
//! JSON is read defensively: Google spells the ErrorInfo map `metadata` or `metadatas`, newer
//! bodies carry only containerType, containerId and location, and pasted text may hold a log
//! prefix around the JSON.

use serde_json::Value;

use super::{
    catalog::{CATALOG, MetricPattern},
    finding::{ExplainError, Finding, Options, QuotaId},
    gcp_metrics, text,
};

const COMPUTE: &str = "compute.googleapis.com";
const CONCURRENT: &str = "CONCURRENT_OPERATIONS_QUOTA_EXCEEDED";

pub fn recognise(
    text: &str,
    normalised: &str,
    options: &Options,
) -> Option<Result<Finding, ExplainError>> {
    if let Some(json) = json_in(text) {
        if let Some(found) = concurrent(&json, text) {
            return Some(Ok(found));
        }
        if let Some(found) =
            find_object(&json, &|o| o.get("quotaInfo").is_some_and(Value::is_object))
                .and_then(|o| quota_info(&o["quotaInfo"], text))
        {
            return Some(Ok(found));
        }
    }
    if text::says(text, "quota on concurrent operations exceeded") || text.contains(CONCURRENT) {
        return Some(Ok(concurrent_from_text(text)));
    }
    quota_sentence(text, normalised, options)
}

/// The JSON object in the text, from its first `{` to its last `}`.
fn json_in(text: &str) -> Option<Value> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    serde_json::from_str(text.get(start..=end)?).ok()
}

/// Depth-first search for an object satisfying `pred`.
fn find_object(
    v: &Value,
    pred: &dyn Fn(&serde_json::Map<String, Value>) -> bool,
) -> Option<serde_json::Map<String, Value>> {
    match v {
        Value::Object(o) if pred(o) => Some(o.clone()),
        Value::Object(o) => o.values().find_map(|c| find_object(c, pred)),
        Value::Array(a) => a.iter().find_map(|c| find_object(c, pred)),
        _ => None,
    }
}

fn str_of<'a>(o: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a str> {
    o.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A zone (`us-central1-a`) counts against its region's quota.
fn gcp_region(location: &str) -> String {
    if location == "global" || text::is_gcp_region(location) {
        return location.to_string();
    }
    match location.rsplit_once('-') {
        Some((region, zone)) if zone.len() == 1 && text::is_gcp_region(region) => region.into(),
        _ => location.to_string(),
    }
}

/// The ErrorInfo with reason CONCURRENT_OPERATIONS_QUOTA_EXCEEDED (whatever its `@type` says).
fn concurrent(json: &Value, raw: &str) -> Option<Finding> {
    let info = find_object(json, &|o| str_of(o, "reason") == Some(CONCURRENT))?;
    let empty = serde_json::Map::new();
    let meta = ["metadata", "metadatas"]
        .iter()
        .find_map(|k| info.get(*k).and_then(Value::as_object))
        .unwrap_or(&empty);
    let location = str_of(meta, "location").map(gcp_region);
    let global = location.as_deref().is_none_or(|l| l == "global")
        && str_of(meta, "quotaMetric").is_none_or(|m| m.contains("global_"));
    let metric = str_of(meta, "quotaMetric")
        .map(str::to_string)
        .unwrap_or_else(|| {
            if global {
                "global_concurrent_operations"
            } else {
                "regional_concurrent_operations"
            }
            .into()
        });
    let per_type = str_of(meta, "quotaLimit").is_some_and(|l| l.ends_with("OperationType"));
    Some(concurrent_finding(
        &metric,
        location.unwrap_or_else(|| "global".into()),
        str_of(meta, "containerId").map(Into::into),
        str_of(meta, "operationType"),
        per_type,
        raw,
    ))
}

/// "Quota on concurrent operations exceeded for project P in location R." without the JSON.
fn concurrent_from_text(raw: &str) -> Finding {
    let word_after = |marker: &str| {
        let lower = raw.to_ascii_lowercase();
        let at = lower.find(marker)? + marker.len();
        raw[at..]
            .split_whitespace()
            .next()
            .map(|w| w.trim_end_matches(['.', ',', '"', '\'']).to_string())
    };
    let location = word_after("in location ").map(|l| gcp_region(&l));
    let metric = match location.as_deref() {
        Some(l) if l != "global" => "regional_concurrent_operations",
        _ => "global_concurrent_operations",
    };
    concurrent_finding(
        metric,
        location.unwrap_or_else(|| "global".into()),
        word_after("for project "),
        None,
        false,
        raw,
    )
}

fn concurrent_finding(
    metric: &str,
    region: String,
    project: Option<String>,
    operation_type: Option<&str>,
    per_type: bool,
    raw: &str,
) -> Finding {
    let regional = region != "global";
    let quota_id = gcp_metrics::quota_id(metric, !regional);
    let scope = if regional {
        format!("in {region}")
    } else {
        "globally".into()
    };
    let operation = operation_type.map_or(String::new(), |t| format!(" ({t})"));
    let mut advice = "This is a concurrency limit, not a capacity one: operations in flight count \
                      until they finish. Back off and retry with jitter, spread bulk changes over \
                      time (and regions), and wait on operations instead of piling them up; raise \
                      the quota only if the load is sustained."
        .to_string();
    if per_type {
        advice.push_str(
            " The limit hit was the per-operation-type one; the YAML names the project-wide \
             quota, which caps all types together.",
        );
    }
    Finding {
        error_code: CONCURRENT.into(),
        quota: QuotaId::gcp(COMPUTE, &quota_id),
        quota_name: if regional {
            "Regional concurrent operations per project per region".into()
        } else {
            "Global concurrent operations per project".into()
        },
        region,
        limit: None,
        need: None,
        documented_default: Some(500.0),
        unit: "operations",
        why: format!(
            "Compute Engine caps the operations in flight {scope} per project; a new \
             operation{operation} found the cap reached and was refused with 403 \
             rateLimitExceeded."
        ),
        advice: Some(advice),
        project,
        // Quoted from the fields, not a line: pasted JSON may put the reason on a line of its own.
        quoted: quoted_concurrent(raw, &scope, operation_type),
        slug: if regional {
            "gcp-regional-concurrent-operations"
        } else {
            "gcp-global-concurrent-operations"
        }
        .into(),
    }
}

fn quoted_concurrent(raw: &str, scope: &str, operation_type: Option<&str>) -> String {
    let message = json_in(raw)
        .and_then(|j| error_message(&j))
        .unwrap_or_else(|| "Quota on concurrent operations exceeded".into());
    let operation = operation_type.map_or(String::new(), |t| format!(", {t}"));
    format!("{CONCURRENT} ({message}, {scope}{operation})")
}

/// `error.message` of a google.rpc.Status body (or a bare Status).
fn error_message(json: &Value) -> Option<String> {
    let status = json.get("error").unwrap_or(json);
    status
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Compute's `errorDetails[].quotaInfo` {metricName, limitName, dimensions, limit}: limitName is
/// the quota id.
fn quota_info(info: &Value, raw: &str) -> Option<Finding> {
    let info = info.as_object()?;
    let metric = str_of(info, "metricName").unwrap_or_default();
    let dims = info.get("dimensions").and_then(Value::as_object);
    let region = dims
        .and_then(|d| d.get("region"))
        .and_then(Value::as_str)
        .map_or_else(|| "global".to_string(), gcp_region);
    let id = match str_of(info, "limitName") {
        Some(limit_name) if limit_name.contains("-per-") => limit_name.to_string(),
        _ if !metric.is_empty() => gcp_metrics::quota_id(metric, region == "global"),
        _ => return None,
    };
    let mut quota = QuotaId::gcp(COMPUTE, &id);
    if let (QuotaId::Gcp { dimensions, .. }, Some(dims)) = (&mut quota, dims) {
        for (k, v) in dims.iter().filter(|(k, _)| k.as_str() != "region") {
            if let Some(v) = v.as_str() {
                dimensions.insert(k.clone(), v.into());
            }
        }
    }
    let limit = info.get("limit").and_then(Value::as_f64);
    let mut found = compute_finding(quota, &id, region, limit, None, raw);
    if let Some(message) = json_in(raw).and_then(|j| error_message(&j)) {
        found.quoted = message;
    }
    Some(found)
}

/// A sentence naming a Compute metric, in one of the catalog's shapes: `Quota 'N2_CPUS'
/// exceeded. Limit: 24.0 in region europe-west1.`, `Quota C2_CPUS exceeded`, Dataproc's
/// `Insufficient 'N2_CPUS' quota. Requested 12.0, available 0.0.`, GKE's `Insufficient regional
/// quota to satisfy request: resource "CPUS": ...`.
fn quota_sentence(
    raw: &str,
    normalised: &str,
    options: &Options,
) -> Option<Result<Finding, ExplainError>> {
    let rules = &CATALOG.gcp;
    let (metric, at) = rules
        .metric_patterns
        .iter()
        .find_map(|p| metric_in(normalised, p))?;
    let after = &normalised[at..];
    let global = gcp_metrics::is_global_metric(&metric)
        || rules.global_words.iter().any(|w| text::says(normalised, w));
    let region = if global {
        "global".to_string()
    } else {
        match region_for(after, normalised, options) {
            Some(r) => r,
            None => {
                return Some(Err(ExplainError::NeedsRegion {
                    code: format!("Quota '{metric}' exceeded"),
                }));
            }
        }
    };
    let first = |markers: &[String]| markers.iter().find_map(|m| text::number_after(after, m));
    let limit = first(&rules.limit_after);
    let short = first(&rules.short_after);
    let id = gcp_metrics::quota_id(&metric, region == "global");
    let quota = QuotaId::gcp(&rules.service, &id);
    Some(Ok(compute_finding(quota, &id, region, limit, short, raw)))
}

/// The metric `pattern` finds in the text, upper case as Compute prints it, and where the text
/// after it starts.
fn metric_in(normalised: &str, pattern: &MetricPattern) -> Option<(String, usize)> {
    if !pattern.with_all.iter().all(|w| text::says(normalised, w)) {
        return None;
    }
    let lower = normalised.to_ascii_lowercase();
    let before = pattern.before.to_ascii_lowercase();
    let after = pattern.after.to_ascii_lowercase();
    lower.match_indices(&before).find_map(|(i, _)| {
        let start = i + before.len();
        let len = normalised[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(normalised.len() - start);
        let metric = &normalised[start..start + len];
        let upper = !metric.is_empty()
            && metric.chars().any(|c| c.is_ascii_uppercase())
            && !metric.chars().any(|c| c.is_ascii_lowercase());
        (upper && lower[start + len..].starts_with(&after))
            .then(|| (metric.to_string(), start + len))
    })
}

/// The region of a regional quota: the one the sentence names (`in region X`), else --region,
/// else a region or zone named elsewhere in the text (a request path, a `--region=` flag).
fn region_for(after: &str, normalised: &str, options: &Options) -> Option<String> {
    let lower = after.to_ascii_lowercase();
    let stated = CATALOG.gcp.region_after.iter().find_map(|m| {
        let i = lower.find(m.as_str())?;
        let w = after[i + m.len()..].split_whitespace().next()?;
        Some(gcp_region(w.trim_end_matches(['.', ',', '"', '\'', '`'])))
    });
    stated
        .or_else(|| options.region.clone())
        .or_else(|| text::gcp_region(normalised))
}

fn compute_finding(
    quota: QuotaId,
    id: &str,
    region: String,
    limit: Option<f64>,
    need: Option<f64>,
    raw: &str,
) -> Finding {
    let scope = if region == "global" {
        "across all regions".to_string()
    } else {
        format!("in {region}")
    };
    Finding {
        error_code: "QUOTA_EXCEEDED".into(),
        quota_name: id.replace('-', " "),
        why: format!(
            "Compute Engine counts this resource per project {scope}; creating more would exceed \
             {}.",
            limit.map_or("the quota".into(), |l| format!("the limit of {l}"))
        ),
        slug: format!("gcp-{}", id.to_ascii_lowercase()),
        quota,
        region,
        limit,
        need,
        documented_default: None,
        unit: unit_of(id),
        advice: None,
        project: None,
        quoted: text::line_with(raw, "quota", 300),
    }
}

/// The unit of a Compute quota, by its id.
fn unit_of(id: &str) -> &'static str {
    let units = [
        ("CPUS", "CPUs"),
        ("GPUS", "GPUs"),
        ("ADDRESSES", "addresses"),
        ("-GB-", "GB"),
        ("INSTANCES", "instances"),
    ];
    units
        .iter()
        .find(|(k, _)| id.contains(k))
        .map_or("units", |(_, u)| u)
}

#[cfg(test)]
#[path = "gcp_errors_tests.rs"]
mod tests;
