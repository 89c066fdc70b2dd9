//! The operator's own AWS credentials, when the SDK's default chain finds none or fails: one
//! readable sentence (what was tried, what to configure) with reason `CredentialsFailed`,
//! never the SDK's debug dump of its error chain.

use std::error::Error;

use aws_config::SdkConfig;
use aws_credential_types::provider::{ProvideCredentials, error::CredentialsError};

use crate::{
    api::reasons,
    cloud::boundary::{CloudError, ErrorKind},
};

/// What to do when the chain found nothing. IRSA and Pod Identity reach a pod through variables
/// and a token file set when it starts, so either needs new pods.
pub const NONE_FOUND: &str = "no AWS credentials found: the operator tried environment \
    variables (AWS_ACCESS_KEY_ID), a shared profile, the web identity token (IRSA), the EKS Pod \
    Identity agent and the instance profile; annotate its ServiceAccount with \
    eks.amazonaws.com/role-arn or create a Pod Identity association for it, then restart its pods";

/// The credentials error somewhere in `err`'s sources, as the operator words it. A provider that
/// timed out or failed on its own side (STS behind IRSA unavailable) may pass: Unavailable,
/// retried; no credentials, or a chain configured wrong, waits for an admin.
pub fn classify(err: &(dyn Error + 'static)) -> Option<CloudError> {
    let mut source = Some(err);
    while let Some(e) = source {
        if let Some(c) = e.downcast_ref::<CredentialsError>() {
            return Some(of(c));
        }
        source = e.source();
    }
    None
}

fn of(e: &CredentialsError) -> CloudError {
    let said = chain(e);
    let (kind, message) = match e {
        CredentialsError::CredentialsNotLoaded(_) => (ErrorKind::Credentials, NONE_FOUND.into()),
        CredentialsError::InvalidConfiguration(_) => (
            ErrorKind::Credentials,
            format!("the AWS credential chain is configured wrong: {said}"),
        ),
        _ => (
            ErrorKind::Unavailable,
            format!("the AWS credential provider failed: {said}"),
        ),
    };
    CloudError::new(kind, reasons::CREDENTIALS_FAILED, message)
}

/// Each error of a chain by its Display, joined with ": " (a message repeated by its wrapper
/// once): what happened, without the Debug dump `DisplayErrorContext` appends.
pub fn chain(err: &(dyn Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = Some(err);
    while let Some(e) = source {
        let text = e.to_string();
        if !text.is_empty() && parts.last().is_none_or(|last| !last.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

/// Why the operator's own credentials cannot be used, if they cannot: asked once at start, for
/// the warning and `/readyz`. None when the chain yields credentials (or an error that may pass).
pub async fn missing(base: SdkConfig) -> Option<String> {
    let Some(provider) = base.credentials_provider() else {
        return Some(NONE_FOUND.into());
    };
    match provider.provide_credentials().await {
        Ok(_) => None,
        Err(e) => Some(of(&e))
            .filter(|e| e.kind == ErrorKind::Credentials)
            .map(|e| e.message),
    }
}

/// A client configuration whose credentials chain finds nothing, as a pod without an identity
/// has: for the tests here and of the conversion of a call's error.
#[cfg(test)]
pub(super) fn without_credentials() -> SdkConfig {
    use aws_credential_types::provider::future::ProvideCredentials as Future;

    #[derive(Debug)]
    struct Nothing;

    impl ProvideCredentials for Nothing {
        fn provide_credentials<'a>(&'a self) -> Future<'a>
        where
            Self: 'a,
        {
            Future::ready(Err(CredentialsError::not_loaded(
                "no providers in chain provided credentials",
            )))
        }
    }

    SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(Nothing),
        )
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_start_check_names_what_is_missing() {
        assert_eq!(
            missing(without_credentials()).await.as_deref(),
            Some(NONE_FOUND)
        );
        let none = SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        assert_eq!(missing(none).await.as_deref(), Some(NONE_FOUND));
        let fixed = SdkConfig::builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::new("AKID", "SECRET", None, None, "test"),
                ),
            )
            .build();
        assert_eq!(missing(fixed).await, None);
    }

    #[test]
    fn a_chain_reads_as_one_line_without_repeats() {
        let e = CredentialsError::provider_error(std::io::Error::other("STS said no"));
        assert_eq!(
            chain(&e),
            "an error occurred while loading credentials: STS said no"
        );
        assert_eq!(of(&e).kind, ErrorKind::Unavailable);
        let wrong = CredentialsError::invalid_configuration("role_arn without a token file");
        let e = of(&wrong);
        assert_eq!(
            (e.kind, e.code.as_str()),
            (ErrorKind::Credentials, "CredentialsFailed")
        );
        assert!(
            e.message
                .starts_with("the AWS credential chain is configured wrong: "),
            "{e}"
        );
    }
}
