use serde_json::{Value, json};

use super::*;

fn qr(spec: Value) -> Value {
    json!({"apiVersion": "quota-operator.dev/v1alpha1", "kind": "QuotaRequirement", "metadata": {"name": "a"}, "spec": spec})
}

fn fields(verdict: Verdict) -> Vec<String> {
    match verdict {
        Verdict::Invalid(errors) => errors.iter().map(|e| e.field.clone()).collect(),
        other => panic!("expected invalid, got {other:?}"),
    }
}

fn admit(obj: Value) -> Verdict {
    Admission::ours().admit(&obj)
}

#[test]
fn a_blocking_error_keeps_every_cel_rule_from_running() {
    // quotaCode past maxLength blocks; the region rule would fail but is not evaluated.
    let too_long = format!("L-{}", "A".repeat(127));
    let errors = fields(admit(qr(
        json!({"accountRef": "a", "aws": {"serviceCode": "ec2", "quotaCode": too_long},
        "regions": ["US_EAST"], "desiredValue": 5}),
    )));
    assert_eq!(errors, ["spec.aws.quotaCode", "<nil>"]);
}

#[test]
fn a_non_blocking_error_lets_the_rules_run_too() {
    // A minimum is not blocking: the server reports it and the CEL failures together.
    let errors = fields(admit(qr(
        json!({"accountRef": "a", "aws": {"serviceCode": "ec2", "quotaCode": "34B43A08"},
        "regions": ["us-east-1"], "desiredValue": 0}),
    )));
    assert_eq!(errors, ["spec.desiredValue", "spec.aws.quotaCode"]);
}

#[test]
fn unknown_fields_fail_decoding_before_anything_is_validated() {
    let mut obj = qr(
        json!({"accountRef": "", "aws": {"serviceCode": "ec2"}, "regions": [], "desiredValue": 0, "region": "x"}),
    );
    obj["metadata"]["labelz"] = json!({});
    assert_eq!(fields(admit(obj)), ["metadata.labelz", "spec.region"]);
}

#[test]
fn status_is_reset_on_create_and_not_validated() {
    let mut obj = qr(
        json!({"accountRef": "a", "aws": {"serviceCode": "ec2", "quotaCode": "L-34B43A08"}, "regions": ["us-east-1"], "desiredValue": 5}),
    );
    obj["status"] = json!({"targets": [{"region": "x", "state": "Bogus"}]});
    assert_eq!(admit(obj), Verdict::Valid);
}

#[test]
fn metadata_name_is_required_and_a_subdomain() {
    let spec = json!({"accountRef": "a", "aws": {"serviceCode": "ec2", "quotaCode": "L-34B43A08"}, "regions": ["us-east-1"], "desiredValue": 5});
    let mut nameless = qr(spec.clone());
    nameless["metadata"] = json!({});
    assert_eq!(fields(admit(nameless)), ["metadata.name", "<nil>"]);
    let mut bad = qr(spec.clone());
    bad["metadata"]["name"] = json!("Spot_VCPU");
    assert_eq!(fields(admit(bad)), ["metadata.name"]);
    let mut generated = qr(spec);
    generated["metadata"] = json!({"generateName": "spot-"});
    assert_eq!(admit(generated), Verdict::Valid);
}

#[test]
fn other_groups_are_not_ours_and_an_unknown_version_of_ours_is_refused() {
    assert_eq!(
        admit(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}})),
        Verdict::NotOurs
    );
    let mut v1 = qr(json!({}));
    v1["apiVersion"] = json!("quota-operator.dev/v1");
    assert_eq!(fields(admit(v1)), ["kind"]);
}
