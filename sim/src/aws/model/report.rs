//! Quota utilisation reports (StartQuotaUtilizationReport / GetQuotaUtilizationReport): each
//! is PENDING, then IN_PROGRESS, then COMPLETED, on the scenario's delays (a time or a number
//! of reads), and is gone once it expires. Its rows are taken when it starts.

use jiff::Timestamp;
use serde::Serialize;

use crate::aws::usage_settings::ReportSettings;
use crate::delay::Delay;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReportStatus {
    Pending,
    InProgress,
    Completed,
}

/// One quota's line in a report (QuotaUtilizationInfo).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Row {
    pub quota_code: String,
    pub service_code: String,
    pub quota_name: String,
    pub namespace: String,
    pub utilization: f64,
    pub default_value: f64,
    pub applied_value: f64,
    pub service_name: String,
    pub adjustable: bool,
}

#[derive(Clone, Debug)]
pub struct Report {
    pub id: String,
    pub account: String,
    pub region: String,
    pub started: Timestamp,
    pub status: ReportStatus,
    /// When the current status was entered (delays count from here).
    entered: Timestamp,
    /// Reads that saw the current status (for `<n> polls`).
    polls: u32,
    /// Highest utilisation first.
    pub rows: Vec<Row>,
}

impl Report {
    pub fn new(
        id: String,
        account: &str,
        region: &str,
        mut rows: Vec<Row>,
        now: Timestamp,
    ) -> Self {
        rows.sort_by(|a, b| {
            b.utilization.total_cmp(&a.utilization).then_with(|| {
                (&a.service_code, &a.quota_code).cmp(&(&b.service_code, &b.quota_code))
            })
        });
        Self {
            id,
            account: account.into(),
            region: region.into(),
            started: now,
            status: ReportStatus::Pending,
            entered: now,
            polls: 0,
            rows,
        }
    }

    fn delay(&self, s: &ReportSettings) -> Option<Delay> {
        match self.status {
            ReportStatus::Pending => Some(s.pending_for),
            ReportStatus::InProgress => Some(s.in_progress_for),
            ReportStatus::Completed => None,
        }
    }

    fn step(&mut self, at: Timestamp) {
        self.status = match self.status {
            ReportStatus::Pending => ReportStatus::InProgress,
            _ => ReportStatus::Completed,
        };
        self.entered = at;
        self.polls = 0;
    }

    /// Makes every move whose time has come, stamped with the time it was due.
    pub fn settle(&mut self, s: &ReportSettings, now: Timestamp) {
        while let Some(at) = self
            .delay(s)
            .and_then(|d| d.due(self.entered))
            .filter(|&at| at <= now)
        {
            self.step(at);
        }
    }

    /// Records a read that saw the current status; with `<n> polls`, the nth moves it on.
    pub fn record_read(&mut self, s: &ReportSettings, now: Timestamp) {
        self.polls += 1;
        if let Some(Delay::Polls(n)) = self.delay(s)
            && self.polls >= n
        {
            self.step(now);
            self.settle(s, now);
        }
    }

    /// When COMPLETED was entered, once it was.
    pub fn generated_at(&self) -> Option<Timestamp> {
        (self.status == ReportStatus::Completed).then_some(self.entered)
    }

    pub fn expired(&self, s: &ReportSettings, now: Timestamp) -> bool {
        now.as_second() - self.started.as_second() >= s.expires_after.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::Span;

    fn row(code: &str, utilization: f64) -> Row {
        Row {
            quota_code: code.into(),
            service_code: "ec2".into(),
            quota_name: code.into(),
            namespace: "AWS/Usage".into(),
            utilization,
            default_value: 5.0,
            applied_value: 10.0,
            service_name: "EC2".into(),
            adjustable: true,
        }
    }

    #[test]
    fn rows_come_highest_utilisation_first() {
        let t0 = Timestamp::from_second(1_700_000_000).unwrap();
        let r = Report::new(
            "r".into(),
            "a",
            "r",
            vec![row("L-1", 10.0), row("L-2", 90.0)],
            t0,
        );
        assert_eq!(r.rows[0].quota_code, "L-2");
    }

    #[test]
    fn moves_by_time_then_expires() {
        let s = ReportSettings::default();
        let t0 = Timestamp::from_second(1_700_000_000).unwrap();
        let mut r = Report::new("r".into(), "a", "r", Vec::new(), t0);
        r.settle(&s, t0);
        assert_eq!(r.status, ReportStatus::Pending);
        r.settle(&s, Timestamp::from_second(1_700_000_010).unwrap());
        assert_eq!(r.status, ReportStatus::Completed);
        assert!(!r.expired(&s, Timestamp::from_second(1_700_000_899).unwrap()));
        assert!(r.expired(&s, Timestamp::from_second(1_700_000_900).unwrap()));
    }

    #[test]
    fn moves_by_reads() {
        let s = ReportSettings {
            pending_for: Delay::Polls(1),
            in_progress_for: Delay::Polls(2),
            expires_after: Span(60),
        };
        let t0 = Timestamp::from_second(1_700_000_000).unwrap();
        let mut r = Report::new("r".into(), "a", "r", Vec::new(), t0);
        let seen: Vec<_> = (0..4)
            .map(|_| {
                let st = r.status;
                r.record_read(&s, t0);
                st
            })
            .collect();
        use ReportStatus::*;
        assert_eq!(seen, [Pending, InProgress, InProgress, Completed]);
    }
}
