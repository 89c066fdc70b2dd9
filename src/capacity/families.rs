//! Instance type -> EC2 family group -> the On-Demand and Spot quota codes that count its vCPUs
//! (the table in reference/ec2-vcpu-quotas.md), for `explain` and for capacity. Only the
//! grouping lives here: vCPUs per type come from EC2 DescribeInstanceTypes, never from a table
//! of ours.

/// Whether instances run On-Demand or as Spot: each family group has one quota per market.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Market {
    OnDemand,
    Spot,
}

impl Market {
    pub fn label(self) -> &'static str {
        match self {
            Self::OnDemand => "On-Demand",
            Self::Spot => "Spot",
        }
    }
}

/// One EC2 family group and its vCPU quotas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FamilyGroup {
    /// As Service Quotas names the group, e.g. `Standard (A, C, D, H, I, M, R, T, Z)`.
    pub name: &'static str,
    /// Short form for object names, e.g. `standard`.
    pub slug: &'static str,
    pub on_demand: &'static str,
    /// None: the group cannot run as Spot (HPC, high memory).
    pub spot: Option<&'static str>,
}

const STANDARD: FamilyGroup = FamilyGroup {
    name: "Standard (A, C, D, H, I, M, R, T, Z)",
    slug: "standard",
    on_demand: "L-1216C47A",
    spot: Some("L-34B43A08"),
};
const F: FamilyGroup = FamilyGroup {
    name: "F",
    slug: "f",
    on_demand: "L-74FC7D96",
    spot: Some("L-88CF9481"),
};
const G_VT: FamilyGroup = FamilyGroup {
    name: "G and VT",
    slug: "g-vt",
    on_demand: "L-DB2E81BA",
    spot: Some("L-3819A6DF"),
};
const P: FamilyGroup = FamilyGroup {
    name: "P",
    slug: "p",
    on_demand: "L-417A185B",
    spot: Some("L-7212CCBC"),
};
/// P5 shares the P On-Demand quota but has a Spot quota of its own.
const P5: FamilyGroup = FamilyGroup {
    name: "P5",
    slug: "p5",
    on_demand: "L-417A185B",
    spot: Some("L-C4BD4855"),
};
const X: FamilyGroup = FamilyGroup {
    name: "X",
    slug: "x",
    on_demand: "L-7295265B",
    spot: Some("L-E3A00192"),
};
const INF: FamilyGroup = FamilyGroup {
    name: "Inf",
    slug: "inf",
    on_demand: "L-1945791B",
    spot: Some("L-B5D1601B"),
};
const DL: FamilyGroup = FamilyGroup {
    name: "DL",
    slug: "dl",
    on_demand: "L-6E869C2A",
    spot: Some("L-85EED4F7"),
};
const TRN: FamilyGroup = FamilyGroup {
    name: "Trn",
    slug: "trn",
    on_demand: "L-2C3B7624",
    spot: Some("L-6B0D517C"),
};
const HPC: FamilyGroup = FamilyGroup {
    name: "HPC",
    slug: "hpc",
    on_demand: "L-F7808C92",
    spot: None,
};
const HIGH_MEMORY: FamilyGroup = FamilyGroup {
    name: "High Memory",
    slug: "high-memory",
    on_demand: "L-43DA4232",
    spot: None,
};

/// Every group, for looking a quota code up.
pub const GROUPS: &[FamilyGroup] = &[STANDARD, F, G_VT, P, P5, X, INF, DL, TRN, HPC, HIGH_MEMORY];

/// Family prefixes, matched longest first (`dl` before `d`, `inf` before `i`, `trn` before `t`,
/// `hpc` before `h`, `p5` before `p`). `mac` is listed so that Mac hosts are not taken for the
/// standard `m` group: they are Dedicated Hosts with quotas of their own.
const PREFIXES: &[(&str, Option<FamilyGroup>)] = &[
    ("mac", None),
    ("hpc", Some(HPC)),
    ("inf", Some(INF)),
    ("trn", Some(TRN)),
    ("dl", Some(DL)),
    ("vt", Some(G_VT)),
    ("p5", Some(P5)),
    ("u", Some(HIGH_MEMORY)),
    ("a", Some(STANDARD)),
    ("c", Some(STANDARD)),
    ("d", Some(STANDARD)),
    ("h", Some(STANDARD)),
    ("i", Some(STANDARD)),
    ("m", Some(STANDARD)),
    ("r", Some(STANDARD)),
    ("t", Some(STANDARD)),
    ("z", Some(STANDARD)),
    ("f", Some(F)),
    ("g", Some(G_VT)),
    ("p", Some(P)),
    ("x", Some(X)),
];

/// The family group of an instance type such as `m5.2xlarge` or `u-6tb1.metal`; None when the
/// type is malformed or its family has no vCPU quota group here (e.g. `mac1.metal`).
pub fn family_of(instance_type: &str) -> Option<FamilyGroup> {
    let family = instance_type.split('.').next()?.to_ascii_lowercase();
    PREFIXES
        .iter()
        .filter(|(prefix, _)| family.starts_with(prefix))
        .max_by_key(|(prefix, _)| prefix.len())
        .and_then(|(_, group)| *group)
}

impl FamilyGroup {
    /// The quota code for `market`; None for Spot on a group that has no Spot quota.
    pub fn code(&self, market: Market) -> Option<&'static str> {
        match market {
            Market::OnDemand => Some(self.on_demand),
            Market::Spot => self.spot,
        }
    }

    /// The quota's name as Service Quotas shows it (close enough to recognise in the console;
    /// the code is what the YAML uses).
    pub fn quota_name(&self, market: Market) -> String {
        match market {
            Market::OnDemand => format!("Running On-Demand {} instances (vCPUs)", self.name),
            Market::Spot => format!("All {} Spot Instance Requests (vCPUs)", self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(t: &str) -> (&'static str, Option<&'static str>) {
        let g = family_of(t).unwrap_or_else(|| panic!("{t} has a family"));
        (g.on_demand, g.spot)
    }

    #[test]
    fn longest_prefix_wins() {
        assert_eq!(codes("m5.2xlarge"), ("L-1216C47A", Some("L-34B43A08")));
        assert_eq!(codes("d3.xlarge"), ("L-1216C47A", Some("L-34B43A08")));
        assert_eq!(codes("dl1.24xlarge"), ("L-6E869C2A", Some("L-85EED4F7")));
        assert_eq!(codes("im4gn.large"), ("L-1216C47A", Some("L-34B43A08")));
        assert_eq!(codes("inf2.xlarge"), ("L-1945791B", Some("L-B5D1601B")));
        assert_eq!(codes("t3.micro"), ("L-1216C47A", Some("L-34B43A08")));
        assert_eq!(codes("trn1.32xlarge"), ("L-2C3B7624", Some("L-6B0D517C")));
        assert_eq!(codes("h1.2xlarge"), ("L-1216C47A", Some("L-34B43A08")));
        assert_eq!(codes("hpc7g.16xlarge"), ("L-F7808C92", None));
        assert_eq!(codes("vt1.3xlarge"), ("L-DB2E81BA", Some("L-3819A6DF")));
        assert_eq!(codes("g5.xlarge"), ("L-DB2E81BA", Some("L-3819A6DF")));
        assert_eq!(codes("u-6tb1.metal"), ("L-43DA4232", None));
        assert_eq!(codes("x2iedn.xlarge"), ("L-7295265B", Some("L-E3A00192")));
        assert_eq!(codes("f1.2xlarge"), ("L-74FC7D96", Some("L-88CF9481")));
    }

    #[test]
    fn p5_has_its_own_spot_code() {
        assert_eq!(codes("p3.2xlarge"), ("L-417A185B", Some("L-7212CCBC")));
        assert_eq!(codes("p4d.24xlarge"), ("L-417A185B", Some("L-7212CCBC")));
        assert_eq!(codes("p5.48xlarge"), ("L-417A185B", Some("L-C4BD4855")));
    }

    #[test]
    fn mac_and_nonsense_have_no_group() {
        assert_eq!(family_of("mac2.metal"), None);
        assert_eq!(family_of("9x.large"), None);
        assert_eq!(family_of(""), None);
    }

    #[test]
    fn market_picks_the_code() {
        let g = family_of("c6i.4xlarge").unwrap();
        assert_eq!(g.code(Market::Spot), Some("L-34B43A08"));
        assert_eq!(g.code(Market::OnDemand), Some("L-1216C47A"));
        assert_eq!(
            family_of("hpc6a.48xlarge").unwrap().code(Market::Spot),
            None
        );
    }
}
