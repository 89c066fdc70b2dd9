//! Compute Engine machine types: `guestCpus` per machine type, as the zones of a region list
//! it (machine types are zonal; a type is in a region when one of its zones offers it), through
//! a rate limiter. A type's CPUs are kept for the process's life; a type no zone of the region
//! offers is remembered with Compute's answer for the cache TTL, since every reconcile
//! recomputes every peer's share and one object naming a bogus type would otherwise cost a call
//! per peer per reconcile of the project's Compute read quota (which GKE and autoscalers share).

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use google_cloud_compute_v1::client::MachineTypes as Client;

use super::convert;
use crate::cloud::{
    boundary::{CloudError, ErrorKind},
    limiter::Limiter,
};

const LISTING: &str = "MachineTypes.AggregatedList";

/// The operator's own bound on Compute reads per project, far below Compute's default read
/// quota: the operator needs a type's CPUs only once.
fn compute_rate(_operation: &str) -> (f64, f64) {
    (5.0, 10.0)
}

pub struct MachineTypes {
    pub client: Client,
    pub project: String,
    /// How long a type no zone of a region offers is remembered.
    unknown_ttl: Duration,
    /// Keyed by (project, `global`, method): the aggregated listing is one call for the project.
    limiter: Limiter,
    /// Per region; a lookup holds its region's lock, so concurrent reconciles asking about the
    /// same type wait for the one call in flight instead of each making their own.
    regions: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Known>>>>,
}

/// What Compute answered about machine types in one region.
#[derive(Default)]
struct Known {
    cpus: HashMap<String, u32>,
    /// Types Compute does not offer in the region: its answer, and when.
    unknown: HashMap<String, (Instant, CloudError)>,
}

impl MachineTypes {
    pub fn new(client: Client, project: String, unknown_ttl: Duration) -> Self {
        Self {
            client,
            project,
            unknown_ttl,
            limiter: Limiter::new(compute_rate, 1.0),
            regions: Mutex::default(),
        }
    }

    fn region(&self, region: &str) -> Arc<tokio::sync::Mutex<Known>> {
        let mut regions = self.regions.lock().expect("machine type regions");
        regions.entry(region.to_string()).or_default().clone()
    }

    pub async fn vcpus(
        &self,
        region: &str,
        types: &[String],
    ) -> Result<BTreeMap<String, u32>, CloudError> {
        let slot = self.region(region);
        let mut known = slot.lock().await;
        let ttl = self.unknown_ttl;
        known.unknown.retain(|_, (at, _)| at.elapsed() < ttl);
        let mut found = BTreeMap::new();
        for t in types {
            if let Some((_, why)) = known.unknown.get(t) {
                return Err(why.clone());
            }
            let cpus = match known.cpus.get(t) {
                Some(c) => *c,
                None => match self.lookup(region, t).await {
                    Ok(c) => *known.cpus.entry(t.clone()).or_insert(c),
                    Err(e) if e.kind == ErrorKind::NotFound => {
                        known.unknown.insert(t.clone(), (Instant::now(), e.clone()));
                        return Err(e);
                    }
                    Err(e) => return Err(e),
                },
            };
            found.insert(t.clone(), cpus);
        }
        Ok(found)
    }

    /// One aggregated listing filtered by name: every zone that offers the type, in one call.
    async fn lookup(&self, region: &str, machine_type: &str) -> Result<u32, CloudError> {
        let mut token = None;
        loop {
            let request = self
                .client
                .aggregated_list()
                .set_project(&self.project)
                .set_filter(format!("name = \"{machine_type}\""))
                .set_or_clear_page_token(token);
            let page = self
                .limiter
                .run(("gcp", &self.project, "global"), LISTING, async {
                    request.send().await.map_err(convert::error)
                })
                .await?;
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
