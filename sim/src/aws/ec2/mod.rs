//! EC2 (ec2 query): DescribeInstanceTypes in `responses`, answered from the instance-type
//! catalog (`aws::instance_types`, a leaf the scenario and the model use too).

pub mod responses;
