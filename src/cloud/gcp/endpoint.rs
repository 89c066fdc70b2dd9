//! Where a project's credentials may go: Google's own endpoints, the operator's default GCP
//! endpoint and the endpoints an admin allowed with `--allowed-gcp-endpoint` (GCP's own list: an
//! endpoint trusted with AWS's signed requests is not thereby trusted with a Google token). A CloudAccount's
//! `spec.endpoint` is written by whoever may create CloudAccounts, so it is checked against that
//! list rather than trusted: otherwise any such user could collect the operator's token.

use super::super::boundary::{CloudError, ErrorKind};

/// The flag that allows more endpoints (wired in `main.rs`).
pub const FLAG: &str = "--allowed-gcp-endpoint";

/// Refuses `endpoint` unless it is Google's, the default endpoint, or explicitly allowed.
pub fn check(endpoint: &str, default: Option<&str>, allowed: &[String]) -> Result<(), CloudError> {
    let wanted = normalize(endpoint);
    let listed = default
        .into_iter()
        .chain(allowed.iter().map(String::as_str))
        .any(|a| normalize(a) == wanted);
    if listed || is_google(&wanted) {
        return Ok(());
    }
    Err(CloudError::new(
        ErrorKind::InvalidArgument,
        "EndpointNotAllowed",
        format!(
            "spec.endpoint {endpoint} is not a Google endpoint (https://*.googleapis.com) and not \
             allowed by the operator's {FLAG} flag; no credentials are sent to it"
        ),
    ))
}

/// `endpoint` unless it is one of Google's: a simulator or proxy serves every API at one
/// address, while Google serves each API at its own.
pub fn non_google(endpoint: &str) -> Option<&str> {
    (!is_google(&normalize(endpoint))).then_some(endpoint)
}

/// Lowercase scheme and host, without a trailing `/` or the scheme's default port.
fn normalize(endpoint: &str) -> String {
    let e = endpoint.trim().trim_end_matches('/');
    let (scheme, rest) = e.split_once("://").unwrap_or(("", e));
    let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
    let scheme = scheme.to_ascii_lowercase();
    let mut host = host.to_ascii_lowercase();
    if (scheme == "https" && host.ends_with(":443")) || (scheme == "http" && host.ends_with(":80"))
    {
        host.truncate(host.rfind(':').unwrap_or(host.len()));
    }
    let path = if path.is_empty() {
        String::new()
    } else {
        format!("/{path}")
    };
    format!("{scheme}://{host}{path}")
}

/// `https://<name>.googleapis.com` (Cloud Quotas, a regional or Private Service Connect name)
/// with no path: a domain only Google serves, over TLS.
fn is_google(normalized: &str) -> bool {
    let Some(host) = normalized.strip_prefix("https://") else {
        return false;
    };
    !host.contains(['/', ':', '@'])
        && host
            .strip_suffix(".googleapis.com")
            .is_some_and(|name| !name.is_empty() && !name.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_endpoints_pass() {
        for e in [
            "https://cloudquotas.googleapis.com",
            "https://cloudquotas.googleapis.com/",
            "https://CLOUDQUOTAS.googleapis.com:443",
            "https://cloudquotas-myendpoint.p.googleapis.com",
        ] {
            assert!(check(e, None, &[]).is_ok(), "{e}");
        }
    }

    #[test]
    fn look_alikes_and_plain_http_are_refused() {
        for e in [
            "http://cloudquotas.googleapis.com",
            "https://googleapis.com.evil.example",
            "https://evil.example/cloudquotas.googleapis.com",
            "https://user@evil.example",
            "https://x.googleapis.com@evil.example",
            "https://x.googleapis.com:8443",
            "http://127.0.0.1:9000",
        ] {
            let err = check(e, None, &[]).unwrap_err();
            assert_eq!(
                (err.kind, err.code.as_str()),
                (ErrorKind::InvalidArgument, "EndpointNotAllowed"),
                "{e}"
            );
            assert!(
                err.message.contains(e) && err.message.contains(FLAG),
                "{err}"
            );
        }
    }

    #[test]
    fn the_default_and_allowed_endpoints_pass() {
        let sim = "http://127.0.0.1:9000";
        assert!(check("http://127.0.0.1:9000/", Some(sim), &[]).is_ok());
        let allowed = ["https://quotas.vpc.internal".to_string()];
        assert!(check("https://QUOTAS.vpc.internal:443/", None, &allowed).is_ok());
        assert!(check("https://quotas.vpc.internal.evil", None, &allowed).is_err());
        assert!(check("http://127.0.0.1:9001", Some(sim), &allowed).is_err());
    }
}
