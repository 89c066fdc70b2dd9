//! Every relative link in the project's Markdown reaches a file that exists, and every `#anchor`
//! (in the same file or another) names a heading there, slugged by GitHub's rules: a reader who
//! follows a link lands where it says.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The documents a user reads: the README, the changelog, docs/, the chart's README, and any
/// Markdown under deploy/, examples/ and tools/.
fn documents(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![
        root.join("README.md"),
        root.join("CHANGELOG.md"),
        root.join("charts/quota-operator/README.md"),
    ];
    for dir in ["docs", "deploy", "examples", "tools"] {
        markdown_under(&root.join(dir), &mut files);
    }
    files.retain(|f| f.is_file());
    files
}

fn markdown_under(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            markdown_under(&path, found);
        } else if path.extension().is_some_and(|e| e == "md") {
            found.push(path);
        }
    }
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let root = Path::new(ROOT);
    let docs = documents(root);
    assert!(docs.len() >= 8, "too few documents found: {docs:?}");
    let mut broken = vec![];
    for doc in &docs {
        broken.extend(broken_links(doc));
    }
    assert!(
        broken.is_empty(),
        "broken links ({}):\n{}",
        broken.len(),
        broken.join("\n")
    );
}

/// One line per link that does not resolve: `file:line: target: why`.
fn broken_links(doc: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(doc).unwrap_or_else(|e| panic!("read {doc:?}: {e}"));
    let name = doc.strip_prefix(ROOT).unwrap_or(doc).display().to_string();
    let mut broken = vec![];
    for (line, target) in links(&text) {
        if let Err(why) = resolve(doc, &text, &target) {
            broken.push(format!("{name}:{line}: {target}: {why}"));
        }
    }
    broken
}

fn resolve(doc: &Path, text: &str, target: &str) -> Result<(), String> {
    if is_external(target) {
        return Ok(());
    }
    let (path, anchor) = match target.split_once('#') {
        Some((p, a)) => (p, Some(a)),
        None => (target, None),
    };
    let file = if path.is_empty() {
        doc.to_path_buf()
    } else {
        let file = doc.parent().unwrap().join(path);
        if !file.exists() {
            return Err(format!("no such file {}", file.display()));
        }
        file
    };
    let Some(anchor) = anchor else {
        return Ok(());
    };
    if file.extension().is_none_or(|e| e != "md") {
        return Err("an anchor into a file that is not Markdown".into());
    }
    let target_text = if path.is_empty() {
        text.to_string()
    } else {
        std::fs::read_to_string(&file).map_err(|e| e.to_string())?
    };
    if anchors(&target_text).contains(anchor) {
        Ok(())
    } else {
        Err(format!("no heading with the anchor #{anchor}"))
    }
}

fn is_external(target: &str) -> bool {
    let scheme = target.split(':').next().unwrap_or("");
    target.contains(':')
        && !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

/// The lines of a document outside fenced code blocks, numbered from 1.
fn prose_lines(text: &str) -> Vec<(usize, &str)> {
    let mut fence: Option<&str> = None;
    let mut lines = vec![];
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let marker = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m));
        match (fence, marker) {
            (None, Some(m)) => fence = Some(m),
            (Some(open), Some(m)) if open == m => fence = None,
            (None, None) => lines.push((i + 1, line)),
            _ => {}
        }
    }
    lines
}

/// Link targets: inline `[text](target)` and `![alt](target)`, and reference definitions
/// `[label]: target`; never inside code.
fn links(text: &str) -> Vec<(usize, String)> {
    let mut found = vec![];
    for (number, line) in prose_lines(text) {
        let line = without_code_spans(line);
        if let Some(rest) = line.trim_start().strip_prefix('[')
            && let Some((_, target)) = rest.split_once("]: ")
        {
            found.push((
                number,
                target.split_whitespace().next().unwrap_or("").into(),
            ));
            continue;
        }
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after.find(')').unwrap_or(after.len());
            let target = after[..end].split_whitespace().next().unwrap_or("");
            let target = target.trim_start_matches('<').trim_end_matches('>');
            found.push((number, target.to_string()));
            rest = &after[end..];
        }
    }
    found
}

fn without_code_spans(line: &str) -> String {
    let mut out = String::new();
    for (i, part) in line.split('`').enumerate() {
        if i % 2 == 0 {
            out.push_str(part);
        }
    }
    out
}

/// Every anchor a document's headings get on GitHub, duplicates numbered `-1`, `-2`, ...
fn anchors(text: &str) -> HashSet<String> {
    let mut seen = HashSet::new();
    for (_, line) in prose_lines(text) {
        let Some(title) = heading(line) else {
            continue;
        };
        let base = slug(title);
        let mut anchor = base.clone();
        let mut n = 0;
        while seen.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        seen.insert(anchor);
    }
    seen
}

/// An ATX heading's text (`## Title ##` gives `Title`).
fn heading(line: &str) -> Option<&str> {
    let hashes = line.len() - line.trim_start_matches('#').len();
    if !(1..=6).contains(&hashes) {
        return None;
    }
    let rest = &line[hashes..];
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some(rest.trim().trim_end_matches('#').trim_end())
}

/// GitHub's slug of a heading: the rendered text (code spans keep their text, links their
/// label, emphasis marks go), lowercased; letters, digits, `-`, `_` and spaces kept, spaces
/// made `-`, everything else dropped.
fn slug(title: &str) -> String {
    let rendered = link_labels(title).replace(['`', '*'], "");
    rendered
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// `[label](target)` becomes `label`.
fn link_labels(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find("](").map(|c| open + c) else {
            break;
        };
        let Some(end) = rest[close..].find(')').map(|e| close + e) else {
            break;
        };
        out.push_str(&rest[..open]);
        out.push_str(&rest[open + 1..close]);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn slugs_follow_githubs_rules() {
    assert_eq!(slug("Quick start"), "quick-start");
    assert_eq!(slug("What `tools/test.sh` runs"), "what-toolstestsh-runs");
    assert_eq!(
        slug("From an error to a QuotaRequirement: quota-operator explain"),
        "from-an-error-to-a-quotarequirement-quota-operator-explain"
    );
    assert_eq!(
        slug("Usage, headroom, and the clouds' own auto-adjusters"),
        "usage-headroom-and-the-clouds-own-auto-adjusters"
    );
    assert_eq!(
        slug("QuotaRequirement (namespaced, short name `qr`, category `quotas`)"),
        "quotarequirement-namespaced-short-name-qr-category-quotas"
    );
    assert_eq!(
        slug("The **bold** [link](x.md) and snake_case"),
        "the-bold-link-and-snake_case"
    );
    assert_eq!(slug("2026-12-07"), "2026-12-07");
}

#[test]
fn duplicate_headings_are_numbered_and_code_blocks_are_not_headings() {
    let text = "# Notes\n## Notes\n```sh\n# Notes\n```\n### Notes ###\n#nospace\n";
    let got = anchors(text);
    let want: HashSet<String> = ["notes", "notes-1", "notes-2"].map(String::from).into();
    assert_eq!(got, want);
}

#[test]
fn links_are_found_outside_code_only() {
    let text = "See [a](a.md#x) and ![img](i.png \"t\").\n`[not](code.md)`\n```\n[no](block.md)\n```\n[ref]: r.md\n";
    let targets: Vec<String> = links(text).into_iter().map(|(_, t)| t).collect();
    assert_eq!(targets, ["a.md#x", "i.png", "r.md"]);
    assert!(is_external("https://example.com/x#y") && is_external("mailto:a@b"));
    assert!(!is_external("docs/api.md") && !is_external("#quick-start"));
}

/// The checker fails on a fixture with a missing file, a missing anchor in another file and a
/// missing anchor in the same file, and passes the links that are right beside them.
#[test]
fn a_broken_link_fixture_fails() {
    let dir = tempfile::tempdir().expect("temp dir");
    let other = dir.path().join("other.md");
    std::fs::write(&other, "# Other page\n## Real `section`\n").unwrap();
    let doc = dir.path().join("doc.md");
    std::fs::write(
        &doc,
        "# Top\n[ok](other.md#real-section) [ok](#top) [ok](https://x.invalid/#nope)\n\
         [gone](missing.md)\n[bad anchor](other.md#unreal)\n[bad here](#bottom)\n",
    )
    .unwrap();
    let broken = broken_links(&doc);
    assert_eq!(broken.len(), 3, "{broken:#?}");
    assert!(
        broken[0].contains(":3: missing.md: no such file"),
        "{}",
        broken[0]
    );
    assert!(broken[1].contains(":4: other.md#unreal: no heading with the anchor #unreal"));
    assert!(broken[2].contains(":5: #bottom: no heading"));
}
