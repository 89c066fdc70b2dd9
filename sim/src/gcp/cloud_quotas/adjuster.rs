//! QuotaAdjusterSettings (`GET` and `PATCH /v1/projects/{p}/locations/global/
//! quotaAdjusterSettings`), as the Rust client's QuotaAdjusterSettingsManager calls them:
//! `updateMask` (enablement, inherited), `validateOnly`, a stale etag ABORTED.

use axum::{Router, body::Bytes, response::Response, routing::get as get_route};
use serde::Deserialize;
use serde_json::{Value, json};

use super::responses::Call;
use crate::gcp::{
    error::GcpError,
    method::Method,
    model::{adjuster::Settings, state::Shared},
    params::Enc,
};

/// The settings' route, merged beside the other Cloud Quotas routes (whose fallback answers
/// any path neither serves).
pub fn router(shared: Shared) -> Router {
    Router::new()
        .route(
            "/v1/{kind}/{project}/locations/{location}/quotaAdjusterSettings",
            get_route(get).patch(update),
        )
        .with_state(shared)
}

async fn get(call: Call) -> Response {
    call.run(
        Method::GetQuotaAdjusterSettings,
        |st, project, params, _| Ok(render(&st.adjuster(project), params.enc())),
    )
}

/// The body as sent: enablement as a number or a name, camelCase or proto names.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SettingsIn {
    enablement: Option<Value>,
    etag: String,
    inherited: bool,
}

async fn update(call: Call, body: Bytes) -> Response {
    call.run(
        Method::UpdateQuotaAdjusterSettings,
        |st, project, params, now| {
            let input: SettingsIn = if body.iter().all(u8::is_ascii_whitespace) {
                SettingsIn::default()
            } else {
                serde_json::from_slice(&body)
                    .map_err(|e| GcpError::invalid(format!("Invalid JSON payload received. {e}")))?
            };
            let stored = st.adjuster(project);
            if !input.etag.is_empty() && input.etag != stored.etag {
                return Err(GcpError::aborted(format!(
                    "The etag `{}` does not match the current etag of the QuotaAdjusterSettings: \
                 read them again and retry.",
                    input.etag
                )));
            }
            let (enablement, inherited) = mask(params.get("updateMask"))?;
            let enabled = if inherited && input.inherited {
                None
            } else if enablement {
                Some(parse_enablement(input.enablement.as_ref())?)
            } else {
                return Ok(render(&stored, params.enc()));
            };
            let out = if params.flag("validateOnly")? {
                let mut preview = stored;
                preview.update(enabled, now, 0);
                preview
            } else {
                st.update_adjuster(project, enabled, now)
            };
            Ok(render(&out, params.enc()))
        },
    )
}

/// (enablement, inherited) named in the mask; none or an empty one means both.
fn mask(m: Option<&str>) -> Result<(bool, bool), GcpError> {
    let Some(m) = m.filter(|m| !m.trim().is_empty()) else {
        return Ok((true, true));
    };
    let mut out = (false, false);
    for path in m.split(',').map(str::trim) {
        match path {
            "enablement" => out.0 = true,
            "inherited" => out.1 = true,
            "etag" | "name" => {}
            other => {
                return Err(GcpError::invalid(format!(
                    "update_mask path `{other}` is not an updatable field of \
                     QuotaAdjusterSettings (enablement, inherited)"
                )));
            }
        }
    }
    Ok(out)
}

fn parse_enablement(v: Option<&Value>) -> Result<bool, GcpError> {
    match v {
        Some(Value::Number(n)) if n.as_i64() == Some(2) => Ok(true),
        Some(Value::Number(n)) if n.as_i64() == Some(3) => Ok(false),
        Some(Value::String(s)) if s == "ENABLED" => Ok(true),
        Some(Value::String(s)) if s == "DISABLED" => Ok(false),
        other => Err(GcpError::invalid(format!(
            "quota_adjuster_settings.enablement must be ENABLED or DISABLED, got {}",
            other.map_or("nothing".to_string(), Value::to_string)
        ))),
    }
}

fn render(s: &Settings, enc: Enc) -> Value {
    let mut out = json!({
        "name": format!("projects/{}/locations/global/quotaAdjusterSettings", s.project),
        "enablement": if s.enabled { enc.pick(2, "ENABLED") } else { enc.pick(3, "DISABLED") },
        "etag": s.etag,
        "inherited": s.inherited,
        "inheritedFrom": s.inherited_from,
    });
    if let Some(t) = s.update_time {
        out["updateTime"] = json!(t.to_string());
    }
    out
}
