//! A spec naming a quota id (or service) the project does not have: GetQuotaInfo's NOT_FOUND
//! becomes a terminal refusal (`QuotaNotFound`, `ServiceNotFound`) with the nearest quota ids
//! the service lists (ListQuotaInfos, every page, kept per service for the cache TTL), so the
//! object stalls with the fix in its message instead of retrying forever.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use google_cloud_api_cloudquotas_v1::client::CloudQuotas;

use super::convert;
use crate::{
    api::reasons,
    cloud::{
        boundary::{CloudError, ErrorKind},
        regions::nearest::nearest,
    },
};

/// A service's quota ids, or the project's answer that it has no such service.
type Listed = Result<Vec<String>, CloudError>;

/// The quota ids of each service asked about, for the hints.
pub struct QuotaIds {
    client: CloudQuotas,
    project: String,
    ttl: Duration,
    listed: Mutex<HashMap<String, (Instant, Listed)>>,
}

impl QuotaIds {
    pub fn new(client: CloudQuotas, project: String, ttl: Duration) -> Self {
        Self {
            client,
            project,
            ttl,
            listed: Mutex::default(),
        }
    }

    /// What GetQuotaInfo's NOT_FOUND (`answer`) for `quota_id` comes to.
    pub async fn refusal(&self, service: &str, quota_id: &str, answer: &CloudError) -> CloudError {
        match self.ids(service).await {
            Err(e) if e.kind == ErrorKind::NotFound => CloudError::new(
                ErrorKind::SpecMismatch,
                reasons::SERVICE_NOT_FOUND,
                format!(
                    "project {} has no service {service:?} (spec.gcp.service); GCP answered {e}",
                    self.project
                ),
            ),
            listed => quota_not_found(service, quota_id, &listed.unwrap_or_default(), answer),
        }
    }

    async fn ids(&self, service: &str) -> Listed {
        if let Some((at, ids)) = self.listed.lock().expect("quota ids").get(service)
            && at.elapsed() < self.ttl
        {
            return ids.clone();
        }
        let ids = self.list(service).await;
        let keep = ids
            .as_ref()
            .map_or_else(|e| e.kind == ErrorKind::NotFound, |_| true);
        if keep {
            let mut listed = self.listed.lock().expect("quota ids");
            listed.retain(|_, (at, _)| at.elapsed() < self.ttl);
            listed.insert(service.to_string(), (Instant::now(), ids.clone()));
        }
        ids
    }

    async fn list(&self, service: &str) -> Listed {
        let parent = format!(
            "projects/{}/locations/global/services/{service}",
            self.project
        );
        let mut ids = Vec::new();
        let mut token = String::new();
        loop {
            let page = (self.client.list_quota_infos())
                .set_parent(&parent)
                .set_page_token(&token)
                .send()
                .await
                .map_err(convert::error);
            crate::metrics::cloud_result("gcp", "ListQuotaInfos", &page);
            let page = page?;
            ids.extend(page.quota_infos.into_iter().map(|i| i.quota_id));
            if page.next_page_token.is_empty() {
                return Ok(ids);
            }
            token = page.next_page_token;
        }
    }
}

/// The refusal itself. Pure, so it is unit-tested.
pub fn quota_not_found(
    service: &str,
    quota_id: &str,
    ids: &[String],
    answer: &CloudError,
) -> CloudError {
    let near = nearest(quota_id, ids.iter().map(String::as_str));
    let hint = match near.is_empty() {
        true => String::new(),
        false => format!(" (nearest: {})", near.join(", ")),
    };
    CloudError::new(
        ErrorKind::SpecMismatch,
        reasons::QUOTA_NOT_FOUND,
        format!(
            "service {service} has no quota {quota_id} (spec.gcp.quotaId){hint}; GCP answered \
             {answer}"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_quota_id_is_terminal_with_the_nearest_ids() {
        let ids: Vec<String> = ["CPUS-per-project-region", "GPUS-ALL-REGIONS-per-project"]
            .map(String::from)
            .into();
        let answer = CloudError::new(ErrorKind::NotFound, "NOT_FOUND", "QuotaInfo ... not found.");
        let e = quota_not_found(
            "compute.googleapis.com",
            "CPUS-per-projet-region",
            &ids,
            &answer,
        );
        assert_eq!(
            e.to_string(),
            "QuotaNotFound: service compute.googleapis.com has no quota CPUS-per-projet-region \
             (spec.gcp.quotaId) (nearest: CPUS-per-project-region); GCP answered NOT_FOUND: \
             QuotaInfo ... not found."
        );
        assert_eq!(e.kind, ErrorKind::SpecMismatch);
        let far = quota_not_found("compute.googleapis.com", "L-34B43A09", &ids, &answer);
        assert!(!far.message.contains("nearest"), "{far}");
    }
}
