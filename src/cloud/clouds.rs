//! The provider factory the operator runs with: picks the cloud from the CloudAccount.

use std::sync::Arc;

use async_trait::async_trait;

use super::{
    aws::{AwsFactory, AwsSettings},
    boundary::{CloudError, ProviderFactory, QuotaProvider},
    gcp::{GcpFactory, GcpSettings},
};
use crate::api::CloudAccount;

/// Real clouds, chosen per CloudAccount.
pub struct Clouds {
    aws: AwsFactory,
    gcp: GcpFactory,
}

impl Clouds {
    pub fn new(aws: AwsFactory, gcp: GcpFactory) -> Self {
        Self { aws, gcp }
    }

    /// AWS credentials and region come from the default chain (IRSA, EKS Pod Identity, env);
    /// GCP's from Application Default Credentials (Workload Identity).
    pub async fn from_env(aws: AwsSettings, gcp: GcpSettings) -> Self {
        Self {
            aws: AwsFactory::from_env(aws).await,
            gcp: GcpFactory::new(gcp),
        }
    }

    /// Why the operator's own AWS credentials cannot be used, if they cannot: for the warning at
    /// start and `/readyz`.
    pub fn aws_credentials_missing(&self) -> impl Future<Output = Option<String>> + Send + 'static {
        self.aws.credentials_missing()
    }
}

#[async_trait]
impl ProviderFactory for Clouds {
    async fn provider(&self, account: &CloudAccount) -> Result<Arc<dyn QuotaProvider>, CloudError> {
        if account.spec.aws.is_some() {
            self.aws.provider(account).await
        } else {
            self.gcp.provider(account).await
        }
    }
}
