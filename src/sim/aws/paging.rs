//! MaxResults / NextToken paging. Tokens are opaque to clients but bound to the query that made
//! them, so a token replayed against another query is refused like AWS refuses a stale one.

use sha2::{Digest, Sha256};

use super::error::AwsError;

/// AWS's page size when MaxResults is absent.
const DEFAULT_PAGE: usize = 100;

/// One page of `items` and the token for the next, if any. `query` identifies the listing
/// (operation, caller and filters).
pub fn page<T: Clone>(
    items: &[T],
    token: Option<&str>,
    max_results: Option<i64>,
    query: &str,
) -> Result<(Vec<T>, Option<String>), AwsError> {
    let size = match max_results {
        None => DEFAULT_PAGE,
        Some(n @ 1..=100) => n as usize,
        Some(n) => {
            return Err(AwsError::illegal_argument(format!(
                "MaxResults must be between 1 and 100, got {n}."
            )));
        }
    };
    let start = match token {
        None | Some("") => 0,
        Some(t) => decode(t, query)
            .filter(|&o| o <= items.len())
            .ok_or_else(AwsError::bad_token)?,
    };
    let end = (start + size).min(items.len());
    let next = (end < items.len()).then(|| encode(end, query));
    Ok((items[start..end].to_vec(), next))
}

fn fingerprint(query: &str) -> String {
    hex::encode(&Sha256::digest(query.as_bytes())[..8])
}

// Hex keeps the token inside the model's `^[a-zA-Z0-9/+]*={0,2}$` pattern.
fn encode(offset: usize, query: &str) -> String {
    hex::encode(format!("{offset}.{}", fingerprint(query)))
}

fn decode(token: &str, query: &str) -> Option<usize> {
    let raw = String::from_utf8(hex::decode(token).ok()?).ok()?;
    let (offset, fp) = raw.split_once('.')?;
    (fp == fingerprint(query)).then_some(())?;
    offset.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_through_and_refuses_foreign_tokens() {
        let items: Vec<u32> = (0..5).collect();
        let (p1, t1) = page(&items, None, Some(2), "q").unwrap();
        assert_eq!(p1, [0, 1]);
        let (p2, t2) = page(&items, t1.as_deref(), Some(2), "q").unwrap();
        assert_eq!(p2, [2, 3]);
        let (p3, t3) = page(&items, t2.as_deref(), Some(2), "q").unwrap();
        assert_eq!((p3, t3), (vec![4], None));
        let err = page(&items, t1.as_deref(), Some(2), "other").unwrap_err();
        assert_eq!(err.code, "InvalidPaginationTokenException");
        assert!(page(&items, Some("zzz"), None, "q").is_err());
        assert!(page(&items, None, Some(0), "q").is_err());
        assert!(page(&items, None, Some(101), "q").is_err());
    }
}
