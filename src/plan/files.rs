//! The objects of the files and directories given to `plan`, as `kubectl apply -f` reads them:
//! YAML or JSON, several documents per file, `kind: List` expanded, directories read one level
//! deep unless recursive.
//!
//! `plan` runs on pull requests and its output is posted where the author reads it, so a file's
//! text is never echoed (a document that is not an object is described by its shape), and a
//! symbolic link is followed only while it stays inside the tree under review: otherwise a link
//! to a token file would print the token into the pull request. For the same reason a file
//! larger or deeper than [`limits`] allows is not parsed: the author would choose how long the
//! job runs.

use std::{
    collections::HashSet,
    io::Read,
    path::{Component, Path, PathBuf},
};

use serde_json::Value;

use super::limits::{self, MAX_DEPTH, MAX_FILE_BYTES};

/// One document of one file.
#[derive(Clone, Debug)]
pub struct Document {
    /// The file, as given or found under a given directory.
    pub file: String,
    /// Which document of the file (from 1); `None` when the file was not read.
    pub index: Option<usize>,
    /// The object, or why the document could not be read as one.
    pub object: Result<Value, String>,
}

/// A path that cannot be read: a usage error, not an invalid object.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PathError {
    pub path: String,
    pub message: String,
}

impl PathError {
    fn of(path: &Path) -> impl Fn(std::io::Error) -> Self + '_ {
        move |e| Self {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }
}

/// A file to read, or one passed over (and why).
enum Found {
    File(PathBuf),
    NotRead { path: PathBuf, why: String },
}

/// Every document under `paths` (`-` is stdin), in the order given, directories sorted.
pub fn load(paths: &[PathBuf], recursive: bool) -> Result<Vec<Document>, PathError> {
    let mut docs = vec![];
    for path in paths {
        if path.as_os_str() == "-" {
            docs.extend(read(path, std::io::stdin().lock())?);
            continue;
        }
        for found in walk(path, recursive)? {
            match found {
                Found::File(file) => {
                    let reader = std::fs::File::open(&file).map_err(PathError::of(&file))?;
                    docs.extend(read(&file, reader)?);
                }
                Found::NotRead { path, why } => {
                    docs.push(unread(&path.display().to_string(), why));
                }
            }
        }
    }
    Ok(docs)
}

/// The documents of one file (or stdin), of which at most [`MAX_FILE_BYTES`] and one byte are
/// read: stdin or a special file may not end.
fn read(path: &Path, reader: impl Read) -> Result<Vec<Document>, PathError> {
    let file = path.display().to_string();
    let mut bytes = vec![];
    reader
        .take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(PathError::of(path))?;
    if bytes.len() > MAX_FILE_BYTES {
        let why = format!(
            "not read: {} is larger than {MAX_FILE_BYTES} bytes ({} MiB), the most plan reads \
             of one file",
            named(&file),
            MAX_FILE_BYTES >> 20
        );
        return Ok(vec![unread(&file, why)]);
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        let invalid = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        );
        PathError::of(path)(invalid)
    })?;
    Ok(documents(&file, &text))
}

fn unread(file: &str, why: String) -> Document {
    Document {
        file: file.into(),
        index: None,
        object: Err(why),
    }
}

/// A file's name for a message: the name comes from the pull request and the message is printed
/// as it is, so it is kept to one line.
fn named(file: &str) -> String {
    if file == "-" {
        return "standard input".into();
    }
    file.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The files of one given path, however spelled ([`lexical`]). A link given by name must stay
/// in the directory it is in (`plan -f $(git diff --name-only)` names links a pull request
/// added); links found under a given directory must stay under it.
fn walk(given: &Path, recursive: bool) -> Result<Vec<Found>, PathError> {
    let path = &lexical(given);
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Some(refused) = escapes(path, parent)? {
        return Ok(vec![refused]);
    }
    if !std::fs::metadata(path)
        .map_err(PathError::of(path))?
        .is_dir()
    {
        return Ok(vec![Found::File(path.to_path_buf())]);
    }
    let root = std::fs::canonicalize(path).map_err(PathError::of(path))?;
    let mut tree = Tree {
        given,
        root: &root,
        recursive,
        visited: HashSet::from([root.clone()]),
        found: vec![],
    };
    tree.read_dir(path)?;
    Ok(tree.found)
}

/// `path` without `.`, empty components and `name/..`, so that its last component is the name
/// the link checks inspect. Spelled `quotas/` or `quotas/.`, the system resolves a link
/// `quotas` before looking at what it names: the link passed unchecked and the tree's root
/// became wherever it led. `name/..` is dropped as written: the system would go up from where a
/// link `name` leads.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() && !path.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// One given directory being read.
struct Tree<'a> {
    given: &'a Path,
    root: &'a Path,
    recursive: bool,
    /// Directories already read: a link to one (or to an ancestor) is not read again.
    visited: HashSet<PathBuf>,
    found: Vec<Found>,
}

impl Tree<'_> {
    fn read_dir(&mut self, dir: &Path) -> Result<(), PathError> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(PathError::of(dir))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(PathError::of(dir))?;
        entries.sort();
        for entry in entries {
            let manifest = entry
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json");
            // Only what would be read is checked: a link to a README outside is no concern.
            if !(manifest || self.recursive) {
                continue;
            }
            if let Some(refused) = escapes_tree(&entry, self.root, self.given)? {
                self.found.push(refused);
                continue;
            }
            if std::fs::metadata(&entry)
                .map_err(PathError::of(&entry))?
                .is_dir()
            {
                let real = std::fs::canonicalize(&entry).map_err(PathError::of(&entry))?;
                if self.recursive && self.visited.insert(real) {
                    self.read_dir(&entry)?;
                }
            } else if manifest {
                self.found.push(Found::File(entry));
            }
        }
        Ok(())
    }
}

/// `path` as not read when it is a symbolic link that leaves `dir` (the link itself is
/// inspected, never the file it names).
fn escapes(path: &Path, dir: &Path) -> Result<Option<Found>, PathError> {
    if !is_link(path)? {
        return Ok(None);
    }
    let root = std::fs::canonicalize(dir).map_err(PathError::of(dir))?;
    Ok(outside(path, &root).then(|| not_read(path, dir)))
}

/// [`escapes`] for an entry of a directory whose real path is `root`.
fn escapes_tree(path: &Path, root: &Path, label: &Path) -> Result<Option<Found>, PathError> {
    Ok((is_link(path)? && outside(path, root)).then(|| not_read(path, label)))
}

fn is_link(path: &Path) -> Result<bool, PathError> {
    let meta = std::fs::symlink_metadata(path).map_err(PathError::of(path))?;
    Ok(meta.file_type().is_symlink())
}

/// A dangling link counts as outside: whether a path exists elsewhere is not for a pull
/// request to learn.
fn outside(link: &Path, root: &Path) -> bool {
    !std::fs::canonicalize(link).is_ok_and(|target| target.starts_with(root))
}

fn not_read(path: &Path, tree: &Path) -> Found {
    Found::NotRead {
        path: path.to_path_buf(),
        why: format!(
            "not read: a symbolic link that does not resolve to a file inside {} (plan follows \
             no link out of the files under review)",
            tree.display()
        ),
    }
}

/// The objects of one file's text: empty documents skipped, lists expanded; a document that is
/// not YAML is reported and ends the file, as it ends `kubectl apply`. A text nested too deep
/// is not parsed at all.
pub fn documents(file: &str, text: &str) -> Vec<Document> {
    if limits::too_deep(text) {
        let why = format!(
            "not read: {} nests mappings or sequences more than {MAX_DEPTH} deep, the most plan \
             parses",
            named(file)
        );
        return vec![unread(file, why)];
    }
    let mut out = vec![];
    for (i, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let index = Some(i + 1);
        let push = |out: &mut Vec<Document>, object| {
            out.push(Document {
                file: file.into(),
                index,
                object,
            })
        };
        let object = <serde_yaml::Value as serde::Deserialize>::deserialize(doc)
            .map_err(|e| format!("document {}: not YAML: {}", i + 1, redact(&e.to_string())))
            .and_then(|y| {
                serde_json::to_value(y).map_err(|e| {
                    format!(
                        "document {}: not a JSON object: {}",
                        i + 1,
                        redact(&e.to_string())
                    )
                })
            });
        match object {
            Ok(Value::Null) => {}
            Ok(Value::Object(map)) if map.get("kind") == Some(&Value::from("List")) => {
                let items = map.get("items").and_then(Value::as_array);
                for (n, item) in items.into_iter().flatten().enumerate() {
                    let object = match item {
                        Value::Object(_) => Ok(item.clone()),
                        other => Err(format!(
                            "document {}, items[{n}]: {}, not an object (its text is not shown)",
                            i + 1,
                            shape(other)
                        )),
                    };
                    push(&mut out, object);
                }
            }
            Ok(v @ Value::Object(_)) => push(&mut out, Ok(v)),
            Ok(other) => push(
                &mut out,
                Err(format!(
                    "document {}: {}, not an object (its text is not shown)",
                    i + 1,
                    shape(&other)
                )),
            ),
            Err(e) => {
                push(&mut out, Err(e));
                // The parser cannot resynchronise after an error (it would yield it forever).
                break;
            }
        }
    }
    out
}

/// What a value is, without any of its text.
fn shape(v: &Value) -> String {
    match v {
        Value::Null => "empty".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Number(_) => "a number".into(),
        Value::String(_) => "a string".into(),
        Value::Array(a) => format!("a list of {} items", a.len()),
        Value::Object(_) => "an object".into(),
    }
}

/// A parser message without what it quotes: its own words and positions are static, but a
/// duplicate key or a custom message quotes the document.
fn redact(message: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in message.chars() {
        if c == '"' {
            if !quoted {
                out.push_str("\"...\"");
            }
            quoted = !quoted;
        } else if !quoted {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
