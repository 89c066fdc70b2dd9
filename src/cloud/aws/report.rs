//! The Service Quotas utilisation report: AWS's own usage / applied value of every quota with
//! usage in an account and region, computed by AWS and needing no CloudWatch permission. It is
//! where usage comes from when GetMetricData is refused or fails. A report takes a while to
//! generate: it is started once per (account, region) and cache period and asked after at most
//! every few seconds, so no reconcile waits for it.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use aws_sdk_servicequotas::types::ReportStatus;
use jiff::Timestamp;

use super::{calls::Calls, convert};
use crate::cloud::boundary::{CloudError, ErrorKind, UsageView};
use crate::cloud::permissions::aws as ops;

/// How often a report being generated is asked after.
const POLL: Duration = Duration::from_secs(3);

/// One region's report, as far as it has come.
#[derive(Clone, Debug, Default)]
pub enum Report {
    #[default]
    NotStarted,
    Pending {
        id: String,
        asked: Instant,
    },
    /// (service, code) -> usage, and when AWS generated it.
    Done(HashMap<(String, String), f64>, Timestamp),
    Failed(CloudError),
}

pub const SOURCE: &str = "Service Quotas utilization report (usage = Utilization x AppliedValue; no history: the peak is the usage now)";

impl Report {
    /// Moves the report on (starts it, or asks after it), at most one call.
    pub async fn advance(&mut self, calls: &Calls, region: &str) {
        match self {
            Self::NotStarted => *self = start(calls, region).await,
            Self::Pending { id, asked } if asked.elapsed() >= POLL => {
                let id = id.clone();
                *self = fetch(calls, region, &id).await;
            }
            _ => {}
        }
    }

    /// The usage of (service, code), or why the report has none.
    pub fn usage(&self, service: &str, code: &str) -> Result<UsageView, CloudError> {
        match self {
            Self::Done(all, at) => match all.get(&(service.to_string(), code.to_string())) {
                Some(v) => Ok(UsageView {
                    points: vec![(*at, *v)],
                    source: SOURCE.into(),
                    read_at: *at,
                }),
                None => Err(CloudError::new(
                    ErrorKind::NotFound,
                    "NotInReport",
                    format!("the utilization report has no {service}/{code}"),
                )),
            },
            Self::Failed(e) => Err(e.clone()),
            _ => Err(CloudError::new(
                ErrorKind::Unavailable,
                "ReportPending",
                "the utilization report is being generated",
            )),
        }
    }
}

async fn start(calls: &Calls, region: &str) -> Report {
    let started = calls
        .call(region, ops::START_REPORT, |c| async move {
            c.start_quota_utilization_report()
                .send()
                .await
                .map_err(convert::error)
        })
        .await;
    match started {
        Ok(out) => match out.report_id() {
            Some(id) => Report::Pending {
                id: id.to_string(),
                asked: Instant::now(),
            },
            None => Report::Failed(CloudError::new(
                ErrorKind::Other,
                "NoReportId",
                "StartQuotaUtilizationReport answered without a ReportId",
            )),
        },
        Err(e) => Report::Failed(e),
    }
}

/// Every page of a report; still pending when AWS has not finished it.
async fn fetch(calls: &Calls, region: &str, id: &str) -> Report {
    let mut all = HashMap::new();
    let mut token: Option<String> = None;
    loop {
        let page = calls
            .call(region, ops::GET_REPORT, |c| {
                let token = token.clone();
                async move {
                    c.get_quota_utilization_report()
                        .report_id(id)
                        .set_next_token(token)
                        .send()
                        .await
                        .map_err(convert::error)
                }
            })
            .await;
        let page = match page {
            Ok(p) => p,
            Err(e) => return Report::Failed(e),
        };
        match page.status() {
            Some(ReportStatus::Completed) => {}
            Some(ReportStatus::Failed) => {
                return Report::Failed(CloudError::new(
                    ErrorKind::Unavailable,
                    page.error_code().unwrap_or("ReportFailed"),
                    page.error_message()
                        .unwrap_or("the utilization report failed"),
                ));
            }
            _ => {
                return Report::Pending {
                    id: id.to_string(),
                    asked: Instant::now(),
                };
            }
        }
        for q in page.quotas() {
            let applied = q.applied_value().or(q.default_value());
            if let (Some(s), Some(c), Some(u), Some(a)) =
                (q.service_code(), q.quota_code(), q.utilization(), applied)
            {
                all.insert((s.to_string(), c.to_string()), u / 100.0 * a);
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            let at = page
                .generated_at()
                .and_then(|t| Timestamp::from_second(t.secs()).ok())
                .unwrap_or_else(Timestamp::now);
            return Report::Done(all, at);
        }
    }
}
