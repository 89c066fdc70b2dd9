//! Errors that look like quotas and are not: capacity stock-outs and API throttling. They are
//! named for what they are, so nobody files a quota increase that cannot help.

use super::{catalog::CATALOG, finding::ExplainError};

/// The not-a-quota error the (normalised) text shows, if any.
pub fn recognise(normalised: &str) -> Option<ExplainError> {
    CATALOG
        .not_quotas
        .iter()
        .find(|n| n.signs.found_in(normalised))
        .map(|n| ExplainError::NotAQuota {
            kind: n.kind.clone(),
            code: n.signs.code_in(normalised),
            explanation: n.explanation.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::text;

    fn kind(t: &str) -> Option<String> {
        match recognise(&text::normalise(t)) {
            Some(ExplainError::NotAQuota { kind, .. }) => Some(kind),
            _ => None,
        }
    }

    #[test]
    fn stock_outs_and_throttling_are_named() {
        assert_eq!(
            kind("An error occurred (InsufficientInstanceCapacity) when calling the RunInstances operation").as_deref(),
            Some("stock-out")
        );
        assert_eq!(
            kind("ZONE_RESOURCE_POOL_EXHAUSTED: The zone 'projects/p/zones/us-central1-a' does not have enough resources available to fulfill the request.").as_deref(),
            Some("stock-out")
        );
        assert_eq!(
            kind("RequestLimitExceeded: Request limit exceeded").as_deref(),
            Some("throttling")
        );
        assert_eq!(
            kind("googleapi: Error 403: Rate Limit Exceeded, rateLimitExceeded").as_deref(),
            Some("throttling")
        );
        assert_eq!(
            kind("VpcLimitExceeded: The maximum number of VPCs has been reached."),
            None
        );
    }
}
