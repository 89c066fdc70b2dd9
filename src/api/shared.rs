//! Strings that thousands of cached objects hold the same copy of. The controller caches every
//! QuotaRequirement, and most of a cached object's status is text every object repeats: five
//! conditions' types, statuses, reasons and mostly the same messages, the usage source and
//! forecast. As a `String` each object carries a copy of each (about 700 bytes an object, 7 MB at
//! 10,000); a [`Shared`] read from the API server is looked up in one pool and shares the copy
//! already there.

use std::{fmt, ops::Deref};

use internment::ArcIntern;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An immutable string, interned (`internment`'s reference-counted pool: a text is freed when no
/// value holds it any more).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Shared(ArcIntern<str>);

impl Shared {
    /// The pool's copy of `s`, added when it has none.
    pub fn intern(s: &str) -> Self {
        Self(ArcIntern::from(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Shared {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Shared {
    fn from(s: &str) -> Self {
        Self::intern(s)
    }
}

impl From<String> for Shared {
    fn from(s: String) -> Self {
        Self::intern(&s)
    }
}

impl PartialEq<str> for Shared {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Shared {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Shared {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Shared {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Shared;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Shared, E> {
                Ok(Shared::intern(s))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

impl JsonSchema for Shared {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        String::schema_name()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(generator)
    }
    fn inline_schema() -> bool {
        true
    }
}

/// A status condition: the fields and wire shape of Kubernetes' `metav1.Condition` (the CRDs
/// give its schema), with the texts shared.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    pub last_transition_time: Time,
    pub message: Shared,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    pub reason: Shared,
    pub status: Shared,
    #[serde(rename = "type")]
    pub type_: Shared,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_read_share_one_copy_and_read_back_as_written() {
        let a: Shared = serde_json::from_str("\"every region is satisfied\"").unwrap();
        let b: Shared = serde_json::from_str("\"every region is satisfied\"").unwrap();
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
        assert_eq!(a, "every region is satisfied");
        assert_eq!(
            serde_json::to_string(&b).unwrap(),
            "\"every region is satisfied\""
        );
    }

    #[test]
    fn a_condition_has_metav1s_wire_shape() {
        let wire = serde_json::json!({"lastTransitionTime": "2026-12-01T10:00:00Z",
            "message": "m", "observedGeneration": 3, "reason": "R", "status": "True",
            "type": "Ready"});
        let c: Condition = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(c.type_, "Ready");
        assert_eq!(serde_json::to_value(&c).unwrap(), wire);
        let k8s: k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition =
            serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(serde_json::to_value(k8s).unwrap(), wire);
    }
}
