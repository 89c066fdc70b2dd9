//! docs/api.md is the API reference rendered from crds/crds.yaml (the CRDs' own schema: what the
//! API server enforces and `kubectl explain` shows), so the reference cannot say what the server
//! does not. This test renders it and fails when the committed file differs; with
//! `QO_UPDATE_DOCS=1` it writes the file instead (tools/update-crds.sh does both steps).

use serde_json::Value;
use std::fmt::Write as _;

const CRDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/crds/crds.yaml");
const API_MD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md");

#[test]
fn docs_api_md_is_rendered_from_the_crds() {
    let crds = std::fs::read_to_string(CRDS).expect("read crds/crds.yaml");
    let rendered = render(&crds);
    if std::env::var_os("QO_UPDATE_DOCS").is_some_and(|v| v == "1") {
        std::fs::write(API_MD, &rendered).expect("write docs/api.md");
        return;
    }
    let committed = std::fs::read_to_string(API_MD).unwrap_or_default();
    if committed != rendered {
        let line = first_difference(&committed, &rendered);
        panic!(
            "docs/api.md is stale (it differs from what crds/crds.yaml renders, from line {line}): \
             run `QO_UPDATE_DOCS=1 cargo test --test api_reference` or tools/update-crds.sh and commit it"
        );
    }
}

fn first_difference(a: &str, b: &str) -> usize {
    let mut lines = a.lines().zip(b.lines());
    lines
        .position(|(x, y)| x != y)
        .unwrap_or(a.lines().count().min(b.lines().count()))
        + 1
}

/// The whole reference: a preamble, then each CRD in the file's order.
fn render(crds_yaml: &str) -> String {
    let mut out = String::from(
        "# API reference\n\n\
         <!-- Generated from crds/crds.yaml by tests/api_reference.rs: do not edit by hand. \
         Regenerate with `QO_UPDATE_DOCS=1 cargo test --test api_reference` (tools/update-crds.sh runs it). -->\n\n\
         Rendered from [`crds/crds.yaml`](../crds/crds.yaml), the schema the API server enforces \
         (`kubectl explain` shows the same descriptions). Each field lists its type, whether it is \
         required, its description, and the checks admission makes on it: bounds, patterns, enums, \
         defaults and the messages of its CEL rules (`x-kubernetes-validations`). What the fields \
         mean in practice is in [concepts.md](concepts.md).\n",
    );
    let docs: Vec<Value> = crds_yaml
        .split("\n---\n")
        .map(|doc| serde_yaml::from_str(doc).expect("CRD YAML"))
        .collect();
    for crd in &docs {
        render_crd(crd, &mut out);
    }
    out
}

fn render_crd(crd: &Value, out: &mut String) {
    let spec = &crd["spec"];
    let names = &spec["names"];
    let kind = str_of(&names["kind"]);
    let _ = write!(out, "\n## {kind}\n\n");
    let mut facts = vec![
        format!("`{}`", str_of(&crd["metadata"]["name"])),
        format!("scope `{}`", str_of(&spec["scope"])),
        format!("plural `{}`", str_of(&names["plural"])),
    ];
    for (key, label) in [("shortNames", "short names"), ("categories", "categories")] {
        if let Some(list) = names[key].as_array() {
            let items: Vec<String> = list.iter().map(|n| format!("`{}`", str_of(n))).collect();
            facts.push(format!("{label} {}", items.join(", ")));
        }
    }
    for version in spec["versions"].as_array().into_iter().flatten() {
        let group_version = format!("{}/{}", str_of(&spec["group"]), str_of(&version["name"]));
        let _ = writeln!(out, "`apiVersion: {group_version}`; {}.", facts.join("; "));
        let schema = &version["schema"]["openAPIV3Schema"];
        if let Some(text) = schema["description"].as_str() {
            let _ = writeln!(out, "\n{}", one_line(text));
        }
        render_columns(&kind, version, out);
        for part in ["spec", "status"] {
            let node = &schema["properties"][part];
            if node.is_null() {
                continue;
            }
            let required = is_required(schema, part);
            let _ = write!(out, "\n### {kind} {part}\n\n");
            out.push_str("| field | type | required | description and checks |\n");
            out.push_str("| --- | --- | --- | --- |\n");
            field_rows(part, node, required, out);
        }
    }
}

/// The columns `kubectl get` prints (additionalPrinterColumns).
fn render_columns(kind: &str, version: &Value, out: &mut String) {
    let Some(columns) = version["additionalPrinterColumns"].as_array() else {
        return;
    };
    let _ = write!(
        out,
        "\nColumns of `kubectl get` for {kind}:\n\n| column | type | JSON path |\n| --- | --- | --- |\n"
    );
    for column in columns {
        let _ = writeln!(
            out,
            "| {} | {} | `{}` |",
            str_of(&column["name"]),
            str_of(&column["type"]),
            cell(str_of(&column["jsonPath"]).as_str())
        );
    }
}

/// One row for this field, then its children: object properties, array items, map values.
fn field_rows(path: &str, node: &Value, required: bool, out: &mut String) {
    let mut text = node["description"]
        .as_str()
        .map(one_line)
        .unwrap_or_default();
    for check in checks(node) {
        if !text.is_empty() {
            text.push_str("<br>");
        }
        text.push_str(&check);
    }
    let _ = writeln!(
        out,
        "| `{path}` | {} | {} | {} |",
        type_of(node),
        if required { "yes" } else { "" },
        cell(&text)
    );
    if let Some(props) = node["properties"].as_object() {
        for (name, child) in props {
            field_rows(
                &format!("{path}.{name}"),
                child,
                is_required(node, name),
                out,
            );
        }
    }
    if node["items"].is_object() && has_children(&node["items"]) {
        field_rows(&format!("{path}[]"), &node["items"], false, out);
    }
    let values = &node["additionalProperties"];
    if values.is_object() && has_children(values) {
        field_rows(&format!("{path}{{}}"), values, false, out);
    }
}

fn has_children(node: &Value) -> bool {
    node["properties"].is_object() || node["items"].is_object()
}

fn is_required(parent: &Value, name: &str) -> bool {
    parent["required"]
        .as_array()
        .is_some_and(|r| r.iter().any(|n| n.as_str() == Some(name)))
}

/// `string`, `integer (int64)`, `array of string`, `map of integer (int64)`, `object`.
fn type_of(node: &Value) -> String {
    let base = match (node["type"].as_str(), node["format"].as_str()) {
        (Some(t), Some(f)) => format!("{t} ({f})"),
        (Some(t), None) => t.to_string(),
        (None, _) if node["x-kubernetes-int-or-string"] == true => "integer or string".into(),
        (None, _) => "any".into(),
    };
    if node["type"] == "array" && node["items"].is_object() {
        return format!("array of {}", type_of(&node["items"]));
    }
    if node["type"] == "object" && node["additionalProperties"].is_object() {
        return format!("map of {}", type_of(&node["additionalProperties"]));
    }
    base
}

/// What admission checks on this node, each as one short sentence.
fn checks(node: &Value) -> Vec<String> {
    let mut found = vec![];
    let bounds = [
        ("minimum", "minimum"),
        ("maximum", "maximum"),
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("minItems", "min items"),
        ("maxItems", "max items"),
        ("minProperties", "min keys"),
        ("maxProperties", "max keys"),
    ];
    for (key, label) in bounds {
        if let Some(n) = node[key].as_f64() {
            found.push(format!("{label}: {}", number(n)));
        }
    }
    if let Some(pattern) = node["pattern"].as_str() {
        found.push(format!("pattern: `{pattern}`"));
    }
    if let Some(values) = node["enum"].as_array() {
        let values: Vec<String> = values.iter().map(|v| format!("`{}`", scalar(v))).collect();
        found.push(format!("one of: {}", values.join(", ")));
    }
    if !node["default"].is_null() {
        found.push(format!("default: `{}`", scalar(&node["default"])));
    }
    if let Some(list_type) = node["x-kubernetes-list-type"].as_str() {
        found.push(format!(
            "list type: `{list_type}` (no duplicates when `set`)"
        ));
    }
    if node["nullable"] == true {
        found.push("may be null".into());
    }
    for rule in node["x-kubernetes-validations"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let message = rule["message"].as_str().map(one_line);
        let message = message.unwrap_or_else(|| format!("rule `{}`", str_of(&rule["rule"])));
        match rule["fieldPath"].as_str() {
            Some(field) => found.push(format!("rule (on `{field}`): {message}")),
            None => found.push(format!("rule: {message}")),
        }
    }
    found
}

/// 10000000000.0 is written 10000000000: the YAML has floats where the schema means integers.
fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e16 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_f64().map(number).unwrap_or_else(|| n.to_string()),
        other => other.to_string(),
    }
}

fn str_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// Descriptions are wrapped in the YAML; a table cell is one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A pipe ends a table cell even inside backticks on GitHub unless escaped.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

#[test]
fn a_field_row_carries_type_required_bounds_enum_default_and_rule_messages() {
    let node = serde_json::json!({
        "type": "object", "required": ["of"],
        "properties": {
            "of": {"type": "string", "description": "Which\n usage.", "enum": ["peak", "current"],
                   "default": "peak"},
            "max": {"type": "integer", "format": "int64", "maximum": 10000000000.0,
                    "x-kubernetes-validations": [{"rule": "a || b", "message": "must be a | b"}]}
        }
    });
    let mut out = String::new();
    field_rows("spec.headroom", &node, false, &mut out);
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows[0], "| `spec.headroom` | object |  |  |");
    assert_eq!(
        rows[1],
        "| `spec.headroom.max` | integer (int64) |  | maximum: 10000000000<br>rule: must be a \\| b |"
    );
    assert_eq!(
        rows[2],
        "| `spec.headroom.of` | string | yes | Which usage.<br>one of: `peak`, `current`<br>default: `peak` |"
    );
}

#[test]
fn items_and_map_values_with_fields_get_rows_of_their_own() {
    let node = serde_json::json!({
        "type": "object",
        "properties": {
            "list": {"type": "array", "items": {"type": "object", "properties": {"x": {"type": "string"}}}},
            "map": {"type": "object", "additionalProperties": {"type": "integer"}}
        }
    });
    let mut out = String::new();
    field_rows("spec", &node, true, &mut out);
    let paths: Vec<&str> = out.lines().map(|l| l.split('`').nth(1).unwrap()).collect();
    assert_eq!(
        paths,
        [
            "spec",
            "spec.list",
            "spec.list[]",
            "spec.list[].x",
            "spec.map"
        ]
    );
    assert!(out.contains("| `spec.list` | array of object |"));
    assert!(out.contains("| `spec.map` | map of integer |"));
}

#[test]
fn a_stale_reference_names_the_first_differing_line() {
    assert_eq!(first_difference("a\nb\nc\n", "a\nB\nc\n"), 2);
    assert_eq!(first_difference("a\n", "a\nb\n"), 2);
}
