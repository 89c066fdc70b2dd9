//! EC2 (ec2 query): DescribeInstanceTypes in `responses`, answered from the instance-type
//! catalog in `instance_types` (built in, plus the scenario's `ec2` section).

pub mod instance_types;
pub mod responses;
