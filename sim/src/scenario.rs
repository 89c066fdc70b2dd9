//! The scenario file: what every simulated cloud starts from and how it behaves. One top-level
//! section per cloud (`aws:`, `gcp:`), each optional.

use serde::Deserialize;

use super::{aws::AwsScenario, gcp::GcpScenario};

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

/// A scenario that could not be used, naming the offending field by its YAML path
/// (e.g. `aws.quotas[2].quotaName`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("scenario field `{field}`: {message}")]
pub struct ScenarioError {
    pub field: String,
    pub message: String,
}

impl ScenarioError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// serde_yaml reports `path: message at line L column C`; the path alone does not name
    /// an unknown or missing field, so that name is appended to it.
    fn from_yaml(err: &serde_yaml::Error) -> Self {
        let text = err.to_string();
        let (path, message) = match text.split_once(": ") {
            Some((p, m)) if !p.contains(' ') => (p.to_string(), m.to_string()),
            _ => (String::new(), text.clone()),
        };
        let named = ["unknown field `", "missing field `"]
            .iter()
            .find_map(|prefix| message.strip_prefix(prefix))
            .and_then(|rest| rest.split('`').next());
        let field = match (path.as_str(), named) {
            ("" | ".", Some(name)) => name.to_string(),
            (p, Some(name)) => format!("{p}.{name}"),
            ("", None) => "(document)".to_string(),
            (p, None) => p.to_string(),
        };
        Self { field, message }
    }
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

/// How a cloud's increase requests end: the first rule that matches one, else `default`.
#[derive(Clone, Debug, Deserialize)]
#[serde(
    default,
    deny_unknown_fields,
    bound(deserialize = "R: ScheduleRule + Deserialize<'de>")
)]
pub struct Schedule<R> {
    /// Every request waits for admin calls, whatever the rules say.
    pub manual: bool,
    /// The rule for requests no rule matches.
    pub default: R,
    /// The first matching rule decides a request's fate.
    pub rules: Vec<R>,
}

/// What a cloud's rule type tells the shared `Schedule`.
pub trait ScheduleRule: Clone {
    /// The rule of a scenario that sets none: the cloud's usual pace.
    fn usual() -> Self;
    /// The rule with every timed move left to admin calls (`schedule.manual`).
    fn manual(self) -> Self;
}

impl<R: ScheduleRule> Default for Schedule<R> {
    fn default() -> Self {
        Self {
            manual: false,
            default: R::usual(),
            rules: Vec::new(),
        }
    }
}

impl<R: ScheduleRule> Schedule<R> {
    /// The rule deciding a request's fate: the first that `matches`, else the default, made
    /// manual when the whole schedule is.
    pub fn rule_for(&self, matches: impl Fn(&R) -> bool) -> R {
        let rule = self.rules.iter().find(|r| matches(r));
        let rule = rule.unwrap_or(&self.default).clone();
        if self.manual { rule.manual() } else { rule }
    }
}

/// AWS account ids are exactly 12 digits; anything else is a typo worth stopping on.
pub(crate) fn check_account_id(field: &str, id: &str) -> Result<(), ScenarioError> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ScenarioError::new(
            field,
            format!("`{id}` is not a 12-digit AWS account id"),
        ))
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
