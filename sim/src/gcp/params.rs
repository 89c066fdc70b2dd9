//! Query parameters as the clients send them: the Rust client's `$alt=json;enum-encoding=int`,
//! `true` and repeated `ignoreSafetyChecks=<n>`; gcloud's `alt=json`, `True` and enum names.
//! Both services read them, and the enum encoding asked for (`Enc`) shapes every answer.

use serde_json::{Value, json};

use super::error::GcpError;

/// How enums go out: the Rust client asks for numbers, gcloud (plain `alt=json`) for names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Enc {
    pub ints: bool,
}

impl Enc {
    pub fn pick(self, number: i32, name: &str) -> Value {
        if self.ints {
            json!(number)
        } else {
            json!(name)
        }
    }
}

/// Query parameters; repeated ones (ignoreSafetyChecks) keep every value.
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, key: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self, key: &str) -> String {
        self.get(key).unwrap_or_default().to_string()
    }

    /// gcloud sends `True`, the Rust client `true`.
    pub fn flag(&self, key: &str) -> Result<bool, GcpError> {
        match self.get(key).map(str::to_ascii_lowercase).as_deref() {
            None | Some("false" | "0" | "") => Ok(false),
            Some("true" | "1") => Ok(true),
            Some(other) => Err(GcpError::invalid(format!(
                "Invalid value at '{key}' (TYPE_BOOL), \"{other}\""
            ))),
        }
    }

    pub fn number(&self, key: &str) -> Result<i64, GcpError> {
        let v = self.get(key).unwrap_or("0");
        v.parse().map_err(|_| {
            GcpError::invalid(format!("Invalid value at '{key}' (TYPE_INT32), \"{v}\""))
        })
    }

    pub fn enc(&self) -> Enc {
        let alt = self
            .get("$alt")
            .or_else(|| self.get("alt"))
            .unwrap_or_default();
        Enc {
            ints: alt.contains("enum-encoding=int"),
        }
    }
}
