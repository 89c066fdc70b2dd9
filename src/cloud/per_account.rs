//! One provider per CloudAccount, rebuilt when the account changes (a new role, endpoint or
//! project: a new generation) or is deleted and created again under the same name (a new uid),
//! so credentials, verification and caches follow the account.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use kube::ResourceExt;

use super::boundary::{CloudError, ErrorKind};
use crate::api::CloudAccount;

/// Which version of an account a provider was built for: (uid, generation).
type Stamp = (Option<String>, Option<i64>);

type Built<P> = Option<(Stamp, Result<Arc<P>, CloudError>)>;

pub struct PerAccount<P> {
    /// By account name; each slot's async lock makes concurrent reconciles of one account wait
    /// for a single build (one STS round) instead of each building their own.
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Built<P>>>>>,
}

impl<P> Default for PerAccount<P> {
    fn default() -> Self {
        Self {
            slots: Mutex::default(),
        }
    }
}

impl<P> PerAccount<P> {
    /// The account's provider, built with `build` when absent or built for another uid or
    /// generation. A failure the account itself causes (credentials reaching another account,
    /// an endpoint not allowed) is kept like a provider until the account changes; any other
    /// failure (STS unavailable, a role being fixed) is tried again next time.
    pub async fn get_or_build<Fut>(
        &self,
        account: &CloudAccount,
        build: impl FnOnce() -> Fut,
    ) -> Result<Arc<P>, CloudError>
    where
        Fut: Future<Output = Result<P, CloudError>>,
    {
        let stamp = (account.uid(), account.metadata.generation);
        let slot = {
            let mut slots = self.slots.lock().expect("provider cache");
            slots.entry(account.name_any()).or_default().clone()
        };
        let mut slot = slot.lock().await;
        if let Some((built_for, result)) = slot.as_ref()
            && *built_for == stamp
        {
            return result.clone();
        }
        let result = build().await.map(Arc::new);
        let keep = match &result {
            Ok(_) => true,
            Err(e) => matches!(
                e.kind,
                ErrorKind::AccountMismatch | ErrorKind::InvalidArgument
            ),
        };
        *slot = keep.then(|| (stamp, result.clone()));
        result
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn account(uid: &str, generation: i64) -> CloudAccount {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "prod", "uid": uid, "generation": generation},
            "spec": {"aws": {"accountId": "111111111111"}}
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn rebuilt_for_a_new_generation_or_a_recreated_account() {
        let cache = PerAccount::<u32>::default();
        let builds = AtomicU32::new(0);
        let get = |a: CloudAccount| {
            let (cache, builds) = (&cache, &builds);
            async move {
                let n = cache
                    .get_or_build(&a, || async {
                        Ok(builds.fetch_add(1, Ordering::SeqCst) + 1)
                    })
                    .await
                    .unwrap();
                *n
            }
        };
        assert_eq!(get(account("uid-1", 1)).await, 1);
        assert_eq!(get(account("uid-1", 1)).await, 1, "cached");
        assert_eq!(get(account("uid-1", 2)).await, 2, "new generation");
        assert_eq!(get(account("uid-2", 2)).await, 3, "deleted and recreated");
    }

    #[tokio::test]
    async fn only_failures_the_account_causes_are_kept() {
        let cache = PerAccount::<u32>::default();
        let builds = AtomicU32::new(0);
        let fail = |kind| {
            let (cache, builds) = (&cache, &builds);
            async move {
                cache
                    .get_or_build(&account("uid-1", 1), || async {
                        builds.fetch_add(1, Ordering::SeqCst);
                        Err::<u32, _>(CloudError::new(kind, "X", "failed"))
                    })
                    .await
                    .unwrap_err()
            }
        };
        fail(ErrorKind::Unavailable).await;
        fail(ErrorKind::Unavailable).await;
        assert_eq!(
            builds.load(Ordering::SeqCst),
            2,
            "a passing failure is retried"
        );
        fail(ErrorKind::AccountMismatch).await;
        fail(ErrorKind::AccountMismatch).await;
        assert_eq!(builds.load(Ordering::SeqCst), 3, "a mismatch is kept");
    }
}
