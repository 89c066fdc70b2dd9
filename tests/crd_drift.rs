//! crds/ and the chart's crds/ must hold exactly what the Rust types generate. Regenerate with
//! `tools/update-crds.sh` (`quota-operator crd > crds/crds.yaml`); this test only reads.

#[test]
fn crds_directory_matches_the_rust_types() {
    let generated = quota_operator::api::crds_yaml();
    for file in [
        concat!(env!("CARGO_MANIFEST_DIR"), "/crds/crds.yaml"),
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/charts/quota-operator/crds/crds.yaml"
        ),
    ] {
        let committed = std::fs::read_to_string(file).expect("read the committed CRDs");
        assert!(
            committed == generated,
            "{file} is stale: run tools/update-crds.sh and commit it"
        );
    }
}

/// Every field a user writes, at any depth (objects, array items, map values), has a
/// description: it is what `kubectl explain` shows.
#[test]
fn every_spec_field_has_a_description() {
    let yaml = quota_operator::api::crds_yaml();
    for doc in yaml.split("---\n") {
        let crd: serde_json::Value = serde_yaml::from_str(doc).expect("CRD YAML");
        let schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
        let mut missing = vec![];
        undescribed(schema, "spec", &mut missing);
        assert!(
            missing.is_empty(),
            "no description (add a doc comment): {missing:?}"
        );
    }
}

fn undescribed(schema: &serde_json::Value, path: &str, missing: &mut Vec<String>) {
    if let Some(props) = schema.get("properties").and_then(|p| p.as_object()) {
        for (name, prop) in props {
            let here = format!("{path}.{name}");
            if prop
                .get("description")
                .and_then(|d| d.as_str())
                .is_none_or(str::is_empty)
            {
                missing.push(here.clone());
            }
            undescribed(prop, &here, missing);
        }
    }
    if let Some(items) = schema.get("items") {
        undescribed(items, &format!("{path}[]"), missing);
    }
    if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
        undescribed(values, &format!("{path}{{}}"), missing);
    }
}

#[test]
fn the_walk_finds_fields_in_items_and_map_values() {
    let schema = serde_json::json!({
        "properties": {
            "list": {"description": "d", "items": {"properties": {"x": {"type": "string"}}}},
            "map": {"description": "d", "additionalProperties": {"properties": {"y": {}}}}
        }
    });
    let mut missing = vec![];
    undescribed(&schema, "spec", &mut missing);
    assert_eq!(missing, ["spec.list[].x", "spec.map{}.y"]);
}
