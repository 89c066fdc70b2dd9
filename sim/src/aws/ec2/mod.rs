//! EC2 (ec2 query): DescribeInstanceTypes in `responses`, answered from the instance-type
//! catalog (`aws::instance_types`, a leaf the scenario and the model use too), with the query
//! protocol's parsing and errors; DescribeRegions in `regions`, from the model's region list.

pub mod regions;
pub mod responses;
