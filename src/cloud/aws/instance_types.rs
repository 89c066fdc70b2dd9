//! EC2 DescribeInstanceTypes: vCPUs per instance type (`VCpuInfo.DefaultVCpus`), as the region
//! says, cached per region for the process's life (a type's vCPUs do not change; a type the
//! region does not know is asked again, since new types appear without notice).

use std::{
    collections::{BTreeMap, HashMap},
    sync::Mutex,
};

use aws_sdk_ec2::{Client, types::InstanceType};

use super::{
    calls::{Calls, RegionClients},
    convert,
};
use crate::cloud::{CloudError, ErrorKind};

/// DescribeInstanceTypes takes at most 100 types a call.
const PER_CALL: usize = 100;

#[derive(Default)]
pub struct InstanceTypes {
    clients: RegionClients<Client>,
    /// (region, instance type) -> default vCPUs.
    vcpus: Mutex<HashMap<(String, String), u32>>,
}

impl InstanceTypes {
    /// The EC2 client for `region`, with the account's credentials, timeouts and endpoint.
    fn client(&self, calls: &Calls, region: &str) -> Client {
        self.clients.get(calls, region, Client::new)
    }

    pub async fn vcpus(
        &self,
        calls: &Calls,
        region: &str,
        types: &[String],
    ) -> Result<BTreeMap<String, u32>, CloudError> {
        let mut found = BTreeMap::new();
        let mut missing: Vec<String> = Vec::new();
        {
            let cache = self.vcpus.lock().expect("vcpu cache");
            for t in types {
                match cache.get(&(region.to_string(), t.clone())) {
                    Some(v) => {
                        found.insert(t.clone(), *v);
                    }
                    None if !missing.contains(t) => missing.push(t.clone()),
                    None => {}
                }
            }
        }
        for chunk in missing.chunks(PER_CALL) {
            for (t, v) in self.describe(calls, region, chunk).await? {
                self.vcpus
                    .lock()
                    .expect("vcpu cache")
                    .insert((region.to_string(), t.clone()), v);
                found.insert(t, v);
            }
        }
        if let Some(absent) = types.iter().find(|t| !found.contains_key(*t)) {
            return Err(CloudError::new(
                ErrorKind::NotFound,
                "InvalidInstanceType",
                format!("DescribeInstanceTypes in {region} returned no {absent}"),
            ));
        }
        Ok(found)
    }

    async fn describe(
        &self,
        calls: &Calls,
        region: &str,
        types: &[String],
    ) -> Result<Vec<(String, u32)>, CloudError> {
        let client = self.client(calls, region);
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = client
                .describe_instance_types()
                .set_instance_types(Some(
                    types
                        .iter()
                        .map(|t| InstanceType::from(t.as_str()))
                        .collect(),
                ))
                .set_next_token(token)
                .send()
                .await
                .map_err(convert::error);
            crate::metrics::observe("aws", "DescribeInstanceTypes", &page);
            let page = page?;
            for info in page.instance_types() {
                let (Some(t), Some(v)) = (
                    info.instance_type(),
                    info.v_cpu_info().and_then(|c| c.default_v_cpus()),
                ) else {
                    continue;
                };
                if let Ok(v) = u32::try_from(v) {
                    out.push((t.as_str().to_string(), v));
                }
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }
}
