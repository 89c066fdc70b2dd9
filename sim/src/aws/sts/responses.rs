//! Simulated STS (`AssumeRole`, `GetCallerIdentity`) on its real wire protocol, awsQuery:
//! `POST /` with a form body (`Action=AssumeRole&Version=2011-06-15&...`), XML answers, and
//! errors as an XML `ErrorResponse`. Served beside Service Quotas on the same address, so one
//! endpoint override reaches both. Temporary credentials map to the role's account, and the
//! Service Quotas side then acts in that account.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

use crate::aws::{
    model::state::{AwsState, Session},
    xml::escape,
};

const NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
const VERSION: &str = "2011-06-15";

/// An STS error: its HTTP status, `Sender`/`Receiver` type, code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StsError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl StsError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "AccessDenied", message)
    }

    pub fn invalid_token() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        )
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
}

impl IntoResponse for StsError {
    fn into_response(self) -> Response {
        let kind = if self.status.is_server_error() {
            "Receiver"
        } else {
            "Sender"
        };
        let body = format!(
            "<ErrorResponse xmlns=\"{NS}\">\n  <Error>\n    <Type>{kind}</Type>\n    \
             <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  \
             <RequestId>{}</RequestId>\n</ErrorResponse>\n",
            self.code,
            escape(&self.message),
            request_id(&self.message)
        );
        xml(self.status, body)
    }
}

/// Whether a body is an awsQuery form call (`Action=...`).
pub fn is_query(body: &[u8]) -> bool {
    body.starts_with(b"Action=") || body.windows(8).any(|w| w == b"&Action=")
}

/// Answers one STS call from `access_key` (None: the request was not signed).
pub fn answer(
    st: &mut AwsState,
    access_key: Option<&str>,
    body: &[u8],
    now: Timestamp,
) -> Response {
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let param = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let action = param("Action").unwrap_or_default().to_string();
    let result = match access_key {
        None => Err(StsError::new(
            StatusCode::FORBIDDEN,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        )),
        Some(key) => caller(st, key).and_then(|who| {
            *st.sts_calls
                .entry((who.account.clone(), action.clone()))
                .or_default() += 1;
            crate::call_log::record("aws", &format!("sts:{action}"), &action);
            if param("Version") != Some(VERSION) {
                return Err(StsError::bad_request(
                    "InvalidParameterValue",
                    format!("Version must be {VERSION}"),
                ));
            }
            match action.as_str() {
                "GetCallerIdentity" => Ok(caller_identity(&who, key)),
                "AssumeRole" => assume_role(st, &who, &param, now),
                other => Err(StsError::bad_request(
                    "InvalidAction",
                    format!("Could not find operation {other} for version {VERSION}"),
                )),
            }
        }),
    };
    tracing::debug!(%action, error = ?result.as_ref().err().map(|e| e.code), "sim: sts call");
    match result {
        Ok(body) => xml(StatusCode::OK, body),
        Err(e) => e.into_response(),
    }
}

/// The caller behind an access key: an assumed role's session, or the scenario's account.
fn caller(st: &AwsState, key: &str) -> Result<Session, StsError> {
    if let Some(s) = st.sessions.get(key) {
        return Ok(s.clone());
    }
    let account = st
        .scenario
        .account_for_key(key)
        .ok_or_else(StsError::invalid_token)?;
    // The scenario's keys stand for IAM users; the user name is not modelled.
    Ok(Session {
        account: account.to_string(),
        arn: format!("arn:aws:iam::{account}:user/quota-sim-user"),
        user_id: key.to_string(),
    })
}

fn caller_identity(who: &Session, key: &str) -> String {
    let result = format!(
        "    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n",
        escape(&who.arn),
        escape(&who.user_id),
        who.account
    );
    envelope("GetCallerIdentity", &result, key)
}

fn assume_role<'a>(
    st: &mut AwsState,
    who: &Session,
    param: &impl Fn(&str) -> Option<&'a str>,
    now: Timestamp,
) -> Result<String, StsError> {
    let arn = param("RoleArn").ok_or_else(|| missing("RoleArn"))?;
    let session_name = param("RoleSessionName").ok_or_else(|| missing("RoleSessionName"))?;
    let denied = || {
        StsError::access_denied(format!(
            "User: {} is not authorized to perform: sts:AssumeRole on resource: {arn}",
            who.arn
        ))
    };
    let role = st
        .scenario
        .roles
        .iter()
        .find(|r| r.arn == arn)
        .ok_or_else(denied)?
        .clone();
    if !role.assumable
        || role
            .external_id
            .as_deref()
            .is_some_and(|e| Some(e) != param("ExternalId"))
    {
        return Err(denied());
    }
    let seconds: i64 = match param("DurationSeconds") {
        None => 3600,
        Some(d) => d
            .parse()
            .ok()
            .filter(|d| (900..=43_200).contains(d))
            .ok_or_else(|| {
                StsError::bad_request(
                    "ValidationError",
                    "DurationSeconds must be between 900 and 43200",
                )
            })?,
    };
    let digest = Sha256::digest(format!("{arn}/{session_name}/{}", st.sessions.len()));
    let key_id = format!("ASIA{}", hex::encode_upper(&digest[..8]));
    // A role id is stable per role, as in IAM.
    let role_id = format!(
        "AROA{}",
        hex::encode_upper(&Sha256::digest(arn.as_bytes())[..8])
    );
    let session = Session {
        account: role.account().to_string(),
        arn: format!(
            "arn:aws:sts::{}:assumed-role/{}/{session_name}",
            role.account(),
            role.name()
        ),
        user_id: format!("{role_id}:{session_name}"),
    };
    let n = st.add_session(key_id.clone(), session.clone());
    let expiration = now
        .checked_add(SignedDuration::from_secs(seconds))
        .unwrap_or(now);
    let result = format!(
        "    <AssumedRoleUser>\n      <Arn>{}</Arn>\n      <AssumedRoleId>{}</AssumedRoleId>\n    \
         </AssumedRoleUser>\n    <Credentials>\n      <AccessKeyId>{key_id}</AccessKeyId>\n      \
         <SecretAccessKey>{}</SecretAccessKey>\n      <SessionToken>{}</SessionToken>\n      \
         <Expiration>{}</Expiration>\n    </Credentials>\n",
        escape(&session.arn),
        escape(&session.user_id),
        hex::encode(&digest[8..28]),
        format_args!("quota-sim-session-{n}-{}", hex::encode(&digest[28..])),
        expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
    );
    tracing::info!(role = %arn, account = %session.account, "sim: role assumed");
    Ok(envelope("AssumeRole", &result, &key_id))
}

fn missing(name: &str) -> StsError {
    StsError::bad_request(
        "ValidationError",
        format!(
            "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"
        ),
    )
}

/// `<XResponse><XResult>...</XResult><ResponseMetadata>...</ResponseMetadata></XResponse>`.
fn envelope(action: &str, result: &str, seed: &str) -> String {
    format!(
        "<{action}Response xmlns=\"{NS}\">\n  <{action}Result>\n{result}  </{action}Result>\n  \
         <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n\
         </{action}Response>\n",
        request_id(seed)
    )
}

fn request_id(seed: &str) -> String {
    let h = hex::encode(&Sha256::digest(seed.as_bytes())[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn xml(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_bodies_are_told_from_json() {
        assert!(is_query(b"Action=GetCallerIdentity&Version=2011-06-15"));
        assert!(is_query(b"Version=2011-06-15&Action=AssumeRole"));
        assert!(!is_query(b"{\"ServiceCode\":\"ec2\"}"));
    }
}
