//! The regions one account (or project) has, as its cloud lists them (EC2 DescribeRegions,
//! Compute `regions.list`), kept so the calls follow time, not objects: the list is asked for
//! once and kept for [`FRESH`]; a region missing from it asks again, at most once per `retry`
//! (a region enabled since the list was made is not refused for hours); a failed listing is asked
//! again after `retry` too.
//!
//! Listing may be denied (an IAM policy without the action) or down. That never blocks an
//! object: region names are then checked by their shape only (the last list the cloud gave is
//! still used), and the failure is logged once, not per object or per call.

use std::{
    collections::BTreeSet,
    future::Future,
    time::{Duration, Instant},
};

use super::nearest::nearest;
use crate::cloud::boundary::{CloudError, ErrorKind};

/// How long a region list is used before it is asked for again: regions come and go over months.
pub const FRESH: Duration = Duration::from_secs(6 * 3600);

/// How long a listing may take. Every quota read of the account waits for the one listing in
/// flight, and the list only guards those reads: one that hangs counts as failed.
const PATIENCE: Duration = Duration::from_secs(30);

/// One account's or project's regions.
pub struct KnownRegions {
    /// What the list belongs to, for messages: `AWS account`, `GCP project`.
    holder: &'static str,
    /// The code of a refusal: `UnknownRegion` (AWS), `UNKNOWN_REGION` (GCP).
    code: &'static str,
    /// The account or project, for the log.
    who: String,
    fresh: Duration,
    /// How long a failed listing, or a miss on the list, waits before the cloud is asked again.
    retry: Duration,
    patience: Duration,
    /// Held across the call, so concurrent reconciles wait for the one listing in flight.
    listed: tokio::sync::Mutex<Listed>,
}

#[derive(Default)]
struct Listed {
    names: Option<(Instant, BTreeSet<String>)>,
    failed_at: Option<Instant>,
    /// The current run of failures was logged.
    warned: bool,
}

impl Listed {
    /// Whether to ask the cloud before answering for `region`.
    fn due(&self, region: &str, fresh: Duration, retry: Duration) -> bool {
        if self.failed_at.is_some_and(|at| at.elapsed() < retry) {
            return false;
        }
        match &self.names {
            None => true,
            Some((at, names)) => {
                at.elapsed() >= fresh || (!names.contains(region) && at.elapsed() >= retry)
            }
        }
    }
}

impl KnownRegions {
    pub fn new(holder: &'static str, code: &'static str, who: String, retry: Duration) -> Self {
        Self::with_ttl(holder, code, who, FRESH, retry)
    }

    pub fn with_ttl(
        holder: &'static str,
        code: &'static str,
        who: String,
        fresh: Duration,
        retry: Duration,
    ) -> Self {
        Self {
            holder,
            code,
            who,
            fresh,
            retry,
            patience: PATIENCE,
            listed: tokio::sync::Mutex::default(),
        }
    }

    /// `region` is one the account lists (or the account's regions cannot be listed now).
    /// `list` asks the cloud for every region the account has.
    pub async fn check<F, Fut>(&self, region: &str, list: F) -> Result<(), CloudError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<String>, CloudError>>,
    {
        let mut listed = self.listed.lock().await;
        if listed.due(region, self.fresh, self.retry) {
            let answer = tokio::time::timeout(self.patience, list())
                .await
                .unwrap_or_else(|_| Err(self.gave_up()));
            match answer {
                Ok(names) => {
                    *listed = Listed {
                        names: Some((Instant::now(), names.into_iter().collect())),
                        ..Listed::default()
                    };
                }
                Err(e) => self.failed(&mut listed, &e),
            }
        }
        match &listed.names {
            Some((_, names)) if !names.contains(region) => Err(self.unknown(region, names)),
            _ => Ok(()),
        }
    }

    fn gave_up(&self) -> CloudError {
        let message = format!("no list of regions within {:?}", self.patience);
        CloudError::new(ErrorKind::Unavailable, "Timeout", message)
    }

    fn failed(&self, listed: &mut Listed, e: &CloudError) {
        listed.failed_at = Some(Instant::now());
        if !std::mem::replace(&mut listed.warned, true) {
            tracing::warn!(
                who = %self.who, error = %e,
                "cannot list the {}'s regions: region names are checked by their shape only \
                 until it can", self.holder
            );
        }
    }

    fn unknown(&self, region: &str, names: &BTreeSet<String>) -> CloudError {
        let near = nearest(region, names.iter().map(String::as_str));
        let hint = if near.is_empty() {
            String::new()
        } else {
            format!(" (nearest: {})", near.join(", "))
        };
        let message = format!("{region:?} is not a region this {} has{hint}", self.holder);
        CloudError::new(ErrorKind::SpecMismatch, self.code, message)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn regions(fresh: u64, retry: u64) -> KnownRegions {
        let ms = Duration::from_millis;
        KnownRegions::with_ttl(
            "AWS account",
            "UnknownRegion",
            "1".into(),
            ms(fresh),
            ms(retry),
        )
    }

    /// A listing that counts its calls and answers `answer`.
    struct Cloud {
        calls: AtomicU32,
        answer: std::sync::Mutex<Result<Vec<String>, CloudError>>,
    }

    impl Cloud {
        fn new(answer: Result<&[&str], CloudError>) -> Self {
            let answer = answer.map(|names| names.iter().map(|n| n.to_string()).collect());
            Self {
                calls: AtomicU32::new(0),
                answer: std::sync::Mutex::new(answer),
            }
        }

        async fn list(&self) -> Result<Vec<String>, CloudError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.answer.lock().unwrap().clone()
        }

        fn calls(&self) -> u32 {
            self.calls.load(Ordering::SeqCst)
        }
    }

    const LISTED: &[&str] = &["us-east-1", "us-east-2", "eu-west-1"];

    #[tokio::test]
    async fn a_region_not_listed_is_refused_with_the_nearest_names() {
        let (known, cloud) = (regions(60_000, 60_000), Cloud::new(Ok(LISTED)));
        assert_eq!(known.check("us-east-1", || cloud.list()).await, Ok(()));
        let e = known.check("us-east-9", || cloud.list()).await.unwrap_err();
        assert_eq!(
            (e.kind, e.code.as_str()),
            (ErrorKind::SpecMismatch, "UnknownRegion")
        );
        assert_eq!(
            e.message,
            "\"us-east-9\" is not a region this AWS account has (nearest: us-east-1, us-east-2)"
        );
        for r in ["us-east-9", "us-east-8", "eu-west-1", "us-east-2"] {
            let _ = known.check(r, || cloud.list()).await;
        }
        assert_eq!(cloud.calls(), 1, "one listing for every region asked about");
    }

    #[tokio::test]
    async fn a_miss_asks_again_after_the_retry_and_a_new_region_then_passes() {
        let (known, cloud) = (regions(60_000, 50), Cloud::new(Ok(LISTED)));
        assert!(known.check("ap-south-1", || cloud.list()).await.is_err());
        *cloud.answer.lock().unwrap() = Ok(vec!["ap-south-1".into()]);
        assert!(known.check("ap-south-1", || cloud.list()).await.is_err());
        assert_eq!(cloud.calls(), 1, "not before the retry");
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(known.check("ap-south-1", || cloud.list()).await, Ok(()));
        assert_eq!(cloud.calls(), 2);
    }

    #[tokio::test]
    async fn a_list_is_asked_for_again_once_it_is_no_longer_fresh() {
        let (known, cloud) = (regions(50, 60_000), Cloud::new(Ok(LISTED)));
        known.check("us-east-1", || cloud.list()).await.unwrap();
        known.check("us-east-1", || cloud.list()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(60)).await;
        known.check("us-east-1", || cloud.list()).await.unwrap();
        assert_eq!(cloud.calls(), 2);
    }

    #[tokio::test]
    async fn a_denied_listing_checks_nothing_and_is_asked_again_only_after_the_retry() {
        let denied = CloudError::new(ErrorKind::AccessDenied, "UnauthorizedOperation", "no");
        let (known, cloud) = (regions(60_000, 50), Cloud::new(Err(denied)));
        for _ in 0..5 {
            assert_eq!(known.check("us-east-9", || cloud.list()).await, Ok(()));
        }
        assert_eq!(cloud.calls(), 1, "a failure is remembered for the retry");
        *cloud.answer.lock().unwrap() = Ok(LISTED.iter().map(|n| n.to_string()).collect());
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(known.check("us-east-9", || cloud.list()).await.is_err());
        assert_eq!(cloud.calls(), 2);
    }

    #[tokio::test]
    async fn a_listing_that_hangs_holds_no_read_up_past_the_patience() {
        let mut known = regions(60_000, 60_000);
        known.patience = Duration::from_millis(50);
        let hangs = || async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(vec![])
        };
        let started = Instant::now();
        assert_eq!(known.check("us-east-9", hangs).await, Ok(()));
        assert!(started.elapsed() < Duration::from_secs(5));
        let cloud = Cloud::new(Ok(LISTED));
        assert_eq!(known.check("us-east-9", || cloud.list()).await, Ok(()));
        assert_eq!(
            cloud.calls(),
            0,
            "the hang counts as a failure, asked again after the retry"
        );
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_the_last_list() {
        let (known, cloud) = (regions(50, 50), Cloud::new(Ok(LISTED)));
        known.check("us-east-1", || cloud.list()).await.unwrap();
        *cloud.answer.lock().unwrap() = Err(CloudError::new(ErrorKind::Unavailable, "503", "down"));
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(known.check("us-east-9", || cloud.list()).await.is_err());
        assert_eq!(cloud.calls(), 2);
    }
}
