//! import-cycles: finds import circles between the files of a Rust library's `src/`.
//!
//! quota-operator keeps one layout rule in both of its crates, the operator's `src/` and the
//! simulator's `sim/src/`: no module imports another that imports it back. This crate is the
//! one checker for that rule, so the two crates are held to the same definition of a circle;
//! its `tests/` run it on both (`cargo test -p import-cycles`).
//!
//! The graph is file-level: every path that starts with `crate`, `super`, `self` or the name of
//! a module the current scope declares is resolved to an absolute module path, and that to the
//! file holding the longest matching prefix (so `crate::aws::Fault` is `aws/mod.rs`, the
//! facade, while `crate::aws::fault::Fault` is `aws/fault.rs`). `use` trees, expression and type
//! paths and macro bodies all count; `mod x;` declarations and doc comments do not. A facade's
//! `pub use child::X` is an edge like any other, so a child that reaches back to its facade
//! (or to `lib.rs`) closes a circle. Strongly connected components (Tarjan) of more than one
//! file are circles, each reported with the edges inside it, so the message says which `use`
//! to move.
//!
//! Files are found by following `mod x;` declarations from `lib.rs`, as the compiler does
//! (`x.rs` or `x/mod.rs`, children of a non-`mod.rs` file in a folder of its name, inline
//! `mod a { mod x; }` in `a/`, and `#[path = "x_tests.rs"] mod tests;` relative to the declaring
//! file's folder), so a `#[path]` file is the child of the file declaring it. Every other `.rs`
//! file under `src/` must be named in `skip`: another crate's root (`main.rs`, which sees the
//! library by its crate name) and the files it declares.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    path::{Component, Path, PathBuf},
};

use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// A set of files (or folders) that reach each other through their imports.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cycle {
    /// The circle's nodes, relative to `src/`, sorted.
    pub files: Vec<PathBuf>,
    /// Every edge between two nodes of the circle.
    pub edges: Vec<Edge>,
}

/// One node of a circle referring to another.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    pub from: PathBuf,
    pub to: PathBuf,
    /// One path in `from` that resolves into `to`, absolute, without `crate::` (`cloud::Quota`;
    /// at folder level prefixed by the file it is in).
    pub via: String,
}

impl fmt::Display for Cycle {
    /// `circle of N: a, b` and one `  from -> to (via)` line per edge.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let files: Vec<String> = self.files.iter().map(|f| f.display().to_string()).collect();
        writeln!(f, "circle of {}: {}", self.files.len(), files.join(", "))?;
        for edge in &self.edges {
            writeln!(
                f,
                "  {} -> {} ({})",
                edge.from.display(),
                edge.to.display(),
                edge.via
            )?;
        }
        Ok(())
    }
}

/// Every circle in `cycles`, one after another, for a failure message.
pub fn report(cycles: &[Cycle]) -> String {
    cycles.iter().map(Cycle::to_string).collect()
}

/// The import circles between the files of the library whose `lib.rs` is in `src`.
///
/// `skip` names files (or folders) relative to `src` that are not the library's: another crate
/// root such as `main.rs` and the files it declares.
///
/// # Panics
///
/// When a file cannot be read or tokenized, when a declared module has no file, when `lib.rs`
/// reaches a file named in `skip`, or when a `.rs` file under `src` is neither reached from
/// `lib.rs` nor named in `skip` (so no file is left out of the check by accident).
pub fn cycles(src: &Path, skip: &[&str]) -> Vec<Cycle> {
    components(&import_graph(src, skip))
}

/// As [`cycles`], with every file more than `levels` path components deep grouped into its
/// folder at that depth: with `levels = 2`, `aws/model/state.rs` and `aws/model/catalog.rs` are
/// one node `aws/model`, while `aws/mod.rs` and `lib.rs` stay nodes of their own. So the
/// layers inside a folder (a cloud's services above its model) stay layers too, not only their
/// files.
///
/// # Panics
///
/// As [`cycles`].
pub fn folder_cycles(src: &Path, skip: &[&str], levels: usize) -> Vec<Cycle> {
    components(&folder_graph(&import_graph(src, skip), levels))
}

/// Module path (`["aws", "state"]`) -> file relative to `src/`.
type Files = BTreeMap<Vec<String>, PathBuf>;
/// File -> files it refers to, each with one example path for the failure message.
type Graph = BTreeMap<PathBuf, BTreeMap<PathBuf, String>>;

/// A `mod name;` found in a file, inside the inline modules `inline` (outermost first).
struct Declaration {
    inline: Vec<String>,
    name: String,
    /// The value of its `#[path = ".."]`, if any.
    path: Option<String>,
}

fn tokens(src: &Path, file: &Path) -> TokenStream {
    let path = src.join(file);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.parse()
        .unwrap_or_else(|e| panic!("tokenize {}: {e}", path.display()))
}

fn is_skipped(file: &Path, skip: &[&str]) -> bool {
    skip.iter().any(|s| file.starts_with(s))
}

/// The library's modules, found from `lib.rs` through its `mod x;` declarations.
fn module_files(src: &Path, skip: &[&str]) -> Files {
    let mut files = Files::new();
    // (module path, file, whether the file is "mod-rs": its children live beside it).
    let mut queue = vec![(Vec::<String>::new(), PathBuf::from("lib.rs"), true)];
    while let Some((module, file, mod_rs)) = queue.pop() {
        assert!(
            !is_skipped(&file, skip),
            "{} is a module of the library (reached from lib.rs) but is named in skip",
            file.display()
        );
        let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
        let children_dir = match file.file_stem() {
            Some(stem) if !mod_rs => dir.join(stem),
            _ => dir.clone(),
        };
        let stream: Vec<TokenTree> = tokens(src, &file).into_iter().collect();
        for declaration in module_declarations(&stream, &[]) {
            let inline_dir: PathBuf = declaration.inline.iter().collect();
            let (child, child_mod_rs) = match &declaration.path {
                // A `#[path]` file's own children live beside it, as a `mod.rs` file's do.
                Some(path) if declaration.inline.is_empty() => (normalize(&dir.join(path)), true),
                Some(path) => (normalize(&children_dir.join(&inline_dir).join(path)), true),
                None => {
                    let base = children_dir.join(&inline_dir);
                    let flat = base.join(format!("{}.rs", declaration.name));
                    let nested = base.join(&declaration.name).join("mod.rs");
                    if src.join(&flat).is_file() {
                        (flat, false)
                    } else if src.join(&nested).is_file() {
                        (nested, true)
                    } else {
                        panic!(
                            "{} declares `mod {}` but neither {} nor {} exists",
                            file.display(),
                            declaration.name,
                            flat.display(),
                            nested.display()
                        );
                    }
                }
            };
            let mut child_module = module.clone();
            child_module.extend(declaration.inline);
            child_module.push(declaration.name);
            queue.push((child_module, child, child_mod_rs));
        }
        files.insert(module, file);
    }
    let reached: BTreeSet<&PathBuf> = files.values().collect();
    let stray: Vec<String> = rs_files(src)
        .into_iter()
        .filter(|f| !reached.contains(f) && !is_skipped(f, skip))
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        stray.is_empty(),
        "not reached from {}/lib.rs and not named in skip: {}",
        src.display(),
        stray.join(", ")
    );
    files
}

/// Every `.rs` file under `src`, relative to it.
fn rs_files(src: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries =
            std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path.strip_prefix(src).expect("under src").to_path_buf());
            }
        }
    }
    found.sort();
    found
}

/// `a/../b/./c.rs` -> `b/c.rs`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut parts: Vec<Component> = Vec::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    parts.iter().collect()
}

/// The `mod x;` declarations among `tokens`, and inside their inline `mod a { .. }` blocks.
fn module_declarations(tokens: &[TokenTree], inline: &[String]) -> Vec<Declaration> {
    let mut found = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let TokenTree::Ident(kw) = token else {
            continue;
        };
        if kw != "mod" {
            continue;
        }
        let Some(TokenTree::Ident(name)) = tokens.get(i + 1) else {
            continue;
        };
        match tokens.get(i + 2) {
            Some(TokenTree::Punct(p)) if p.as_char() == ';' => found.push(Declaration {
                inline: inline.to_vec(),
                name: name.to_string(),
                path: path_attribute(tokens, i),
            }),
            Some(TokenTree::Group(body)) if body.delimiter() == Delimiter::Brace => {
                let mut inner = inline.to_vec();
                inner.push(name.to_string());
                let body: Vec<TokenTree> = body.stream().into_iter().collect();
                found.extend(module_declarations(&body, &inner));
            }
            _ => {}
        }
    }
    found
}

/// The `#[path = ".."]` among the outer attributes of the item whose `mod` keyword is at `i`.
fn path_attribute(tokens: &[TokenTree], i: usize) -> Option<String> {
    let mut j = i;
    // Visibility: `pub`, `pub(crate)`, `pub(in ..)`.
    if j >= 2
        && matches!(&tokens[j - 1], TokenTree::Group(g) if g.delimiter() == Delimiter::Parenthesis)
        && matches!(&tokens[j - 2], TokenTree::Ident(id) if id == "pub")
    {
        j -= 2;
    } else if j >= 1 && matches!(&tokens[j - 1], TokenTree::Ident(id) if id == "pub") {
        j -= 1;
    }
    let mut path = None;
    while j >= 2 {
        let (TokenTree::Punct(hash), TokenTree::Group(attribute)) =
            (&tokens[j - 2], &tokens[j - 1])
        else {
            break;
        };
        if hash.as_char() != '#' || attribute.delimiter() != Delimiter::Bracket {
            break;
        }
        let inside: Vec<TokenTree> = attribute.stream().into_iter().collect();
        if let [
            TokenTree::Ident(key),
            TokenTree::Punct(eq),
            TokenTree::Literal(value),
        ] = inside.as_slice()
            && key == "path"
            && eq.as_char() == '='
        {
            let value = value.to_string();
            let value = value.trim_start_matches('r').trim_matches('#');
            path = Some(value.trim_matches('"').to_string());
        }
        j -= 2;
    }
    path
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

fn import_graph(src: &Path, skip: &[&str]) -> Graph {
    let files = module_files(src, skip);
    let mut graph = Graph::new();
    for (module, file) in &files {
        let mut refs = Vec::new();
        Scope {
            module: module.clone(),
            children: BTreeSet::new(),
            refs: &mut refs,
        }
        .walk(tokens(src, file));
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

/// The graph with every file more than `levels` components deep as its folder at that depth.
fn folder_graph(graph: &Graph, levels: usize) -> Graph {
    let folder = |file: &Path| {
        let parts: Vec<_> = file.iter().collect();
        match parts.len() {
            n if n > levels => parts[..levels].iter().collect::<PathBuf>(),
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

/// Tarjan's strongly connected components of two nodes or more, sorted, with their edges.
fn components(graph: &Graph) -> Vec<Cycle> {
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
    let mut cycles: Vec<Cycle> = tarjan
        .found
        .into_iter()
        .map(|files| {
            let mut edges = Vec::new();
            for from in &files {
                for (to, via) in graph.get(from).into_iter().flatten() {
                    if files.contains(to) {
                        edges.push(Edge {
                            from: from.clone(),
                            to: to.clone(),
                            via: via.clone(),
                        });
                    }
                }
            }
            Cycle { files, edges }
        })
        .collect();
    cycles.sort();
    cycles
}
