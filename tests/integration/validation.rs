//! Admission on the real API server: every case of the admission corpus (tests/admission) gets
//! the verdict its header declares, with a message naming the field; and `quota-operator plan`'s
//! offline validator agrees with the server on every case, down to the set of fields named.

use std::collections::BTreeSet;

use kube::{Client, core::Status};
use quota_operator::plan::admission::{Admission, Verdict};
use serde_json::Value;

use crate::{
    corpus::{self, Case},
    harness::TestEnv,
};

/// What the server answered for one case.
enum Answer {
    Created,
    Refused(Box<Status>),
}

/// Creates the case's object as `kubectl apply` does (a POST with strict field validation), so
/// an unknown field is refused rather than pruned. Cluster-scoped names get the test's prefix
/// (unless the name itself is under test), so runs sharing a server do not collide.
async fn send(env: &TestEnv, case: &Case) -> Answer {
    let mut obj = case.object.clone();
    let cluster_scoped = case.kind() == "CloudAccount";
    let plural = format!("{}s", case.kind().to_lowercase());
    if cluster_scoped
        && let Some(name) = obj["metadata"]["name"].as_str()
        && case.names.as_deref() != Some("metadata.name")
    {
        obj["metadata"]["name"] = env.unique(name).into();
    }
    let path = if cluster_scoped {
        format!("/apis/quota-operator.dev/v1alpha1/{plural}")
    } else {
        format!(
            "/apis/quota-operator.dev/v1alpha1/namespaces/{}/{plural}",
            env.ns
        )
    };
    let request = http::Request::post(format!("{path}?fieldValidation=Strict"))
        .header("Content-Type", "application/json")
        .body(serde_json::to_vec(&obj).unwrap())
        .unwrap();
    match Client::request::<Value>(&env.client, request).await {
        Ok(_) => Answer::Created,
        Err(kube::Error::Api(status)) => Answer::Refused(status),
        Err(e) => panic!("{}: unexpected error: {e}", case.file),
    }
}

/// The fields a refusal names: the causes of a 422, or the unknown fields of strict decoding's
/// 400 (which lists them only in its message). The whole-object note (`<nil>`) is left out.
fn server_fields(status: &Status) -> BTreeSet<String> {
    let mut fields: BTreeSet<String> = status
        .details
        .iter()
        .flat_map(|d| &d.causes)
        .map(|c| c.field.clone())
        .filter(|f| !f.is_empty() && f != "<nil>")
        .collect();
    for part in status.message.split("unknown field \"").skip(1) {
        fields.insert(part.split('"').next().unwrap_or_default().to_string());
    }
    fields
}

#[tokio::test]
async fn every_admission_case_gets_its_declared_verdict_from_the_api_server() {
    let env = TestEnv::new("validation").await;
    for case in corpus::cases() {
        match (send(&env, &case).await, &case.names) {
            (Answer::Created, None) => {}
            (Answer::Created, Some(names)) => {
                panic!("{}: the server accepted it (expected: {names})", case.file)
            }
            (Answer::Refused(status), None) => {
                panic!(
                    "{}: the server refused a valid object: {}",
                    case.file, status.message
                )
            }
            (Answer::Refused(status), Some(names)) => {
                assert!(
                    matches!(status.code, 400 | 422),
                    "{}: {status:?}",
                    case.file
                );
                assert!(
                    status.message.contains(names.as_str()),
                    "{}: the message does not name {names}: {}",
                    case.file,
                    status.message
                );
            }
        }
    }
    // Nothing half-written: only the valid cases are stored.
    let valid_qrs = corpus::cases()
        .iter()
        .filter(|c| c.names.is_none() && c.kind() == "QuotaRequirement")
        .count();
    let stored = env.qrs().list(&Default::default()).await.unwrap();
    assert_eq!(
        stored.items.len(),
        valid_qrs,
        "only valid objects are stored"
    );
}

#[tokio::test]
async fn plan_agrees_with_the_api_server_on_every_admission_case() {
    let env = TestEnv::new("plan-agrees").await;
    let admission = Admission::ours();
    let mut compared = 0;
    for case in corpus::cases() {
        let offline = admission.admit(&case.object);
        match (send(&env, &case).await, offline) {
            (Answer::Created, Verdict::Valid) => {}
            (Answer::Refused(status), Verdict::Invalid(errors)) => {
                let ours: BTreeSet<String> = errors
                    .iter()
                    .filter(|e| e.names_a_field())
                    .map(|e| e.field.clone())
                    .collect();
                assert_eq!(
                    ours,
                    server_fields(&status),
                    "{}: plan and the API server name different fields\nplan: {errors:#?}\nserver: {}",
                    case.file,
                    status.message
                );
                let skipped = status
                    .message
                    .contains("some validation rules were not checked");
                assert_eq!(
                    errors
                        .iter()
                        .any(|e| !e.names_a_field() && e.detail.contains("not checked")),
                    skipped,
                    "{}: only one of them skipped the CEL rules: {}",
                    case.file,
                    status.message
                );
            }
            (Answer::Created, Verdict::Invalid(errors)) => {
                panic!(
                    "{}: the server accepted what plan refuses: {errors:#?}",
                    case.file
                )
            }
            (Answer::Refused(status), offline) => panic!(
                "{}: the server refused ({}) what plan calls {offline:?}",
                case.file, status.message
            ),
            (Answer::Created, offline) => panic!("{}: plan says {offline:?}", case.file),
        }
        compared += 1;
    }
    println!("plan and the API server agree on {compared} admission cases");
}
