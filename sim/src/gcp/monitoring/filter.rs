//! The subset of Monitoring's filter language quota tools use: `<key> = "<value>"` terms
//! joined by AND, on `metric.type`, `resource.type`, `resource.label(s).<name>` and
//! `metric.label(s).<name>`. Anything else is INVALID_ARGUMENT, as Monitoring answers a filter
//! it cannot parse; a filter must name a metric type.

use std::collections::BTreeMap;

use crate::gcp::error::GcpError;

/// Terms that must all hold, by key (`metric.type`, `resource.type`, `resource.label.<n>`,
/// `metric.label.<n>`, labels always in the singular).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    pub terms: Vec<(String, String)>,
}

impl Filter {
    pub fn parse(text: &str) -> Result<Self, GcpError> {
        let bad = |why: &str| {
            GcpError::invalid(format!(
                "Field filter had an invalid value of \"{text}\": {why}"
            ))
        };
        let mut terms = Vec::new();
        for term in split_and(text) {
            let (key, value) = term
                .split_once('=')
                .ok_or_else(|| bad(&format!("expected `<key> = \"<value>\"`, got `{term}`")))?;
            let key = normalise(key.trim()).ok_or_else(|| {
                bad(&format!(
                    "`{}` is not a filter key the simulator knows",
                    key.trim()
                ))
            })?;
            let value =
                unquote(value.trim()).ok_or_else(|| bad("values must be quoted strings"))?;
            terms.push((key, value));
        }
        if !terms.iter().any(|(k, _)| k == "metric.type") {
            return Err(bad(
                "the filter must specify a metric type (metric.type = \"...\")",
            ));
        }
        Ok(Self { terms })
    }

    /// Whether a series with these labels (keys as in `terms`) matches every term.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.terms
            .iter()
            .all(|(k, v)| labels.get(k).is_some_and(|have| have == v))
    }
}

/// The terms between top-level ` AND `s (quoted text may hold anything).
fn split_and(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let words: Vec<&str> = text.split(' ').collect();
    for (i, w) in words.iter().enumerate() {
        if quote.is_none() && w.eq_ignore_ascii_case("AND") && i > 0 {
            out.push(std::mem::take(&mut cur));
            continue;
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(w);
        for c in w.chars() {
            match quote {
                Some(q) if c == q => quote = None,
                None if c == '"' || c == '\'' => quote = Some(c),
                _ => {}
            }
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

fn normalise(key: &str) -> Option<String> {
    if key == "metric.type" || key == "resource.type" {
        return Some(key.into());
    }
    for (plural, singular) in [
        ("resource.labels.", "resource.label."),
        ("resource.label.", "resource.label."),
        ("metric.labels.", "metric.label."),
        ("metric.label.", "metric.label."),
    ] {
        if let Some(name) = key.strip_prefix(plural)
            && !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Some(format!("{singular}{name}"));
        }
    }
    None
}

fn unquote(v: &str) -> Option<String> {
    let q = v.chars().next()?;
    let inner = v.get(1..v.len().checked_sub(1)?)?;
    (matches!(q, '"' | '\'') && v.len() >= 2 && v.ends_with(q) && !inner.contains(q))
        .then(|| inner.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_quota_filters() {
        let f = Filter::parse(
            "metric.type = \"serviceruntime.googleapis.com/quota/allocation/usage\" AND \
             resource.labels.service = \"compute.googleapis.com\" AND \
             resource.label.location=\"us-central1\" and metric.labels.quota_metric = 'compute.googleapis.com/cpus'",
        )
        .unwrap();
        assert_eq!(f.terms.len(), 4);
        assert_eq!(f.terms[1].0, "resource.label.service");
        assert_eq!(
            f.terms[3],
            (
                "metric.label.quota_metric".into(),
                "compute.googleapis.com/cpus".into()
            )
        );
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for bad in [
            "",
            "resource.type = \"consumer_quota\"",
            "metric.type = serviceruntime",
            "metric.type = starts_with(\"x\")",
            "project = \"p\" AND metric.type = \"x\"",
            "metric.type != \"x\"",
            "metric.type = \"x\" OR metric.type = \"y\"",
        ] {
            let err = Filter::parse(bad).unwrap_err();
            assert_eq!(err.code, crate::gcp::error::Code::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn quoted_and_is_not_a_separator() {
        let f = Filter::parse("metric.type = \"a AND b\"").unwrap();
        assert_eq!(
            f.terms,
            [("metric.type".to_string(), "a AND b".to_string())]
        );
    }
}
