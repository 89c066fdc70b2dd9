//! Test and demo control of AWS Support cases: list them, have AWS ask a question in one, and
//! count the customer's replies. The `/_sim/aws/cases/...` routes call exactly these methods.

use super::{control::AwsControl, model::cases::Case};
use crate::admin::SimError;

impl AwsControl {
    /// Every support case, by case id.
    pub fn cases(&self) -> Vec<Case> {
        self.with(|st, _| st.case_book.all().cloned().collect())
    }

    pub fn case(&self, id: &str) -> Result<Case, SimError> {
        self.with(|st, _| st.case_book.get(id).cloned())
            .ok_or_else(|| SimError::NotFound(format!("case {id}")))
    }

    /// AWS posts `body` in case `id` (from "Amazon Web Services"); the case then waits for
    /// the customer (`pending-customer-action`).
    pub fn ask(&self, id: &str, body: &str) -> Result<Case, SimError> {
        if body.trim().is_empty() {
            return Err(SimError::Invalid("body: must not be empty".into()));
        }
        self.with(|st, now| {
            if st.case_book.ask(id, body, now) {
                st.case_book
                    .get(id)
                    .cloned()
                    .ok_or_else(|| SimError::NotFound(format!("case {id}")))
            } else {
                Err(SimError::NotFound(format!("case {id}")))
            }
        })
    }

    /// AddCommunicationToCase calls answered for case `id` (0 for an unknown case).
    pub fn case_replies(&self, id: &str) -> u32 {
        self.with(|st, _| st.case_book.get(id).map_or(0, |c| c.replies))
    }
}
