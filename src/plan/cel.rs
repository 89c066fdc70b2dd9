//! The CRDs' `x-kubernetes-validations`, evaluated with the `cel` crate the way the API server
//! evaluates them: every rule at every node of the object, `self` bound to the value at that
//! node (typed by the schema: a `number` is a double even when written `4`), and a failure
//! reported at the node plus the rule's `fieldPath`, with its message and reason.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
};

use cel::{Context, Env, Value as Cel, objects::Map as CelMap};
use serde_json::Value;

use super::{
    field::{ErrorType, FieldError},
    schema::{child, property, type_name},
};

/// The environment every rule runs in: CEL's standard library (which has `has()`,
/// `matches()`, `all()`, `exists()`, `size()`) plus the strings extension for `split()`,
/// `lowerAscii()` and the rest of what Kubernetes registers as its strings library.
fn env() -> &'static Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Env::stdlib();
        env.add_extension(cel::extensions::strings)
            .expect("the strings extension registers once");
        Arc::new(env)
    })
}

type Compiled = Result<Arc<cel::Program>, String>;

/// A rule's program, compiled once per process: the same few rules run on every object.
fn compile(rule: &str) -> Compiled {
    static CACHE: OnceLock<Mutex<HashMap<String, Compiled>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .expect("rule cache");
    cache
        .entry(rule.to_string())
        .or_insert_with(|| env().compile(rule).map(Arc::new).map_err(|e| e.to_string()))
        .clone()
}

/// The value at a schema node as CEL sees it. Nulls are left out of objects: a nullable field
/// set to null is not `has()` (the API server agrees: `aws: null` fails "exactly one of").
pub fn to_cel(value: &Value, schema: &Value) -> Cel {
    match value {
        Value::Null => Cel::Null,
        Value::Bool(b) => Cel::Bool(*b),
        Value::Number(n) if schema.get("type").and_then(Value::as_str) == Some("number") => {
            Cel::Float(n.as_f64().unwrap_or(f64::NAN))
        }
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Cel::Int(i),
            (None, Some(u)) => Cel::UInt(u),
            _ => Cel::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Cel::String(Arc::new(s.clone())),
        Value::Array(items) => {
            let item = schema.get("items").unwrap_or(&Value::Null);
            Cel::List(Arc::new(items.iter().map(|v| to_cel(v, item)).collect()))
        }
        Value::Object(map) => {
            let entries: HashMap<String, Cel> = map
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| {
                    (
                        k.clone(),
                        to_cel(v, property(schema, k).unwrap_or(&Value::Null)),
                    )
                })
                .collect();
            Cel::Map(CelMap::from(entries))
        }
    }
}

/// Evaluates every rule in the schema against `value`, depth first from the root, appending a
/// field error for each rule that does not hold.
pub fn check(schema: &Value, value: &Value, path: &str, out: &mut Vec<FieldError>) {
    if value.is_null() {
        return;
    }
    for rule in schema
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(e) = check_rule(rule, schema, value, path) {
            out.push(e);
        }
    }
    match value {
        Value::Object(map) => {
            let mut names: Vec<&String> = map.keys().collect();
            names.sort();
            for name in names {
                if let Some(s) = property(schema, name) {
                    check(s, &map[name], &child(path, name), out);
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    check(s, v, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

fn check_rule(rule: &Value, schema: &Value, value: &Value, path: &str) -> Option<FieldError> {
    let source = rule.get("rule")?.as_str()?;
    // Transition rules compare with the stored object; on a create there is none, and the API
    // server skips them too.
    if source.contains("oldSelf") {
        return None;
    }
    let message = rule
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("failed rule: {source}"));
    let outcome = compile(source).and_then(|program| {
        let mut context = Context::with_env(env().clone());
        context.add_variable_from_value("self", to_cel(value, schema));
        program.execute(&context).map_err(|e| e.to_string())
    });
    match outcome {
        Ok(Cel::Bool(true)) => None,
        Ok(Cel::Bool(false)) => Some(failure(rule, schema, value, path, message)),
        Ok(other) => Some(runtime_error(
            path,
            value,
            &format!("rule returned {other:?}, not a bool"),
            &message,
        )),
        Err(e) => Some(runtime_error(path, value, &e, &message)),
    }
}

/// A rule that evaluated to false: reported at the node plus `fieldPath`, with its reason.
fn failure(rule: &Value, schema: &Value, value: &Value, path: &str, message: String) -> FieldError {
    let field_path = rule.get("fieldPath").and_then(Value::as_str);
    let field = match field_path {
        Some(fp) => format!("{path}{}", normalize_field_path(fp)),
        None => path.to_string(),
    };
    let kind = match rule.get("reason").and_then(Value::as_str) {
        Some("FieldValueForbidden") => ErrorType::Forbidden,
        Some("FieldValueRequired") => ErrorType::Required,
        Some("FieldValueDuplicate") => ErrorType::Duplicate,
        _ => ErrorType::Invalid,
    };
    // The server shows the value only for a scalar node reported at itself.
    let scalar = !matches!(
        schema.get("type").and_then(Value::as_str),
        Some("object" | "array")
    );
    let shown =
        (field_path.is_none() && scalar && kind == ErrorType::Invalid).then(|| value.to_string());
    FieldError::new(field, kind, shown, message)
}

/// `['a-b'].c` and `.a.c` both name `.a-b.c`, as the server prints them.
fn normalize_field_path(fp: &str) -> String {
    fp.replace("['", ".").replace("']", "")
}

/// A rule that could not be evaluated (an index out of bounds): the server reports it at the
/// node, with the value's type and the rule's message.
fn runtime_error(path: &str, value: &Value, error: &str, message: &str) -> FieldError {
    FieldError::new(
        path,
        ErrorType::Invalid,
        Some(format!("\"{}\"", type_name(value))),
        format!("{error} evaluating rule: {message}"),
    )
}

#[cfg(test)]
#[path = "cel_tests.rs"]
mod tests;
