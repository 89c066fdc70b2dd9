//! EC2 launch errors counted per instance family group: `MaxSpotInstanceCountExceeded`,
//! `VcpuLimitExceeded` and `InstanceLimitExceeded`. Their quotas count vCPUs per family group and
//! market, so the family comes from the instance type (the flag, else the text).

use super::{
    catalog::CATALOG,
    finding::{ExplainError, Finding, Options, QuotaId, aws_region_for},
    text,
};
use crate::capacity::families::{self, Market};

/// The catalog's EC2 family-group entries (those with a market) decide whether the text is one
/// of these errors; the instance type's family decides the quota.
pub fn recognise(
    raw: &str,
    normalised: &str,
    options: &Options,
) -> Option<Result<Finding, ExplainError>> {
    let entry = CATALOG.aws_match(normalised, true)?;
    let market = match entry.market.as_deref() {
        Some("spot") => Market::Spot,
        // An On-Demand error unless the user says otherwise: Spot launches fail with
        // MaxSpotInstanceCountExceeded instead.
        _ => options.market.unwrap_or(Market::OnDemand),
    };
    let code = entry.signs.code_in(normalised);
    let stated = entry
        .limit_after
        .iter()
        .find_map(|m| text::number_after(normalised, m));
    Some(finding(raw, normalised, options, &code, market, stated))
}

fn finding(
    raw: &str,
    text: &str,
    options: &Options,
    code: &str,
    market: Market,
    stated_limit: Option<f64>,
) -> Result<Finding, ExplainError> {
    let instance_type = options
        .instance_type
        .clone()
        .or_else(|| text::instance_type(text))
        .ok_or_else(|| ExplainError::NeedsInstanceType { code: code.into() })?;
    let group = families::family_of(&instance_type).ok_or_else(|| {
        ExplainError::UnknownFamily(format!(
            "{instance_type} is not in a family group with a vCPU quota known here (Standard, F, \
             G and VT, P, X, Inf, DL, Trn, HPC, High Memory); look its quota up in Service Quotas"
        ))
    })?;
    let quota_code = group.code(market).ok_or_else(|| {
        ExplainError::UnknownFamily(format!(
            "{instance_type} ({} group) cannot run as Spot, so it has no Spot quota; launch it \
             On-Demand (--market on-demand)",
            group.name
        ))
    })?;
    let region = aws_region_for(text, options, code)?;
    let why = match code {
        "MaxSpotInstanceCountExceeded" => format!(
            "Spot quotas count the vCPUs of running and requested Spot instances per family \
             group, not instances: launching {instance_type} would take the {} group past its \
             Spot vCPU quota in {region}.",
            group.name
        ),
        "VcpuLimitExceeded" => format!(
            "On-Demand quotas count vCPUs per family group; {instance_type} belongs to the {} \
             group, whose quota in {region} is {}.",
            group.name,
            stated_limit.map_or("exhausted".into(), |l| format!("{l} vCPUs"))
        ),
        _ => {
            let more = text::number_after(text, "allows for");
            format!(
                "the {} group's {} quota in {region} counts vCPUs, and the instances already \
                 running leave room for {} more {instance_type}; the count in the message is \
                 instances, the quota is vCPUs (instances x vCPUs per instance).",
                group.name,
                market.label(),
                more.map_or("no".into(), |m| m.to_string())
            )
        }
    };
    Ok(Finding {
        error_code: code.into(),
        quota: QuotaId::aws("ec2", quota_code),
        quota_name: group.quota_name(market),
        region,
        limit: stated_limit,
        need: None,
        documented_default: None,
        unit: "vCPUs",
        why,
        advice: None,
        project: None,
        quoted: text::line_with(raw, code, 300),
        slug: format!(
            "ec2-{}-{}-vcpu",
            match market {
                Market::Spot => "spot",
                Market::OnDemand => "on-demand",
            },
            group.slug
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(instance_type: Option<&str>, region: Option<&str>) -> Options {
        Options {
            instance_type: instance_type.map(Into::into),
            region: region.map(Into::into),
            market: None,
        }
    }

    fn run(t: &str, o: &Options) -> Result<Finding, ExplainError> {
        recognise(t, &text::normalise(t), o).expect("recognised")
    }

    #[test]
    fn max_spot_count_uses_the_spot_code_of_the_types_family() {
        // As EC2 answers RunInstances / CreateFleet (AWS CLI form).
        let err = "An error occurred (MaxSpotInstanceCountExceeded) when calling the \
                   RunInstances operation: Max spot instance count exceeded";
        let f = run(err, &opts(Some("p5.48xlarge"), Some("us-east-1"))).unwrap();
        assert_eq!(f.quota, QuotaId::aws("ec2", "L-C4BD4855"));
        assert_eq!((f.limit, f.region.as_str()), (None, "us-east-1"));
        // The type found in the text (an Auto Scaling activity) is used when no flag is given.
        let asg = "Launching a new EC2 instance. Status Reason: Max spot instance count exceeded. \
                   Launching EC2 instance failed. InstanceType: c6i.4xlarge, AZ eu-west-1b";
        let f = run(asg, &opts(None, None)).unwrap();
        assert_eq!(f.quota, QuotaId::aws("ec2", "L-34B43A08"));
        assert_eq!(f.region, "eu-west-1");
        assert_eq!(f.slug, "ec2-spot-standard-vcpu");
    }

    #[test]
    fn vcpu_limit_states_the_limit_and_uses_the_on_demand_code() {
        let err = "An error occurred (VcpuLimitExceeded) when calling the RunInstances operation: \
                   You have requested more vCPU capacity than your current vCPU limit of 32 allows \
                   for the instance bucket that the specified instance type belongs to. Please \
                   visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to \
                   this limit.";
        let f = run(err, &opts(Some("g5.12xlarge"), Some("us-west-2"))).unwrap();
        assert_eq!(f.quota, QuotaId::aws("ec2", "L-DB2E81BA"));
        assert_eq!(f.limit, Some(32.0));
        assert!(f.quoted.contains("VcpuLimitExceeded"), "{}", f.quoted);
    }

    #[test]
    fn instance_limit_takes_the_family_from_the_type() {
        let err = "InstanceLimitExceeded: Your quota allows for 0 more running instance(s). You \
                   requested at least 1";
        let f = run(err, &opts(Some("r6i.large"), Some("ap-southeast-2"))).unwrap();
        assert_eq!(f.quota, QuotaId::aws("ec2", "L-1216C47A"));
        assert_eq!(f.limit, None, "an instance count is not a vCPU limit");
        let spot = Options {
            market: Some(Market::Spot),
            ..opts(Some("r6i.large"), Some("ap-southeast-2"))
        };
        assert_eq!(
            run(err, &spot).unwrap().quota,
            QuotaId::aws("ec2", "L-34B43A08")
        );
    }

    #[test]
    fn without_an_instance_type_the_flag_is_named() {
        let err = run(
            "MaxSpotInstanceCountExceeded",
            &opts(None, Some("us-east-1")),
        )
        .unwrap_err();
        assert!(matches!(err, ExplainError::NeedsInstanceType { .. }));
        assert!(err.to_string().contains("--instance-type"), "{err}");
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn hpc_has_no_spot_quota_and_mac_no_group() {
        let spot = "MaxSpotInstanceCountExceeded";
        let o = opts(Some("hpc7g.16xlarge"), Some("us-east-1"));
        assert!(matches!(run(spot, &o), Err(ExplainError::UnknownFamily(_))));
        let o = opts(Some("mac2.metal"), Some("us-east-1"));
        assert!(matches!(run(spot, &o), Err(ExplainError::UnknownFamily(_))));
    }
}
