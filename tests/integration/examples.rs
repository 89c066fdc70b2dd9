//! Every file in examples/ is applied, against the demo's simulator scenario
//! (examples/simulator/scenario.yaml), and every object reaches the state its `# expect:` line
//! promises, so the README's examples cannot rot unseen. Names are made unique to the test:
//! objects go into the test's namespace and CloudAccounts get its prefix.

use std::{collections::BTreeMap, time::Duration};

use quota_sim::{Scenario, Sim};
use serde_json::Value;

use crate::harness::{ROOT, TestEnv, sim_clouds, summary};

/// Every document of every example, and each `expect:` line.
fn examples() -> (Vec<Value>, BTreeMap<String, String>) {
    let mut objects = vec![];
    let mut expected = BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(format!("{ROOT}/examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            if let Some((name, state)) = line
                .strip_prefix("# expect: ")
                .and_then(|rest| rest.split_once(": "))
            {
                expected.insert(name.to_string(), state.to_string());
            }
        }
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let yaml = <serde_yaml::Value as serde::Deserialize>::deserialize(doc).unwrap();
            let value = serde_json::to_value(yaml).unwrap();
            if !value.is_null() {
                objects.push(value);
            }
        }
    }
    (objects, expected)
}

#[tokio::test]
async fn every_example_reaches_the_state_its_comment_promises() {
    let scenario =
        std::fs::read_to_string(format!("{ROOT}/examples/simulator/scenario.yaml")).unwrap();
    let sim = Sim::new(Scenario::from_yaml(&scenario).expect("the demo scenario"))
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let clouds = sim_clouds(&sim, "AKIADEMOPRODEXAMPLE", Duration::from_millis(300)).await;

    let mut env = TestEnv::new("examples").await;
    let (objects, expected) = examples();
    let mut requirements = vec![];
    for mut obj in objects {
        match obj["kind"].as_str().unwrap() {
            "Namespace" => {} // the test's own namespace carries the same label
            "CloudAccount" => {
                let name = env.unique(obj["metadata"]["name"].as_str().unwrap());
                obj["metadata"]["name"] = name.into();
                env.create_raw("CloudAccount", obj)
                    .await
                    .expect("example CloudAccount");
            }
            "QuotaRequirement" => {
                let account = env.unique(obj["spec"]["accountRef"].as_str().unwrap());
                obj["spec"]["accountRef"] = account.into();
                obj["metadata"]["namespace"] = env.ns.clone().into();
                requirements.push(obj["metadata"]["name"].as_str().unwrap().to_string());
                env.create_raw("QuotaRequirement", obj)
                    .await
                    .expect("example QuotaRequirement");
            }
            other => panic!("an example of kind {other} is not covered here"),
        }
    }
    let mut names = requirements.clone();
    names.sort();
    assert_eq!(
        names,
        expected.keys().cloned().collect::<Vec<_>>(),
        "every example object has one `# expect:` line"
    );

    // examples/new-accounts-template.yaml keeps a quota request template.
    env.templates = true;
    env.start_operator_with(clouds);
    for (name, want) in &expected {
        env.wait_qr(name, |qr| summary(qr) == want.as_str()).await;
    }
    // Settled, not passing through: each still says so after more reconciles.
    for (name, want) in &expected {
        env.reconciled(name, 2).await;
        let qr = env.qrs().get(name).await.unwrap();
        assert_eq!(summary(&qr), want.as_str(), "{name}");
        println!("{name:30} {want}");
    }
}
