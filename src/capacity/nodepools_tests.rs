use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::json;

use super::*;

const STANDARD_SPOT: &str = "L-34B43A08";
const STANDARD_OD: &str = "L-1216C47A";
const G_OD: &str = "L-DB2E81BA";
const G_SPOT: &str = "L-3819A6DF";
const P_OD: &str = "L-417A185B";
const P5_SPOT: &str = "L-C4BD4855";
const P_SPOT: &str = "L-7212CCBC";

fn pool(name: &str, cpu: Option<&str>, requirements: serde_json::Value) -> Arc<NodePool> {
    let mut spec = json!({"template": {"spec": {"requirements": requirements}}});
    if let Some(cpu) = cpu {
        spec["limits"] = json!({"cpu": cpu});
    }
    let mut p = NodePool::new(name, serde_json::from_value(spec).unwrap());
    p.metadata.labels = Some([("team".to_string(), name.to_string())].into());
    Arc::new(p)
}

fn req(key: &str, op: &str, values: &[&str]) -> serde_json::Value {
    json!({"key": key, "operator": op, "values": values})
}

fn codes(p: &NodePool) -> Vec<&'static str> {
    reach(p)
        .unwrap()
        .quotas()
        .into_iter()
        .map(|q| q.0)
        .collect()
}

fn by_name(names: &[&str]) -> NodePoolSelector {
    NodePoolSelector {
        names: names.iter().map(|n| n.to_string()).collect(),
        selector: None,
    }
}

fn standard_spot() -> (&'static str, FamilyGroup, Market) {
    let g = families::family_of("m5.large").unwrap();
    (STANDARD_SPOT, g, Market::Spot)
}

#[test]
fn spot_cmr_reaches_standard_spot_only() {
    let p = pool(
        "batch",
        Some("2000"),
        json!([
            req(CAPACITY_TYPE, "In", &["spot"]),
            req(CATEGORY, "In", &["c", "m", "r"])
        ]),
    );
    assert_eq!(codes(&p), vec![STANDARD_SPOT]);
    assert_eq!(reach(&p).unwrap().described, "spot, categories c/m/r");
    let (terms, sum) = entry(&by_name(&["batch"]), &[p], standard_spot()).unwrap();
    assert_eq!(sum, 2000);
    assert_eq!(
        terms,
        vec!["NodePool batch: limits.cpu 2000, spot, categories c/m/r -> Standard Spot 2000"]
    );
}

#[test]
fn no_capacity_type_means_spot_and_on_demand_as_karpenter_v1_has_no_default() {
    let p = pool("gpu", Some("64"), json!([req(CATEGORY, "In", &["g"])]));
    assert_eq!(codes(&p), vec![G_OD, G_SPOT]);
    let p = pool(
        "gpu",
        Some("64"),
        json!([
            req(CAPACITY_TYPE, "In", &["on-demand"]),
            req(FAMILY, "In", &["g5", "g6"])
        ]),
    );
    assert_eq!(codes(&p), vec![G_OD]);
    // Reserved capacity counts against On-Demand.
    let p = pool(
        "r",
        Some("8"),
        json!([
            req(CAPACITY_TYPE, "In", &["reserved"]),
            req(INSTANCE_TYPE, "In", &["m5.large"])
        ]),
    );
    assert_eq!(codes(&p), vec![STANDARD_OD]);
}

#[test]
fn unconstrained_pools_reach_every_group_they_may_launch_into() {
    let p = pool("any", Some("100"), json!([]));
    let all = codes(&p);
    for code in [
        STANDARD_SPOT,
        STANDARD_OD,
        G_OD,
        G_SPOT,
        P_OD,
        P_SPOT,
        P5_SPOT,
    ] {
        assert!(all.contains(&code), "{code} in {all:?}");
    }
    // NotIn takes groups away only when every category of them is excluded.
    let p = pool(
        "no-g",
        Some("1"),
        json!([
            req(CATEGORY, "NotIn", &["g"]),
            req(CAPACITY_TYPE, "In", &["on-demand"])
        ]),
    );
    assert!(codes(&p).contains(&G_OD), "vt and gr stay in G and VT");
    let p = pool(
        "no-gpu",
        Some("1"),
        json!([
            req(CATEGORY, "NotIn", &["g", "gr", "vt"]),
            req(CAPACITY_TYPE, "In", &["on-demand"])
        ]),
    );
    assert!(!codes(&p).contains(&G_OD));
}

#[test]
fn generation_splits_p_from_p5_on_spot() {
    let p = pool(
        "p",
        Some("96"),
        json!([
            req(CAPACITY_TYPE, "In", &["spot"]),
            req(CATEGORY, "In", &["p"])
        ]),
    );
    assert_eq!(codes(&p), vec![P_SPOT, P5_SPOT]);
    let p = pool(
        "p5",
        Some("96"),
        json!([
            req(CAPACITY_TYPE, "In", &["spot"]),
            req(CATEGORY, "In", &["p"]),
            req(GENERATION, "Gt", &["4"])
        ]),
    );
    assert_eq!(codes(&p), vec![P5_SPOT]);
}

#[test]
fn a_pool_without_a_cpu_limit_is_refused_by_name_only_where_it_launches() {
    let p = pool(
        "open",
        None,
        json!([
            req(CAPACITY_TYPE, "In", &["spot"]),
            req(CATEGORY, "In", &["m"])
        ]),
    );
    let e = entry(
        &by_name(&["open"]),
        std::slice::from_ref(&p),
        standard_spot(),
    )
    .unwrap_err();
    assert!(e.contains("NodePool open has no spec.limits.cpu"), "{e}");
    assert!(e.contains("Standard Spot (L-34B43A08)"), "{e}");
    let g = families::family_of("g5.xlarge").unwrap();
    let (terms, sum) = entry(&by_name(&["open"]), &[p], (G_OD, g, Market::OnDemand)).unwrap();
    assert_eq!(sum, 0);
    assert_eq!(
        terms,
        vec!["no selected NodePool launches into G and VT On-Demand -> 0"]
    );
}

#[test]
fn requirements_that_cannot_be_mapped_are_refused_naming_the_pool() {
    for (reqs, why) in [
        (
            json!([req(FAMILY, "In", &["mac2"])]),
            "mac2 belongs to no EC2 family group",
        ),
        (
            json!([req(CATEGORY, "In", &["y"])]),
            "y belongs to no EC2 family group",
        ),
        (
            json!([req(CATEGORY, "Gt", &["3"])]),
            "instance-category Gt cannot be read",
        ),
        (
            json!([req(INSTANCE_TYPE, "DoesNotExist", &[])]),
            "they allow no instance type",
        ),
        (
            json!([req(CAPACITY_TYPE, "DoesNotExist", &[])]),
            "allows no capacity type",
        ),
        (json!([req(GENERATION, "Gt", &["x"])]), "not a number"),
    ] {
        let p = pool("odd", Some("10"), reqs);
        let e = entry(&by_name(&["odd"]), &[p], standard_spot()).unwrap_err();
        assert!(
            e.starts_with("NodePool odd: its requirements cannot be mapped"),
            "{e}"
        );
        assert!(e.contains(why), "{e}");
    }
}

#[test]
fn selection_by_name_and_label_and_missing_names() {
    let a = pool(
        "a",
        Some("10"),
        json!([req(CAPACITY_TYPE, "In", &["spot"])]),
    );
    let b = pool(
        "b",
        Some("20"),
        json!([req(CAPACITY_TYPE, "In", &["spot"])]),
    );
    let selector = NodePoolSelector {
        names: vec!["gone".into()],
        selector: Some(LabelSelector {
            match_labels: Some([("team".to_string(), "b".to_string())].into()),
            match_expressions: None,
        }),
    };
    let (terms, sum) = entry(&selector, &[a.clone(), b.clone()], standard_spot()).unwrap();
    assert_eq!(sum, 20);
    assert_eq!(terms.len(), 2, "{terms:?}");
    assert!(
        terms[1].contains("NodePool gone: not found -> 0"),
        "{terms:?}"
    );
    assert!(selects(&selector, &b) && !selects(&selector, &a));
    let every = NodePoolSelector {
        names: vec![],
        selector: Some(LabelSelector::default()),
    };
    assert_eq!(entry(&every, &[a, b], standard_spot()).unwrap().1, 30);
}

#[test]
fn cpu_limits_are_quantities() {
    let p = pool("q", Some("1500m"), json!([]));
    assert_eq!(cpu_limit(&p), Ok(Some(2)));
    let mut p = (*pool("n", None, json!([]))).clone();
    p.spec.limits = Some([("cpu".to_string(), json!(64))].into());
    assert_eq!(cpu_limit(&p), Ok(Some(64)));
    p.spec.limits = Some([("cpu".to_string(), json!("lots"))].into());
    assert!(cpu_limit(&p).unwrap_err().contains("not a CPU quantity"));
}
