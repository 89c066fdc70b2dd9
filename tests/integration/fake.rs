//! An in-memory cloud for controller tests (compiled only into the test binary): AWS-like rules (one open request
//! per quota, no increase below the current value), with outcomes decided by the test.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use jiff::Timestamp;

use quota_operator::{
    api::CloudAccount,
    cloud::{
        CloudError, ErrorKind, FileContext, Phase, ProviderFactory, QuotaProvider, QuotaRef,
        QuotaView, RequestView, Target,
    },
};

/// Where a quota lives: (account or project id, region, service, quota code).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Slot {
    pub account: String,
    pub region: String,
    pub service: String,
    pub code: String,
}

impl Slot {
    pub fn new(account: &str, region: &str, service: &str, code: &str) -> Self {
        Self {
            account: account.into(),
            region: region.into(),
            service: service.into(),
            code: code.into(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct FakeQuota {
    pub name: String,
    pub value: f64,
    pub adjustable: bool,
}

/// A request the fake cloud holds, with where it was filed.
#[derive(Clone, Debug)]
pub struct FakeRequest {
    pub slot: Slot,
    pub view: RequestView,
}

#[derive(Default)]
struct State {
    quotas: HashMap<Slot, FakeQuota>,
    requests: Vec<FakeRequest>,
    calls: BTreeMap<&'static str, u64>,
    filed: u64,
    next_id: u64,
}

/// The whole fake cloud, shared by every account's provider.
#[derive(Default)]
pub struct FakeCloud {
    state: Mutex<State>,
}

impl FakeCloud {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().expect("fake cloud lock"))
    }

    pub fn set_quota(&self, slot: Slot, name: &str, value: f64, adjustable: bool) {
        let quota = FakeQuota {
            name: name.into(),
            value,
            adjustable,
        };
        self.with(|s| s.quotas.insert(slot, quota));
    }

    /// Puts an open request in the history as if someone had filed it in the console.
    pub fn seed_open_request(&self, slot: Slot, value: f64) -> String {
        self.with(|s| insert_request(s, slot, value))
    }

    /// Every request filed through a provider (seeded ones not counted).
    pub fn filed_count(&self) -> u64 {
        self.with(|s| s.filed)
    }

    pub fn requests(&self) -> Vec<FakeRequest> {
        self.with(|s| s.requests.clone())
    }

    pub fn calls(&self, operation: &str) -> u64 {
        self.with(|s| s.calls.get(operation).copied().unwrap_or(0))
    }

    /// Approves an open request and applies its value, as AWS does.
    pub fn approve(&self, id: &str) {
        self.with(|s| {
            let Some(req) = s.requests.iter_mut().find(|r| r.view.id == id) else {
                return;
            };
            req.view.status = "APPROVED".into();
            req.view.phase = Phase::Approved;
            req.view.updated_at = Some(Timestamp::now());
            let (slot, value) = (req.slot.clone(), req.view.requested_value);
            if let Some(q) = s.quotas.get_mut(&slot) {
                q.value = value;
            }
        });
    }

    /// Approves an open request without applying its value yet (AWS applies it later).
    pub fn approve_unapplied(&self, id: &str) {
        self.with(|s| {
            if let Some(req) = s.requests.iter_mut().find(|r| r.view.id == id) {
                req.view.status = "APPROVED".into();
                req.view.phase = Phase::Approved;
                req.view.updated_at = Some(Timestamp::now());
            }
        });
    }

    /// Drops a request from the cloud's records, as if the cloud no longer knew it.
    pub fn forget(&self, id: &str) {
        self.with(|s| s.requests.retain(|r| r.view.id != id));
    }

    /// Closes an open request without granting it.
    pub fn deny(&self, id: &str, status: &str, message: &str) {
        self.with(|s| {
            if let Some(req) = s.requests.iter_mut().find(|r| r.view.id == id) {
                req.view.status = status.into();
                req.view.phase = Phase::from_aws_status(status);
                req.view.message = Some(message.into());
                req.view.updated_at = Some(Timestamp::now());
            }
        });
    }

    pub fn open_request_ids(&self) -> Vec<String> {
        self.with(|s| {
            s.requests
                .iter()
                .filter(|r| r.view.phase.is_open())
                .map(|r| r.view.id.clone())
                .collect()
        })
    }
}

fn insert_request(s: &mut State, slot: Slot, value: f64) -> String {
    s.next_id += 1;
    let id = format!("req-{:06}", s.next_id);
    let now = Timestamp::now();
    s.requests.push(FakeRequest {
        slot,
        view: RequestView {
            id: id.clone(),
            case_id: None,
            status: "PENDING".into(),
            phase: Phase::Open,
            requested_value: value,
            granted_value: None,
            submitted_at: Some(now),
            updated_at: Some(now),
            message: None,
            origin: None,
            justification: None,
        },
    });
    id
}

/// One account's view of the fake cloud.
pub struct FakeProvider {
    cloud: Arc<FakeCloud>,
    account: String,
}

impl FakeProvider {
    fn count(&self, s: &mut State, op: &'static str) {
        *s.calls.entry(op).or_default() += 1;
    }

    /// The newest request in the quota's history that `pick` accepts (one history call).
    fn newest(
        &self,
        target: &Target,
        code: &str,
        pick: impl Fn(&RequestView) -> bool,
    ) -> Option<RequestView> {
        let slot = self.slot(target, code);
        self.cloud.with(|s| {
            self.count(s, "ListRequestedServiceQuotaChangeHistoryByQuota");
            s.requests
                .iter()
                .rev()
                .find(|r| r.slot == slot && pick(&r.view))
                .map(|r| r.view.clone())
        })
    }

    fn slot(&self, target: &Target, code: &str) -> Slot {
        Slot::new(&self.account, &target.region, target.quota.service(), code)
    }

    fn resolve(&self, s: &State, target: &Target) -> Result<(Slot, FakeQuota), CloudError> {
        let found = match &target.quota {
            QuotaRef::Aws {
                quota_name: Some(name),
                quota_code: None,
                ..
            } => s.quotas.iter().find(|(slot, q)| {
                slot.account == self.account
                    && slot.region == target.region
                    && slot.service == target.quota.service()
                    && &q.name == name
            }),
            quota => quota.direct_id().and_then(|code| {
                let slot = self.slot(target, code);
                s.quotas.get_key_value(&slot)
            }),
        };
        found
            .map(|(slot, q)| (slot.clone(), q.clone()))
            .ok_or_else(|| {
                CloudError::new(
                    ErrorKind::NotFound,
                    "NoSuchResourceException",
                    format!(
                        "The request failed because the specified quota {target} does not exist."
                    ),
                )
            })
    }
}

#[async_trait]
impl QuotaProvider for FakeProvider {
    async fn quota(&self, target: &Target) -> Result<QuotaView, CloudError> {
        self.cloud.with(|s| {
            self.count(s, "GetServiceQuota");
            let (slot, q) = self.resolve(s, target)?;
            Ok(QuotaView {
                id: slot.code,
                name: q.name,
                value: q.value,
                adjustable: q.adjustable,
                global: false,
            })
        })
    }

    async fn open_request(
        &self,
        target: &Target,
        quota_id: &str,
    ) -> Result<Option<RequestView>, CloudError> {
        Ok(self.newest(target, quota_id, |v| v.phase.is_open()))
    }

    async fn latest_request(
        &self,
        target: &Target,
        quota_id: &str,
    ) -> Result<Option<RequestView>, CloudError> {
        Ok(self.newest(target, quota_id, |_| true))
    }

    async fn request(&self, _target: &Target, id: &str) -> Result<RequestView, CloudError> {
        self.cloud.with(|s| {
            self.count(s, "GetRequestedServiceQuotaChange");
            s.requests
                .iter()
                .find(|r| r.view.id == id && r.slot.account == self.account)
                .map(|r| r.view.clone())
                .ok_or_else(|| {
                    CloudError::new(
                        ErrorKind::NotFound,
                        "NoSuchResourceException",
                        format!("request {id} does not exist"),
                    )
                })
        })
    }

    async fn file(
        &self,
        target: &Target,
        quota_id: &str,
        value: i64,
        _context: &FileContext,
    ) -> Result<RequestView, CloudError> {
        let slot = self.slot(target, quota_id);
        self.cloud.with(|s| {
            self.count(s, "RequestServiceQuotaIncrease");
            let quota = s.quotas.get(&slot).cloned().ok_or_else(|| {
                CloudError::new(
                    ErrorKind::NotFound,
                    "NoSuchResourceException",
                    "no such quota",
                )
            })?;
            if !quota.adjustable {
                return Err(CloudError::new(
                    ErrorKind::NotAdjustable,
                    "IllegalArgumentException",
                    "The quota is not adjustable.",
                ));
            }
            if s.requests
                .iter()
                .any(|r| r.slot == slot && r.view.phase.is_open())
            {
                return Err(CloudError::new(
                    ErrorKind::AlreadyOpen,
                    "ResourceAlreadyExistsException",
                    "Only one open service quota increase request is allowed per quota.",
                ));
            }
            if value as f64 <= quota.value {
                return Err(CloudError::new(
                    ErrorKind::InvalidArgument,
                    "IllegalArgumentException",
                    "You must provide a quota value greater than the current quota value.",
                ));
            }
            s.filed += 1;
            insert_request(s, slot, value as f64);
            Ok(s.requests.last().expect("just inserted").view.clone())
        })
    }
}

/// Hands every CloudAccount a provider on the one fake cloud, keyed by its account id or project.
pub struct FakeFactory(pub Arc<FakeCloud>);

#[async_trait]
impl ProviderFactory for FakeFactory {
    async fn provider(&self, account: &CloudAccount) -> Result<Arc<dyn QuotaProvider>, CloudError> {
        let id = match (&account.spec.aws, &account.spec.gcp) {
            (Some(aws), _) => aws.account_id.clone(),
            (_, Some(gcp)) => gcp.project.clone(),
            _ => {
                return Err(CloudError::new(
                    ErrorKind::Other,
                    "InvalidAccount",
                    "no cloud set",
                ));
            }
        };
        Ok(Arc::new(FakeProvider {
            cloud: self.0.clone(),
            account: id,
        }))
    }
}
