//! crds/ and the chart's crds/ must hold exactly what the Rust types generate. Regenerate with
//! `QO_UPDATE_CRDS=1 cargo test --test crd_drift`.

#[test]
fn crds_directory_matches_the_rust_types() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/crds/crds.yaml");
    let generated = quota_operator::api::crds_yaml();
    let chart = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/charts/quota-operator/crds/crds.yaml"
    );
    if std::env::var_os("QO_UPDATE_CRDS").is_some() {
        std::fs::write(path, &generated).expect("write crds/crds.yaml");
        std::fs::write(chart, &generated).expect("write the chart's crds/crds.yaml");
    }
    for file in [path, chart] {
        let committed = std::fs::read_to_string(file).expect("read the committed CRDs");
        assert!(
            committed == generated,
            "{file} is stale: run `QO_UPDATE_CRDS=1 cargo test --test crd_drift` and commit it"
        );
    }
}

#[test]
fn every_spec_field_has_a_description() {
    let yaml = quota_operator::api::crds_yaml();
    for doc in yaml.split("---\n") {
        let crd: serde_json::Value = serde_yaml::from_str(doc).expect("CRD YAML");
        let schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
        assert_described(schema, "spec");
    }
}

fn assert_described(schema: &serde_json::Value, path: &str) {
    let Some(props) = schema.get("properties").and_then(|p| p.as_object()) else {
        return;
    };
    for (name, prop) in props {
        let here = format!("{path}.{name}");
        assert!(
            prop.get("description")
                .and_then(|d| d.as_str())
                .is_some_and(|d| !d.is_empty()),
            "{here} has no description (add a doc comment: it becomes `kubectl explain`)"
        );
        assert_described(prop, &here);
    }
}
