//! What the operator writes into a preference's annotations besides the value: the value it
//! raised from, the value it wrote and when. A later read can then tell the operator's own
//! write from one made since by anyone else (the console, Terraform, the Quota Adjuster), a
//! partial grant from a refusal, and when the operator's request was filed, even on a
//! preference that someone else created long ago.

use std::collections::HashMap;

use jiff::Timestamp;

/// The quota value the preferred value was raised from.
pub const FROM: &str = "quota-operator.dev/from-value";
/// The preferred value the operator wrote.
pub const VALUE: &str = "quota-operator.dev/value";
/// When the operator wrote it (the operator's clock, RFC 3339).
pub const WRITTEN_AT: &str = "quota-operator.dev/written-at";

/// The operator's write, as its annotations record it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    pub from: i64,
    pub value: i64,
    /// None on preferences written before the operator recorded the time.
    pub at: Option<Timestamp>,
}

impl Mark {
    /// `existing` with this mark added: other annotations (someone else's) are kept, because an
    /// update names the whole annotations map.
    pub fn merged_into(&self, existing: &HashMap<String, String>) -> HashMap<String, String> {
        let mut all = existing.clone();
        all.insert(FROM.into(), self.from.to_string());
        all.insert(VALUE.into(), self.value.to_string());
        if let Some(at) = self.at {
            all.insert(WRITTEN_AT.into(), at.to_string());
        }
        all
    }

    /// The operator's mark, if the preferred value in force is still the one it wrote. A mark
    /// with a from-value but no value is from an operator version that wrote only that one.
    pub fn read(annotations: &HashMap<String, String>, preferred: i64) -> Option<Self> {
        let number = |key: &str| annotations.get(key).and_then(|v| v.parse::<i64>().ok());
        let from = number(FROM)?;
        let value = number(VALUE).unwrap_or(preferred);
        if value != preferred {
            return None;
        }
        let at = annotations.get(WRITTEN_AT).and_then(|t| t.parse().ok());
        Some(Self { from, value, at })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_reads_back_only_while_its_value_is_in_force() {
        let at: Timestamp = "2025-01-02T03:04:05Z".parse().unwrap();
        let mark = Mark {
            from: 24,
            value: 200,
            at: Some(at),
        };
        let theirs = HashMap::from([("team".to_string(), "batch".to_string())]);
        let all = mark.merged_into(&theirs);
        assert_eq!(all.get("team").map(String::as_str), Some("batch"));
        assert_eq!(Mark::read(&all, 200), Some(mark));
        assert_eq!(Mark::read(&all, 300), None, "someone wrote 300 since");
        assert_eq!(Mark::read(&theirs, 200), None);
        let legacy = HashMap::from([(FROM.to_string(), "24".to_string())]);
        assert_eq!(
            Mark::read(&legacy, 200),
            Some(Mark {
                from: 24,
                value: 200,
                at: None
            })
        );
    }
}
