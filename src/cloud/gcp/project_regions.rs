//! Compute Engine `regions.list`: the regions the project can use, every page, kept by
//! [`KnownRegions`]. A quota is read only in a region on that list, or for `global` (a quota
//! without a region dimension): QuotaInfo answers a dimension-less default for any name, so a
//! made-up region would otherwise read as one, get a value and metric series, and be written.

use google_cloud_compute_v1::client::Regions as Client;

use super::convert;
use crate::cloud::{boundary::CloudError, regions::KnownRegions};

pub struct ProjectRegions {
    client: Client,
    project: String,
    known: KnownRegions,
}

impl ProjectRegions {
    pub fn new(client: Client, project: String, retry: std::time::Duration) -> Self {
        Self {
            known: KnownRegions::new("GCP project", "UNKNOWN_REGION", project.clone(), retry),
            client,
            project,
        }
    }

    /// `region` is `global` or one the project has (or its regions cannot be listed now).
    pub async fn check(&self, region: &str) -> Result<(), CloudError> {
        if region == "global" {
            return Ok(());
        }
        self.known.check(region, || self.list()).await
    }

    /// Every page of `regions.list`, names only.
    async fn list(&self) -> Result<Vec<String>, CloudError> {
        let mut names = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .list()
                .set_project(&self.project)
                .set_or_clear_page_token(token)
                .send()
                .await
                .map_err(convert::error);
            crate::metrics::cloud_result("gcp", "Regions.List", &page);
            let page = page?;
            names.extend(page.items.into_iter().filter_map(|r| r.name));
            token = page.next_page_token.filter(|t| !t.is_empty());
            if token.is_none() {
                return Ok(names);
            }
        }
    }
}
