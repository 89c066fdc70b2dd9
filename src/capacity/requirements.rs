//! A NodePool's requirements read as EC2 vCPU quotas: which markets its capacity type allows,
//! and which family groups the instance types its category, family, generation and type
//! requirements allow belong to. Instance types are judged on a catalog of families that stands
//! for every group (a family per category the groups hold), widened by every value the
//! requirements name: a requirement Karpenter would satisfy with some type of a group keeps that
//! group. Requirements on other keys (architecture, zone, ...) narrow nothing here.

use serde::{Deserialize, Serialize};

use super::families::{self, FamilyGroup, Market};

pub const CAPACITY_TYPE: &str = "karpenter.sh/capacity-type";
pub const CATEGORY: &str = "karpenter.k8s.aws/instance-category";
pub const FAMILY: &str = "karpenter.k8s.aws/instance-family";
pub const GENERATION: &str = "karpenter.k8s.aws/instance-generation";
pub const INSTANCE_TYPE: &str = "node.kubernetes.io/instance-type";

/// A node selector requirement as NodePools write it (`minValues` is not read).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Requirement {
    pub key: String,
    pub operator: String,
    #[serde(default)]
    pub values: Vec<String>,
}

/// Families standing for every category of every group; Karpenter can launch any of them when
/// nothing narrows it.
const CATALOG: &[&str] = &[
    "a1", "c5", "c6i", "c7g", "d3", "h1", "i3", "i4i", "im4gn", "is4gen", "m5", "m6i", "m7i", "r5",
    "r6i", "t3", "t4g", "z1d", "f1", "f2", "g4dn", "g5", "g6", "gr6", "vt1", "p3", "p4d", "p5",
    "p5e", "x1", "x2idn", "x8g", "inf1", "inf2", "dl1", "dl2q", "trn1", "trn2", "hpc6a", "hpc7g",
    "u-6tb1", "u7i-12tb",
];

const KEYS: &[&str] = &[CATEGORY, FAMILY, GENERATION, INSTANCE_TYPE];

/// The markets the capacity type allows (Karpenter v1 has no default: all of them).
pub fn markets(requirements: &[Requirement]) -> Result<Vec<Market>, String> {
    let mut allowed = vec!["spot", "on-demand", "reserved"];
    for r in requirements.iter().filter(|r| r.key == CAPACITY_TYPE) {
        let keep = |v: &str| -> Result<bool, String> {
            Ok(match r.operator.as_str() {
                "In" => r.values.iter().any(|x| x == v),
                "NotIn" => !r.values.iter().any(|x| x == v),
                "Exists" => true,
                "DoesNotExist" => false,
                op => {
                    return Err(format!(
                        "{CAPACITY_TYPE} {op} is not a capacity type choice"
                    ));
                }
            })
        };
        let mut kept = vec![];
        for v in allowed {
            if keep(v)? {
                kept.push(v);
            }
        }
        allowed = kept;
    }
    let mut markets = vec![];
    if allowed.contains(&"spot") {
        markets.push(Market::Spot);
    }
    if allowed.contains(&"on-demand") || allowed.contains(&"reserved") {
        markets.push(Market::OnDemand);
    }
    if markets.is_empty() {
        return Err(format!("{CAPACITY_TYPE} allows no capacity type"));
    }
    Ok(markets)
}

/// An instance type as the requirements judge it: what is known of it.
#[derive(Debug)]
struct Candidate {
    category: String,
    generation: Option<u32>,
    family: Option<String>,
    instance_type: Option<String>,
}

impl Candidate {
    /// From a family (`m5`, `u-6tb1`) or an instance type (`m5.large`), as Karpenter labels it
    /// (`instanceTypeScheme`: letters, an optional `-Ntb`, then the generation's digits).
    fn of(name: &str) -> Self {
        let family = name.split('.').next().unwrap_or(name);
        let category: String = family
            .chars()
            .take_while(|c| c.is_ascii_lowercase())
            .collect();
        let mut rest = &family[category.len()..];
        if let Some(tb) = rest.strip_prefix('-') {
            let digits = tb.trim_start_matches(|c: char| c.is_ascii_digit());
            if let Some(after) = digits.strip_prefix("tb") {
                rest = after;
            }
        }
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        Self {
            category,
            generation: digits.parse().ok(),
            family: Some(family.to_string()),
            instance_type: name.contains('.').then(|| name.to_string()),
        }
    }

    fn group(&self) -> Option<FamilyGroup> {
        let name = self.family.as_deref().unwrap_or(&self.category);
        families::family_of(&format!("{name}.x"))
    }

    /// Whether some instance type this stands for has `value` under `key`.
    fn may_have(&self, key: &str, value: &str) -> bool {
        match key {
            CATEGORY => self.category == value,
            GENERATION => self.generation.is_none_or(|g| g.to_string() == value),
            FAMILY => match &self.family {
                Some(f) => f == value,
                None => Candidate::of(value).category == self.category,
            },
            _ => match &self.instance_type {
                Some(t) => t == value,
                None => {
                    let other = Candidate::of(value);
                    match &self.family {
                        Some(f) => other.family.as_deref() == Some(f),
                        None => other.category == self.category,
                    }
                }
            },
        }
    }

    /// Whether every instance type this stands for has `value` under `key`.
    fn must_have(&self, key: &str, value: &str) -> bool {
        match key {
            CATEGORY => self.category == value,
            GENERATION => self.generation.is_some_and(|g| g.to_string() == value),
            FAMILY => self.family.as_deref() == Some(value),
            _ => self.instance_type.as_deref() == Some(value),
        }
    }

    fn allowed_by(&self, r: &Requirement) -> Result<bool, String> {
        let (key, values) = (r.key.as_str(), &r.values);
        Ok(match r.operator.as_str() {
            "In" => values.iter().any(|v| self.may_have(key, v)),
            "NotIn" => !values.iter().any(|v| self.must_have(key, v)),
            "Exists" => true,
            "DoesNotExist" => false,
            "Gt" | "Lt" if key == GENERATION => {
                let bound: u32 = single(r)?;
                self.generation.is_none_or(|g| match r.operator.as_str() {
                    "Gt" => g > bound,
                    _ => g < bound,
                })
            }
            op => return Err(format!("{key} {op} cannot be read as instance families")),
        })
    }
}

fn single(r: &Requirement) -> Result<u32, String> {
    match r.values.as_slice() {
        [v] => v
            .parse()
            .map_err(|_| format!("{} {} {v}: not a number", r.key, r.operator)),
        _ => Err(format!("{} {} takes one value", r.key, r.operator)),
    }
}

/// Every instance type the requirements could be met by: the catalog, and each value an `In`
/// names (a family or type, or a category the catalog does not hold).
fn candidates(requirements: &[Requirement]) -> Vec<Candidate> {
    let mut all: Vec<Candidate> = CATALOG.iter().map(|f| Candidate::of(f)).collect();
    let cataloged = |category: &str| {
        CATALOG
            .iter()
            .any(|f| Candidate::of(f).category == category)
    };
    for r in requirements.iter().filter(|r| r.operator == "In") {
        for v in &r.values {
            let c = match r.key.as_str() {
                CATEGORY if cataloged(v) => continue,
                CATEGORY => Candidate {
                    category: v.clone(),
                    generation: None,
                    family: None,
                    instance_type: None,
                },
                FAMILY | INSTANCE_TYPE => Candidate::of(v),
                _ => continue,
            };
            all.push(c);
        }
    }
    all
}

/// The family groups the NodePool can launch into, in table order; an allowed category, family
/// or type that no group holds (a Mac, an unknown one) cannot be mapped.
pub fn groups(requirements: &[Requirement]) -> Result<Vec<FamilyGroup>, String> {
    let relevant: Vec<&Requirement> = requirements
        .iter()
        .filter(|r| KEYS.contains(&r.key.as_str()))
        .collect();
    let mut reached = vec![];
    for c in candidates(requirements) {
        let mut allowed = true;
        for r in &relevant {
            allowed &= c.allowed_by(r)?;
        }
        if !allowed {
            continue;
        }
        let Some(group) = c.group() else {
            let name = c.instance_type.or(c.family).unwrap_or(c.category);
            return Err(format!(
                "{name} belongs to no EC2 family group with a vCPU quota (a Mac or unknown family)"
            ));
        };
        if !reached.contains(&group) {
            reached.push(group);
        }
    }
    if reached.is_empty() {
        return Err("they allow no instance type".into());
    }
    Ok(families::GROUPS
        .iter()
        .filter(|g| reached.contains(g))
        .copied()
        .collect())
}

/// The instance requirements as a person reads them: `categories c/m/r`, `generation > 5`.
pub fn describe(requirements: &[Requirement]) -> Vec<String> {
    let mut out = vec![];
    for r in requirements
        .iter()
        .filter(|r| KEYS.contains(&r.key.as_str()))
    {
        let noun = match r.key.as_str() {
            CATEGORY => "categories",
            FAMILY => "families",
            GENERATION => "generation",
            _ => "types",
        };
        let values = r.values.join("/");
        out.push(match r.operator.as_str() {
            "In" => format!("{noun} {values}"),
            "NotIn" => format!("{noun} not {values}"),
            "Gt" => format!("{noun} > {values}"),
            "Lt" => format!("{noun} < {values}"),
            op => format!("{noun} {op}"),
        });
    }
    if out.is_empty() {
        out.push("any instance type".into());
    }
    out
}
