//! The objects of the files and directories given to `plan`, as `kubectl apply -f` reads them:
//! YAML or JSON, several documents per file, `kind: List` expanded, directories read one level
//! deep unless recursive.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// One document of one file.
#[derive(Clone, Debug)]
pub struct Document {
    /// The file, as given or found under a given directory.
    pub file: String,
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

/// Every document under `paths` (`-` is stdin), in the order given, directories sorted.
pub fn load(paths: &[PathBuf], recursive: bool) -> Result<Vec<Document>, PathError> {
    let mut docs = vec![];
    for path in paths {
        if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| {
                PathError {
                    path: "-".into(),
                    message: e.to_string(),
                }
            })?;
            docs.extend(documents("-", &text));
            continue;
        }
        for file in files(path, recursive, true)? {
            let text = std::fs::read_to_string(&file).map_err(|e| PathError {
                path: file.display().to_string(),
                message: e.to_string(),
            })?;
            docs.extend(documents(&file.display().to_string(), &text));
        }
    }
    Ok(docs)
}

fn files(path: &Path, recursive: bool, top: bool) -> Result<Vec<PathBuf>, PathError> {
    let error = |e: std::io::Error| PathError {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(error)?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    if !top && !recursive {
        return Ok(vec![]);
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(error)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(error)?;
    entries.sort();
    let mut out = vec![];
    for entry in entries {
        if entry.is_dir() {
            out.extend(files(&entry, recursive, false)?);
        } else if entry
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            out.push(entry);
        }
    }
    Ok(out)
}

/// The objects of one file's text: empty documents skipped, lists expanded; a document that is
/// not YAML is reported and ends the file, as it ends `kubectl apply`.
pub fn documents(file: &str, text: &str) -> Vec<Document> {
    let mut out = vec![];
    for doc in serde_yaml::Deserializer::from_str(text) {
        let object = <serde_yaml::Value as serde::Deserialize>::deserialize(doc)
            .map_err(|e| format!("not YAML: {e}"))
            .and_then(|y| serde_json::to_value(y).map_err(|e| format!("not a JSON object: {e}")));
        match object {
            Ok(Value::Null) => {}
            Ok(Value::Object(map)) if map.get("kind") == Some(&Value::from("List")) => {
                for item in map
                    .get("items")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    out.push(Document {
                        file: file.into(),
                        object: Ok(item.clone()),
                    });
                }
            }
            Ok(v @ Value::Object(_)) => out.push(Document {
                file: file.into(),
                object: Ok(v),
            }),
            Ok(other) => out.push(Document {
                file: file.into(),
                object: Err(format!("a document must be an object, not {other}")),
            }),
            Err(e) => {
                out.push(Document {
                    file: file.into(),
                    object: Err(e),
                });
                // The parser cannot resynchronise after an error (it would yield it forever).
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
