//! Integration tests on a real kube-apiserver + etcd (see tools/controlplane). One server serves
//! the whole run; every test has its own namespace and its own in-process operator.

mod account_status;
mod aws;
mod aws_accounts;
mod capacity;
mod chart;
mod controlplane;
#[path = "../support/corpus.rs"]
mod corpus;
mod errors;
mod examples;
mod fake;
mod faults;
mod faults_audit;
mod faults_check;
mod fleet;
mod gate;
mod gcp;
mod gcp_preferences;
mod harness;
mod health;
mod kubectl;
mod leader;
mod lifecycle;
mod metrics;
mod mistakes;
mod mixed;
mod nodepools;
mod one_need;
mod ownership;
mod process;
mod regions;
mod shutdown;
mod stale;
mod support_case_reading;
mod support_cases;
mod templates;
mod tenants;
mod usage;
mod usage_gcp;
mod validation;
mod writes;
