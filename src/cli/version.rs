//! `quota-operator version`: what was built, from what, for which platform.

use serde::Serialize;

/// The version, commit and platform of this binary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    pub version: &'static str,
    /// The git commit, from `QO_GIT_COMMIT` at build time (the image builds set it); `unknown`
    /// for a plain `cargo build`, which does not run git.
    pub git_commit: &'static str,
    /// `os/arch`, as Kubernetes names platforms (`linux/x86_64`).
    pub platform: String,
}

/// How `version` prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// Flags of `quota-operator version`.
#[derive(clap::Args, Debug)]
pub struct VersionArgs {
    #[arg(short = 'o', long, value_enum, default_value = "text")]
    pub output: Format,
}

impl Version {
    /// This binary's.
    pub fn current() -> Self {
        Self {
            version: env!("CARGO_PKG_VERSION"),
            git_commit: option_env!("QO_GIT_COMMIT")
                .filter(|c| !c.is_empty())
                .unwrap_or("unknown"),
            platform: format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
        }
    }

    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => format!(
                "quota-operator {}\ngit commit: {}\nplatform: {}\n",
                self.version, self.git_commit, self.platform
            ),
            Format::Json => {
                let mut json = serde_json::to_string_pretty(self).expect("a version serializes");
                json.push('\n');
                json
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_json_carry_the_same_fields() {
        let v = Version {
            version: "1.2.3",
            git_commit: "abc123",
            platform: "linux/x86_64".into(),
        };
        assert_eq!(
            v.render(Format::Text),
            "quota-operator 1.2.3\ngit commit: abc123\nplatform: linux/x86_64\n"
        );
        let json: serde_json::Value = serde_json::from_str(&v.render(Format::Json)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"version": "1.2.3", "gitCommit": "abc123", "platform": "linux/x86_64"})
        );
    }
}
