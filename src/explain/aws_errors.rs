//! AWS limits outside EC2's family groups: Fargate vCPUs (an ECS service event), Elastic Load
//! Balancing targets and load balancers, Elastic IPs and network interfaces.

use super::{
    finding::{ExplainError, Finding, Options, QuotaId, aws_region_for},
    text,
};

/// A recognised error before the region is known.
struct Hit {
    code: &'static str,
    service: &'static str,
    quota_code: &'static str,
    quota_name: &'static str,
    unit: &'static str,
    limit: Option<f64>,
    /// AWS's documented default, used when the text states no limit.
    documented_default: Option<f64>,
    why: String,
    slug: &'static str,
}

pub fn recognise(text: &str, options: &Options) -> Option<Result<Finding, ExplainError>> {
    let hit = fargate(text)
        .or_else(|| targets(text))
        .or_else(|| load_balancers(text))
        .or_else(|| addresses(text))
        .or_else(|| interfaces(text))?;
    Some(
        aws_region_for(text, options, hit.code).map(|region| Finding {
            error_code: hit.code.into(),
            quota: QuotaId::aws(hit.service, hit.quota_code),
            quota_name: hit.quota_name.into(),
            why: hit.why.replace("{region}", &region),
            region,
            limit: hit.limit,
            need: None,
            documented_default: hit.documented_default,
            unit: hit.unit,
            advice: None,
            project: None,
            quoted: text::line_with(text, hit.code, 300),
            slug: hit.slug.into(),
        }),
    )
}

/// The ECS service event "... was unable to place a task. Reason: You've reached the limit on
/// the number of vCPUs you can run concurrently" (RunTask answers the same sentence).
fn fargate(text: &str) -> Option<Hit> {
    let said = text::says(
        text,
        "limit on the number of vcpus you can run concurrently",
    ) || text::says(text, "limit on the number of vcpus");
    if !said {
        return None;
    }
    let spot = text::says(text, "spot");
    let (quota_code, quota_name, slug) = if spot {
        (
            "L-36FBB829",
            "Fargate Spot vCPU resource count",
            "fargate-spot-vcpu",
        )
    } else {
        (
            "L-3032A538",
            "Fargate On-Demand vCPU resource count",
            "fargate-on-demand-vcpu",
        )
    };
    Some(Hit {
        code: "You've reached the limit on the number of vCPUs",
        service: "fargate",
        quota_code,
        quota_name,
        unit: "vCPUs",
        limit: None,
        documented_default: None,
        why: format!(
            "Fargate counts the vCPUs of all running {} tasks and pods in the account per \
             region; the new task's vCPUs would take {{region}} past that quota, so ECS could \
             not place it.",
            if spot {
                "Fargate Spot"
            } else {
                "Fargate On-Demand"
            }
        ),
        slug,
    })
}

/// `TooManyTargets`: per target group (RegisterTargets), or per load balancer when the message
/// says so ("The maximum number of targets per load balancer '1000' has been reached on load
/// balancer 'arn:...'").
fn targets(text: &str) -> Option<Hit> {
    let said = text::has_word(text, "TooManyTargets")
        || text::says(text, "reached the limit on the number of targets");
    if !said {
        return None;
    }
    let per_lb = text::says(text, "per load balancer")
        || text::says(text, "per application load balancer")
        || text::says(text, "per network load balancer");
    let network =
        text::says(text, "loadbalancer/net/") || text::says(text, "network load balancer");
    let limit = text::number_after(text, "per load balancer")
        .or_else(|| text::number_after(text, "more than"));
    let (quota_code, quota_name, slug, why) = if per_lb && network {
        (
            "L-B211E961",
            "Targets per Availability Zone per Network Load Balancer",
            "elb-targets-per-nlb-az",
            "A Network Load Balancer counts its targets per Availability Zone (with cross-zone \
             load balancing, every target counts in every zone); this one is full in {region}.",
        )
    } else if per_lb {
        (
            "L-7E6692B2",
            "Targets per Application Load Balancer",
            "elb-targets-per-alb",
            "An Application Load Balancer counts the targets of all its target groups together \
             (a target in two groups counts twice); this one is full in {region}.",
        )
    } else {
        (
            "L-A0D0B863",
            "Targets per Target Group per Region",
            "elb-targets-per-target-group",
            "A target group holds a limited number of targets; registering more failed in \
             {region}. If the message spoke of a load balancer, the per-ALB quota L-7E6692B2 is \
             the one to raise instead.",
        )
    };
    Some(Hit {
        code: "TooManyTargets",
        service: "elasticloadbalancing",
        quota_code,
        quota_name,
        unit: "targets",
        limit,
        documented_default: if network { Some(500.0) } else { Some(1000.0) },
        why: why.into(),
        slug,
    })
}

/// `TooManyLoadBalancers` (ELBv2) and `TooManyAccessPoints` (Classic): load balancers per
/// region, one quota per kind.
fn load_balancers(text: &str) -> Option<Hit> {
    let classic = text::has_word(text, "TooManyAccessPoints");
    let said = classic
        || text::has_word(text, "TooManyLoadBalancers")
        || text::says(text, "reached the limit on the number of load balancers");
    if !said {
        return None;
    }
    let network =
        text::says(text, "network load balancer") || text::says(text, "loadbalancer/net/");
    let (code, quota_code, quota_name, default, slug) = if classic || text::says(text, "classic") {
        (
            "TooManyAccessPoints",
            "L-E9E9831D",
            "Classic Load Balancers per Region",
            20.0,
            "elb-classic-load-balancers",
        )
    } else if network {
        (
            "TooManyLoadBalancers",
            "L-69A177A2",
            "Network Load Balancers per Region",
            50.0,
            "elb-network-load-balancers",
        )
    } else {
        (
            "TooManyLoadBalancers",
            "L-53DA6B97",
            "Application Load Balancers per Region",
            50.0,
            "elb-application-load-balancers",
        )
    };
    Some(Hit {
        code,
        service: "elasticloadbalancing",
        quota_code,
        quota_name,
        unit: "load balancers",
        limit: text::number_after(text, "load balancers per region"),
        documented_default: Some(default),
        why: format!(
            "{quota_name} is a per-region count; {{region}} has reached it. (The message does not \
             always say which kind: this assumes {}; Network Load Balancers use L-69A177A2, \
             Classic ones L-E9E9831D.)",
            if network {
                "a Network Load Balancer"
            } else if classic {
                "a Classic Load Balancer"
            } else {
                "an Application Load Balancer"
            }
        ),
        slug,
    })
}

/// `AddressLimitExceeded`: "The maximum number of addresses has been reached." Elastic IPs per
/// region.
fn addresses(text: &str) -> Option<Hit> {
    let said = text::has_word(text, "AddressLimitExceeded")
        || text::says(text, "maximum number of addresses has been reached");
    said.then(|| Hit {
        code: "AddressLimitExceeded",
        service: "ec2",
        quota_code: "L-0263D0A3",
        quota_name: "EC2-VPC Elastic IPs",
        unit: "addresses",
        limit: None,
        documented_default: Some(5.0),
        why: "Elastic IP addresses are counted per region, allocated or associated alike (NAT \
              gateways hold one each); {region} has none left to allocate."
            .into(),
        slug: "ec2-elastic-ips",
    })
}

/// `NetworkInterfaceLimitExceeded`: network interfaces per region (each awsvpc ECS task, each
/// EKS pod with its own ENI, each Lambda in a VPC and each load balancer node uses them).
fn interfaces(text: &str) -> Option<Hit> {
    let said = text::has_word(text, "NetworkInterfaceLimitExceeded")
        || text::says(
            text,
            "maximum number of network interfaces has been reached",
        );
    said.then(|| Hit {
        code: "NetworkInterfaceLimitExceeded",
        service: "vpc",
        quota_code: "L-DF5E4CA3",
        quota_name: "Network interfaces per Region",
        unit: "network interfaces",
        limit: None,
        documented_default: Some(5000.0),
        why: "Network interfaces are counted per region across all VPCs (awsvpc ECS tasks, \
              Lambda functions in a VPC, load balancer nodes, NAT gateways); {region} is at the \
              quota."
            .into(),
        slug: "vpc-network-interfaces",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, region: Option<&str>) -> Finding {
        let o = Options {
            region: region.map(Into::into),
            ..Options::default()
        };
        recognise(text, &o).expect("recognised").expect("a finding")
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
        let err = recognise("AddressLimitExceeded", &Options::default())
            .unwrap()
            .unwrap_err();
        assert!(err.to_string().contains("--region"), "{err}");
    }
}
