//! Compute Engine machine types: `guestCpus` per machine type, as the zones of a region list
//! it (machine types are zonal; a type is in a region when one of its zones offers it), cached
//! per region for the process's life.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Mutex,
};

use google_cloud_compute_v1::client::MachineTypes as Client;

use super::convert;
use crate::cloud::{CloudError, ErrorKind};

pub struct MachineTypes {
    pub client: Client,
    pub project: String,
    /// (region, machine type) -> guest CPUs.
    cpus: Mutex<HashMap<(String, String), u32>>,
}

impl MachineTypes {
    pub fn new(client: Client, project: String) -> Self {
        Self {
            client,
            project,
            cpus: Mutex::default(),
        }
    }

    pub async fn vcpus(
        &self,
        region: &str,
        types: &[String],
    ) -> Result<BTreeMap<String, u32>, CloudError> {
        let mut found = BTreeMap::new();
        for t in types {
            if found.contains_key(t) {
                continue;
            }
            let key = (region.to_string(), t.clone());
            let cached = self.cpus.lock().expect("cpu cache").get(&key).copied();
            let cpus = match cached {
                Some(c) => c,
                None => {
                    let c = self.lookup(region, t).await?;
                    self.cpus.lock().expect("cpu cache").insert(key, c);
                    c
                }
            };
            found.insert(t.clone(), cpus);
        }
        Ok(found)
    }

    /// One aggregated listing filtered by name: every zone that offers the type, in one call.
    async fn lookup(&self, region: &str, machine_type: &str) -> Result<u32, CloudError> {
        let mut token = None;
        loop {
            let page = self
                .client
                .aggregated_list()
                .set_project(&self.project)
                .set_filter(format!("name = \"{machine_type}\""))
                .set_or_clear_page_token(token)
                .send()
                .await
                .map_err(convert::error);
            crate::metrics::observe("gcp", "MachineTypes.AggregatedList", &page);
            let page = page?;
            let in_region = page
                .items
                .iter()
                .filter(|(scope, _)| zone_in(scope, region))
                .flat_map(|(_, list)| &list.machine_types)
                .find(|m| m.name.as_deref() == Some(machine_type))
                .and_then(|m| m.guest_cpus)
                .and_then(|c| u32::try_from(c).ok());
            if let Some(cpus) = in_region {
                return Ok(cpus);
            }
            token = page.next_page_token.filter(|t| !t.is_empty());
            if token.is_none() {
                return Err(CloudError::new(
                    ErrorKind::NotFound,
                    "MACHINE_TYPE_NOT_FOUND",
                    format!("no zone of {region} offers machine type {machine_type}"),
                ));
            }
        }
    }
}

/// `zones/us-central1-a` is in `us-central1`.
fn zone_in(scope: &str, region: &str) -> bool {
    scope
        .strip_prefix("zones/")
        .and_then(|zone| zone.rsplit_once('-'))
        .is_some_and(|(r, _)| r == region)
}

#[cfg(test)]
mod tests {
    use super::zone_in;

    #[test]
    fn zones_belong_to_their_region_only() {
        assert!(zone_in("zones/us-central1-a", "us-central1"));
        assert!(zone_in("zones/us-east1-b", "us-east1"));
        assert!(!zone_in("zones/us-east1-b", "us-east4"));
        assert!(!zone_in("regions/us-east1", "us-east1"));
        assert!(!zone_in("zones/europe-west1-b", "europe-west"));
    }
}
