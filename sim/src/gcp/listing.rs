//! ListQuotaPreferences `filter` and `orderBy`, and pageSize / pageToken paging for both lists.
//!
//! Filters follow AIP-160 as far as Cloud Quotas documents them: terms `field=value` (or
//! `field:value`, which gcloud sends, or `!=`) joined by AND and OR, where OR binds tighter.
//! Fields: reconciling, service, quotaId (quota_id), request_type (the request origin) and
//! dimensions.<name> (gcloud passes its `--filter`, e.g. `dimensions.region:us-central1`, on).

use std::cmp::Ordering;

use super::{error::GcpError, preference::Preference};
use crate::paging;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Term {
    field: Field,
    negate: bool,
    value: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Field {
    Reconciling,
    Service,
    QuotaId,
    RequestType,
    Dimension(String),
}

/// A parsed filter: every group must hold, a group holds when any of its terms does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter(Vec<Vec<Term>>);

impl Filter {
    pub fn parse(text: &str) -> Result<Self, GcpError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Self::default());
        }
        let groups = split_words(text, "AND")
            .into_iter()
            .map(|group| {
                let group = group.trim().trim_start_matches('(').trim_end_matches(')');
                split_words(group, "OR").into_iter().map(term).collect()
            })
            .collect::<Result<_, _>>()?;
        Ok(Self(groups))
    }

    pub fn matches(&self, p: &Preference) -> bool {
        self.0.iter().all(|group| {
            group.iter().any(|t| {
                let have = match &t.field {
                    Field::Reconciling => p.reconciling.to_string(),
                    Field::Service => p.service.clone(),
                    Field::QuotaId => p.quota_id.clone(),
                    Field::RequestType => p.origin.name().to_string(),
                    Field::Dimension(key) => p.dimensions.get(key).cloned().unwrap_or_default(),
                };
                (have == t.value) != t.negate
            })
        })
    }
}

fn split_words<'a>(text: &'a str, word: &str) -> Vec<&'a str> {
    let sep = format!(" {word} ");
    text.split(sep.as_str()).collect()
}

fn term(text: &str) -> Result<Term, GcpError> {
    let text = text.trim();
    let (field, negate, value) = if let Some((f, v)) = text.split_once("!=") {
        (f, true, v)
    } else if let Some(i) = text.find(['=', ':']) {
        (&text[..i], false, &text[i + 1..])
    } else {
        return Err(GcpError::invalid(format!(
            "Invalid filter `{text}`: expected <field>=<value>"
        )));
    };
    let field = match field.trim() {
        "reconciling" => Field::Reconciling,
        "service" => Field::Service,
        "quotaId" | "quota_id" => Field::QuotaId,
        "request_type" | "requestType" => Field::RequestType,
        other => match other.strip_prefix("dimensions.") {
            Some(key) if !key.is_empty() => Field::Dimension(key.to_string()),
            _ => {
                return Err(GcpError::invalid(format!(
                    "Invalid filter field `{other}`: the simulator filters on reconciling, \
                     service, quota_id, request_type and dimensions.<name>"
                )));
            }
        },
    };
    let mut value = value.trim().trim_matches('"').to_string();
    if field == Field::Reconciling {
        value = value.to_ascii_lowercase();
        if value != "true" && value != "false" {
            return Err(GcpError::invalid(format!(
                "Invalid filter: reconciling takes true or false, not `{value}`"
            )));
        }
    }
    Ok(Term {
        field,
        negate,
        value,
    })
}

/// Sorts by `orderBy` (`field [asc|desc], ...`); by name when empty.
pub fn order(prefs: &mut [Preference], order_by: &str) -> Result<(), GcpError> {
    type Key = fn(&Preference, &Preference) -> Ordering;
    let mut keys: Vec<(Key, bool)> = Vec::new();
    for part in order_by.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut words = part.split_whitespace();
        let field = words.next().unwrap_or_default();
        let desc = match words.next() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(GcpError::invalid(format!(
                    "Invalid order_by `{part}`: `{other}` is neither asc nor desc"
                )));
            }
        };
        let key: Key = match field {
            "name" => |a, b| a.id.cmp(&b.id),
            "create_time" | "createTime" => |a, b| a.create_time.cmp(&b.create_time),
            "update_time" | "updateTime" => |a, b| a.update_time.cmp(&b.update_time),
            "quota_id" | "quotaId" => |a, b| a.quota_id.cmp(&b.quota_id),
            "service" => |a, b| a.service.cmp(&b.service),
            other => {
                return Err(GcpError::invalid(format!(
                    "Invalid order_by field `{other}`: one of name, create_time, update_time, \
                     quota_id, service"
                )));
            }
        };
        keys.push((key, desc));
    }
    prefs.sort_by(|a, b| {
        keys.iter()
            .map(|(k, desc)| if *desc { k(b, a) } else { k(a, b) })
            .find(|o| o.is_ne())
            .unwrap_or_else(|| a.id.cmp(&b.id))
    });
    Ok(())
}

const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 1000;

/// One page and the next token ("" at the end), on the shared page tokens.
pub fn page<T: Clone>(
    items: &[T],
    token: &str,
    page_size: i64,
    query: &str,
) -> Result<(Vec<T>, String), GcpError> {
    let size = match page_size {
        0 => DEFAULT_PAGE,
        n if n < 0 => {
            return Err(GcpError::invalid(format!(
                "page_size must be >= 0, got {n}"
            )));
        }
        n => (n as usize).min(MAX_PAGE),
    };
    let (items, next) = paging::page(items, token, size, query)
        .map_err(|_| GcpError::invalid("Invalid page_token."))?;
    Ok((items, next.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_refuse_unknown_fields() {
        let f = Filter::parse("reconciling=true AND quota_id=\"X\" OR quotaId:Y").unwrap();
        assert_eq!(f.0.len(), 2);
        assert_eq!(f.0[1].len(), 2);
        assert!(Filter::parse("reconciling:True").is_ok());
        assert!(Filter::parse("dimensions.region:us-central1 AND reconciling:true").is_ok());
        let err = Filter::parse("create_time>2024").unwrap_err();
        assert!(err.message.contains("create_time>2024"), "{err}");
        assert!(Filter::parse("reconciling=maybe").is_err());
    }

    #[test]
    fn pages_through_and_refuses_foreign_tokens() {
        let items: Vec<u32> = (0..5).collect();
        let (p1, t1) = page(&items, "", 2, "q").unwrap();
        assert_eq!(p1, [0, 1]);
        let (p2, t2) = page(&items, &t1, 2, "q").unwrap();
        assert_eq!(p2, [2, 3]);
        let (p3, t3) = page(&items, &t2, 2, "q").unwrap();
        assert_eq!((p3, t3.as_str()), (vec![4], ""));
        assert!(page(&items, &t1, 2, "other").is_err());
        assert!(page(&items, "", -1, "q").is_err());
    }
}
