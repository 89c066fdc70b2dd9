use std::path::Path;

use super::*;

/// A document nested `n` deep.
type Style = fn(usize) -> String;

fn flow_sequences(n: usize) -> String {
    format!("{}{}", "[".repeat(n), "]".repeat(n))
}

fn flow_mappings(n: usize) -> String {
    format!("{}b{}", "{a: ".repeat(n), "}".repeat(n))
}

fn block_mappings(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{}k:{}\n",
                "  ".repeat(i),
                if i + 1 == n { " v" } else { "" }
            )
        })
        .collect()
}

/// `- - - a`: each `-` opens a sequence in the one before.
fn block_sequences(n: usize) -> String {
    format!("{}a\n", "- ".repeat(n))
}

/// JSON as `kubectl get -o json` prints it, one object in the next.
fn json(n: usize) -> String {
    let open: String = (0..n)
        .map(|i| format!("{}{{\"a\":\n", " ".repeat(i)))
        .collect();
    format!("{open}{}1{}", " ".repeat(n), "}".repeat(n))
}

/// `k:` mappings `blocks` deep, the last holding `flows` flow sequences.
fn block_then_flow(blocks: usize, flows: usize) -> String {
    let lines: String = (0..blocks - 1)
        .map(|i| format!("{}k:\n", "  ".repeat(i)))
        .collect();
    format!(
        "{lines}{}k: {}\n",
        "  ".repeat(blocks - 1),
        flow_sequences(flows)
    )
}

/// `k:` then `- k:` at the same column: a mapping and a sequence per level.
fn indentless(levels: usize) -> String {
    let lines: String = (0..levels)
        .map(|i| format!("{}{}k:\n", "  ".repeat(i), if i > 0 { "- " } else { "" }))
        .collect();
    format!("{lines}{}- a\n", "  ".repeat(levels))
}

#[test]
fn the_limit_is_the_parsers_depth_in_every_style() {
    // Each is exactly as deep as its number (libyaml's events agree), so 64 passes and 65 not.
    let styles: [(&str, Style); 5] = [
        ("flow sequences", flow_sequences),
        ("flow mappings", flow_mappings),
        ("block mappings", block_mappings),
        ("block sequences", block_sequences),
        ("json", json),
    ];
    for (style, text) in styles {
        assert!(!too_deep(&text(MAX_DEPTH)), "{style}");
        assert!(too_deep(&text(MAX_DEPTH + 1)), "{style}");
    }
    assert!(!too_deep(&indentless(MAX_DEPTH / 2)));
    assert!(too_deep(&indentless(MAX_DEPTH / 2 + 1)));
    assert!(!too_deep(&block_then_flow(32, MAX_DEPTH - 32)));
    assert!(too_deep(&block_then_flow(32, MAX_DEPTH - 31)));
}

#[test]
fn a_collection_that_is_a_key_counts_the_mapping_opened_around_it() {
    // `[[...]]: v` is a mapping whose key is the sequences: one deeper than they look.
    let key = format!("{}: v\n", flow_sequences(MAX_DEPTH));
    assert!(too_deep(&key));
    assert!(!too_deep(&format!("{}\n", flow_sequences(MAX_DEPTH))));
    let pair_in_sequence = format!("[{}: v]", flow_sequences(MAX_DEPTH - 1));
    assert!(too_deep(&pair_in_sequence));
}

#[test]
fn brackets_in_strings_comments_and_block_scalars_are_not_nesting() {
    let brackets = "[{".repeat(MAX_DEPTH);
    for text in [
        format!("a: \"{brackets}\"\n"),
        format!("a: '{brackets} it''s'\n"),
        format!("a: \"x\\\"{brackets}\"\n"),
        format!("a: b # {brackets}\n"),
        format!("# {brackets}\na: b\n"),
        format!("a: |\n  {brackets}\n  more\nb: c\n"),
        format!("a: x{brackets}\n"),
        format!("a: \"multi\nline {brackets}\"\n"),
    ] {
        assert!(!too_deep(&text), "{text}");
    }
}

#[test]
fn what_only_looks_like_a_string_hides_no_brackets() {
    // An apostrophe inside a plain scalar opens no string, in either context; a plain scalar
    // continued on the next line does not either; a comment needs a space before its `#`.
    let deep = flow_sequences(MAX_DEPTH + 1);
    for text in [
        format!("[it's, {deep}]"),
        format!("a: it's\nb: {deep}\n"),
        format!("a: b\n  'c\nd: {deep}\n"),
        format!("a: b#c\nd: {deep}\n"),
        format!("a: |\n  x\nb: {deep}\n"),
        format!("a: \"x\"\nb: {deep}\n"),
    ] {
        assert!(too_deep(&text), "{text}");
    }
}

#[test]
fn every_document_of_a_file_is_measured() {
    let text = format!("a: b\n---\n{}\n", flow_sequences(MAX_DEPTH + 1));
    assert!(too_deep(&text));
    let shallow = format!("{}\n---\n", flow_sequences(MAX_DEPTH)).repeat(3);
    assert!(!too_deep(&shallow));
}

#[test]
fn a_sequence_libyaml_leaves_open_counts() {
    // libyaml's parser takes the `]` after a `?` for the empty key and leaves the sequence open.
    let text = format!("{}{}", "[?],".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH + 1));
    assert!(too_deep(&text));
}

#[test]
fn the_repositorys_files_are_far_from_the_limit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seen = 0;
    for dir in ["examples", "tests/admission"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            assert!(!too_deep(&text), "{}", path.display());
            seen += 1;
        }
    }
    assert!(seen > 5, "{seen}");
}

#[test]
fn a_hostile_text_is_refused_at_the_first_level_too_many() {
    // 2 MB of brackets: the scan stops at the 65th.
    assert!(too_deep(&"[".repeat(2 << 20)));
    assert!(too_deep(&"- ".repeat(1 << 20)));
}
