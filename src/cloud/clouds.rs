//! The provider factory the operator runs with: picks the cloud from the CloudAccount.

use std::sync::Arc;

use async_trait::async_trait;

use super::{
    CloudError, ErrorKind, ProviderFactory, QuotaProvider,
    aws::{AwsFactory, AwsSettings},
};
use crate::api::CloudAccount;

/// Real clouds, chosen per CloudAccount.
pub struct Clouds {
    aws: AwsFactory,
}

impl Clouds {
    /// AWS credentials and region come from the default chain (IRSA, EKS Pod Identity, env).
    pub async fn from_env(aws: AwsSettings) -> Self {
        Self {
            aws: AwsFactory::from_env(aws).await,
        }
    }
}

#[async_trait]
impl ProviderFactory for Clouds {
    async fn provider(&self, account: &CloudAccount) -> Result<Arc<dyn QuotaProvider>, CloudError> {
        if account.spec.aws.is_some() {
            return self.aws.provider(account).await;
        }
        Err(CloudError::new(
            ErrorKind::Unavailable,
            "ProviderUnavailable",
            "this build has no GCP provider yet",
        ))
    }
}
