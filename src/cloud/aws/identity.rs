//! Who the operator is in an AWS account: the CloudAccount's role assumed (or the operator's
//! own credentials), then STS GetCallerIdentity, so credentials that reach another account than
//! `spec.aws.accountId` are refused before any quota is read or filed.

use super::{convert, credentials};
use crate::cloud::boundary::{CloudError, ErrorKind};
use aws_config::{Region, SdkConfig, sts::AssumeRoleProvider};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_servicequotas::config::http::HttpResponse;
use aws_sdk_sts::{error::SdkError, operation::assume_role::AssumeRoleError};

/// Where and as whom the STS calls go.
pub struct Sts<'a> {
    /// The operator's config (credentials, home region, timeouts).
    pub base: &'a SdkConfig,
    /// The same endpoint override Service Quotas uses (the simulator serves both).
    pub endpoint: Option<&'a str>,
}

impl Sts<'_> {
    /// The base config with the endpoint override, for the STS clients.
    fn config(&self) -> SdkConfig {
        let mut conf = self.base.to_builder();
        if let Some(endpoint) = self.endpoint {
            conf = conf.endpoint_url(endpoint);
        }
        if self.base.region().is_none() {
            // STS needs a region to sign; the global partition's default.
            conf = conf.region(Region::new("us-east-1"));
        }
        conf.build()
    }

    /// Credentials for `role`, assumed now so that a refusal is known (and named) at once; the
    /// provider renews them later.
    pub async fn assume(
        &self,
        role: &str,
        external_id: Option<&str>,
    ) -> Result<SharedCredentialsProvider, CloudError> {
        let mut builder = AssumeRoleProvider::builder(role)
            .session_name("quota-operator")
            .configure(&self.config());
        if let Some(external_id) = external_id {
            builder = builder.external_id(external_id);
        }
        let provider = builder.build().await;
        if let Err(e) = provider.provide_credentials().await {
            let answered = std::error::Error::source(&e)
                .and_then(|s| s.downcast_ref::<SdkError<AssumeRoleError, HttpResponse>>());
            let (kind, said) = match answered {
                // The operator's own credentials are missing: that, not the role, is the fix.
                Some(sdk) => match convert::error_ref(sdk) {
                    err if err.kind == ErrorKind::Credentials => return Err(err),
                    err => (err.kind, format!("{}: {}", err.code, err.message)),
                },
                None => (ErrorKind::AccessDenied, credentials::chain(&e)),
            };
            return Err(CloudError::new(
                kind,
                if kind == ErrorKind::AccessDenied {
                    "AssumeRoleFailed"
                } else {
                    "AssumeRoleUnavailable"
                },
                format!("could not assume role {role}: STS answered {said}"),
            ));
        }
        Ok(SharedCredentialsProvider::new(provider))
    }

    /// Asks STS who `credentials` (None: the operator's own) are, and refuses any account but
    /// `expected`.
    pub async fn verify(
        &self,
        credentials: Option<&SharedCredentialsProvider>,
        expected: &str,
        role: Option<&str>,
    ) -> Result<(), CloudError> {
        let mut conf = aws_sdk_sts::config::Builder::from(&self.config());
        // As is (see Calls::client): the same identity-cache partition as every other client.
        conf.set_credentials_provider(credentials.cloned());
        let me = aws_sdk_sts::Client::from_conf(conf.build())
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| match convert::error(e) {
                // Not STS's answer: no call was sent.
                e if e.kind == ErrorKind::Credentials => e,
                e => CloudError::new(
                    e.kind,
                    e.code,
                    format!("STS GetCallerIdentity: {}", e.message),
                ),
            })?;
        let actual = me.account().unwrap_or_default();
        if actual == expected {
            return Ok(());
        }
        let through = match role {
            Some(role) => format!("role {role}"),
            None => "the operator's own credentials".into(),
        };
        Err(CloudError::new(
            ErrorKind::AccountMismatch,
            "AccountMismatch",
            format!(
                "spec.aws.accountId is {expected}, but STS says {through} act in account {} \
                 (as {}); nothing is read or filed until they match",
                if actual.is_empty() {
                    "(none given)"
                } else {
                    actual
                },
                me.arn().unwrap_or("an unnamed identity"),
            ),
        ))
    }
}
