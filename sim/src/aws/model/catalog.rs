//! The quotas the simulated account knows: a built-in table of the quotas users hit (see
//! reference/aws-service-quotas.md) plus whatever the scenario defines or overrides.

use std::collections::BTreeMap;

use crate::aws::{scenario::AwsScenario, usage_settings::UsageMetric};

/// One quota as Service Quotas describes it, independent of account and region.
#[derive(Clone, Debug, PartialEq)]
pub struct QuotaDef {
    pub service_code: String,
    pub service_name: String,
    pub quota_code: String,
    pub quota_name: String,
    pub default_value: f64,
    pub unit: String,
    pub adjustable: bool,
    pub global: bool,
    /// Where AWS publishes the quota's usage in CloudWatch (ServiceQuota.UsageMetric).
    pub usage_metric: Option<UsageMetric>,
    /// For a quota applied to each resource rather than to the account
    /// (QuotaAppliedAtLevel RESOURCE): the resource type its QuotaContext names.
    pub resource_type: Option<String>,
}

/// The metric of a quota that publishes usage but names no metric of its own (scenario
/// quotas): the quota code stands in for AWS's resource name.
fn standing_in_for(def: &QuotaDef) -> UsageMetric {
    UsageMetric::resource_count(&def.service_code, &def.quota_code, "None")
}

/// The Service dimension AWS/Usage gives a service's metrics.
fn usage_service(service_code: &str) -> &'static str {
    match service_code {
        "fargate" => "Fargate",
        _ => "EC2",
    }
}

const SERVICES: &[(&str, &str)] = &[
    ("AWSCloudMap", "AWS Cloud Map"),
    ("ebs", "Amazon Elastic Block Store (Amazon EBS)"),
    ("ec2", "Amazon Elastic Compute Cloud (Amazon EC2)"),
    ("ecs", "Amazon Elastic Container Service (Amazon ECS)"),
    ("eks", "Amazon Elastic Kubernetes Service (Amazon EKS)"),
    ("elasticloadbalancing", "Elastic Load Balancing (ELB)"),
    ("es", "Amazon OpenSearch Service"),
    ("fargate", "AWS Fargate"),
    ("iam", "AWS Identity and Access Management (IAM)"),
    ("lambda", "AWS Lambda"),
    ("vpc", "Amazon Virtual Private Cloud (Amazon VPC)"),
];

/// The code AWS gives Cloud Map's "Instances per service" was not found in a primary source;
/// this stand-in is deliberately unlike a real `L-` code so nobody copies it into a spec.
pub const CLOUD_MAP_INSTANCES_PER_SERVICE: &str = "L-SIM-CLOUDMAP-INSTANCES-PER-SERVICE";

/// AWS's own example of a resource-level quota is OpenSearch's "Instances per domain"
/// (QuotaContextInfo in the API reference); its `L-` code and default were not confirmed in a
/// primary source, so this stand-in code is deliberately unlike a real one.
pub const OPENSEARCH_INSTANCES_PER_DOMAIN: &str = "L-SIM-ES-INSTANCES-PER-DOMAIN";

/// Resource-level quotas of the built-in table: (service, code, resource type).
const RESOURCE_LEVEL: &[(&str, &str, &str)] = &[(
    "es",
    OPENSEARCH_INSTANCES_PER_DOMAIN,
    "AWS::OpenSearchService::Domain",
)];

/// (service, code, name, default, adjustable, global, usage class). Defaults are those of a new
/// account; vCPU quotas publish usage as `AWS/Usage` `ResourceCount` with Service `EC2` (or
/// `Fargate`), Type `Resource`, Resource `vCPU` and this Class, as Service Quotas' UsageMetric
/// names them.
type Row = (
    &'static str,
    &'static str,
    &'static str,
    f64,
    bool,
    bool,
    Option<&'static str>,
);
#[rustfmt::skip]
const BUILT_IN: &[Row] = &[
    ("ec2", "L-34B43A08", "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests", 5.0, true, false, Some("Standard/Spot")),
    ("ec2", "L-3819A6DF", "All G and VT Spot Instance Requests", 0.0, true, false, Some("G/Spot")),
    ("ec2", "L-7212CCBC", "All P4, P3 and P2 Spot Instance Requests", 0.0, true, false, Some("P/Spot")),
    ("ec2", "L-C4BD4855", "All P5 Spot Instance Requests", 0.0, true, false, Some("P5/Spot")),
    ("ec2", "L-88CF9481", "All F Spot Instance Requests", 0.0, true, false, Some("F/Spot")),
    ("ec2", "L-E3A00192", "All X Spot Instance Requests", 0.0, true, false, Some("X/Spot")),
    ("ec2", "L-B5D1601B", "All Inf Spot Instance Requests", 0.0, true, false, Some("Inf/Spot")),
    ("ec2", "L-85EED4F7", "All DL Spot Instance Requests", 0.0, true, false, Some("DL/Spot")),
    ("ec2", "L-6B0D517C", "All Trn Spot Instance Requests", 0.0, true, false, Some("Trn/Spot")),
    ("ec2", "L-1216C47A", "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", 5.0, true, false, Some("Standard/OnDemand")),
    ("ec2", "L-DB2E81BA", "Running On-Demand G and VT instances", 0.0, true, false, Some("G/OnDemand")),
    ("ec2", "L-417A185B", "Running On-Demand P instances", 0.0, true, false, Some("P/OnDemand")),
    ("ec2", "L-0263D0A3", "EC2-VPC Elastic IPs", 5.0, true, false, None),
    ("vpc", "L-DF5E4CA3", "Network interfaces per Region", 5000.0, true, false, None),
    ("fargate", "L-3032A538", "Fargate On-Demand vCPU resource count", 6.0, true, false, Some("Standard/OnDemand")),
    ("fargate", "L-36FBB829", "Fargate Spot vCPU resource count", 6.0, true, false, Some("Standard/Spot")),
    ("ecs", "L-86C34207", "Container instances per cluster", 5000.0, false, false, None),
    ("ecs", "L-B7718569", "Tasks in the PROVISIONING state per cluster", 500.0, false, false, None),
    ("ecs", "L-21C621EB", "Clusters per account", 10000.0, true, false, None),
    ("elasticloadbalancing", "L-7E6692B2", "Targets per Application Load Balancer", 1000.0, true, false, None),
    ("elasticloadbalancing", "L-A0D0B863", "Targets per Target Group per Region", 1000.0, true, false, None),
    ("elasticloadbalancing", "L-B211E961", "Targets per Availability Zone per Network Load Balancer", 500.0, true, false, None),
    ("iam", "L-FE177D64", "Roles per account", 1000.0, true, true, None),
    // The limit errors `quota-operator explain` knows (its catalog.yaml), so its quotas can be
    // read here: VPC, load balancers per region, EKS, EBS storage, Lambda.
    ("vpc", "L-F678F1CE", "VPCs per Region", 5.0, true, false, None),
    ("vpc", "L-0EA8095F", "Inbound or outbound rules per security group", 60.0, true, false, None),
    ("vpc", "L-E79EC296", "VPC security groups per Region", 2500.0, true, false, None),
    ("vpc", "L-FE5A380F", "NAT gateways per Availability Zone", 5.0, true, false, None),
    ("elasticloadbalancing", "L-53DA6B97", "Application Load Balancers per Region", 50.0, true, false, None),
    ("elasticloadbalancing", "L-69A177A2", "Network Load Balancers per Region", 50.0, true, false, None),
    ("elasticloadbalancing", "L-E9E9831D", "Classic Load Balancers per Region", 20.0, true, false, None),
    ("eks", "L-1194D53C", "Clusters", 100.0, true, false, None),
    ("ebs", "L-7A658B76", "Storage for General Purpose SSD (gp3) volumes, in TiB", 50.0, true, false, None),
    ("ebs", "L-D18FCD1D", "Storage for General Purpose SSD (gp2) volumes, in TiB", 50.0, true, false, None),
    ("ebs", "L-09BD8365", "Storage for Provisioned IOPS SSD (io2) volumes, in TiB", 20.0, true, false, None),
    ("ebs", "L-FD252861", "Storage for Provisioned IOPS SSD (io1) volumes, in TiB", 50.0, true, false, None),
    ("ebs", "L-82ACEF56", "Storage for Throughput Optimized HDD (st1) volumes, in TiB", 50.0, true, false, None),
    ("ebs", "L-17AF77E8", "Storage for Cold HDD (sc1) volumes, in TiB", 50.0, true, false, None),
    ("lambda", "L-B99A9384", "Concurrent executions", 1000.0, true, false, None),
    ("AWSCloudMap", CLOUD_MAP_INSTANCES_PER_SERVICE, "Instances per service", 1000.0, false, false, None),
    // Cloud Map and ECS quotas `explain` names, with the codes and defaults Service Quotas
    // lists (gruntwork-io/terraform-aws-utilities, docs/quotas.md at 04f58839 and
    // modules/request-quota-increase/variables.tf; generated from the Service Quotas API).
    ("AWSCloudMap", "L-0FE3F50E", "Namespaces per Region", 50.0, true, false, None),
    ("AWSCloudMap", "L-D95E8A57", "Instances per namespace", 2000.0, true, false, None),
    ("ecs", "L-9EF96962", "Services per cluster", 5000.0, true, false, None),
    ("ecs", "L-2D029656", "Services per namespace", 100.0, true, false, None),
    ("es", OPENSEARCH_INSTANCES_PER_DOMAIN, "Instances per domain", 1002.0, true, false, None),
];

/// Every quota by (service code, quota code); ordered, so listings are stable.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    quotas: BTreeMap<(String, String), QuotaDef>,
}

impl Catalog {
    /// The built-in table alone.
    pub fn built_in() -> Self {
        let mut quotas = BTreeMap::new();
        for &(svc, code, name, default, adjustable, global, class) in BUILT_IN {
            let def = QuotaDef {
                service_code: svc.into(),
                service_name: service_name(svc).into(),
                quota_code: code.into(),
                quota_name: name.into(),
                default_value: default,
                unit: "None".into(),
                adjustable,
                global,
                usage_metric: class
                    .map(|c| UsageMetric::resource_count(usage_service(svc), "vCPU", c)),
                resource_type: RESOURCE_LEVEL
                    .iter()
                    .find(|(s, c, _)| *s == svc && *c == code)
                    .map(|(_, _, t)| t.to_string()),
            };
            quotas.insert((svc.into(), code.into()), def);
        }
        Self { quotas }
    }

    /// The built-in table with the scenario's definitions applied (validated beforehand, so a
    /// new quota always has a name).
    pub fn for_scenario(scenario: &AwsScenario) -> Self {
        let mut cat = Self::built_in();
        for q in scenario.quotas.iter().filter(|q| q.defines_something()) {
            let key = (q.service_code.clone(), q.quota_code.clone());
            let def = cat.quotas.entry(key).or_insert_with(|| QuotaDef {
                service_code: q.service_code.clone(),
                service_name: service_name(&q.service_code).into(),
                quota_code: q.quota_code.clone(),
                quota_name: String::new(),
                default_value: 0.0,
                unit: "None".into(),
                adjustable: true,
                global: false,
                usage_metric: None,
                resource_type: None,
            });
            let overrides = [
                (&q.quota_name, &mut def.quota_name),
                (&q.service_name, &mut def.service_name),
                (&q.unit, &mut def.unit),
            ];
            for (from, to) in overrides {
                if let Some(v) = from {
                    to.clone_from(v);
                }
            }
            def.default_value = q.default_value.unwrap_or(def.default_value);
            def.adjustable = q.adjustable.unwrap_or(def.adjustable);
            def.global = q.global.unwrap_or(def.global);
            if q.resource_type.is_some() {
                def.resource_type.clone_from(&q.resource_type);
            }
        }
        for q in &scenario.quotas {
            let Some(def) = cat
                .quotas
                .get_mut(&(q.service_code.clone(), q.quota_code.clone()))
            else {
                continue;
            };
            if let Some(m) = &q.usage_metric {
                def.usage_metric = Some(m.clone());
            } else if q.usage.is_some() && def.usage_metric.is_none() {
                def.usage_metric = Some(standing_in_for(def));
            }
        }
        cat
    }

    /// Gives a quota that publishes usage from now on a metric, if it has none.
    pub fn ensure_metric(&mut self, service: &str, code: &str) {
        if let Some(def) = self
            .quotas
            .get_mut(&(service.to_string(), code.to_string()))
            && def.usage_metric.is_none()
        {
            def.usage_metric = Some(standing_in_for(def));
        }
    }

    /// The quota whose usage metric is exactly this one (namespace, name and every dimension).
    pub fn by_metric(
        &self,
        namespace: &str,
        name: &str,
        dims: &BTreeMap<String, String>,
    ) -> Option<&QuotaDef> {
        self.quotas.values().find(|q| {
            q.usage_metric.as_ref().is_some_and(|m| {
                m.namespace == namespace && m.name == name && m.dimensions == *dims
            })
        })
    }

    pub fn get(&self, service: &str, code: &str) -> Option<&QuotaDef> {
        self.quotas.get(&(service.to_string(), code.to_string()))
    }

    /// Every quota, ordered by service and code.
    pub fn all(&self) -> impl Iterator<Item = &QuotaDef> {
        self.quotas.values()
    }

    pub fn has_service(&self, service: &str) -> bool {
        self.in_service(service).next().is_some()
    }

    pub fn in_service<'a>(&'a self, service: &'a str) -> impl Iterator<Item = &'a QuotaDef> + 'a {
        self.quotas
            .values()
            .filter(move |q| q.service_code == service)
    }

    /// (service code, service name), ordered by code.
    pub fn services(&self) -> Vec<(String, String)> {
        let mut out: BTreeMap<&str, &str> = BTreeMap::new();
        for q in self.quotas.values() {
            out.insert(&q.service_code, &q.service_name);
        }
        out.into_iter().map(|(c, n)| (c.into(), n.into())).collect()
    }
}

fn service_name(code: &str) -> &str {
    SERVICES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_code_is_built_in() {
        let cat = Catalog::built_in();
        for code in [
            "L-34B43A08",
            "L-3819A6DF",
            "L-7212CCBC",
            "L-C4BD4855",
            "L-88CF9481",
            "L-E3A00192",
            "L-B5D1601B",
            "L-85EED4F7",
            "L-6B0D517C",
            "L-1216C47A",
            "L-DB2E81BA",
            "L-417A185B",
            "L-0263D0A3",
        ] {
            assert!(cat.get("ec2", code).is_some(), "{code}");
        }
        assert_eq!(cat.get("vpc", "L-DF5E4CA3").unwrap().default_value, 5000.0);
        assert!(!cat.get("ecs", "L-86C34207").unwrap().adjustable);
        assert!(!cat.get("ecs", "L-B7718569").unwrap().adjustable);
        assert!(cat.get("iam", "L-FE177D64").unwrap().global);
        let per_domain = cat.get("es", OPENSEARCH_INSTANCES_PER_DOMAIN).unwrap();
        assert_eq!(
            per_domain.resource_type.as_deref(),
            Some("AWS::OpenSearchService::Domain")
        );
        assert!(
            !cat.get("AWSCloudMap", CLOUD_MAP_INSTANCES_PER_SERVICE)
                .unwrap()
                .adjustable
        );
        for (svc, code) in [
            ("fargate", "L-3032A538"),
            ("fargate", "L-36FBB829"),
            ("ecs", "L-21C621EB"),
        ] {
            assert!(cat.get(svc, code).unwrap().adjustable, "{code}");
        }
        for code in ["L-7E6692B2", "L-A0D0B863", "L-B211E961"] {
            assert!(cat.get("elasticloadbalancing", code).is_some(), "{code}");
        }
    }
}
