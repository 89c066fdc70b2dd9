//! Admission of one object, offline, in the API server's order: strict decoding (unknown
//! fields, which `kubectl apply` makes errors), object metadata, the OpenAPI schema, then the
//! CEL rules unless a blocking error came first. The schemas are the CRDs the binary itself
//! generates (`api::crds_yaml()`), so they cannot drift from what is installed.

use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

use super::{
    cel,
    field::{ErrorType, FieldError},
    schema,
};

/// One served kind: its schema and scope.
#[derive(Clone, Debug)]
pub struct Kind {
    pub api_version: String,
    pub kind: String,
    pub namespaced: bool,
    schema: Value,
}

/// The kinds of one API group, with their schemas.
#[derive(Clone, Debug)]
pub struct Admission {
    group: String,
    kinds: Vec<Kind>,
}

/// What admission makes of one object.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Another API group's object (a Namespace): not ours to judge.
    NotOurs,
    /// Accepted.
    Valid,
    /// Refused, with every error the API server would list.
    Invalid(Vec<FieldError>),
}

/// ObjectMeta's fields: the CRD schemas leave metadata out, the API server knows them.
const OBJECT_META: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

impl Admission {
    /// Reads the CRDs of a multi-document YAML stream (all of them must share one group).
    pub fn from_crds_yaml(yaml: &str) -> Result<Self, String> {
        let mut group = String::new();
        let mut kinds = vec![];
        for doc in serde_yaml::Deserializer::from_str(yaml) {
            let crd: Value = serde::Deserialize::deserialize(doc).map_err(|e| e.to_string())?;
            let spec = &crd["spec"];
            group = spec["group"]
                .as_str()
                .ok_or("a CRD without spec.group")?
                .to_string();
            for version in spec["versions"].as_array().into_iter().flatten() {
                kinds.push(Kind {
                    api_version: format!(
                        "{group}/{}",
                        version["name"].as_str().unwrap_or_default()
                    ),
                    kind: spec["names"]["kind"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    namespaced: spec["scope"] == "Namespaced",
                    schema: version["schema"]["openAPIV3Schema"].clone(),
                });
            }
        }
        Ok(Self { group, kinds })
    }

    /// quota-operator's own CRDs.
    pub fn ours() -> &'static Self {
        static OURS: OnceLock<Admission> = OnceLock::new();
        OURS.get_or_init(|| {
            Self::from_crds_yaml(&crate::api::crds_yaml()).expect("the generated CRDs parse")
        })
    }

    /// The kind an object claims, if it is one of this group's.
    pub fn kind_of(&self, obj: &Value) -> Option<&Kind> {
        let (api_version, kind) = (obj["apiVersion"].as_str()?, obj["kind"].as_str()?);
        self.kinds
            .iter()
            .find(|k| k.api_version == api_version && k.kind == kind)
    }

    /// Admits `obj` as a create would.
    pub fn admit(&self, obj: &Value) -> Verdict {
        let api_version = obj["apiVersion"].as_str().unwrap_or_default();
        if api_version.split('/').next() != Some(self.group.as_str()) {
            return Verdict::NotOurs;
        }
        let Some(kind) = self.kind_of(obj) else {
            // What kubectl answers before sending anything.
            let detail = format!(
                "no matches for kind \"{}\" in version \"{api_version}\"",
                obj["kind"].as_str().unwrap_or_default()
            );
            return Verdict::Invalid(vec![FieldError::new(
                "kind",
                ErrorType::NotSupported,
                Some(obj["kind"].to_string()),
                detail,
            )]);
        };
        let errors = kind.errors(obj);
        if errors.is_empty() {
            Verdict::Valid
        } else {
            Verdict::Invalid(errors)
        }
    }
}

impl Kind {
    fn errors(&self, obj: &Value) -> Vec<FieldError> {
        let mut errors = vec![];
        self.unknown_fields(obj, &mut errors);
        if !errors.is_empty() {
            // Strict decoding fails the request before anything is validated.
            return errors;
        }
        metadata(&obj["metadata"], self.namespaced, &mut errors);
        let mut body = obj.clone();
        if let Some(map) = body.as_object_mut() {
            // A create resets status (the status subresource): it is never validated.
            map.remove("status");
            for envelope in ["apiVersion", "kind", "metadata"] {
                map.remove(envelope);
            }
        }
        schema::drop_disallowed_nulls(&self.schema, &mut body);
        schema::validate(&self.schema, &body, "", &mut errors);
        if errors.iter().any(|e| e.kind.blocks_rules()) {
            errors.push(FieldError::rules_not_checked());
        } else {
            cel::check(&self.schema, &body, "", &mut errors);
        }
        errors
    }

    fn unknown_fields(&self, obj: &Value, out: &mut Vec<FieldError>) {
        let Some(map) = obj.as_object() else {
            return;
        };
        for (name, value) in map {
            match name.as_str() {
                "apiVersion" | "kind" => {}
                "metadata" => {
                    for field in value.as_object().into_iter().flatten().map(|(k, _)| k) {
                        if !OBJECT_META.contains(&field.as_str()) {
                            out.push(unknown(format!("metadata.{field}")));
                        }
                    }
                }
                _ => match schema::property(&self.schema, name) {
                    Some(s) => schema::unknown_fields(s, value, name, out),
                    None => out.push(unknown(name.clone())),
                },
            }
        }
    }
}

fn unknown(field: String) -> FieldError {
    FieldError::new(field, ErrorType::UnknownField, None, "")
}

/// metadata.name (or generateName) and metadata.namespace, as ValidateObjectMeta checks them.
fn metadata(meta: &Value, namespaced: bool, out: &mut Vec<FieldError>) {
    static SUBDOMAIN: OnceLock<Regex> = OnceLock::new();
    let subdomain = SUBDOMAIN.get_or_init(|| {
        Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
            .expect("RFC 1123 subdomain")
    });
    match meta["name"].as_str() {
        Some(name) if !name.is_empty() => {
            if name.len() > 253 {
                out.push(FieldError::invalid(
                    "metadata.name",
                    &meta["name"],
                    "must be no more than 253 characters",
                ));
            } else if !subdomain.is_match(name) {
                out.push(FieldError::invalid(
                    "metadata.name",
                    &meta["name"],
                    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric \
                     characters, '-' or '.', and must start and end with an alphanumeric character \
                     (e.g. 'example.com', regex used for validation is \
                     '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
                ));
            }
        }
        _ if meta["generateName"].as_str().is_some_and(|g| !g.is_empty()) => {}
        _ => out.push(FieldError::new(
            "metadata.name",
            ErrorType::Required,
            None,
            "name or generateName is required",
        )),
    }
    // A cluster-scoped object's namespace is ignored; a namespaced one without one goes to the
    // namespace kubectl is pointed at, which is not ours to know.
    if namespaced && let Some(ns) = meta["namespace"].as_str() {
        let label = ns.len() <= 63 && subdomain.is_match(ns) && !ns.contains('.');
        if !label {
            out.push(FieldError::invalid(
                "metadata.namespace",
                &meta["namespace"],
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \
                 '-', and must start and end with an alphanumeric character",
            ));
        }
    }
}

#[cfg(test)]
#[path = "admission_tests.rs"]
mod tests;
