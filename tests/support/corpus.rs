//! The admission corpus (tests/admission/*.yaml): one object per file, and on its first line
//! what the API server answers: `# admission: valid`, or `# admission: invalid: TEXT` where TEXT
//! is what the error message must name (a field, or the rule's words). Read by the offline
//! tests of `plan` and by the integration tests against the real API server, so both judge
//! the same objects.

use serde_json::Value;

/// One case.
#[derive(Clone, Debug)]
pub struct Case {
    /// The file name, e.g. `qr-malformed-quota-code.yaml`.
    pub file: String,
    pub object: Value,
    /// None when valid; else the text the message must contain.
    pub names: Option<String>,
}

impl Case {
    pub fn kind(&self) -> &str {
        self.object["kind"].as_str().unwrap_or_default()
    }
}

pub fn dir() -> String {
    format!("{}/tests/admission", env!("CARGO_MANIFEST_DIR"))
}

/// Every case, sorted by file name.
pub fn cases() -> Vec<Case> {
    let mut files: Vec<_> = std::fs::read_dir(dir())
        .expect("tests/admission")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let cases: Vec<Case> = files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            let file = path.file_name().unwrap().to_string_lossy().to_string();
            let header = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("# admission: "))
                .unwrap_or_else(|| panic!("{file}: the first line must be '# admission: ...'"));
            let names = match header {
                "valid" => None,
                other => Some(
                    other
                        .strip_prefix("invalid: ")
                        .unwrap_or_else(|| panic!("{file}: 'valid' or 'invalid: TEXT'"))
                        .to_string(),
                ),
            };
            let yaml: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
            Case {
                file,
                object: serde_json::to_value(yaml).unwrap(),
                names,
            }
        })
        .collect();
    assert!(cases.len() >= 40, "the corpus is all there");
    cases
}
