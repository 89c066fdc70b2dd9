//! The rule on the repository's two crates: no file of `sim/src` or of the operator's `src`
//! reaches itself back through its imports (the crate's documentation describes the graph).

use std::path::{Path, PathBuf};

use import_cycles::{cycles, folder_cycles, report};

/// The repository root: this crate is `tools/import-cycles`.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `main.rs` is the simulator binary's crate: it sees the library as `quota_sim`.
const SIM_SKIP: &[&str] = &["main.rs"];

/// `main.rs` (and its `#[path]` tests, `main_tests.rs`) is the operator binary's crate: it sees
/// the library as `quota_operator`.
const SRC_SKIP: &[&str] = &["main.rs", "main_tests.rs"];

#[test]
fn no_file_in_sim_src_imports_itself_back() {
    let found = cycles(&repo().join("sim/src"), SIM_SKIP);
    assert!(
        found.is_empty(),
        "import circles in sim/src:\n{}",
        report(&found)
    );
}

/// Every file of a folder two levels down (`aws/model/`, `gcp/compute/`) as one node: the
/// services and the model of a cloud are layers too, not only their files.
#[test]
fn no_service_folder_of_sim_src_imports_itself_back() {
    let found = folder_cycles(&repo().join("sim/src"), SIM_SKIP, 2);
    assert!(
        found.is_empty(),
        "import circles between folders of sim/src:\n{}",
        report(&found)
    );
}

#[test]
fn no_file_in_src_imports_itself_back() {
    let found = cycles(&repo().join("src"), SRC_SKIP);
    assert!(
        found.is_empty(),
        "import circles in src:\n{}",
        report(&found)
    );
}
