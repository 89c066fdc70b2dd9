//! Writes: every change one reconcile makes to its object (the status, and the filing intents
//! recorded before the cloud is called), each conditional on the resourceVersion the reconcile
//! started from or its own previous write left.
//!
//! The reconcile decides from the controller's cache, and a cache can be behind the API server
//! (a watch that is reconnecting after an API server restart, a requeue that fires before the
//! watch delivered the reconcile's own last write). A decision made from a copy that lacks the
//! request this object just filed or adopted would file it again. With the condition, the
//! intent that must precede any filing fails with 409 Conflict instead, nothing is filed, and
//! the object is reconciled again from the newer copy; a stale status is never written over a
//! newer one either.

use kube::{
    Api, ResourceExt,
    api::{Patch, PatchParams},
};
use serde_json::{Value, json};

use crate::api::{FilingIntent, QuotaRequirement, QuotaRequirementStatus};

pub const FIELD_MANAGER: &str = "quota-operator";

/// The writes of one reconcile to one object. Regions reconcile at once; their writes take
/// turns, each carrying the version the one before it produced.
pub struct Writes {
    api: Api<QuotaRequirement>,
    name: String,
    version: tokio::sync::Mutex<Option<String>>,
}

impl Writes {
    /// Writes to `obj` as the cache holds it.
    pub fn new(client: kube::Client, obj: &QuotaRequirement) -> Self {
        Self {
            api: Api::namespaced(client, &obj.namespace().unwrap_or_default()),
            name: obj.name_any(),
            version: tokio::sync::Mutex::new(obj.resource_version()),
        }
    }

    /// Records, before the cloud is called, that this object is about to file for `scope`.
    pub async fn record_intent(&self, scope: &str, intent: &FilingIntent) -> kube::Result<()> {
        let patch = json!({"status": {"filings": {scope: intent}}});
        self.merge(patch).await
    }

    /// Removes the intents whose requests are now recorded (or were never made).
    pub async fn clear_intents(&self, scopes: &[String]) -> kube::Result<()> {
        if scopes.is_empty() {
            return Ok(());
        }
        let nulls: serde_json::Map<String, Value> =
            scopes.iter().map(|s| (s.clone(), Value::Null)).collect();
        self.merge(json!({"status": {"filings": nulls}})).await
    }

    /// Writes `status` with server-side apply unless it equals what `obj` already has. Returns
    /// whether a patch was sent. `filings` are left alone: they are written (and cleared) one key
    /// at a time by [`record_intent`](Self::record_intent) and
    /// [`clear_intents`](Self::clear_intents), so that this apply never owns them.
    pub async fn status(
        &self,
        obj: &QuotaRequirement,
        status: &QuotaRequirementStatus,
    ) -> kube::Result<bool> {
        let mut status = status.clone();
        status.filings.clear();
        let mut old = obj.status.clone();
        if let Some(old) = &mut old {
            old.filings.clear();
        }
        if old.as_ref() == Some(&status) {
            return Ok(false);
        }
        let patch = json!({
            "apiVersion": "quota-operator.dev/v1alpha1",
            "kind": "QuotaRequirement",
            "status": status,
        });
        let params = PatchParams::apply(FIELD_MANAGER).force();
        self.send(patch, &params, true).await?;
        Ok(true)
    }

    async fn merge(&self, patch: Value) -> kube::Result<()> {
        self.send(patch, &PatchParams::default(), false).await
    }

    async fn send(&self, mut patch: Value, params: &PatchParams, apply: bool) -> kube::Result<()> {
        let mut version = self.version.lock().await;
        if let Some(v) = version.as_ref() {
            patch["metadata"] = json!({"resourceVersion": v});
        }
        let written = if apply {
            patch["metadata"]["name"] = json!(self.name);
            self.api
                .patch_status(&self.name, params, &Patch::Apply(&patch))
                .await?
        } else {
            self.api
                .patch_status(&self.name, params, &Patch::Merge(&patch))
                .await?
        };
        *version = written.resource_version();
        Ok(())
    }
}

/// Whether a write failed because the object changed since the version it was made against.
pub fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(status) if status.is_conflict())
}
