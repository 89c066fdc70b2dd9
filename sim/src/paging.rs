//! Page tokens shared by every cloud's listings. Tokens are opaque to clients but bound to the
//! query that made them, so one replayed against another query is refused, as the real APIs
//! refuse a stale one. Each cloud checks its own page-size rules and words its own error.

use sha2::{Digest, Sha256};

/// A token this listing did not hand out (or one past its end).
pub struct BadToken;

/// `size` of `items` from where `token` left off ("" = the start), and the token for the rest
/// when there is more. `query` identifies the listing (operation, caller and filters).
pub fn page<T: Clone>(
    items: &[T],
    token: &str,
    size: usize,
    query: &str,
) -> Result<(Vec<T>, Option<String>), BadToken> {
    let start = if token.is_empty() {
        0
    } else {
        decode(token, query)
            .filter(|&o| o <= items.len())
            .ok_or(BadToken)?
    };
    let end = (start + size).min(items.len());
    let next = (end < items.len()).then(|| encode(end, query));
    Ok((items[start..end].to_vec(), next))
}

fn fingerprint(query: &str) -> String {
    hex::encode(&Sha256::digest(query.as_bytes())[..8])
}

// Hex keeps the token inside AWS's model pattern `^[a-zA-Z0-9/+]*={0,2}$`.
fn encode(offset: usize, query: &str) -> String {
    hex::encode(format!("{offset}.{}", fingerprint(query)))
}

fn decode(token: &str, query: &str) -> Option<usize> {
    let raw = String::from_utf8(hex::decode(token).ok()?).ok()?;
    let (offset, fp) = raw.split_once('.')?;
    (fp == fingerprint(query)).then_some(())?;
    offset.parse().ok()
}
