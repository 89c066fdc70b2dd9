//! Structural validation against a CRD's OpenAPI v3 schema, as the API server does it for a
//! custom resource: types, required, bounds, lengths, pattern, enum, item counts and `set`
//! uniqueness, with its messages. Also the two passes that come before: strict field
//! validation (unknown fields) and the dropping of nulls that the schema does not allow.

use std::collections::BTreeSet;

use regex::Regex;
use serde_json::{Map, Value};

use super::field::{ErrorType, FieldError};

/// `parent.name`, or `name` at the root.
pub fn child(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// The schema of property `name` of an object schema: a declared property, else the
/// `additionalProperties` schema of a map.
pub fn property<'a>(schema: &'a Value, name: &str) -> Option<&'a Value> {
    schema
        .get("properties")
        .and_then(|p| p.get(name))
        .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()))
}

fn declares_fields(schema: &Value) -> bool {
    schema.get("properties").is_some()
        && schema.get("additionalProperties").is_none()
        && schema.get("x-kubernetes-preserve-unknown-fields") != Some(&Value::Bool(true))
}

/// Fields the schema does not declare, named as strict decoding names them (`spec.foo`; the
/// topmost unknown field only, not what lies under it).
pub fn unknown_fields(schema: &Value, value: &Value, path: &str, out: &mut Vec<FieldError>) {
    match value {
        Value::Object(map) => {
            for (name, v) in map {
                let here = child(path, name);
                match property(schema, name) {
                    Some(s) => unknown_fields(s, v, &here, out),
                    None if declares_fields(schema) => {
                        out.push(FieldError::new(here, ErrorType::UnknownField, None, ""));
                    }
                    None => {}
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    unknown_fields(s, v, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

/// Drops null properties whose schema is not `nullable`, as the API server does before it
/// validates (a null `regions` is then a missing one: "Required value").
pub fn drop_disallowed_nulls(schema: &Value, value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|name, v| {
                !v.is_null()
                    || property(schema, name)
                        .is_some_and(|s| s.get("nullable") == Some(&Value::Bool(true)))
            });
            for (name, v) in map.iter_mut() {
                if let Some(s) = property(schema, name) {
                    drop_disallowed_nulls(s, v);
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                items.iter_mut().for_each(|v| drop_disallowed_nulls(s, v));
            }
        }
        _ => {}
    }
}

/// The JSON type name the API server quotes for a value of the wrong type.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A schema bound as Go's `%v` prints it (`1`, `10000000000`, `0.5`).
fn bound(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e21 {
        format!("{}", n as i128)
    } else {
        n.to_string()
    }
}

/// Validates `value` against `schema` at `path`, appending what is wrong.
pub fn validate(schema: &Value, value: &Value, path: &str, out: &mut Vec<FieldError>) {
    if value.is_null() {
        // Only nullable fields keep a null (see drop_disallowed_nulls); it has nothing to check.
        if schema.get("nullable") != Some(&Value::Bool(true)) {
            type_error(schema, value, path, out);
        }
        return;
    }
    if !has_type(schema, value, path, out) {
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
        out.push(FieldError::new(
            path,
            ErrorType::NotSupported,
            Some(value.to_string()),
            format!("supported values: {}", list.join(", ")),
        ));
    }
    match value {
        Value::String(s) => string(schema, s, value, path, out),
        Value::Number(n) => number(schema, n.as_f64().unwrap_or(f64::NAN), value, path, out),
        Value::Array(items) => array(schema, items, path, out),
        Value::Object(map) => object(schema, map, path, out),
        _ => {}
    }
}

fn type_error(schema: &Value, value: &Value, path: &str, out: &mut Vec<FieldError>) {
    let want = schema
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("object");
    let got = type_name(value);
    out.push(FieldError::new(
        path,
        ErrorType::TypeInvalid,
        Some(format!("\"{got}\"")),
        format!("{path} in body must be of type {want}: \"{got}\""),
    ));
}

/// Checks `type` (and an integer's format); false when the value is of another type.
fn has_type(schema: &Value, value: &Value, path: &str, out: &mut Vec<FieldError>) -> bool {
    let Some(want) = schema.get("type").and_then(Value::as_str) else {
        return true;
    };
    let ok = match (want, value) {
        ("object", Value::Object(_))
        | ("array", Value::Array(_))
        | ("string", Value::String(_))
        | ("boolean", Value::Bool(_))
        | ("number", Value::Number(_)) => true,
        ("integer", Value::Number(n)) if n.is_i64() || n.is_u64() => true,
        ("integer", Value::Number(_)) => {
            // A fraction where an int64 belongs: the server's two messages for it.
            let format = schema
                .get("format")
                .and_then(Value::as_str)
                .unwrap_or("integer");
            out.push(FieldError::new(
                path,
                ErrorType::TypeInvalid,
                Some("\"float64\"".into()),
                format!("{path} in body must be of type {format}: \"float64\""),
            ));
            out.push(FieldError::new(
                "<nil>",
                ErrorType::Invalid,
                Some("\"\"".into()),
                format!("Checked value must be of type integer with format {format} in {path}"),
            ));
            return false;
        }
        _ => false,
    };
    if !ok {
        type_error(schema, value, path, out);
    }
    ok
}

fn string(schema: &Value, s: &str, value: &Value, path: &str, out: &mut Vec<FieldError>) {
    // Lengths count characters, as Go's utf8.RuneCountInString does.
    let len = s.chars().count() as u64;
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
        && len > max
    {
        out.push(FieldError::new(
            path,
            ErrorType::TooLong,
            None,
            format!("may not be more than {max} bytes"),
        ));
    }
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && len < min
    {
        out.push(FieldError::invalid(
            path,
            value,
            format!("{path} in body should be at least {min} chars long"),
        ));
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        // The server compiles patterns when the CRD is created; one it cannot is not ours to judge.
        if Regex::new(pattern).is_ok_and(|re| !re.is_match(s)) {
            out.push(FieldError::invalid(
                path,
                value,
                format!("{path} in body should match '{pattern}'"),
            ));
        }
    }
}

fn number(schema: &Value, n: f64, value: &Value, path: &str, out: &mut Vec<FieldError>) {
    let exclusive = |key: &str| schema.get(key) == Some(&Value::Bool(true));
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
        let (bad, words) = if exclusive("exclusiveMinimum") {
            (n <= min, "greater than")
        } else {
            (n < min, "greater than or equal to")
        };
        if bad {
            out.push(FieldError::invalid(
                path,
                value,
                format!("{path} in body should be {words} {}", bound(min)),
            ));
        }
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        let (bad, words) = if exclusive("exclusiveMaximum") {
            (n >= max, "less than")
        } else {
            (n > max, "less than or equal to")
        };
        if bad {
            out.push(FieldError::invalid(
                path,
                value,
                format!("{path} in body should be {words} {}", bound(max)),
            ));
        }
    }
}

fn array(schema: &Value, items: &[Value], path: &str, out: &mut Vec<FieldError>) {
    too_many(schema, "maxItems", items.len(), path, out);
    let len = items.len() as u64;
    if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
        && len < min
    {
        out.push(FieldError::invalid(
            path,
            &Value::from(len),
            format!("{path} in body should have at least {min} items"),
        ));
    }
    if let Some(item) = schema.get("items") {
        for (i, v) in items.iter().enumerate() {
            validate(item, v, &format!("{path}[{i}]"), out);
        }
    }
    if schema.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("set") {
        let mut seen = BTreeSet::new();
        for (i, v) in items.iter().enumerate() {
            if !seen.insert(v.to_string()) {
                out.push(FieldError::new(
                    format!("{path}[{i}]"),
                    ErrorType::Duplicate,
                    Some(v.to_string()),
                    "",
                ));
            }
        }
    }
}

/// `maxItems` or `maxProperties`, as the API server reports either.
fn too_many(schema: &Value, bound: &str, len: usize, path: &str, out: &mut Vec<FieldError>) {
    if let Some(max) = schema.get(bound).and_then(Value::as_u64)
        && len as u64 > max
    {
        out.push(FieldError::new(
            path,
            ErrorType::TooMany,
            Some(len.to_string()),
            format!("must have at most {max} items"),
        ));
    }
}

fn object(schema: &Value, map: &Map<String, Value>, path: &str, out: &mut Vec<FieldError>) {
    // The API server words a map's bound as an array's.
    too_many(schema, "maxProperties", map.len(), path, out);
    for name in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !map.contains_key(name) {
            out.push(FieldError::required(child(path, name)));
        }
    }
    for (name, v) in map {
        if let Some(s) = property(schema, name) {
            validate(s, v, &child(path, name), out);
        }
    }
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
