//! Operator-wide AWS settings, and the rule on where credentials may be sent.

use std::time::Duration;

use aws_smithy_types::timeout::TimeoutConfig;

use crate::cloud::boundary::{CloudError, ErrorKind};

/// Operator-wide AWS settings (flags of `quota-operator run`).
#[derive(Clone, Debug)]
pub struct AwsSettings {
    /// Endpoint for every account without its own `spec.endpoint`; always allowed.
    pub endpoint: Option<String>,
    /// Further endpoints a CloudAccount's `spec.endpoint` may name (`--allowed-aws-endpoint`: a
    /// VPC endpoint, a simulator). Any other is refused: credentials go only to AWS or where the
    /// admin allows. GCP has its own list, so allowing a Google proxy sends it no signed request.
    pub allowed_endpoints: Vec<String>,
    /// How long listed quota values (and a refused listing) are reused, and how long AWS's
    /// answer that a service, quota or instance type does not exist is remembered.
    pub cache_ttl: Duration,
    /// Fraction of AWS's documented API rates the operator allows itself; below 1 leaves room
    /// for network jitter and other clients of the account.
    pub rate_scale: f64,
    /// Time to open a connection.
    pub connect_timeout: Duration,
    /// Time for one attempt of a call (the SDK retries within the operation timeout).
    pub attempt_timeout: Duration,
    /// Time for a whole call, retries included: no call holds a cache lock longer.
    pub operation_timeout: Duration,
}

impl Default for AwsSettings {
    fn default() -> Self {
        Self {
            endpoint: None,
            allowed_endpoints: Vec::new(),
            cache_ttl: Duration::from_secs(300),
            rate_scale: 0.8,
            connect_timeout: Duration::from_secs(3),
            attempt_timeout: Duration::from_secs(5),
            operation_timeout: Duration::from_secs(20),
        }
    }
}

impl AwsSettings {
    pub fn timeout_config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect_timeout)
            .operation_attempt_timeout(self.attempt_timeout)
            .operation_timeout(self.operation_timeout)
            .build()
    }

    /// The endpoint to use for an account naming `requested` (None: the operator's own, or
    /// AWS's). A CloudAccount is not trusted to choose where credentials go, so an endpoint
    /// the operator's settings do not allow is refused before any request is made.
    pub fn endpoint_for(&self, requested: Option<&str>) -> Result<Option<String>, CloudError> {
        let Some(requested) = requested else {
            return Ok(self.endpoint.clone());
        };
        let wanted = normalise(requested);
        let allowed = self
            .endpoint
            .iter()
            .chain(&self.allowed_endpoints)
            .any(|a| normalise(a) == wanted);
        if allowed {
            Ok(Some(requested.to_string()))
        } else {
            Err(CloudError::new(
                ErrorKind::InvalidArgument,
                "EndpointNotAllowed",
                format!(
                    "spec.endpoint {requested} is not an endpoint quota-operator may send \
                     credentials to; an operator admin can allow it with \
                     --allowed-aws-endpoint={requested}"
                ),
            ))
        }
    }
}

/// Endpoints compare without case in the scheme and host and without a trailing slash.
fn normalise(endpoint: &str) -> String {
    let trimmed = endpoint.trim().trim_end_matches('/');
    match trimmed.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
            let path = if path.is_empty() {
                String::new()
            } else {
                format!("/{path}")
            };
            format!(
                "{}://{}{path}",
                scheme.to_ascii_lowercase(),
                host.to_ascii_lowercase()
            )
        }
        None => trimmed.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_operators_endpoints_are_allowed() {
        let settings = AwsSettings {
            endpoint: Some("http://127.0.0.1:4566".into()),
            allowed_endpoints: vec![
                "https://vpce-1.servicequotas.us-east-1.vpce.amazonaws.com/".into(),
            ],
            ..AwsSettings::default()
        };
        assert_eq!(
            settings.endpoint_for(None).unwrap().as_deref(),
            Some("http://127.0.0.1:4566")
        );
        for ok in [
            "http://127.0.0.1:4566/",
            "HTTPS://VPCE-1.servicequotas.us-east-1.vpce.amazonaws.com",
        ] {
            assert_eq!(
                settings.endpoint_for(Some(ok)).unwrap().as_deref(),
                Some(ok)
            );
        }
        let refused = settings
            .endpoint_for(Some("https://attacker.example.com"))
            .unwrap_err();
        assert_eq!(
            (refused.kind, refused.code.as_str()),
            (ErrorKind::InvalidArgument, "EndpointNotAllowed")
        );
        assert!(
            refused.message.contains("https://attacker.example.com")
                && refused.message.contains("--allowed-aws-endpoint"),
            "{refused}"
        );
        // A host under amazonaws.com is no proof of AWS (S3 websites, load balancers).
        assert!(
            settings
                .endpoint_for(Some("http://bucket.s3-website-us-east-1.amazonaws.com"))
                .is_err()
        );
    }
}
