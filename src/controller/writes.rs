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

use std::collections::BTreeMap;

use kube::{
    Api, ResourceExt,
    api::{ObjectMeta, Patch, PatchParams, PostParams},
};
use serde_json::{Value, json};

use crate::api::{CaseReply, FilingIntent, QuotaRequirement, QuotaRequirementStatus};

pub const FIELD_MANAGER: &str = "quota-operator";

/// The writes of one reconcile to one object. Regions reconcile at once; their writes take
/// turns, each carrying the version the one before it produced.
pub struct Writes {
    api: Api<QuotaRequirement>,
    meta: ObjectMeta,
    server: tokio::sync::Mutex<Server>,
}

/// What the API server holds of the object after this reconcile's last write: the version, and
/// the filing intents and case replies (which the status written whole must carry as they are).
struct Server {
    version: Option<String>,
    filings: BTreeMap<String, FilingIntent>,
    case_replies: BTreeMap<String, CaseReply>,
}

impl Writes {
    /// Writes to `obj` as the cache holds it.
    pub fn new(client: kube::Client, obj: &QuotaRequirement) -> Self {
        Self {
            api: Api::namespaced(client, &obj.namespace().unwrap_or_default()),
            meta: ObjectMeta {
                name: obj.metadata.name.clone(),
                namespace: obj.metadata.namespace.clone(),
                uid: obj.metadata.uid.clone(),
                ..ObjectMeta::default()
            },
            server: tokio::sync::Mutex::new(Server {
                version: obj.resource_version(),
                filings: obj
                    .status
                    .as_ref()
                    .map(|s| s.filings.clone())
                    .unwrap_or_default(),
                case_replies: obj
                    .status
                    .as_ref()
                    .map(|s| s.case_replies.clone())
                    .unwrap_or_default(),
            }),
        }
    }

    /// Records, before the cloud is called, that this object is about to file for `scope`.
    pub async fn record_intent(&self, scope: &str, intent: &FilingIntent) -> kube::Result<()> {
        let patch = json!({"status": {"filings": {scope: intent}}});
        let mut server = self.server.lock().await;
        self.merge(&mut server, patch).await?;
        server.filings.insert(scope.to_owned(), intent.clone());
        Ok(())
    }

    /// Records, before AWS is called (and again once it answered), the reply to support case
    /// `case`; the record is never removed, so the reply is never sent twice.
    pub async fn record_case_reply(&self, case: &str, reply: &CaseReply) -> kube::Result<()> {
        let patch = json!({"status": {"caseReplies": {case: reply}}});
        let mut server = self.server.lock().await;
        self.merge(&mut server, patch).await?;
        server.case_replies.insert(case.to_owned(), reply.clone());
        Ok(())
    }

    /// The reply to support case `case` this object recorded, as the server holds it.
    pub async fn case_reply(&self, case: &str) -> Option<CaseReply> {
        self.server.lock().await.case_replies.get(case).cloned()
    }

    /// Removes the intents whose requests are now recorded (or were never made).
    pub async fn clear_intents(&self, scopes: &[String]) -> kube::Result<()> {
        if scopes.is_empty() {
            return Ok(());
        }
        let nulls: serde_json::Map<String, Value> =
            scopes.iter().map(|s| (s.clone(), Value::Null)).collect();
        let mut server = self.server.lock().await;
        self.merge(&mut server, json!({"status": {"filings": nulls}}))
            .await?;
        server.filings.retain(|scope, _| !scopes.contains(scope));
        Ok(())
    }

    /// Writes `status` whole (PUT of the status subresource) unless it says what `obj`'s status
    /// already does. Returns whether it was written. `filings` are not this write's to change:
    /// they go as the server holds them, and are written (and cleared) one key at a time by
    /// [`record_intent`](Self::record_intent) and [`clear_intents`](Self::clear_intents); so do
    /// the case replies ([`record_case_reply`](Self::record_case_reply)).
    ///
    /// Neither server-side apply nor a merge patch: at 10,000 objects the API server is the
    /// bottleneck, and apply made it parse the whole status as YAML and merge field ownership,
    /// while a merge patch made it encode the stored object and merge the patch into it before
    /// decoding the result. A PUT is decoded once. It carries the spec as the cache has it and of
    /// the metadata only what names the object and the version (a status PUT ignores all but the
    /// status), so a stale status never overwrites a newer one.
    pub async fn status(
        &self,
        obj: &QuotaRequirement,
        status: &QuotaRequirementStatus,
    ) -> kube::Result<bool> {
        // Compared as JSON, as the server stores it: times read back have lost what the wire
        // format does not carry.
        let without_filings = |s: &QuotaRequirementStatus| {
            serde_json::to_value(QuotaRequirementStatus {
                filings: BTreeMap::new(),
                case_replies: BTreeMap::new(),
                ..s.clone()
            })
            .unwrap_or(Value::Null)
        };
        if obj
            .status
            .as_ref()
            .is_some_and(|old| without_filings(old) == without_filings(status))
        {
            return Ok(false);
        }
        let mut server = self.server.lock().await;
        let body = QuotaRequirement {
            metadata: ObjectMeta {
                resource_version: server.version.clone(),
                ..self.meta.clone()
            },
            spec: obj.spec.clone(),
            status: Some(QuotaRequirementStatus {
                filings: server.filings.clone(),
                case_replies: server.case_replies.clone(),
                ..status.clone()
            }),
        };
        let params = PostParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..PostParams::default()
        };
        let name = self.meta.name.as_deref().unwrap_or_default();
        let written = self.api.replace_status(name, &params, &body).await?;
        server.version = written.resource_version();
        Ok(true)
    }

    async fn merge(&self, server: &mut Server, mut patch: Value) -> kube::Result<()> {
        if let Some(v) = server.version.as_ref() {
            patch["metadata"] = json!({"resourceVersion": v});
        }
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..PatchParams::default()
        };
        let name = self.meta.name.as_deref().unwrap_or_default();
        let written = self
            .api
            .patch_status(name, &params, &Patch::Merge(&patch))
            .await?;
        server.version = written.resource_version();
        Ok(())
    }
}

/// Whether a write failed because the object changed since the version it was made against.
pub fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(status) if status.is_conflict())
}
