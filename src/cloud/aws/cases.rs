//! AWS Support: the case an increase request opened, read (DescribeCases, then the newest page
//! of DescribeCommunications) and answered (AddCommunicationToCase), from the Support API's one
//! endpoint in us-east-1. An account the API refuses (SubscriptionRequiredException without
//! Business or Enterprise support, AccessDenied without the `support:` permissions) is not
//! asked again for hours: the refusal is answered from memory meanwhile.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use aws_sdk_support::Client;
use jiff::Timestamp;

use super::{
    calls::{Calls, RegionClients},
    convert,
};
use crate::cloud::permissions::aws as ops;
use crate::cloud::{
    boundary::{CloudError, ErrorKind},
    case::{CaseMessage, CaseView},
};

/// The Support API's one endpoint.
const SUPPORT_REGION: &str = "us-east-1";
/// How long an account the Support API refused is left alone: a support plan or a policy
/// changes rarely, and a restart (or a changed CloudAccount) asks again.
const REFUSED_FOR: Duration = Duration::from_secs(6 * 3600);
/// Who AWS's own messages are from.
const AWS_SENDER: &str = "Amazon Web Services";

#[derive(Default)]
pub struct Cases {
    clients: RegionClients<Client>,
    refused: Mutex<Option<(Instant, CloudError)>>,
}

impl Cases {
    /// The case as AWS reports it now. `id` is what the request names: a `case-...` id, or the
    /// number the Support Center shows.
    pub async fn read(&self, calls: &Calls, id: &str) -> Result<CaseView, CloudError> {
        self.still_refused()?;
        let answer = self.read_now(calls, id).await;
        self.remember_refusal(&answer);
        answer
    }

    /// AddCommunicationToCase: `body` as the customer's message on case `id` (a `case-...` id).
    pub async fn reply(&self, calls: &Calls, id: &str, body: &str) -> Result<(), CloudError> {
        self.still_refused()?;
        let client = self.client(calls);
        let answer = calls
            .limited(SUPPORT_REGION, ops::ADD_COMMUNICATION, async {
                let out = (client.add_communication_to_case())
                    .case_id(id)
                    .communication_body(body)
                    .send()
                    .await
                    .map_err(convert::error)?;
                match out.result() {
                    true => Ok(()),
                    false => Err(CloudError::new(
                        ErrorKind::Other,
                        "NotAdded",
                        "AddCommunicationToCase answered result: false",
                    )),
                }
            })
            .await;
        // Only a missing support plan stops the reads too: a policy may allow reading cases
        // and not answering them.
        if answer
            .as_ref()
            .is_err_and(|e| e.code == "SubscriptionRequiredException")
        {
            self.remember_refusal(&answer);
        }
        answer
    }

    fn client(&self, calls: &Calls) -> Client {
        self.clients.get(calls, SUPPORT_REGION, Client::new)
    }

    async fn read_now(&self, calls: &Calls, id: &str) -> Result<CaseView, CloudError> {
        let client = self.client(calls);
        let described = calls
            .limited(SUPPORT_REGION, ops::DESCRIBE_CASES, async {
                let ask = (client.describe_cases())
                    .include_resolved_cases(true)
                    .include_communications(false);
                let ask = if id.starts_with("case-") {
                    ask.case_id_list(id)
                } else {
                    ask.display_id(id)
                };
                ask.send().await.map_err(convert::error)
            })
            .await?;
        let case = described.cases().first().ok_or_else(|| {
            CloudError::new(
                ErrorKind::NotFound,
                "CaseIdNotFound",
                format!("DescribeCases found no case {id}"),
            )
        })?;
        let case_id = case.case_id().unwrap_or(id).to_string();
        let comms = calls
            .limited(SUPPORT_REGION, ops::DESCRIBE_COMMUNICATIONS, async {
                (client.describe_communications())
                    .case_id(&case_id)
                    .max_results(10)
                    .send()
                    .await
                    .map_err(convert::error)
            })
            .await?;
        let mut messages: Vec<CaseMessage> = (comms.communications().iter())
            .filter_map(|c| {
                Some(CaseMessage {
                    at: c.time_created()?.parse::<Timestamp>().ok()?,
                    from_cloud: c.submitted_by() == Some(AWS_SENDER),
                    body: c.body().unwrap_or_default().to_string(),
                })
            })
            .collect();
        messages.sort_by_key(|m| std::cmp::Reverse(m.at));
        Ok(CaseView {
            display_id: case.display_id().unwrap_or(id).to_string(),
            id: case_id,
            status: case.status().unwrap_or_default().to_string(),
            messages,
        })
    }

    fn still_refused(&self) -> Result<(), CloudError> {
        let refused = self.refused.lock().expect("support refusal");
        match refused.as_ref() {
            Some((at, e)) if at.elapsed() < REFUSED_FOR => Err(e.clone()),
            _ => Ok(()),
        }
    }

    fn remember_refusal<T>(&self, answer: &Result<T, CloudError>) {
        if let Err(e) = answer
            && e.kind == ErrorKind::AccessDenied
        {
            *self.refused.lock().expect("support refusal") = Some((Instant::now(), e.clone()));
        }
    }
}
