//! Who is calling: read by the HTTP layer, passed to every service's answers.

/// Who is calling: the account from the access key, the region from the credential scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub account: String,
    pub region: String,
}
