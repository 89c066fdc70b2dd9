//! The catalog of limit errors (`catalog.yaml`, embedded): what each documented error means.
//! It is data; the recognisers in this module's siblings apply it. Parsed once; a malformed
//! catalog is caught by [`Catalog::problems`] (a unit test fails naming the entry).

use std::sync::LazyLock;

use serde::Deserialize;

use super::text;

const SOURCE: &str = include_str!("catalog.yaml");

/// The parsed catalog.
pub static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
    // A parse failure is a build defect the catalog tests report with the entry; at run time
    // an empty catalog recognises nothing rather than crashing the CLI.
    serde_yaml::from_str(SOURCE).unwrap_or_default()
});

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub aws: Vec<AwsEntry>,
    pub not_quotas: Vec<NotQuota>,
    pub gcp: GcpRules,
}

/// What identifies an error in a text.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signs {
    #[serde(default)]
    pub codes: Vec<String>,
    #[serde(default)]
    pub phrases: Vec<String>,
    #[serde(default)]
    pub with_any: Vec<String>,
    #[serde(default)]
    pub unless: Vec<String>,
}

impl Signs {
    /// Whether the (normalised) text shows these signs: a code or a phrase, one of `with_any`
    /// when given, none of `unless`.
    pub fn found_in(&self, text: &str) -> bool {
        let named = self.codes.iter().any(|c| text::has_word_nocase(text, c))
            || self.phrases.iter().any(|p| text::says(text, p));
        let qualified =
            self.with_any.is_empty() || self.with_any.iter().any(|w| text::says(text, w));
        named && qualified && !self.unless.iter().any(|u| text::says(text, u))
    }

    /// The first code of these the text names, else the first code; with no codes, the phrase
    /// the text says (quoted), else the first phrase.
    pub fn code_in(&self, text: &str) -> String {
        self.codes
            .iter()
            .find(|c| text::has_word_nocase(text, c))
            .or(self.codes.first())
            .cloned()
            .or_else(|| {
                let said = self.phrases.iter().find(|p| text::says(text, p));
                said.or(self.phrases.first()).map(|p| format!("\"{p}\""))
            })
            .unwrap_or_default()
    }
}

/// An AWS limit error and its quota.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsEntry {
    pub id: String,
    #[serde(flatten)]
    pub signs: Signs,
    pub service: String,
    /// Absent for the EC2 family-group quotas, whose code depends on the instance type.
    pub quota_code: Option<String>,
    pub quota_name: Option<String>,
    /// `spot` or `on-demand`: an EC2 quota counted per family group and market.
    pub market: Option<String>,
    #[serde(default)]
    pub limit_after: Vec<String>,
    pub default: Option<f64>,
    pub unit: String,
    pub why: Option<String>,
    pub slug: Option<String>,
}

/// What a not-a-quota error is: a capacity stock-out, API throttling, a fixed limit Service
/// Quotas cannot raise, a placement failure in the cluster's own capacity, or an API call's size.
pub const NOT_QUOTA_KINDS: [&str; 5] = [
    "stock-out",
    "throttling",
    "fixed-limit",
    "placement",
    "request-size",
];

/// An error that looks like a quota but is not one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotQuota {
    pub id: String,
    /// One of [`NOT_QUOTA_KINDS`].
    pub kind: String,
    #[serde(flatten)]
    pub signs: Signs,
    pub explanation: String,
}

/// Compute Engine's quota messages and its metric-to-quota-id rule.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcpRules {
    pub service: String,
    pub regional_id: String,
    pub global_id: String,
    pub global_suffix: String,
    pub id_exceptions: Vec<IdException>,
    pub metric_patterns: Vec<MetricPattern>,
    pub limit_after: Vec<String>,
    pub short_after: Vec<String>,
    pub global_words: Vec<String>,
    pub region_after: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdException {
    pub metric: String,
    pub global: bool,
    pub id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricPattern {
    pub before: String,
    pub after: String,
    #[serde(default)]
    pub with_all: Vec<String>,
}

impl Catalog {
    /// The first AWS entry the normalised text matches among those with a market (EC2's vCPU
    /// family groups, whose quota the instance type decides) or those without one.
    pub fn aws_match(&self, normalised: &str, with_market: bool) -> Option<&AwsEntry> {
        self.aws
            .iter()
            .filter(|e| e.market.is_some() == with_market)
            .find(|e| e.signs.found_in(normalised))
    }

    /// Parses catalog text (the embedded one, or a test's).
    pub fn parse(source: &str) -> Result<Self, String> {
        serde_yaml::from_str(source).map_err(|e| format!("catalog.yaml: {e}"))
    }

    /// What is wrong with the catalog, one line per problem, naming the entry.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in &self.aws {
            out.extend(
                e.problems()
                    .into_iter()
                    .map(|p| format!("aws {}: {p}", e.id)),
            );
        }
        for n in &self.not_quotas {
            if !NOT_QUOTA_KINDS.contains(&n.kind.as_str()) {
                out.push(format!(
                    "not_quotas {}: kind {:?} is not one of {NOT_QUOTA_KINDS:?}",
                    n.id, n.kind
                ));
            }
            if n.signs.codes.is_empty() && n.signs.phrases.is_empty() {
                out.push(format!("not_quotas {}: no codes and no phrases", n.id));
            }
        }
        let g = &self.gcp;
        if !g.regional_id.contains("{NAME}") || !g.global_id.contains("{NAME}") {
            out.push("gcp: regional_id and global_id must hold {NAME}".into());
        }
        if g.metric_patterns.is_empty() {
            out.push("gcp: no metric_patterns".into());
        }
        out
    }
}

impl AwsEntry {
    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.signs.codes.is_empty() && self.signs.phrases.is_empty() {
            out.push("no codes and no phrases".into());
        }
        match (&self.market, &self.quota_code) {
            (Some(m), None) if m == "spot" || m == "on-demand" => {}
            (Some(m), _) => out.push(format!(
                "market {m:?} needs no quota_code and is spot or on-demand"
            )),
            (None, Some(code)) => {
                if !is_quota_code(code) {
                    out.push(format!("quota_code {code} does not match L-[0-9A-F]{{8}}"));
                }
                if self.quota_name.is_none() || self.why.is_none() || self.slug.is_none() {
                    out.push("quota_name, why and slug are required".into());
                }
            }
            (None, None) => out.push("neither quota_code nor market".into()),
        }
        if self
            .signs
            .phrases
            .iter()
            .chain(&self.signs.with_any)
            .any(|p| p.trim().is_empty())
        {
            out.push("an empty phrase matches everything".into());
        }
        out
    }
}

/// `L-` and eight upper-case hex digits, as the CRD requires.
pub fn is_quota_code(code: &str) -> bool {
    code.strip_prefix("L-").is_some_and(|hex| {
        hex.len() == 8
            && hex
                .chars()
                .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c))
    })
}

#[cfg(test)]
#[path = "catalog_tests.rs"]
mod tests;
