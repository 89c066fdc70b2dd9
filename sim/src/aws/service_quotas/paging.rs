//! MaxResults / NextToken paging on the shared page tokens; a replayed or foreign token is
//! InvalidPaginationTokenException, as AWS answers a stale one.

use crate::aws::error::AwsError;
use crate::paging;

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
    paging::page(items, token.unwrap_or_default(), size, query).map_err(|_| AwsError::bad_token())
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
