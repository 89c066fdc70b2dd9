//! The provider factory the operator runs with: picks the cloud from the CloudAccount.

use std::sync::Arc;

use async_trait::async_trait;

use super::{CloudError, ErrorKind, ProviderFactory, QuotaProvider};
use crate::api::CloudAccount;

/// Real clouds, chosen per CloudAccount.
#[derive(Default)]
pub struct Clouds {}

impl Clouds {
    pub async fn from_env() -> Self {
        Self {}
    }
}

#[async_trait]
impl ProviderFactory for Clouds {
    async fn provider(&self, account: &CloudAccount) -> Result<Arc<dyn QuotaProvider>, CloudError> {
        let cloud = if account.spec.aws.is_some() {
            "aws"
        } else {
            "gcp"
        };
        Err(CloudError::new(
            ErrorKind::Unavailable,
            "ProviderUnavailable",
            format!("no {cloud} provider is built in yet"),
        ))
    }
}
