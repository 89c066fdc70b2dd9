//! AWS limits whose quota the error alone decides (VPC, ELB, Fargate, EBS, EKS, Lambda, Elastic
//! IPs, network interfaces): the catalog entry is the answer, the text gives region and limit.

use super::{
    catalog::{AwsEntry, CATALOG},
    finding::{ExplainError, Finding, Options, QuotaId, aws_region_for},
    text,
};

/// The first catalog entry (without a market) the normalised text matches, as a finding.
pub fn recognise(
    raw: &str,
    normalised: &str,
    options: &Options,
) -> Option<Result<Finding, ExplainError>> {
    let entry = CATALOG.aws_match(normalised, false)?;
    let code = entry.signs.code_in(normalised);
    Some(
        aws_region_for(normalised, options, &code)
            .map(|region| finding(entry, code, region, raw, normalised)),
    )
}

fn finding(entry: &AwsEntry, code: String, region: String, raw: &str, normalised: &str) -> Finding {
    let limit = entry
        .limit_after
        .iter()
        .find_map(|m| text::number_after(normalised, m));
    let quoted_by = entry
        .signs
        .codes
        .iter()
        .chain(&entry.signs.phrases)
        .find(|c| text::says(raw, c))
        .map_or(code.as_str(), String::as_str);
    Finding {
        quota: QuotaId::aws(
            &entry.service,
            entry.quota_code.as_deref().unwrap_or_default(),
        ),
        quota_name: entry.quota_name.clone().unwrap_or_default(),
        why: entry
            .why
            .clone()
            .unwrap_or_default()
            .replace("{region}", &region),
        region,
        limit,
        need: None,
        documented_default: entry.default,
        unit: unit(&entry.unit),
        advice: None,
        project: None,
        quoted: text::line_with(raw, quoted_by, 300),
        slug: entry.slug.clone().unwrap_or_else(|| entry.id.clone()),
        error_code: code,
    }
}

/// The catalog's unit as the `&'static str` a finding holds (the catalog lives for the
/// process).
fn unit(unit: &str) -> &'static str {
    CATALOG
        .aws
        .iter()
        .find(|e| e.unit == unit)
        .map_or("units", |e| e.unit.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(t: &str, region: Option<&str>) -> Finding {
        let o = Options {
            region: region.map(Into::into),
            ..Options::default()
        };
        recognise(t, &text::normalise(t), &o)
            .expect("recognised")
            .expect("a finding")
    }

    #[test]
    fn fargate_service_event_on_demand_and_spot() {
        let event = "(service web) was unable to place a task. Reason: You've reached the limit \
                     on the number of vCPUs you can run concurrently. For more information, see \
                     the Troubleshooting section.";
        let f = run(event, Some("us-east-1"));
        assert_eq!(f.quota, QuotaId::aws("fargate", "L-3032A538"));
        let spot = format!("capacity provider FARGATE_SPOT: {event}");
        assert_eq!(
            run(&spot, Some("us-east-1")).quota,
            QuotaId::aws("fargate", "L-36FBB829")
        );
        // The region of the service's ARN is used when present.
        let arn = format!("arn:aws:ecs:eu-central-1:111111111111:service/prod/web {event}");
        assert_eq!(run(&arn, None).region, "eu-central-1");
    }

    #[test]
    fn elb_targets_per_target_group_and_per_load_balancer() {
        let tg = "An error occurred (TooManyTargets) when calling the RegisterTargets operation: \
                  You've reached the limit on the number of targets. target group \
                  arn:aws:elasticloadbalancing:us-west-2:111111111111:targetgroup/web/6d0ecf8";
        let f = run(tg, None);
        assert_eq!(f.quota, QuotaId::aws("elasticloadbalancing", "L-A0D0B863"));
        assert_eq!((f.region.as_str(), f.limit), ("us-west-2", None));
        let alb = "TooManyTargets: The maximum number of targets per load balancer '1000' has \
                   been reached on load balancer \
                   'arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/web/50dc6c'";
        let f = run(alb, None);
        assert_eq!(f.quota, QuotaId::aws("elasticloadbalancing", "L-7E6692B2"));
        assert_eq!((f.region.as_str(), f.limit), ("eu-west-1", Some(1000.0)));
        let nlb = alb.replace("loadbalancer/app/", "loadbalancer/net/");
        assert_eq!(
            run(&nlb, None).quota,
            QuotaId::aws("elasticloadbalancing", "L-B211E961")
        );
    }

    #[test]
    fn elb_load_balancers_by_kind() {
        let alb = "An error occurred (TooManyLoadBalancers) when calling the CreateLoadBalancer \
                   operation: You've reached the limit on the number of load balancers for your \
                   AWS account.";
        let f = run(alb, Some("us-east-1"));
        assert_eq!(f.quota, QuotaId::aws("elasticloadbalancing", "L-53DA6B97"));
        assert_eq!(f.documented_default, Some(50.0));
        let classic =
            "TooManyAccessPoints: The quota for the number of load balancers has been reached.";
        assert_eq!(
            run(classic, Some("us-east-1")).quota,
            QuotaId::aws("elasticloadbalancing", "L-E9E9831D")
        );
    }

    #[test]
    fn elastic_ips_and_network_interfaces() {
        let eip = "An error occurred (AddressLimitExceeded) when calling the AllocateAddress \
                   operation: The maximum number of addresses has been reached.";
        let f = run(eip, Some("eu-west-1"));
        assert_eq!(f.quota, QuotaId::aws("ec2", "L-0263D0A3"));
        let eni = "An error occurred (NetworkInterfaceLimitExceeded) when calling the \
                   CreateNetworkInterface operation: The maximum number of network interfaces \
                   has been reached.";
        let f = run(eni, Some("eu-west-1"));
        assert_eq!(f.quota, QuotaId::aws("vpc", "L-DF5E4CA3"));
        assert_eq!(f.documented_default, Some(5000.0));
    }

    #[test]
    fn a_region_is_required() {
        // Meaningful only when the environment names no region (it is the last fallback).
        if std::env::var_os("AWS_REGION").is_some()
            || std::env::var_os("AWS_DEFAULT_REGION").is_some()
        {
            return;
        }
        let err = recognise(
            "AddressLimitExceeded",
            "AddressLimitExceeded",
            &Options::default(),
        )
        .unwrap()
        .unwrap_err();
        assert!(err.to_string().contains("--region"), "{err}");
    }
}
