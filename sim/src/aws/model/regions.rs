//! The regions EC2 DescribeRegions lists: AWS's own commercial regions, every region the
//! scenario names anywhere (a value, a seeded request, a rule, a fault, an instance type
//! withdrawn there), and its `regions` list. The same in every account; every region listed is
//! enabled (an account that opted in to all of them), so `AllRegions` adds nothing.

use std::collections::BTreeSet;

use crate::aws::scenario::AwsScenario;

/// (name, EC2's `optInStatus`): the regions enabled by default, then the opt-in ones.
const AWS: &[(&str, &str)] = &[
    ("ap-northeast-1", DEFAULT),
    ("ap-northeast-2", DEFAULT),
    ("ap-northeast-3", DEFAULT),
    ("ap-south-1", DEFAULT),
    ("ap-southeast-1", DEFAULT),
    ("ap-southeast-2", DEFAULT),
    ("ca-central-1", DEFAULT),
    ("eu-central-1", DEFAULT),
    ("eu-north-1", DEFAULT),
    ("eu-west-1", DEFAULT),
    ("eu-west-2", DEFAULT),
    ("eu-west-3", DEFAULT),
    ("sa-east-1", DEFAULT),
    ("us-east-1", DEFAULT),
    ("us-east-2", DEFAULT),
    ("us-west-1", DEFAULT),
    ("us-west-2", DEFAULT),
    ("af-south-1", OPTED_IN),
    ("ap-east-1", OPTED_IN),
    ("ap-south-2", OPTED_IN),
    ("ap-southeast-3", OPTED_IN),
    ("ap-southeast-4", OPTED_IN),
    ("ca-west-1", OPTED_IN),
    ("eu-central-2", OPTED_IN),
    ("eu-south-1", OPTED_IN),
    ("eu-south-2", OPTED_IN),
    ("il-central-1", OPTED_IN),
    ("me-central-1", OPTED_IN),
    ("me-south-1", OPTED_IN),
];

const DEFAULT: &str = "opt-in-not-required";
const OPTED_IN: &str = "opted-in";

/// One region as DescribeRegions describes it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RegionDef {
    pub name: String,
    pub opt_in_status: &'static str,
}

/// AWS's regions, then the scenario's own (enabled by default, as the scenario uses them).
pub fn for_scenario(s: &AwsScenario) -> Vec<RegionDef> {
    let mut out: Vec<RegionDef> = AWS
        .iter()
        .map(|(name, status)| RegionDef {
            name: name.to_string(),
            opt_in_status: status,
        })
        .collect();
    for name in named(s) {
        if !out.iter().any(|r| r.name == name) {
            out.push(RegionDef {
                name,
                opt_in_status: DEFAULT,
            });
        }
    }
    out.sort();
    out
}

/// Every region the scenario names.
fn named(s: &AwsScenario) -> BTreeSet<String> {
    let optional = (s.quotas.iter().map(|q| &q.region))
        .chain(s.schedule.rules.iter().map(|r| &r.region))
        .chain(s.throttles.iter().map(|t| &t.region))
        .chain(s.faults.iter().map(|f| &f.region))
        .chain([&s.global_quota_region])
        .flatten();
    (s.regions.iter())
        .chain(optional)
        .chain(s.open_requests.iter().map(|r| &r.region))
        .chain(s.ec2.not_offered.keys())
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(yaml: &str) -> Vec<String> {
        let s: AwsScenario = serde_yaml::from_str(yaml).unwrap();
        for_scenario(&s).into_iter().map(|r| r.name).collect()
    }

    #[test]
    fn aws_regions_and_every_one_the_scenario_names() {
        let all = names(
            "regions: [xx-extra-1]\n\
             quotas: [{serviceCode: ec2, quotaCode: L-34B43A08, region: eu-test-1, value: 5}]\n\
             openRequests: [{region: eu-seed-1, serviceCode: ec2, quotaCode: L-34B43A08, \
             desiredValue: 9}]\n\
             ec2: {notOffered: {eu-gone-1: [p5.48xlarge]}}\n",
        );
        for r in [
            "us-east-1",
            "eu-west-1",
            "af-south-1",
            "xx-extra-1",
            "eu-test-1",
            "eu-seed-1",
            "eu-gone-1",
        ] {
            assert!(all.contains(&r.to_string()), "{r}: {all:?}");
        }
        assert!(!all.contains(&"us-east-9".to_string()));
        let mut sorted = all.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(all, sorted, "sorted, each once");
    }
}
