use serde_json::{Value, json};

use super::*;

fn failures(schema: Value, value: Value) -> Vec<String> {
    let mut out = vec![];
    check(&schema, &value, "spec", &mut out);
    out.iter().map(ToString::to_string).collect()
}

fn rule(rule: &str, extra: Value) -> Value {
    let mut r = json!({"rule": rule, "message": "nope"});
    r.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    r
}

#[test]
fn has_sees_set_fields_and_not_nulls() {
    let schema = json!({"type": "object", "properties": {"aws": {"type": "object", "nullable": true}, "gcp": {"type": "object"}},
        "x-kubernetes-validations": [rule("has(self.aws) != has(self.gcp)", json!({}))]});
    assert!(failures(schema.clone(), json!({"aws": {}})).is_empty());
    assert_eq!(
        failures(schema.clone(), json!({"aws": {}, "gcp": {}})),
        ["spec: Invalid value: nope"]
    );
    assert_eq!(
        failures(schema, json!({"aws": null})),
        ["spec: Invalid value: nope"]
    );
}

#[test]
fn a_scalar_rule_shows_the_value_and_matches_is_a_search() {
    let schema = json!({"type": "string", "x-kubernetes-validations": [rule("self.matches('^L-[0-9A-F]{8}$')", json!({}))]});
    assert!(failures(schema.clone(), json!("L-34B43A08")).is_empty());
    assert_eq!(
        failures(schema, json!("34B43A08")),
        ["spec: Invalid value: \"34B43A08\": nope"]
    );
    let unanchored = json!({"type": "string", "x-kubernetes-validations": [rule("self.matches('[0-9]')", json!({}))]});
    assert!(
        failures(unanchored, json!("abc1")).is_empty(),
        "CEL matches() searches, like RE2"
    );
}

#[test]
fn field_path_and_reason_place_and_word_the_error() {
    let schema = json!({"type": "object", "properties": {"regions": {"type": "array", "items": {"type": "string"}}},
    "x-kubernetes-validations": [
        rule("self.regions.all(r, r.matches('^[a-z]+-[a-z]+-[0-9]$'))", json!({"fieldPath": ".regions"})),
        rule("size(self.regions) < 2", json!({"fieldPath": "['regions']", "reason": "FieldValueForbidden"}))
    ]});
    assert_eq!(
        failures(schema, json!({"regions": ["us-east-1", "US"]})),
        [
            "spec.regions: Invalid value: nope",
            "spec.regions: Forbidden: nope"
        ]
    );
}

#[test]
fn split_comes_from_the_strings_extension_and_an_index_past_the_end_is_a_rule_error() {
    let schema = json!({"type": "object", "properties": {"roleArn": {"type": "string"}, "accountId": {"type": "string"}},
        "x-kubernetes-validations": [rule("!has(self.roleArn) || self.roleArn.split(':')[4] == self.accountId", json!({"fieldPath": ".roleArn"}))]});
    let arn = |account: &str| format!("arn:aws:iam::{account}:role/q");
    assert!(
        failures(
            schema.clone(),
            json!({"accountId": "1", "roleArn": arn("1")})
        )
        .is_empty()
    );
    assert_eq!(
        failures(
            schema.clone(),
            json!({"accountId": "1", "roleArn": arn("2")})
        ),
        ["spec.roleArn: Invalid value: nope"]
    );
    let short = failures(schema, json!({"accountId": "1", "roleArn": "arn"}));
    assert_eq!(short.len(), 1);
    assert!(
        short[0].starts_with("spec: Invalid value: \"object\": ")
            && short[0].ends_with(" evaluating rule: nope"),
        "reported at the node, as the server does: {short:?}"
    );
}

#[test]
fn a_number_field_is_a_double_even_when_written_as_an_integer() {
    let schema =
        json!({"type": "number", "x-kubernetes-validations": [rule("self >= 1.0", json!({}))]});
    assert!(
        failures(schema.clone(), json!(4)).is_empty(),
        "4 is 4.0, not an int"
    );
    assert_eq!(
        failures(schema, json!(0.5)),
        ["spec: Invalid value: 0.5: nope"]
    );
}

#[test]
fn rules_on_nested_nodes_and_list_items_bind_self_there() {
    let schema = json!({"type": "object", "properties": {"items": {"type": "array",
        "items": {"type": "string", "x-kubernetes-validations": [rule("self != 'bad'", json!({}))]}}}});
    assert_eq!(
        failures(schema, json!({"items": ["ok", "bad"]})),
        ["spec.items[1]: Invalid value: \"bad\": nope"]
    );
}

#[test]
fn a_rule_without_a_message_quotes_itself_and_transition_rules_are_skipped_on_create() {
    let schema = json!({"type": "integer", "x-kubernetes-validations": [
        {"rule": "self > 5"},
        {"rule": "self == oldSelf", "message": "immutable"}
    ]});
    assert_eq!(
        failures(schema, json!(3)),
        ["spec: Invalid value: 3: failed rule: self > 5"]
    );
}
