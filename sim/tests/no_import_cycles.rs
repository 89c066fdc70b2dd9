//! No file under `sim/src` reaches itself through `crate::` / `super::` / `self::` / child-module
//! paths (DESIGN.md: "No module imports another that imports it back").
//!
//! The graph is file-level: every path that starts with `crate`, `super`, `self` or the name of
//! a module the current scope declares is resolved to an absolute module path, and that to the
//! file holding the longest matching prefix (so `crate::aws::Fault` is `aws/mod.rs`, the
//! facade, while `crate::aws::fault::Fault` is `aws/fault.rs`). `use` trees, expression and type
//! paths and macro bodies all count; `mod x;` declarations and doc comments do not. A facade's
//! `pub use child::X` is an edge like any other, so a child that reaches back to its facade
//! (or to `lib.rs`) closes a circle. Strongly connected components (Tarjan) of more than one
//! file fail the test, with the edges inside them, so the message says which `use` to move.
//! `main.rs` is its own crate (it sees the library as `quota_sim`) and is left out. A second
//! test runs the same check with each service folder (`aws/model/`, `gcp/cloud_quotas/`) as
//! one node, so the layers inside a cloud stay layers too.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// Module path (`["aws", "state"]`) -> file relative to `src/`.
type Files = BTreeMap<Vec<String>, PathBuf>;
/// File -> files it refers to, each with one example path for the failure message.
type Graph = BTreeMap<PathBuf, BTreeMap<PathBuf, String>>;

fn module_files(src: &Path) -> Files {
    let mut files = Files::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read sim/src") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).expect("under src").to_path_buf();
            let mut module: Vec<String> = rel
                .with_extension("")
                .iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect();
            match module.last().map(String::as_str) {
                Some("main") if module.len() == 1 => continue,
                Some("lib") if module.len() == 1 => module.clear(),
                Some("mod") => {
                    module.pop();
                }
                _ => {}
            }
            files.insert(module, rel);
        }
    }
    files
}

/// The file holding `module` (an absolute path, possibly ending in an item name).
fn file_of<'a>(files: &'a Files, module: &[String]) -> &'a PathBuf {
    (0..=module.len())
        .rev()
        .find_map(|n| files.get(&module[..n]))
        .expect("lib.rs holds every path")
}

/// One walk over a file's tokens, in one module scope (the file's, or an inline `mod`'s).
struct Scope<'a> {
    module: Vec<String>,
    /// Modules this scope declares (`mod x;` or `mod x { .. }`): `x::..` is a relative path.
    children: BTreeSet<String>,
    refs: &'a mut Vec<Vec<String>>,
}

impl Scope<'_> {
    fn walk(&mut self, stream: TokenStream) {
        let tokens: Vec<TokenTree> = stream.into_iter().collect();
        self.children.extend(declared_modules(&tokens));
        let mut i = 0;
        while i < tokens.len() {
            i = self.token(&tokens, i);
        }
    }

    /// Handles the token at `i`, returns the index of the next one to look at.
    fn token(&mut self, tokens: &[TokenTree], i: usize) -> usize {
        match &tokens[i] {
            TokenTree::Ident(id) if id == "mod" => {
                if let (Some(TokenTree::Ident(name)), Some(TokenTree::Group(body))) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                    && body.delimiter() == Delimiter::Brace
                {
                    let mut module = self.module.clone();
                    module.push(name.to_string());
                    let mut inner = Scope {
                        module,
                        children: BTreeSet::new(),
                        refs: self.refs,
                    };
                    inner.walk(body.stream());
                    return i + 3;
                }
                i + 1
            }
            TokenTree::Ident(id) if starts_path(tokens, i) && self.is_root(&id.to_string()) => {
                self.path(tokens, i, Vec::new())
            }
            TokenTree::Group(group) => {
                self.walk_nested(group.stream());
                i + 1
            }
            _ => i + 1,
        }
    }

    fn walk_nested(&mut self, stream: TokenStream) {
        // A block or a use group: same module, same declared children.
        let mut nested = Scope {
            module: self.module.clone(),
            children: self.children.clone(),
            refs: self.refs,
        };
        nested.walk(stream);
    }

    fn is_root(&self, segment: &str) -> bool {
        matches!(segment, "crate" | "super" | "self") || self.children.contains(segment)
    }

    /// Reads `a::b::{c, d::e}` from `i` (prefixed by `prefix`, the relative segments read so
    /// far), records each resolved path, returns the index after it.
    fn path(&mut self, tokens: &[TokenTree], mut i: usize, mut prefix: Vec<String>) -> usize {
        loop {
            match tokens.get(i) {
                Some(TokenTree::Ident(id)) => prefix.push(id.to_string()),
                Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                    for tree in split_commas(g.stream()) {
                        if let Some(TokenTree::Ident(_)) = tree.first() {
                            self.path(&tree, 0, prefix.clone());
                        }
                    }
                    return i + 1;
                }
                _ => break, // `*`, or the end of the path
            }
            if !is_path_sep(tokens, i + 1) {
                i += 1;
                break;
            }
            i += 3;
        }
        if let Some(absolute) = self.resolve(&prefix) {
            self.refs.push(absolute);
        }
        i
    }

    fn resolve(&self, relative: &[String]) -> Option<Vec<String>> {
        let mut module = self.module.clone();
        let mut segments = relative.iter().peekable();
        match segments.peek().map(|s| s.as_str()) {
            Some("crate") => {
                module.clear();
                segments.next();
            }
            Some("self") | None => {
                segments.next();
            }
            Some("super") => {}
            Some(_) => {} // a declared child: relative to this scope
        }
        while segments.peek().is_some_and(|s| *s == "super") {
            module.pop()?;
            segments.next();
        }
        module.extend(segments.cloned());
        Some(module)
    }
}

fn is_path_sep(tokens: &[TokenTree], i: usize) -> bool {
    matches!((tokens.get(i), tokens.get(i + 1)),
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) if a.as_char() == ':' && b.as_char() == ':')
}

/// `x::` at `i`, not itself the tail of a longer path (`foo::crate` cannot happen, but
/// `other::state::` must not be read as the child `state`).
fn starts_path(tokens: &[TokenTree], i: usize) -> bool {
    let after_sep = i >= 2 && is_path_sep(tokens, i - 2);
    !after_sep && is_path_sep(tokens, i + 1)
}

fn declared_modules(tokens: &[TokenTree]) -> Vec<String> {
    tokens
        .windows(2)
        .filter_map(|w| match w {
            [TokenTree::Ident(kw), TokenTree::Ident(name)] if kw == "mod" => Some(name.to_string()),
            _ => None,
        })
        .collect()
}

fn split_commas(stream: TokenStream) -> Vec<Vec<TokenTree>> {
    let mut parts = vec![Vec::new()];
    for tree in stream {
        match &tree {
            TokenTree::Punct(p) if p.as_char() == ',' => parts.push(Vec::new()),
            _ => parts.last_mut().expect("one part").push(tree),
        }
    }
    parts
}

fn import_graph(src: &Path) -> Graph {
    let files = module_files(src);
    let mut graph = Graph::new();
    for (module, file) in &files {
        let text = std::fs::read_to_string(src.join(file)).expect("read source");
        let stream: TokenStream = text.parse().expect("tokenize source");
        let mut refs = Vec::new();
        Scope {
            module: module.clone(),
            children: BTreeSet::new(),
            refs: &mut refs,
        }
        .walk(stream);
        let edges = graph.entry(file.clone()).or_default();
        for target in refs {
            let to = file_of(&files, &target);
            if to != file {
                edges.entry(to.clone()).or_insert_with(|| target.join("::"));
            }
        }
    }
    graph
}

/// Tarjan's strongly connected components; only those of two files or more.
fn cycles(graph: &Graph) -> Vec<Vec<PathBuf>> {
    struct Tarjan<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g PathBuf, usize>,
        low: BTreeMap<&'g PathBuf, usize>,
        stack: Vec<&'g PathBuf>,
        on_stack: BTreeSet<&'g PathBuf>,
        found: Vec<Vec<PathBuf>>,
    }
    impl<'g> Tarjan<'g> {
        fn visit(&mut self, v: &'g PathBuf) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flat_map(|e| e.keys()) {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    self.low.insert(v, self.low[v].min(self.low[w]));
                } else if self.on_stack.contains(w) {
                    self.low.insert(v, self.low[v].min(self.index[w]));
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.clone());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut tarjan = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !tarjan.index.contains_key(v) {
            tarjan.visit(v);
        }
    }
    tarjan.found
}

fn describe(graph: &Graph, component: &[PathBuf]) -> String {
    let mut text = format!(
        "circle of {}: {}\n",
        component.len(),
        component
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for from in component {
        for (to, example) in &graph[from] {
            if component.contains(to) {
                text += &format!("  {} -> {} ({example})\n", from.display(), to.display());
            }
        }
    }
    text
}

#[test]
fn no_file_in_sim_src_imports_itself_back() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = import_graph(&src);
    let found = cycles(&graph);
    let report: String = found.iter().map(|c| describe(&graph, c)).collect();
    assert!(found.is_empty(), "import circles in sim/src:\n{report}");
}

/// The graph with every file of a folder two levels down (`aws/model/`, `gcp/compute/`) as one
/// node: the services and the model of a cloud are layers too, not only their files.
fn folder_graph(graph: &Graph) -> Graph {
    let folder = |file: &Path| {
        let parts: Vec<_> = file.iter().collect();
        match parts.len() {
            n if n > 2 => parts[..2].iter().collect::<PathBuf>(),
            _ => file.to_path_buf(),
        }
    };
    let mut folders = Graph::new();
    for (from, edges) in graph {
        let node = folders.entry(folder(from)).or_default();
        for (to, example) in edges {
            if folder(to) != folder(from) {
                node.entry(folder(to))
                    .or_insert_with(|| format!("{} -> {example}", from.display()));
            }
        }
    }
    folders
}

#[test]
fn no_service_folder_of_sim_src_imports_itself_back() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = folder_graph(&import_graph(&src));
    let found = cycles(&graph);
    let report: String = found.iter().map(|c| describe(&graph, c)).collect();
    assert!(
        found.is_empty(),
        "import circles between folders of sim/src:\n{report}"
    );
}

#[test]
fn the_checker_sees_a_facade_circle_and_a_sibling_circle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path();
    std::fs::create_dir(src.join("cloud")).expect("mkdir");
    let write = |path: &str, text: &str| std::fs::write(src.join(path), text).expect("write");
    write("lib.rs", "mod cloud;\npub use cloud::Thing;\n");
    write(
        "cloud/mod.rs",
        "mod a;\nmod b;\nmod c;\npub use a::Thing;\n/// [`crate::Thing`] in a doc: not a use\npub struct Up;\n",
    );
    write("cloud/a.rs", "use super::b::B;\npub struct Thing;\n");
    write(
        "cloud/b.rs",
        "pub struct B;\nfn f() { let _ = super::{c::C, a::Thing}; }\n",
    );
    write(
        "cloud/c.rs",
        "pub struct C;\n#[cfg(test)]\nmod tests { use super::*; use crate::Thing; }\n",
    );
    let graph = import_graph(src);
    let found = cycles(&graph);
    let files = |names: &[&str]| names.iter().map(PathBuf::from).collect::<Vec<_>>();
    // a <-> b through `super::{.., a::Thing}`; c's test module reaches lib.rs, which reaches
    // c only through the facade and a, so lib.rs, the facade and c join the circle too.
    assert_eq!(
        found,
        vec![files(&[
            "cloud/a.rs",
            "cloud/b.rs",
            "cloud/c.rs",
            "cloud/mod.rs",
            "lib.rs"
        ])],
        "{graph:#?}"
    );
    // Without c's upward use only a <-> b is left.
    write(
        "cloud/c.rs",
        "pub struct C;\n#[cfg(test)]\nmod tests { use super::*; }\n",
    );
    let graph = import_graph(src);
    assert_eq!(cycles(&graph), vec![files(&["cloud/a.rs", "cloud/b.rs"])]);
}
