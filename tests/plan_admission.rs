//! `plan`'s offline validator on the admission corpus (tests/admission, the same cases the
//! integration tests send to the real API server) and on every example: each gets its declared
//! verdict, and each refusal names the declared field.

#[path = "support/corpus.rs"]
mod corpus;

use quota_operator::plan::{
    admission::{Admission, Verdict},
    files,
};

#[test]
fn every_admission_case_gets_its_declared_verdict_offline() {
    let admission = Admission::ours();
    for case in corpus::cases() {
        match (admission.admit(&case.object), &case.names) {
            (Verdict::Valid, None) => {}
            (Verdict::Invalid(errors), Some(names)) => {
                let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
                assert!(
                    text.iter().any(|t| t.contains(names.as_str())),
                    "{}: no message names {names}: {text:#?}",
                    case.file
                );
            }
            (verdict, names) => panic!(
                "{} ({}): got {verdict:?}, expected {names:?}",
                case.file,
                case.kind()
            ),
        }
    }
}

#[test]
fn every_example_is_valid() {
    let dir = format!("{}/examples", env!("CARGO_MANIFEST_DIR"));
    let docs = files::load(&[dir.into()], false).expect("examples");
    let mut ours = 0;
    for doc in docs {
        let object = doc.object.expect("every example parses");
        match Admission::ours().admit(&object) {
            Verdict::Valid => ours += 1,
            Verdict::NotOurs => assert_eq!(object["kind"], "Namespace", "{}", doc.file),
            Verdict::Invalid(errors) => panic!("{}: {errors:#?}", doc.file),
        }
    }
    assert!(ours >= 10, "the examples were read ({ours})");
}
