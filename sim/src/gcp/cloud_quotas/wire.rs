//! The REST+JSON shapes: QuotaInfo and QuotaPreference as proto3 JSON (camelCase, int64 as
//! strings, enums as numbers when the client asks `$alt=json;enum-encoding=int`, else as names),
//! and the lenient reading of what clients send (int64 as string or number, enums as number or
//! name, camelCase or proto field names).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, de};
use serde_json::{Map, Value, json};

use crate::gcp::{
    error::GcpError, model::catalog::QuotaDef, model::preference::Preference, params::Enc,
    vocab::Dims,
};

pub fn quota_info(
    project: &str,
    def: &QuotaDef,
    infos: &[(Dims, i64)],
    regions: &[String],
    enc: Enc,
) -> Value {
    let dimensions_infos: Vec<Value> = infos
        .iter()
        .map(|(dims, value)| {
            let locations: Vec<&str> = match dims.get("region") {
                Some(r) => vec![r.as_str()],
                None if def.regional() => regions.iter().map(String::as_str).collect(),
                None => vec!["global"],
            };
            json!({
                "dimensions": dims,
                "details": {"value": value.to_string()},
                "applicableLocations": locations,
            })
        })
        .collect();
    let mut eligibility = Map::new();
    eligibility.insert("isEligible".into(), json!(def.ineligible.is_none()));
    if let Some(reason) = def.ineligible {
        eligibility.insert(
            "ineligibilityReason".into(),
            enc.pick(reason.number(), reason.name()),
        );
    }
    let mut info = json!({
        "name": format!(
            "projects/{project}/locations/global/services/{}/quotaInfos/{}",
            def.service, def.quota_id
        ),
        "quotaId": def.quota_id,
        "metric": def.metric,
        "service": def.service,
        "isPrecise": def.is_precise,
        "containerType": enc.pick(1, "PROJECT"),
        "dimensions": def.dimensions,
        "metricDisplayName": def.metric_display_name,
        "quotaDisplayName": def.quota_display_name,
        "metricUnit": def.metric_unit,
        "quotaIncreaseEligibility": eligibility,
        "isFixed": def.is_fixed,
        "dimensionsInfos": dimensions_infos,
        "isConcurrent": def.is_concurrent,
    });
    if let Some(window) = &def.refresh_interval {
        info["refreshInterval"] = json!(window);
    }
    info
}

/// A preference as the API returns it; `contactEmail` is input only and never echoed.
pub fn preference(p: &Preference, enc: Enc) -> Value {
    let mut config = Map::new();
    config.insert(
        "preferredValue".into(),
        json!(p.preferred_value.to_string()),
    );
    if let Some(g) = p.granted_value {
        config.insert("grantedValue".into(), json!(g.to_string()));
    }
    for (key, text) in [("stateDetail", &p.state_detail), ("traceId", &p.trace_id)] {
        if !text.is_empty() {
            config.insert(key.into(), json!(text));
        }
    }
    if !p.annotations.is_empty() {
        config.insert("annotations".into(), json!(p.annotations));
    }
    config.insert(
        "requestOrigin".into(),
        enc.pick(p.origin.number(), p.origin.name()),
    );
    let mut out = json!({
        "name": p.name(),
        "dimensions": p.dimensions,
        "quotaConfig": config,
        "etag": p.etag,
        "createTime": p.create_time.to_string(),
        "updateTime": p.update_time.to_string(),
        "service": p.service,
        "quotaId": p.quota_id,
        "reconciling": p.reconciling,
    });
    if !p.justification.is_empty() {
        out["justification"] = json!(p.justification);
    }
    out
}

/// A QuotaPreference body as sent; output-only and unknown fields are ignored, as Google does.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PreferenceIn {
    pub name: String,
    pub dimensions: Dims,
    #[serde(alias = "quota_config")]
    pub quota_config: Option<ConfigIn>,
    pub etag: String,
    pub service: String,
    #[serde(alias = "quota_id")]
    pub quota_id: String,
    pub justification: String,
    #[serde(alias = "contact_email")]
    pub contact_email: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ConfigIn {
    /// proto3 JSON leaves out a zero, so absent means 0.
    #[serde(alias = "preferred_value", deserialize_with = "int64")]
    pub preferred_value: i64,
    pub annotations: BTreeMap<String, String>,
}

/// int64 in proto3 JSON is a string, but parsers take a number too.
fn int64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    struct V;
    impl de::Visitor<'_> for V {
        type Value = i64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an int64 as a number or a decimal string")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom("int64 out of range"))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            if v.fract() == 0.0 && v.abs() < 9.2e18 {
                Ok(v as i64)
            } else {
                Err(E::custom(format!("{v} is not an int64")))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
            v.trim()
                .parse()
                .map_err(|_| E::custom(format!("`{v}` is not an int64")))
        }
        fn visit_unit<E: de::Error>(self) -> Result<i64, E> {
            Ok(0)
        }
    }
    d.deserialize_any(V)
}

pub fn parse_preference(body: &[u8]) -> Result<PreferenceIn, GcpError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(GcpError::invalid(
            "quota_preference is required: the body is empty",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| GcpError::invalid(format!("Invalid JSON payload received. {e}")))
}

/// The `ignoreSafetyChecks` a request names (numbers from the Rust client, names from gcloud).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SafetyChecks {
    pub below_usage: bool,
    pub percentage: bool,
}

impl SafetyChecks {
    pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Self, GcpError> {
        let mut checks = Self::default();
        for v in values {
            match v {
                "0" | "QUOTA_SAFETY_CHECK_UNSPECIFIED" => {}
                "1" | "QUOTA_DECREASE_BELOW_USAGE" => checks.below_usage = true,
                "2" | "QUOTA_DECREASE_PERCENTAGE_TOO_HIGH" => checks.percentage = true,
                other => {
                    return Err(GcpError::invalid(format!(
                        "Invalid value at 'ignore_safety_checks' (type.googleapis.com/google.api.cloudquotas.v1.QuotaSafetyCheck), \"{other}\""
                    )));
                }
            }
        }
        Ok(checks)
    }
}

/// What an update may change, from `updateMask` (camelCase from the clients, snake_case
/// accepted too). No mask, or an empty one, means every updatable field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mask {
    pub preferred_value: bool,
    pub annotations: bool,
    pub justification: bool,
    pub contact_email: bool,
    /// Immutable fields named in the mask: the body must repeat the stored values.
    pub dimensions: bool,
    pub service: bool,
    pub quota_id: bool,
}

impl Mask {
    pub const ALL: Mask = Mask {
        preferred_value: true,
        annotations: true,
        justification: true,
        contact_email: true,
        dimensions: false,
        service: false,
        quota_id: false,
    };

    pub fn parse(mask: Option<&str>) -> Result<Self, GcpError> {
        let Some(mask) = mask.filter(|m| !m.trim().is_empty()) else {
            return Ok(Self::ALL);
        };
        let mut m = Mask {
            preferred_value: false,
            annotations: false,
            justification: false,
            contact_email: false,
            ..Self::ALL
        };
        for raw in mask.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match camel(raw).as_str() {
                "quotaConfig" => (m.preferred_value, m.annotations) = (true, true),
                "quotaConfig.preferredValue" => m.preferred_value = true,
                "quotaConfig.annotations" => m.annotations = true,
                "justification" => m.justification = true,
                "contactEmail" => m.contact_email = true,
                "dimensions" => m.dimensions = true,
                "service" => m.service = true,
                "quotaId" => m.quota_id = true,
                // Clients that echo a whole resource may name it; the etag is a check, not a field.
                "etag" | "name" => {}
                _ => {
                    return Err(GcpError::invalid(format!(
                        "update_mask path `{raw}` is not an updatable field of QuotaPreference \
                         (quotaConfig.preferredValue, quotaConfig.annotations, justification, \
                         contactEmail)"
                    )));
                }
            }
        }
        Ok(m)
    }
}

/// `quota_config.preferred_value` -> `quotaConfig.preferredValue`; camelCase passes unchanged.
fn camel(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut upper = false;
    for c in path.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_accept_both_casings_and_refuse_unknown_paths() {
        let m = Mask::parse(Some("quota_config.preferred_value,contactEmail")).unwrap();
        assert!(m.preferred_value && m.contact_email && !m.annotations && !m.justification);
        assert_eq!(Mask::parse(None).unwrap(), Mask::ALL);
        assert_eq!(Mask::parse(Some("")).unwrap(), Mask::ALL);
        let err = Mask::parse(Some("quotaConfig.grantedValue")).unwrap_err();
        assert!(err.message.contains("grantedValue"), "{err}");
    }

    #[test]
    fn int64_as_string_or_number() {
        let p: PreferenceIn =
            serde_json::from_str(r#"{"quotaConfig": {"preferredValue": "100"}}"#).unwrap();
        assert_eq!(p.quota_config.unwrap().preferred_value, 100);
        let p: PreferenceIn =
            serde_json::from_str(r#"{"quota_config": {"preferred_value": 7}}"#).unwrap();
        assert_eq!(p.quota_config.unwrap().preferred_value, 7);
        assert!(parse_preference(br#"{"quotaConfig": {"preferredValue": "x"}}"#).is_err());
    }

    #[test]
    fn safety_checks_by_number_or_name() {
        let c = SafetyChecks::parse(["2", "QUOTA_DECREASE_BELOW_USAGE"]).unwrap();
        assert!(c.percentage && c.below_usage);
        assert!(SafetyChecks::parse(["7"]).is_err());
    }
}
