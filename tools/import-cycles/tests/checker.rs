//! The checker itself, on tiny crates written to a temporary folder: it must be able to fail.

use std::path::{Path, PathBuf};

use import_cycles::{Cycle, Edge, cycles, folder_cycles, report};

/// A fresh `src/` folder named `name` holding `files` (path, text).
fn fixture(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let src = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("import-cycles")
        .join(name);
    if src.exists() {
        std::fs::remove_dir_all(&src).expect("remove old fixture");
    }
    for (path, text) in files {
        let path = src.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    src
}

fn files(names: &[&str]) -> Vec<PathBuf> {
    names.iter().map(PathBuf::from).collect()
}

fn edge(from: &str, to: &str, via: &str) -> Edge {
    Edge {
        from: from.into(),
        to: to.into(),
        via: via.into(),
    }
}

#[test]
fn a_circle_between_two_siblings_is_found_and_its_edges_named() {
    let src = fixture(
        "siblings",
        &[
            ("lib.rs", "mod a;\nmod b;\n"),
            ("a.rs", "use crate::b::B;\npub struct A;\n"),
            ("b.rs", "pub struct B;\nfn f() -> super::a::A { todo!() }\n"),
        ],
    );
    let found = cycles(&src, &[]);
    assert_eq!(
        found,
        vec![Cycle {
            files: files(&["a.rs", "b.rs"]),
            edges: vec![edge("a.rs", "b.rs", "b::B"), edge("b.rs", "a.rs", "a::A")],
        }]
    );
    assert_eq!(
        report(&found),
        "circle of 2: a.rs, b.rs\n  a.rs -> b.rs (b::B)\n  b.rs -> a.rs (a::A)\n"
    );
}

#[test]
fn a_facade_re_export_is_an_edge() {
    // The facade re-exports its child, the child reaches back for a type the facade holds.
    let src = fixture(
        "facade",
        &[
            ("lib.rs", "pub mod cloud;\n"),
            (
                "cloud/mod.rs",
                "mod error;\npub use error::CloudError;\npub struct Quota;\n",
            ),
            (
                "cloud/error.rs",
                "use super::Quota;\npub struct CloudError(Quota);\n",
            ),
        ],
    );
    assert_eq!(
        cycles(&src, &[]),
        vec![Cycle {
            files: files(&["cloud/error.rs", "cloud/mod.rs"]),
            edges: vec![
                edge("cloud/error.rs", "cloud/mod.rs", "cloud::Quota"),
                edge("cloud/mod.rs", "cloud/error.rs", "cloud::error::CloudError"),
            ],
        }]
    );
}

#[test]
fn the_facade_fix_a_type_in_its_own_file_passes() {
    // The same crate with `Quota` moved out of the facade: the child imports the file.
    let src = fixture(
        "facade-fixed",
        &[
            (
                "lib.rs",
                "pub mod cloud;\npub use cloud::{CloudError, Quota};\n",
            ),
            (
                "cloud/mod.rs",
                "mod error;\nmod types;\npub use error::CloudError;\npub use types::Quota;\n",
            ),
            (
                "cloud/error.rs",
                "use super::types::Quota;\npub struct CloudError(Quota);\n",
            ),
            (
                "cloud/types.rs",
                "/// Not [`crate::CloudError`]: a doc link is no import.\npub struct Quota;\n",
            ),
        ],
    );
    assert_eq!(cycles(&src, &[]), vec![]);
}

#[test]
fn a_child_module_path_resolves_to_the_child_file_not_the_facade() {
    // `crate::cloud::error::..` is error.rs and `super::aws::..` is aws.rs: the circle is the
    // two children, without the facade (which reaches `aws` by its bare name).
    let src = fixture(
        "child-paths",
        &[
            ("lib.rs", "mod cloud;\n"),
            (
                "cloud/mod.rs",
                "mod aws;\nmod error;\npub fn f() { aws::connect() }\n",
            ),
            (
                "cloud/aws.rs",
                "use crate::cloud::error::CloudError;\npub fn connect() {}\n",
            ),
            (
                "cloud/error.rs",
                "pub struct CloudError;\nfn f() { super::aws::connect() }\n",
            ),
        ],
    );
    assert_eq!(
        cycles(&src, &[]),
        vec![Cycle {
            files: files(&["cloud/aws.rs", "cloud/error.rs"]),
            edges: vec![
                edge("cloud/aws.rs", "cloud/error.rs", "cloud::error::CloudError"),
                edge("cloud/error.rs", "cloud/aws.rs", "cloud::aws::connect"),
            ],
        }]
    );
}

#[test]
fn layers_without_a_circle_pass() {
    let src = fixture(
        "layers",
        &[
            (
                "lib.rs",
                "pub mod api;\npub mod cloud;\npub use cloud::Quota;\n",
            ),
            (
                "api.rs",
                "/// Read by [`crate::cloud::Quota`].\npub struct Spec;\n",
            ),
            (
                "cloud/mod.rs",
                "mod quota;\npub use quota::Quota;\nuse crate::api::Spec;\n",
            ),
            (
                "cloud/quota.rs",
                "use crate::api::Spec;\npub struct Quota(Spec);\n#[cfg(test)]\nmod tests { use super::*; }\n",
            ),
        ],
    );
    assert_eq!(cycles(&src, &[]), vec![]);
    assert_eq!(folder_cycles(&src, &[], 1), vec![]);
}

#[test]
fn a_path_attribute_file_is_the_child_of_the_file_declaring_it() {
    // cel.rs calls into its tests only so that both directions show: `tests::` from cel.rs is
    // cel_tests.rs, and `super::` in cel_tests.rs is cel.rs (not plan/mod.rs, as it would be
    // for a module `plan::cel_tests`).
    let src = fixture(
        "path-attribute",
        &[
            ("lib.rs", "mod plan;\n"),
            ("plan/mod.rs", "pub mod cel;\npub struct Plan;\n"),
            (
                "plan/cel.rs",
                "pub fn f() { tests::helper() }\n#[cfg(test)]\n#[path = \"cel_tests.rs\"]\npub(crate) mod tests;\n",
            ),
            ("plan/cel_tests.rs", "use super::f;\npub fn helper() {}\n"),
        ],
    );
    assert_eq!(
        cycles(&src, &[]),
        vec![Cycle {
            files: files(&["plan/cel.rs", "plan/cel_tests.rs"]),
            edges: vec![
                edge(
                    "plan/cel.rs",
                    "plan/cel_tests.rs",
                    "plan::cel::tests::helper"
                ),
                edge("plan/cel_tests.rs", "plan/cel.rs", "plan::cel::f"),
            ],
        }]
    );
}

#[test]
fn a_service_folder_circle_is_found_at_folder_level_only() {
    // state.rs -> wire.rs and responses.rs -> state.rs: no circle of files, but model/ and
    // service/ use each other.
    let src = fixture(
        "folders",
        &[
            ("lib.rs", "mod aws;\n"),
            ("aws/mod.rs", "mod model;\nmod service;\n"),
            ("aws/model/mod.rs", "pub mod state;\n"),
            (
                "aws/model/state.rs",
                "use crate::aws::service::wire::Name;\npub struct State(Name);\n",
            ),
            ("aws/service/mod.rs", "pub mod responses;\npub mod wire;\n"),
            (
                "aws/service/responses.rs",
                "use crate::aws::model::state::State;\n",
            ),
            ("aws/service/wire.rs", "pub struct Name;\n"),
        ],
    );
    assert_eq!(cycles(&src, &[]), vec![]);
    assert_eq!(
        folder_cycles(&src, &[], 2),
        vec![Cycle {
            files: files(&["aws/model", "aws/service"]),
            edges: vec![
                edge(
                    "aws/model",
                    "aws/service",
                    "aws/model/state.rs -> aws::service::wire::Name"
                ),
                edge(
                    "aws/service",
                    "aws/model",
                    "aws/service/responses.rs -> aws::model::state::State"
                ),
            ],
        }]
    );
}

/// The simulator's test from before this crate: use groups, blocks, inline test modules and
/// doc comments, with a circle through the facade and `lib.rs`.
#[test]
fn the_checker_sees_a_facade_circle_and_a_sibling_circle() {
    let mut tree = vec![
        ("lib.rs", "mod cloud;\npub use cloud::Thing;\n"),
        (
            "cloud/mod.rs",
            "mod a;\nmod b;\nmod c;\npub use a::Thing;\n/// [`crate::Thing`] in a doc: not a use\npub struct Up;\n",
        ),
        ("cloud/a.rs", "use super::b::B;\npub struct Thing;\n"),
        (
            "cloud/b.rs",
            "pub struct B;\nfn f() { let _ = super::{c::C, a::Thing}; }\n",
        ),
        (
            "cloud/c.rs",
            "pub struct C;\n#[cfg(test)]\nmod tests { use super::*; use crate::Thing; }\n",
        ),
    ];
    let src = fixture("facade-and-siblings", &tree);
    // a <-> b through `super::{.., a::Thing}`; c's test module reaches lib.rs, which reaches
    // c only through the facade and a, so lib.rs, the facade and c join the circle too.
    let found: Vec<Vec<PathBuf>> = cycles(&src, &[]).into_iter().map(|c| c.files).collect();
    assert_eq!(
        found,
        vec![files(&[
            "cloud/a.rs",
            "cloud/b.rs",
            "cloud/c.rs",
            "cloud/mod.rs",
            "lib.rs"
        ])]
    );
    // Without c's upward use only a <-> b is left.
    tree[4].1 = "pub struct C;\n#[cfg(test)]\nmod tests { use super::*; }\n";
    let src = fixture("facade-and-siblings", &tree);
    let found: Vec<Vec<PathBuf>> = cycles(&src, &[]).into_iter().map(|c| c.files).collect();
    assert_eq!(found, vec![files(&["cloud/a.rs", "cloud/b.rs"])]);
}

#[test]
fn another_crate_root_is_left_out_when_skipped() {
    // main.rs sees the library by its crate name: were it read, `crate::` in it would be lib.rs.
    let src = fixture(
        "binary",
        &[
            ("lib.rs", "pub mod run;\n"),
            ("run.rs", "pub fn run() {}\n"),
            (
                "main.rs",
                "fn main() { lib::run::run() }\n#[cfg(test)]\n#[path = \"main_tests.rs\"]\nmod tests;\n",
            ),
            ("main_tests.rs", "use super::main;\n"),
        ],
    );
    assert_eq!(cycles(&src, &["main.rs", "main_tests.rs"]), vec![]);
}

#[test]
#[should_panic(expected = "not reached from")]
fn a_file_no_module_declares_is_refused_unless_skipped() {
    let src = fixture(
        "stray",
        &[("lib.rs", "mod a;\n"), ("a.rs", ""), ("b.rs", "")],
    );
    cycles(&src, &[]);
}

#[test]
#[should_panic(expected = "named in skip")]
fn a_module_of_the_library_cannot_be_skipped() {
    let src = fixture("skipped-module", &[("lib.rs", "mod a;\n"), ("a.rs", "")]);
    cycles(&src, &["a.rs"]);
}
