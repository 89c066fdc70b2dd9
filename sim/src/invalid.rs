//! What is wrong with a scenario, and the checks both clouds' sections share. A leaf module:
//! the clouds and the top-level scenario import it, it imports neither.

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
    pub(crate) fn from_yaml(err: &serde_yaml::Error) -> Self {
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
