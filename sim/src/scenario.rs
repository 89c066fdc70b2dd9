//! The scenario file: what every simulated cloud starts from and how it behaves. One top-level
//! section per cloud (`aws:`, `gcp:`), each optional.

use serde::Deserialize;

pub use crate::invalid::ScenarioError;
// The sections' own files, not the `aws`/`gcp` facades: those build simulators from a
// `Scenario`, so naming them here would close a circle.
use crate::{aws::scenario::AwsScenario, gcp::scenario::GcpScenario};

/// A whole simulator scenario. `Scenario::default()` is a demo set-up: one AWS account
/// (123456789012) for any access key, AWS's real limits and rates, requests approved after a
/// short support case; every GCP project exists with Compute Engine's default values, and
/// increases are granted after 2s.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    pub aws: AwsScenario,
    pub gcp: GcpScenario,
}

impl Scenario {
    /// Parses and checks a scenario; every error names the field it is about.
    pub fn from_yaml(text: &str) -> Result<Self, ScenarioError> {
        // An empty file is the default scenario, not an error.
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let scenario: Scenario =
            serde_yaml::from_str(text).map_err(|e| ScenarioError::from_yaml(&e))?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Reads and parses a scenario file.
    pub fn from_file(path: &std::path::Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading scenario {}: {e}", path.display()))?;
        Self::from_yaml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    pub fn validate(&self) -> Result<(), ScenarioError> {
        self.aws.validate("aws")?;
        self.gcp.validate("gcp")
    }
}

/// A commented example scenario, printed by `quota-operator sim --print-example` and checked
/// by the tests, so the documentation cannot drift from the parser.
pub const EXAMPLE_SCENARIO: &str = include_str!("example-scenario.yaml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses() {
        Scenario::from_yaml(EXAMPLE_SCENARIO).expect("example scenario");
    }

    #[test]
    fn empty_is_default() {
        let s = Scenario::from_yaml("  \n").unwrap();
        assert_eq!(s.aws.limits.open_per_region, 2);
    }

    #[test]
    fn unknown_field_is_named_with_its_path() {
        let err = Scenario::from_yaml("aws:\n  limits:\n    openPerZone: 3\n").unwrap_err();
        assert_eq!(err.field, "aws.limits.openPerZone", "{err}");
    }

    #[test]
    fn missing_field_is_named_with_its_path() {
        let err = Scenario::from_yaml("aws:\n  quotas:\n  - serviceCode: ec2\n").unwrap_err();
        assert_eq!(err.field, "aws.quotas[0].quotaCode", "{err}");
    }

    #[test]
    fn unknown_top_level_section_is_named() {
        let err = Scenario::from_yaml("azure: {}\n").unwrap_err();
        assert_eq!(err.field, "azure", "{err}");
    }
}
