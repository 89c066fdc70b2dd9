//! The loop every caller of the decision runs: the controller, `plan --live` and the unit tests.

use super::{
    outcome::{self, Filed, Verdict},
    plan::plan,
    types::{Ask, Observed, Plan},
};
use crate::cloud::CloudError;

/// What the loop may ask of the world outside it: the reads a plan asks for, and the filing.
pub trait Outside {
    /// Adds what `ask` names to `o` (and whatever it changes, such as the needs the history's
    /// refusals settle).
    fn read(
        &mut self,
        ask: Ask,
        o: &mut Observed,
    ) -> impl Future<Output = Result<(), CloudError>> + Send;

    /// Files `value`. An error is a step before the cloud call that failed: nothing was filed.
    fn file(
        &mut self,
        o: &Observed,
        value: i64,
    ) -> impl Future<Output = Result<Filed, CloudError>> + Send;
}

/// Plans, reads what the plan asks for (each read at most once), and files when it says so. An
/// error is a read (or a step before filing) that failed: nothing was decided.
pub async fn run(o: &mut Observed, outside: &mut impl Outside) -> Result<Verdict, CloudError> {
    let mut asked = vec![];
    loop {
        match plan(o) {
            Plan::Read(ask) if !asked.contains(&ask) => {
                asked.push(ask);
                outside.read(ask, o).await?;
            }
            Plan::File { value } => {
                let filed = outside.file(o, value).await?;
                return Ok(outcome::after_filing(value, filed, o));
            }
            settled => return Ok(outcome::settled(settled, o)),
        }
    }
}
