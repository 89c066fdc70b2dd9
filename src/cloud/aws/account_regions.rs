//! EC2 DescribeRegions: the regions the account has enabled (those that need no opt-in, and
//! those it opted in to), asked in the operator's home region through the account's rate
//! limiter and kept by [`KnownRegions`]. A quota is read only in a region on that list: Service
//! Quotas' regional endpoints are reached by name, and a name AWS does not serve would only
//! fail later, or, against an endpoint that answers for any name, be filed.

use aws_sdk_ec2::Client;

use super::{
    calls::{Calls, RegionClients},
    convert,
};
use crate::cloud::permissions::aws as ops;
use crate::cloud::{boundary::CloudError, regions::KnownRegions};

pub struct AccountRegions {
    known: KnownRegions,
    clients: RegionClients<Client>,
}

impl AccountRegions {
    pub fn new(account: &str, retry: std::time::Duration) -> Self {
        Self {
            known: KnownRegions::new("AWS account", "UnknownRegion", account.to_string(), retry),
            clients: RegionClients::default(),
        }
    }

    /// `region` is one the account has (or its regions cannot be listed now).
    pub async fn check(&self, calls: &Calls, home: &str, region: &str) -> Result<(), CloudError> {
        self.known
            .check(region, || self.describe(calls, home))
            .await
    }

    /// One DescribeRegions (EC2 does not page it).
    async fn describe(&self, calls: &Calls, home: &str) -> Result<Vec<String>, CloudError> {
        let client = self.clients.get(calls, home, Client::new);
        let out = calls
            .limited(home, ops::DESCRIBE_REGIONS, async {
                client
                    .describe_regions()
                    .send()
                    .await
                    .map_err(convert::error)
            })
            .await?;
        Ok(out
            .regions()
            .iter()
            .filter_map(|r| r.region_name().map(str::to_string))
            .collect())
    }
}
