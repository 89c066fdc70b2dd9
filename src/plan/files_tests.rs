use std::os::unix::fs::symlink;

use super::*;

const SECRET: &str = "TOKEN-eyJhbGciOi";

#[test]
fn documents_skip_empties_expand_lists_and_keep_parse_errors() {
    let docs = documents(
        "f.yaml",
        "---\n# only a comment\n---\nkind: List\nitems: [{kind: A}, {kind: B}]\n---\nkind: C\n---\n[1, 2]\n---\n{unclosed\n---\nkind: D\n",
    );
    let kinds: Vec<_> = docs
        .iter()
        .map(|d| match &d.object {
            Ok(v) => v["kind"].as_str().unwrap_or("?").to_string(),
            Err(_) => "error".to_string(),
        })
        .collect();
    assert_eq!(kinds, ["A", "B", "C", "error", "error"]);
    assert_eq!(docs[3].index, Some(4));
}

#[test]
fn non_objects_are_described_by_index_and_shape_never_by_their_text() {
    let text = format!(
        "{SECRET}\n---\n[{SECRET}, x]\n---\n42\n---\nkind: List\nitems: [{SECRET}]\n---\n\
         {SECRET}: 1\n{SECRET}: 2\n"
    );
    let errors: Vec<String> = documents("f.yaml", &text)
        .into_iter()
        .map(|d| d.object.expect_err("no document is an object"))
        .collect();
    for e in &errors {
        assert!(!e.contains("TOKEN"), "{e}");
    }
    let starts: Vec<&str> = errors
        .iter()
        .map(|e| {
            e.split(',')
                .next()
                .unwrap_or(e)
                .split(':')
                .next()
                .unwrap_or(e)
        })
        .collect();
    assert_eq!(
        starts,
        [
            "document 1",
            "document 2",
            "document 3",
            "document 4",
            "document 5"
        ]
    );
    assert!(errors[0].contains("a string, not an object"), "{errors:?}");
    assert!(errors[1].contains("a list of 2 items"), "{errors:?}");
    assert!(errors[3].contains("items[0]: a string"), "{errors:?}");
    assert!(errors[4].contains("not YAML"), "{errors:?}");
}

/// `outside/secret.yaml` (a token, as a CI runner's credentials would be) and `tree/`, the
/// files under review: one object, and links in and out.
fn tree() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret.yaml"), SECRET).unwrap();
    std::fs::write(tree.join("ok.yaml"), "kind: A\n").unwrap();
    symlink("../outside/secret.yaml", tree.join("link.yaml")).unwrap();
    symlink("ok.yaml", tree.join("inner.yaml")).unwrap();
    symlink("../nowhere.yaml", tree.join("dangling.yaml")).unwrap();
    symlink("../../outside", tree.join("sub/out")).unwrap();
    symlink("..", tree.join("sub/loop")).unwrap();
    (dir, tree)
}

fn summary(docs: &[Document]) -> Vec<(String, String)> {
    docs.iter()
        .map(|d| {
            let name = Path::new(&d.file).file_name().unwrap().to_string_lossy();
            let what = match &d.object {
                Ok(v) => v["kind"].as_str().unwrap_or("?").to_string(),
                Err(e) => e.clone(),
            };
            (name.to_string(), what)
        })
        .collect()
}

#[test]
fn links_out_of_the_tree_are_not_read_and_the_report_says_why() {
    let (_dir, tree) = tree();
    let docs = load(std::slice::from_ref(&tree), true).unwrap();
    let got = summary(&docs);
    for (_, what) in &got {
        assert!(!what.contains("TOKEN"), "{got:?}");
    }
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    // inner.yaml is a link inside the tree (read); the loop back to the tree is not read twice.
    assert_eq!(
        names,
        ["dangling.yaml", "inner.yaml", "link.yaml", "ok.yaml", "out"]
    );
    for i in [0, 2, 4] {
        assert!(
            got[i].1.starts_with("not read: a symbolic link")
                && got[i].1.contains(&tree.display().to_string()),
            "{got:?}"
        );
        assert_eq!(docs[i].index, None);
    }
    assert_eq!((got[1].1.as_str(), got[3].1.as_str()), ("A", "A"));
}

#[test]
fn a_link_given_by_name_must_stay_in_its_directory() {
    let (_dir, tree) = tree();
    let docs = load(&[tree.join("link.yaml"), tree.join("inner.yaml")], false).unwrap();
    let got = summary(&docs);
    assert!(got[0].1.starts_with("not read: a symbolic link"), "{got:?}");
    assert_eq!(got[1].1, "A");
}

#[test]
fn a_file_larger_than_the_limit_is_not_read_and_the_report_names_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yaml");
    let padding = "#".repeat(MAX_FILE_BYTES - SECRET.len() - 1);
    std::fs::write(&big, format!("{SECRET}\n{padding}x")).unwrap();
    let got = summary(&load(std::slice::from_ref(&big), false).unwrap());
    assert_eq!(got.len(), 1, "{got:?}");
    let why = &got[0].1;
    assert!(
        why.starts_with("not read: ")
            && why.contains(&big.display().to_string())
            && why.contains("larger than 1048576 bytes"),
        "{why}"
    );
    assert!(!why.contains("TOKEN"), "{why}");
    // A file of exactly the limit is read.
    std::fs::write(&big, format!("kind: A\n{}", "#".repeat(MAX_FILE_BYTES - 8))).unwrap();
    let got = summary(&load(&[big], false).unwrap());
    assert_eq!(got[0].1, "A");
}

#[test]
fn stdin_is_read_only_up_to_the_limit() {
    // A stream that never ends: only the limit and one byte are read of it.
    let docs = read(Path::new("-"), std::io::repeat(b'[')).unwrap();
    let why = docs[0].object.as_ref().unwrap_err();
    assert!(
        why.contains("standard input is larger than 1048576 bytes"),
        "{why}"
    );
}

#[test]
fn a_document_nested_too_deep_is_not_parsed_and_the_report_names_the_limit() {
    let text = format!("{}{SECRET}", "[".repeat(MAX_DEPTH + 1));
    let docs = documents("deep.yaml", &text);
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].index, None);
    let why = docs[0].object.as_ref().unwrap_err();
    assert_eq!(
        why,
        "not read: deep.yaml nests mappings or sequences more than 64 deep, the most plan parses"
    );
    // A name from the pull request is kept to one line.
    let docs = documents("a\nb.yaml", &text);
    assert!(docs[0].object.as_ref().unwrap_err().contains("a b.yaml"));
}

#[test]
fn a_path_is_taken_as_written_without_dots_and_slashes() {
    for (given, normal) in [
        ("quotas/", "quotas"),
        ("quotas/.", "quotas"),
        ("quotas//", "quotas"),
        ("./quotas", "quotas"),
        ("./quotas/./", "quotas"),
        ("quotas/team/..", "quotas"),
        ("../repo/quotas/", "../repo/quotas"),
        ("/repo/quotas/.", "/repo/quotas"),
        ("quotas/..", "."),
        ("./", "."),
        ("../..", "../.."),
        ("", ""),
    ] {
        assert_eq!(lexical(Path::new(given)), Path::new(normal), "{given}");
    }
}

/// `repo/quotas`, a link to `runner/` (outside the repository) holding a token and, one level
/// down, another; `repo/hop`, a link to it through another link; `repo/alias`, a link to
/// `repo/real`.
fn linked_repo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (repo, runner) = (dir.path().join("repo"), dir.path().join("runner"));
    std::fs::create_dir_all(runner.join("deeper")).unwrap();
    std::fs::create_dir_all(repo.join("real")).unwrap();
    std::fs::write(repo.join("real/ok.yaml"), "kind: A\n").unwrap();
    symlink("real", repo.join("alias")).unwrap();
    std::fs::write(runner.join("token.yaml"), format!("kind: {SECRET}\n")).unwrap();
    std::fs::write(
        runner.join("deeper/token.yaml"),
        format!("kind: {SECRET}\n"),
    )
    .unwrap();
    symlink("../runner", repo.join("quotas")).unwrap();
    symlink("quotas", repo.join("hop")).unwrap();
    (dir, repo)
}

/// `repo` relative to the working directory, by `..` up to the root.
fn relative(repo: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap().canonicalize().unwrap();
    let up = cwd.components().skip(1).map(|_| "..");
    let down = repo.canonicalize().unwrap();
    up.collect::<PathBuf>()
        .join(down.strip_prefix("/").unwrap())
}

#[test]
fn a_linked_directory_leading_out_is_not_read_however_it_is_spelled() {
    let (_dir, repo) = linked_repo();
    let rel = relative(&repo).display().to_string();
    let repo = repo.display().to_string();
    for given in [
        format!("{repo}/quotas/"),
        format!("{repo}/quotas/."),
        format!("{repo}/quotas//"),
        format!("{repo}/./quotas/"),
        format!("{repo}/../repo/quotas/"),
        format!("{repo}/quotas/deeper/.."),
        format!("{repo}/hop/"),
        format!("{rel}/quotas/"),
        format!("{rel}/./quotas/."),
    ] {
        for recursive in [false, true] {
            let got = summary(&load(&[PathBuf::from(&given)], recursive).unwrap());
            assert_eq!(got.len(), 1, "{given}: {got:?}");
            assert!(
                got[0].1.starts_with("not read: a symbolic link"),
                "{given}: {got:?}"
            );
        }
    }
    // A link that stays in its directory is followed, spelled so too.
    let got = summary(&load(&[PathBuf::from(format!("{repo}/alias/"))], true).unwrap());
    assert_eq!(got, [("ok.yaml".to_string(), "A".to_string())]);
}
