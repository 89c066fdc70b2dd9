//! A spec naming a service, quota code or quota name AWS does not have: AWS's
//! NoSuchResourceException becomes a terminal refusal (`QuotaNotFound`, `ServiceNotFound`) with
//! the nearest codes or names AWS lists, so the object stalls with the fix in its message
//! instead of retrying forever. The answer is cached with the quota values (the cache's
//! `missing`), so the listings behind the hint are asked once per TTL, not per reconcile.

use std::collections::HashMap;

use super::{
    cache::{Asked, QuotaCache, ServiceQuotas},
    calls::Calls,
};
use crate::{
    api::reasons,
    cloud::{
        boundary::{CloudError, ErrorKind},
        regions::nearest::{nearest, nearest_name},
    },
};

/// AWS answered that `service` does not exist: the nearest service codes it lists (ListServices)
/// go in the message. A listing that fails gives no hint; the refusal stands, since AWS said.
pub async fn no_such_service(
    calls: &Calls,
    region: &str,
    service: &str,
    answer: &CloudError,
) -> CloudError {
    let codes = calls.list_services(region).await.unwrap_or_default();
    let near = nearest(service, codes.iter().map(String::as_str));
    CloudError::new(
        ErrorKind::SpecMismatch,
        reasons::SERVICE_NOT_FOUND,
        format!(
            "AWS has no service {service:?} (spec.aws.serviceCode){}; AWS answered {answer}",
            hint(&near)
        ),
    )
}

/// AWS answered that the quota does not exist, neither applied nor as a default: the nearest
/// codes (or names) of the service's quotas, from the names the cache holds or one
/// ListAWSDefaultServiceQuotas walk, which the cache then keeps.
pub async fn no_such_quota(
    calls: &Calls,
    cache: &QuotaCache,
    known: &ServiceQuotas,
    where_: (&str, &str),
    asked: &Asked,
    answer: &CloudError,
) -> CloudError {
    let (region, service) = where_;
    let names = match known.names.is_empty() {
        false => known.names.clone(),
        true => match calls.list_defaults(region, service).await {
            Ok(entries) => {
                let names: HashMap<String, String> = (entries.into_iter())
                    .map(|e| (e.view.name, e.view.id))
                    .collect();
                cache.add_names(region, service, names.clone()).await;
                names
            }
            // The service itself is unknown (a single read cannot tell the two apart).
            Err(e) if e.kind == ErrorKind::NotFound => {
                return no_such_service(calls, region, service, answer).await;
            }
            Err(_) => HashMap::new(),
        },
    };
    quota_not_found(service, region, asked, &names, answer)
}

/// The refusal itself, from `names` (quota name -> code). Pure, so it is unit-tested.
pub fn quota_not_found(
    service: &str,
    region: &str,
    asked: &Asked,
    names: &HashMap<String, String>,
    answer: &CloudError,
) -> CloudError {
    let code_of: HashMap<&str, &str> = (names.iter())
        .map(|(name, code)| (code.as_str(), name.as_str()))
        .collect();
    let (which, near): (String, Vec<String>) = match asked {
        Asked::Code(code) => (
            format!("{code} (spec.aws.quotaCode)"),
            (nearest(code, code_of.keys().copied()).into_iter())
                .map(|c| format!("{c} {:?}", code_of[c]))
                .collect(),
        ),
        Asked::Name(name) => (
            format!("named {name:?} (spec.aws.quotaName)"),
            (nearest_name(name, names.keys().map(String::as_str)).into_iter())
                .map(|n| format!("{n:?} {}", names[n]))
                .collect(),
        ),
    };
    let near: Vec<&str> = near.iter().map(String::as_str).collect();
    CloudError::new(
        ErrorKind::SpecMismatch,
        reasons::QUOTA_NOT_FOUND,
        format!(
            "service {service} has no quota {which} in {region}{}; AWS answered {answer}",
            hint(&near)
        ),
    )
}

fn hint(near: &[&str]) -> String {
    if near.is_empty() {
        String::new()
    } else {
        format!(" (nearest: {})", near.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> HashMap<String, String> {
        [
            (
                "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances",
                "L-1216C47A",
            ),
            (
                "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests",
                "L-34B43A08",
            ),
            ("EC2-VPC Elastic IPs", "L-0263D0A3"),
        ]
        .into_iter()
        .map(|(n, c)| (n.to_string(), c.to_string()))
        .collect()
    }

    fn answer() -> CloudError {
        CloudError::new(
            ErrorKind::NotFound,
            "NoSuchResourceException",
            "The request failed because the specified quota L-34B43A09 does not exist in service ec2.",
        )
    }

    #[test]
    fn an_unknown_code_is_terminal_and_names_the_nearest_code_and_what_aws_said() {
        let e = quota_not_found(
            "ec2",
            "us-east-1",
            &Asked::Code("L-34B43A09".into()),
            &names(),
            &answer(),
        );
        assert_eq!(
            (e.kind, e.code.as_str()),
            (ErrorKind::SpecMismatch, "QuotaNotFound")
        );
        assert_eq!(
            e.to_string(),
            "QuotaNotFound: service ec2 has no quota L-34B43A09 (spec.aws.quotaCode) in \
             us-east-1 (nearest: L-34B43A08 \"All Standard (A, C, D, H, I, M, R, T, Z) Spot \
             Instance Requests\"); AWS answered NoSuchResourceException: The request failed \
             because the specified quota L-34B43A09 does not exist in service ec2."
        );
        assert_eq!(reasons::named_in(&e.to_string()), Some("QuotaNotFound"));
    }

    #[test]
    fn an_unknown_name_gets_the_names_meant_with_their_codes() {
        let e = quota_not_found(
            "ec2",
            "us-east-1",
            &Asked::Name("Running On-Demand Standard instances".into()),
            &names(),
            &answer(),
        );
        assert!(
            e.message.contains(
                "(nearest: \"Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances\" \
                 L-1216C47A)"
            ),
            "{e}"
        );
        let far = quota_not_found(
            "ec2",
            "us-east-1",
            &Asked::Name("Lambda concurrent executions".into()),
            &names(),
            &answer(),
        );
        assert!(!far.message.contains("nearest"), "no hint that far: {far}");
        assert_eq!(far.kind, ErrorKind::SpecMismatch);
    }
}
