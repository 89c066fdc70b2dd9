//! One provider per CloudAccount, rebuilt when the account's spec changes (a new role, endpoint
//! or project), so credentials and caches follow the account.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use kube::ResourceExt;

use super::CloudError;
use crate::api::CloudAccount;

type Built<P> = (Option<i64>, Arc<P>);

pub struct PerAccount<P> {
    providers: Mutex<HashMap<String, Built<P>>>,
}

impl<P> Default for PerAccount<P> {
    fn default() -> Self {
        Self {
            providers: Mutex::default(),
        }
    }
}

impl<P> PerAccount<P> {
    /// The account's provider, built with `build` when absent or built for an older generation.
    pub async fn get_or_build<Fut>(
        &self,
        account: &CloudAccount,
        build: impl FnOnce() -> Fut,
    ) -> Result<Arc<P>, CloudError>
    where
        Fut: Future<Output = Result<P, CloudError>>,
    {
        let name = account.name_any();
        let generation = account.metadata.generation;
        if let Some((g, p)) = self.providers.lock().expect("provider cache").get(&name)
            && *g == generation
        {
            return Ok(p.clone());
        }
        let provider = Arc::new(build().await?);
        let mut providers = self.providers.lock().expect("provider cache");
        providers.insert(name, (generation, provider.clone()));
        Ok(provider)
    }
}
