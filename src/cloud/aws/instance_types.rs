//! EC2 DescribeInstanceTypes: vCPUs per instance type (`VCpuInfo.DefaultVCpus`), as the region
//! says, through the account's rate limiter. A type's vCPUs do not change, so they are kept for
//! the process's life. A type the region does not know is remembered with EC2's answer for the
//! cache TTL: every reconcile recomputes every peer's share, so without it one object naming a
//! bogus type would cost a call per peer per reconcile of EC2's budget, which Karpenter and the
//! autoscalers share; after the TTL it is asked again, since new types appear without notice.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use aws_sdk_ec2::{Client, types::InstanceType};

use super::{
    calls::{Calls, RegionClients},
    convert,
};
use crate::cloud::boundary::{CloudError, ErrorKind};
use crate::cloud::permissions::aws as ops;

/// DescribeInstanceTypes takes at most 100 types a call.
const PER_CALL: usize = 100;

pub struct InstanceTypes {
    clients: RegionClients<Client>,
    /// How long a type EC2 does not know is remembered.
    unknown_ttl: Duration,
    /// Per region; a lookup holds its region's lock, so concurrent reconciles asking about the
    /// same type wait for the one call in flight instead of each making their own.
    regions: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Known>>>>,
}

/// What EC2 answered about types in one region.
#[derive(Default)]
struct Known {
    vcpus: HashMap<String, u32>,
    /// Types EC2 refused or left out of its answer: its error, and when.
    unknown: HashMap<String, (Instant, CloudError)>,
}

impl Known {
    fn has(&self, t: &str) -> bool {
        self.vcpus.contains_key(t) || self.unknown.contains_key(t)
    }

    fn refuse(&mut self, t: String, why: CloudError) {
        self.unknown.insert(t, (Instant::now(), why));
    }

    /// Every type asked gets an answer: its vCPUs, or EC2's error (first unknown type first).
    fn answer(&self, region: &str, types: &[String]) -> Result<BTreeMap<String, u32>, CloudError> {
        let mut found = BTreeMap::new();
        for t in types {
            match (self.vcpus.get(t), self.unknown.get(t)) {
                (Some(v), _) => {
                    found.insert(t.clone(), *v);
                }
                (None, Some((_, why))) => return Err(why.clone()),
                (None, None) => return Err(not_returned(region, t)),
            }
        }
        Ok(found)
    }
}

fn not_returned(region: &str, t: &str) -> CloudError {
    CloudError::new(
        ErrorKind::NotFound,
        "InvalidInstanceType",
        format!("DescribeInstanceTypes in {region} returned no {t}"),
    )
}

/// Whether EC2's error is about the types asked (unknown, not offered, malformed), not the call.
fn about_the_types(e: &CloudError) -> bool {
    matches!(e.kind, ErrorKind::InvalidArgument | ErrorKind::NotFound)
}

/// The types EC2's InvalidInstanceType message lists: `... do not exist: [m5.bogus, x.y]`.
fn named_in(message: &str) -> Vec<&str> {
    let listed = message
        .rsplit_once('[')
        .and_then(|(_, rest)| rest.split_once(']'))
        .map_or("", |(list, _)| list);
    listed
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect()
}

impl InstanceTypes {
    pub fn new(unknown_ttl: Duration) -> Self {
        Self {
            clients: RegionClients::default(),
            unknown_ttl,
            regions: Mutex::default(),
        }
    }

    fn region(&self, region: &str) -> Arc<tokio::sync::Mutex<Known>> {
        let mut regions = self.regions.lock().expect("instance type regions");
        regions.entry(region.to_string()).or_default().clone()
    }

    pub async fn vcpus(
        &self,
        calls: &Calls,
        region: &str,
        types: &[String],
    ) -> Result<BTreeMap<String, u32>, CloudError> {
        let slot = self.region(region);
        let mut known = slot.lock().await;
        let ttl = self.unknown_ttl;
        known.unknown.retain(|_, (at, _)| at.elapsed() < ttl);
        let mut missing: Vec<String> = Vec::new();
        for t in types {
            if !known.has(t) && !missing.contains(t) {
                missing.push(t.clone());
            }
        }
        for chunk in missing.chunks(PER_CALL) {
            self.learn(calls, region, chunk.to_vec(), &mut known)
                .await?;
        }
        known.answer(region, types)
    }

    /// Asks EC2 about `types` and remembers every answer. EC2 refuses a whole batch for one
    /// type it does not know, naming it: those named are remembered as refused and the others
    /// asked again; a refusal naming none of them is settled one type at a time.
    async fn learn(
        &self,
        calls: &Calls,
        region: &str,
        types: Vec<String>,
        known: &mut Known,
    ) -> Result<(), CloudError> {
        let mut batches = vec![types];
        while let Some(batch) = batches.pop() {
            let e = match self.describe(calls, region, &batch).await {
                Ok(found) => {
                    for t in batch {
                        match found.get(&t) {
                            Some(v) => {
                                known.vcpus.insert(t, *v);
                            }
                            None => known.refuse(t.clone(), not_returned(region, &t)),
                        }
                    }
                    continue;
                }
                Err(e) if about_the_types(&e) => e,
                Err(e) => return Err(e),
            };
            let named = named_in(&e.message);
            let single = batch.len() == 1;
            let (refused, rest): (Vec<String>, Vec<String>) = batch
                .into_iter()
                .partition(|t| single || named.contains(&t.as_str()));
            if refused.is_empty() {
                batches.extend(rest.into_iter().map(|t| vec![t]));
            } else if !rest.is_empty() {
                batches.push(rest);
            }
            for t in refused {
                known.refuse(t, e.clone());
            }
        }
        Ok(())
    }

    /// One DescribeInstanceTypes, every page, each page through the account's limiter.
    async fn describe(
        &self,
        calls: &Calls,
        region: &str,
        types: &[String],
    ) -> Result<HashMap<String, u32>, CloudError> {
        let client = self.clients.get(calls, region, Client::new);
        let asked: Vec<InstanceType> = types
            .iter()
            .map(|t| InstanceType::from(t.as_str()))
            .collect();
        let mut out = HashMap::new();
        let mut token = None;
        loop {
            let request = client
                .describe_instance_types()
                .set_instance_types(Some(asked.clone()))
                .set_next_token(token);
            let page = calls
                .limited(region, ops::DESCRIBE_INSTANCE_TYPES, async {
                    request.send().await.map_err(convert::error)
                })
                .await?;
            for info in page.instance_types() {
                let (Some(t), Some(v)) = (
                    info.instance_type(),
                    info.v_cpu_info().and_then(|c| c.default_v_cpus()),
                ) else {
                    continue;
                };
                if let Ok(v) = u32::try_from(v) {
                    out.insert(t.as_str().to_string(), v);
                }
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::named_in;

    #[test]
    fn the_types_ec2_names_in_its_refusal() {
        let m = "The following supplied instance types do not exist: [m5.bogus, x9.huge]";
        assert_eq!(named_in(m), ["m5.bogus", "x9.huge"]);
        assert_eq!(named_in("no list here"), Vec::<&str>::new());
        assert_eq!(named_in("do not exist: []"), Vec::<&str>::new());
    }
}
