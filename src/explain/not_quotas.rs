//! Errors that look like quotas and are not: capacity stock-outs, API throttling, fixed limits
//! Service Quotas cannot raise, task placement in a cluster's own capacity, and API call sizes.
//! They are named for what they are, so nobody files a quota increase that cannot help.

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

    #[test]
    fn ecs_fixed_limits_placement_and_call_sizes_are_named() {
        for (text, expected) in [
            (
                "InvalidParameterException: Desired count exceeds limit.",
                "fixed-limit",
            ),
            ("ClientException: Too many containers.", "fixed-limit"),
            (
                "(service web) was unable to place a task because no container instance met all \
                 of its requirements. The closest matching container-instance abc has \
                 insufficient memory available.",
                "placement",
            ),
            (
                "msg=\"Couldn't run containers\" reason=\"RESOURCE:CPU\"",
                "placement",
            ),
            ("service names can have at most 10 items.", "request-size"),
        ] {
            assert_eq!(kind(text).as_deref(), Some(expected), "{text}");
        }
    }

    #[test]
    fn a_phrase_only_refusal_quotes_the_phrase_it_matched() {
        let Some(ExplainError::NotAQuota { code, .. }) =
            recognise(&text::normalise("ClientException: Too many containers."))
        else {
            panic!("not recognised");
        };
        assert_eq!(code, "\"too many containers\"");
    }
}
