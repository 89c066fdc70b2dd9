use serde_json::{Value, json};

use super::*;

fn errors(schema: Value, value: Value) -> Vec<String> {
    let mut out = vec![];
    validate(&schema, &value, "spec", &mut out);
    out.iter().map(ToString::to_string).collect()
}

#[test]
fn a_value_of_the_wrong_type_names_both_types() {
    assert_eq!(
        errors(json!({"type": "integer", "format": "int64"}), json!("2000")),
        ["spec: Invalid value: \"string\": spec in body must be of type integer: \"string\""]
    );
    assert_eq!(
        errors(json!({"type": "string"}), json!(true)),
        ["spec: Invalid value: \"boolean\": spec in body must be of type string: \"boolean\""]
    );
    assert!(
        errors(json!({"type": "number"}), json!(4)).is_empty(),
        "an integer is a number"
    );
}

#[test]
fn a_fraction_where_an_int64_belongs_gets_the_servers_two_errors() {
    let e = errors(json!({"type": "integer", "format": "int64"}), json!(2.5));
    assert_eq!(
        e[0],
        "spec: Invalid value: \"float64\": spec in body must be of type int64: \"float64\""
    );
    assert!(e[1].starts_with("<nil>: Invalid value: \"\": Checked value must be of type integer"));
}

#[test]
fn required_properties_are_named_under_their_parent() {
    let schema = json!({"type": "object", "required": ["a", "b"], "properties": {"a": {"type": "string"}, "b": {"type": "string"}}});
    assert_eq!(
        errors(schema, json!({"a": "x"})),
        ["spec.b: Required value"]
    );
}

#[test]
fn bounds_inclusive_and_exclusive() {
    let schema = json!({"type": "integer", "minimum": 1.0, "maximum": 10_000_000_000.0_f64});
    assert_eq!(
        errors(schema.clone(), json!(0)),
        ["spec: Invalid value: 0: spec in body should be greater than or equal to 1"]
    );
    assert_eq!(
        errors(schema.clone(), json!(20_000_000_000_i64)),
        [
            "spec: Invalid value: 20000000000: spec in body should be less than or equal to 10000000000"
        ]
    );
    assert!(errors(schema, json!(1)).is_empty());
    let exclusive = json!({"type": "number", "minimum": 0.5, "exclusiveMinimum": true, "maximum": 2, "exclusiveMaximum": true});
    assert_eq!(
        errors(exclusive.clone(), json!(0.5)),
        ["spec: Invalid value: 0.5: spec in body should be greater than 0.5"]
    );
    assert_eq!(
        errors(exclusive, json!(2)),
        ["spec: Invalid value: 2: spec in body should be less than 2"]
    );
}

#[test]
fn lengths_count_characters_and_too_long_is_its_own_kind() {
    let schema = json!({"type": "string", "minLength": 2, "maxLength": 3});
    assert_eq!(
        errors(schema.clone(), json!("a")),
        ["spec: Invalid value: \"a\": spec in body should be at least 2 chars long"]
    );
    assert_eq!(
        errors(schema.clone(), json!("abcd")),
        ["spec: Too long: may not be more than 3 bytes"]
    );
    assert!(
        errors(schema, json!("äöü")).is_empty(),
        "three characters, six bytes"
    );
}

#[test]
fn pattern_and_enum() {
    assert_eq!(
        errors(
            json!({"type": "string", "pattern": "^L-[0-9]+$"}),
            json!("X-1")
        ),
        ["spec: Invalid value: \"X-1\": spec in body should match '^L-[0-9]+$'"]
    );
    assert_eq!(
        errors(
            json!({"type": "string", "enum": ["Open", "Approved"]}),
            json!("Bogus")
        ),
        ["spec: Unsupported value: \"Bogus\": supported values: \"Open\", \"Approved\""]
    );
}

#[test]
fn item_counts_and_set_uniqueness() {
    let schema = json!({"type": "array", "minItems": 1, "maxItems": 2, "x-kubernetes-list-type": "set", "items": {"type": "string"}});
    assert_eq!(
        errors(schema.clone(), json!([])),
        ["spec: Invalid value: 0: spec in body should have at least 1 items"]
    );
    assert_eq!(
        errors(schema.clone(), json!(["a", "b", "c"])),
        ["spec: Too many: 3: must have at most 2 items"]
    );
    assert_eq!(
        errors(schema.clone(), json!(["a", "a"])),
        ["spec[1]: Duplicate value: \"a\""]
    );
    assert_eq!(
        errors(schema, json!([1])),
        [
            "spec[0]: Invalid value: \"integer\": spec[0] in body must be of type string: \"integer\""
        ]
    );
}

#[test]
fn map_values_are_named_by_key() {
    let schema = json!({"type": "object", "additionalProperties": {"type": "integer"}});
    assert_eq!(
        errors(schema, json!({"L-1": "lots"})),
        [
            "spec.L-1: Invalid value: \"string\": spec.L-1 in body must be of type integer: \"string\""
        ]
    );
}

#[test]
fn unknown_fields_name_the_topmost_undeclared_field_only() {
    let schema = json!({"type": "object", "properties": {
        "aws": {"type": "object", "properties": {"quotaCode": {"type": "string"}}},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "items": {"type": "array", "items": {"type": "object", "properties": {"key": {"type": "string"}}}}
    }});
    let value = json!({
        "aws": {"quotaCode": "x", "quota": 1},
        "labels": {"anything": "goes"},
        "items": [{"key": "a", "operator": "In"}],
        "extra": {"deep": {"er": 1}}
    });
    let mut out = vec![];
    unknown_fields(&schema, &value, "spec", &mut out);
    let fields: Vec<&str> = out.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        ["spec.aws.quota", "spec.extra", "spec.items[0].operator"]
    );
}

#[test]
fn nulls_are_dropped_unless_the_field_is_nullable() {
    let schema = json!({"type": "object", "properties": {
        "kept": {"type": "object", "nullable": true},
        "dropped": {"type": "string"}
    }});
    let mut value = json!({"kept": null, "dropped": null});
    drop_disallowed_nulls(&schema, &mut value);
    assert_eq!(value, json!({"kept": null}));
    assert!(errors(schema, value).is_empty(), "a nullable null is valid");
}

#[test]
fn a_map_past_max_properties_is_too_many_as_the_server_words_it() {
    let schema = json!({"type": "object", "maxProperties": 2,
                        "additionalProperties": {"type": "string", "maxLength": 3}});
    let out = errors(schema.clone(), json!({"a": "1", "b": "2", "c": "3"}));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0], "spec: Too many: 3: must have at most 2 items");
    let long = errors(schema, json!({"a": "long"}));
    assert_eq!(long.len(), 1, "{long:?}");
    assert!(long[0].starts_with("spec.a: Too long"), "{long:?}");
}
