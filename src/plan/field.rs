//! One admission error, written the way the API server writes it (`spec.regions: Required
//! value`), so a reviewer reads in the pull request what `kubectl apply` would print.

use std::fmt;

use serde::Serialize;

/// The kinds of field error the API server reports for a custom resource (Go's
/// `field.ErrorType`, plus strict decoding's unknown fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ErrorType {
    /// `FieldValueRequired`.
    Required,
    /// `FieldValueInvalid`: a bound, a length, a CEL rule.
    Invalid,
    /// `FieldValueTypeInvalid`: a string where an integer belongs.
    TypeInvalid,
    /// `FieldValueTooLong`: past maxLength.
    TooLong,
    /// `FieldValueTooMany`: past maxItems.
    TooMany,
    /// `FieldValueDuplicate`: a repeated item of a `set` list.
    Duplicate,
    /// `FieldValueNotSupported`: outside an enum.
    NotSupported,
    /// `FieldValueForbidden`.
    Forbidden,
    /// A field the schema does not declare, refused by strict field validation.
    UnknownField,
}

impl ErrorType {
    /// The errors after which the API server evaluates no CEL rule at all (its
    /// `hasBlockingErr`): the object's shape is too wrong for the rules to see typed values.
    pub fn blocks_rules(self) -> bool {
        matches!(
            self,
            Self::Required | Self::TypeInvalid | Self::TooLong | Self::TooMany | Self::NotSupported
        )
    }

    /// The `reason` of the error's cause in the API server's Status.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Required => "FieldValueRequired",
            Self::Invalid | Self::TypeInvalid => "FieldValueInvalid",
            Self::TooLong => "FieldValueTooLong",
            Self::TooMany => "FieldValueTooMany",
            Self::Duplicate => "FieldValueDuplicate",
            Self::NotSupported => "FieldValueNotSupported",
            Self::Forbidden => "FieldValueForbidden",
            Self::UnknownField => "FieldValueUnknown",
        }
    }
}

/// One error about one field.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldError {
    /// The field, as the API server names it: `spec.aws.quotaCode`, `spec.regions[1]`, or
    /// `<nil>` for a note about the whole object.
    pub field: String,
    #[serde(rename = "type")]
    pub kind: ErrorType,
    /// The offending value as the server shows it (JSON, or a quoted type name), when shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// What is wrong, after the value.
    pub detail: String,
}

/// The note the API server adds when a blocking error kept it from evaluating the CEL rules.
pub const RULES_NOT_CHECKED: &str = "some validation rules were not checked because the object \
                                     was invalid; correct the existing errors to complete validation";

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        kind: ErrorType,
        value: Option<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            kind,
            value,
            detail: detail.into(),
        }
    }

    pub fn required(field: impl Into<String>) -> Self {
        Self::new(field, ErrorType::Required, None, "")
    }

    /// An invalid value shown as JSON.
    pub fn invalid(
        field: impl Into<String>,
        value: &serde_json::Value,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(field, ErrorType::Invalid, Some(value.to_string()), detail)
    }

    /// The whole-object note that rules were skipped.
    pub fn rules_not_checked() -> Self {
        Self::new(
            "<nil>",
            ErrorType::Invalid,
            Some("null".into()),
            RULES_NOT_CHECKED,
        )
    }

    /// Whether this names a field (the skipped-rules note does not).
    pub fn names_a_field(&self) -> bool {
        self.field != "<nil>"
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = &self.field;
        let value = self.value.as_deref();
        let detail = &self.detail;
        let with_detail = |f: &mut fmt::Formatter<'_>, head: &str| {
            if detail.is_empty() {
                write!(f, "{field}: {head}")
            } else {
                write!(f, "{field}: {head}: {detail}")
            }
        };
        match (self.kind, value) {
            (ErrorType::UnknownField, _) => {
                write!(f, "strict decoding error: unknown field \"{field}\"")
            }
            (ErrorType::Required, _) => with_detail(f, "Required value"),
            (ErrorType::Forbidden, _) => with_detail(f, "Forbidden"),
            (ErrorType::TooLong, _) => with_detail(f, "Too long"),
            (ErrorType::TooMany, Some(v)) => write!(f, "{field}: Too many: {v}: {detail}"),
            (ErrorType::Duplicate, Some(v)) => write!(f, "{field}: Duplicate value: {v}"),
            (ErrorType::NotSupported, Some(v)) => {
                write!(f, "{field}: Unsupported value: {v}: {detail}")
            }
            (_, Some(v)) => write!(f, "{field}: Invalid value: {v}: {detail}"),
            (_, None) => with_detail(f, "Invalid value"),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn errors_read_like_the_api_servers() {
        assert_eq!(
            FieldError::required("spec.gcp.contactEmail").to_string(),
            "spec.gcp.contactEmail: Required value"
        );
        assert_eq!(
            FieldError::invalid(
                "spec.aws.quotaCode",
                &json!("34B43A08"),
                "spec.aws.quotaCode must look like L-34B43A08"
            )
            .to_string(),
            "spec.aws.quotaCode: Invalid value: \"34B43A08\": spec.aws.quotaCode must look like L-34B43A08"
        );
        assert_eq!(
            FieldError::new("spec.foo", ErrorType::UnknownField, None, "").to_string(),
            "strict decoding error: unknown field \"spec.foo\""
        );
        assert_eq!(
            FieldError::rules_not_checked().to_string(),
            format!("<nil>: Invalid value: null: {RULES_NOT_CHECKED}")
        );
    }
}
