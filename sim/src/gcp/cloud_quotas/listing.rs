//! ListQuotaPreferences `filter` and `orderBy`, and pageSize / pageToken paging for both lists.
//!
//! Filters follow AIP-160 as far as Cloud Quotas documents them ("by their state, type,
//! create/update time range": `reconciling=true AND request_type=CLOUD_CONSOLE`,
//! `reconciling=true OR creation_time>2022-12-03T10:30:00`): terms joined by AND and OR, where
//! OR binds tighter. Terms compare with `=` (or `:`, which gcloud sends) and `!=`; the times
//! also with `<`, `<=`, `>`, `>=`. Fields: reconciling, request_type (the request origin:
//! ORIGIN_UNSPECIFIED, CLOUD_CONSOLE, AUTO_ADJUSTER), create_time (or creation_time),
//! update_time, and, beyond what Google documents, service, quotaId and dimensions.<name>
//! (gcloud's own help filters on `dimensions.region:us-central1`). Anything else is refused.

use std::cmp::Ordering;

use jiff::{Timestamp, civil::DateTime, tz::TimeZone};

use crate::gcp::{error::GcpError, model::preference::Preference};
use crate::paging;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Term {
    field: Field,
    op: Op,
    value: String,
    /// The value as a time, for the time fields.
    at: Option<Timestamp>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    /// Longest first, so `>=` is not read as `>`.
    const ALL: [(&'static str, Op); 7] = [
        ("!=", Op::Ne),
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("=", Op::Eq),
        (":", Op::Eq),
        (">", Op::Gt),
        ("<", Op::Lt),
    ];

    fn holds(self, o: Ordering) -> bool {
        match self {
            Op::Eq => o.is_eq(),
            Op::Ne => o.is_ne(),
            Op::Lt => o.is_lt(),
            Op::Le => o.is_le(),
            Op::Gt => o.is_gt(),
            Op::Ge => o.is_ge(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Field {
    Reconciling,
    Service,
    QuotaId,
    RequestType,
    CreateTime,
    UpdateTime,
    Dimension(String),
}

impl Field {
    fn is_time(&self) -> bool {
        matches!(self, Field::CreateTime | Field::UpdateTime)
    }
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
        self.0.iter().all(|group| group.iter().any(|t| t.holds(p)))
    }
}

impl Term {
    fn holds(&self, p: &Preference) -> bool {
        let time = match &self.field {
            Field::CreateTime => Some(p.create_time),
            Field::UpdateTime => Some(p.update_time),
            _ => None,
        };
        if let (Some(have), Some(want)) = (time, self.at) {
            return self.op.holds(have.cmp(&want));
        }
        let have = match &self.field {
            Field::Reconciling => p.reconciling.to_string(),
            Field::Service => p.service.clone(),
            Field::QuotaId => p.quota_id.clone(),
            Field::RequestType => p.origin.name().to_string(),
            Field::Dimension(key) => p.dimensions.get(key).cloned().unwrap_or_default(),
            Field::CreateTime | Field::UpdateTime => return false,
        };
        self.op.holds(have.cmp(&self.value))
    }
}

fn split_words<'a>(text: &'a str, word: &str) -> Vec<&'a str> {
    let sep = format!(" {word} ");
    text.split(sep.as_str()).collect()
}

fn term(text: &str) -> Result<Term, GcpError> {
    let text = text.trim();
    let found = Op::ALL
        .iter()
        .filter_map(|(sym, op)| text.find(sym).map(|i| (i, *sym, *op)))
        // The leftmost operator; at one position the longest (the list is longest first).
        .min_by_key(|(i, _, _)| *i);
    let Some((i, sym, op)) = found else {
        return Err(GcpError::invalid(format!(
            "Invalid filter `{text}`: expected <field>=<value>"
        )));
    };
    let (field, value) = (&text[..i], &text[i + sym.len()..]);
    let field = match field.trim() {
        "reconciling" => Field::Reconciling,
        "service" => Field::Service,
        "quotaId" | "quota_id" => Field::QuotaId,
        "request_type" | "requestType" => Field::RequestType,
        "create_time" | "createTime" | "creation_time" => Field::CreateTime,
        "update_time" | "updateTime" => Field::UpdateTime,
        other => match other.strip_prefix("dimensions.") {
            Some(key) if !key.is_empty() => Field::Dimension(key.to_string()),
            _ => {
                return Err(GcpError::invalid(format!(
                    "Invalid filter field `{other}`: the simulator filters on reconciling, \
                     request_type, create_time, update_time, service, quota_id and \
                     dimensions.<name>"
                )));
            }
        },
    };
    let mut value = value.trim().trim_matches('"').to_string();
    if !field.is_time() && !matches!(op, Op::Eq | Op::Ne) {
        return Err(GcpError::invalid(format!(
            "Invalid filter `{text}`: only times compare with <, <=, > and >="
        )));
    }
    if field == Field::Reconciling {
        value = value.to_ascii_lowercase();
        if value != "true" && value != "false" {
            return Err(GcpError::invalid(format!(
                "Invalid filter: reconciling takes true or false, not `{value}`"
            )));
        }
    }
    let at = if field.is_time() {
        Some(time(&value).ok_or_else(|| {
            GcpError::invalid(format!(
                "Invalid filter `{text}`: `{value}` is not a time such as 2022-12-03T10:30:00"
            ))
        })?)
    } else {
        None
    };
    Ok(Term {
        field,
        op,
        value,
        at,
    })
}

/// An RFC 3339 time, or one without an offset (as in Google's example), read as UTC.
fn time(text: &str) -> Option<Timestamp> {
    text.parse::<Timestamp>().ok().or_else(|| {
        let civil: DateTime = text.parse().ok()?;
        civil.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp())
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
        assert!(Filter::parse("quota_id>X").is_err());
        let err = Filter::parse("etag=x").unwrap_err();
        assert!(err.message.contains("etag"), "{err}");
        let f = Filter::parse("reconciling=true OR creation_time>2022-12-03T10:30:00").unwrap();
        assert_eq!(f.0[0][1].op, Op::Gt);
        assert!(Filter::parse("update_time>=2024-01-01T00:00:00Z").is_ok());
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
