//! Everything the simulated Service Quotas remembers: applied values, requests, the filing log,
//! rate limiter and counters. One mutex guards it; every call is short.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::aws::{
    fault::FaultInjection,
    instance_types::InstanceTypes,
    model::cases::CaseBook,
    model::catalog::{Catalog, QuotaDef},
    model::limiter::{Counters, Limiter},
    model::regions::{self, RegionDef},
    model::report::Report,
    model::request::{FiledRequest, Request, Source},
    model::usage::{Anchored, UsageBook},
    scenario::{AwsScenario, ErrorReason},
    status::RequestStatus,
};
use crate::shared::Ticks;

/// (account, region or `*` for a global quota, service, quota code).
type ValueKey = (String, String, String, String);

/// The state behind its lock, as the handlers and the control handle share it.
pub type Shared = crate::shared::Shared<AwsState>;

pub struct AwsState {
    pub scenario: AwsScenario,
    pub catalog: Catalog,
    /// EC2 instance types (DescribeInstanceTypes), the same in every account.
    pub instance_types: InstanceTypes,
    /// The regions DescribeRegions lists, the same in every account.
    pub regions: Vec<RegionDef>,
    /// Values set since start (approvals, admin); they win over the scenario.
    values: HashMap<ValueKey, f64>,
    pub requests: Vec<Request>,
    pub filed: Vec<FiledRequest>,
    seq: u64,
    cases: u64,
    pub limiter: Limiter,
    pub counters: Counters,
    /// Faults still to answer (scenario `faults` plus injected ones).
    pub faults: Vec<FaultInjection>,
    /// Temporary credentials STS handed out, by access key id.
    pub sessions: HashMap<String, Session>,
    /// STS calls by (account, action).
    pub sts_calls: BTreeMap<(String, String), u64>,
    sessions_issued: u64,
    /// Usage shapes set since start (the scenario's are read from it).
    pub usage: UsageBook,
    /// Quota utilisation reports, oldest first; expired ones are dropped on the next tick.
    pub reports: Vec<Report>,
    /// Each management account's quota request template: (service, quota, region) -> value.
    pub templates: BTreeMap<String, BTreeMap<(String, String, String), f64>>,
    /// Support cases, one per request that opened one.
    pub case_book: CaseBook,
}

/// Who a set of temporary credentials acts as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub account: String,
    /// `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
    pub arn: String,
    /// `<role id>:<session>`, as STS reports an assumed role's UserId.
    pub user_id: String,
}

/// What a new request is about; checks (limits, values) are the caller's.
pub struct Filing<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub def: &'a QuotaDef,
    pub desired_value: f64,
    pub support_case_allowed: bool,
    pub source: Source,
}

impl AwsState {
    /// A fresh state; the scenario must have been validated (seeds name known quotas).
    pub fn new(scenario: AwsScenario, now: Timestamp) -> Self {
        let catalog = Catalog::for_scenario(&scenario);
        let limiter = Limiter::new(scenario.rates.clone(), scenario.throttles.clone());
        let mut state = Self {
            catalog,
            instance_types: InstanceTypes::for_scenario(&scenario.ec2),
            regions: regions::for_scenario(&scenario),
            values: HashMap::new(),
            requests: Vec::new(),
            filed: Vec::new(),
            seq: 0,
            cases: 0,
            limiter,
            counters: Counters::default(),
            faults: scenario.faults.clone(),
            sessions: HashMap::new(),
            sts_calls: BTreeMap::new(),
            sessions_issued: 0,
            usage: UsageBook::new(now),
            reports: Vec::new(),
            templates: BTreeMap::new(),
            case_book: CaseBook::default(),
            scenario,
        };
        for seed in state.scenario.quota_template.entries.clone() {
            let account = seed
                .account
                .unwrap_or_else(|| state.scenario.default_account.clone());
            let key = (seed.service_code, seed.quota_code, seed.aws_region);
            (state.templates.entry(account).or_default()).insert(key, seed.desired_value);
        }
        for seed in state.scenario.open_requests.clone() {
            let account = seed
                .account
                .unwrap_or_else(|| state.scenario.default_account.clone());
            let Some(def) = state
                .catalog
                .get(&seed.service_code, &seed.quota_code)
                .cloned()
            else {
                continue;
            };
            let idx = state.file_seed(&account, &seed.region, &def, seed.desired_value, now);
            if seed.status == Some(RequestStatus::CaseOpened) {
                state.open_case(idx, now);
            }
        }
        state
    }

    fn value_key(account: &str, region: &str, def: &QuotaDef) -> ValueKey {
        let region = if def.global { "*" } else { region };
        (
            account.to_string(),
            region.to_string(),
            def.service_code.clone(),
            def.quota_code.clone(),
        )
    }

    /// The applied value, None when the quota still runs on its default (GetServiceQuota then
    /// answers NoSuchResource).
    pub fn applied_value(&self, account: &str, region: &str, def: &QuotaDef) -> Option<f64> {
        if let Some(v) = self.values.get(&Self::value_key(account, region, def)) {
            return Some(*v);
        }
        // The most specific scenario setting wins: account+region, account, region, neither.
        let setting = self
            .scenario
            .quotas
            .iter()
            .filter(|q| q.service_code == def.service_code && q.quota_code == def.quota_code)
            .filter(|q| q.value.is_some() || q.applied.is_some())
            .filter(|q| q.account.as_deref().is_none_or(|a| a == account))
            .filter(|q| def.global || q.region.as_deref().is_none_or(|r| r == region))
            .max_by_key(|q| 2 * u8::from(q.account.is_some()) + u8::from(q.region.is_some()));
        let applied = match setting {
            Some(q) => q.applied.unwrap_or(true),
            None => def.adjustable,
        };
        applied.then(|| setting.and_then(|q| q.value).unwrap_or(def.default_value))
    }

    /// Why AWS cannot give the quota's value here, when the scenario says it cannot (the most
    /// specific setting wins, as for values).
    pub fn error_reason(&self, account: &str, region: &str, def: &QuotaDef) -> Option<ErrorReason> {
        self.scenario
            .quotas
            .iter()
            .filter(|q| q.service_code == def.service_code && q.quota_code == def.quota_code)
            .filter(|q| q.error_reason.is_some())
            .filter(|q| q.account.as_deref().is_none_or(|a| a == account))
            .filter(|q| def.global || q.region.as_deref().is_none_or(|r| r == region))
            .max_by_key(|q| 2 * u8::from(q.account.is_some()) + u8::from(q.region.is_some()))
            .and_then(|q| q.error_reason.clone())
    }

    /// What is in use for a quota in one account and region, with its anchor; None when AWS
    /// publishes no usage for it there.
    pub fn usage_of(&self, account: &str, region: &str, def: &QuotaDef) -> Option<Anchored> {
        self.usage.of(&self.scenario, account, region, def)
    }

    /// Usage at `now`, None without usage data.
    pub fn usage_now(
        &self,
        account: &str,
        region: &str,
        def: &QuotaDef,
        now: Timestamp,
    ) -> Option<f64> {
        self.usage_of(account, region, def)
            .map(|(u, t0)| u.at(t0, now))
    }

    /// The account an access key acts in: temporary credentials from STS first, then the
    /// scenario's keys. None when the key is unknown and unknown keys are refused.
    pub fn account_for_key(&self, access_key: &str) -> Option<&str> {
        match self.sessions.get(access_key) {
            Some(s) => Some(&s.account),
            None => self.scenario.account_for_key(access_key),
        }
    }

    /// Records temporary credentials for `session`; returns their number (for unique keys).
    pub fn add_session(&mut self, access_key: String, session: Session) -> u64 {
        self.sessions.insert(access_key, session);
        self.sessions_issued += 1;
        self.sessions_issued
    }

    /// What limits the account right now: the applied value, else the default.
    pub fn current_value(&self, account: &str, region: &str, def: &QuotaDef) -> f64 {
        self.applied_value(account, region, def)
            .unwrap_or(def.default_value)
    }

    pub fn set_value(&mut self, account: &str, region: &str, def: &QuotaDef, value: f64) {
        self.values
            .insert(Self::value_key(account, region, def), value);
    }

    /// Whether `caller` sees `req`: same account, and same region unless the quota is global.
    pub fn visible(&self, req: &Request, account: &str, region: &str) -> bool {
        let global = self
            .catalog
            .get(&req.service_code, &req.quota_code)
            .is_some_and(|d| d.global);
        req.account == account && (global || req.region == region)
    }

    /// The open request for this quota in this account (and region, unless global).
    pub fn open_request_for(
        &self,
        account: &str,
        region: &str,
        def: &QuotaDef,
    ) -> Option<&Request> {
        self.requests.iter().find(|r| {
            r.status.is_open()
                && r.service_code == def.service_code
                && r.quota_code == def.quota_code
                && self.visible(r, account, region)
        })
    }

    /// Open requests filed in (account, region) and in the whole account.
    pub fn open_counts(&self, account: &str, region: &str) -> (u32, u32) {
        let open = || {
            self.requests
                .iter()
                .filter(|r| r.status.is_open() && r.account == account)
        };
        let in_region = open().filter(|r| r.region == region).count() as u32;
        (in_region, open().count() as u32)
    }

    /// Adds a request (PENDING) and logs it; returns its index.
    pub fn file(&mut self, f: Filing<'_>, now: Timestamp) -> usize {
        self.seq += 1;
        let digest = Sha256::digest(format!("{}/{}/{}", f.account, f.region, self.seq));
        let id = hex::encode(&digest[..16]);
        let mut rule =
            self.scenario
                .rule_for(f.account, f.region, &f.def.service_code, &f.def.quota_code);
        if f.source == Source::AutomaticManagement {
            // AWS's own requests open no support case: PENDING until their outcome.
            rule.case_opened_after = None;
        }
        let filed = FiledRequest {
            id,
            account: f.account.into(),
            region: f.region.into(),
            service_code: f.def.service_code.clone(),
            quota_code: f.def.quota_code.clone(),
            desired_value: f.desired_value,
            filed_at: now,
            source: f.source,
        };
        let req = Request::new(&filed, f.support_case_allowed, rule);
        self.filed.push(filed);
        tracing::info!(
            id = %req.id, account = %req.account, region = %req.region,
            quota = %format!("{}/{}", req.service_code, req.quota_code),
            value = req.desired_value, "sim: increase request filed"
        );
        self.requests.push(req);
        self.requests.len() - 1
    }

    /// Files a request as if made in the console (scenario and admin seeds).
    pub fn file_seed(
        &mut self,
        account: &str,
        region: &str,
        def: &QuotaDef,
        desired_value: f64,
        now: Timestamp,
    ) -> usize {
        let filing = Filing {
            account,
            region,
            def,
            desired_value,
            support_case_allowed: true,
            source: Source::Console,
        };
        self.file(filing, now)
    }

    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.requests.iter().position(|r| r.id == id)
    }

    fn next_case_id(cases: &mut u64) -> String {
        *cases += 1;
        format!("{}", 17_000_000_000u64 + *cases)
    }

    /// Records a read of request `idx` (see `Request::record_read`).
    pub fn record_read(&mut self, idx: usize, now: Timestamp) {
        let cases = &mut self.cases;
        let entered = self.requests[idx].record_read(now, &mut || Self::next_case_id(cases));
        self.after_moves(idx, &entered);
    }

    /// Admin: the next move now. Err when the request has none.
    pub fn advance(&mut self, idx: usize, now: Timestamp) -> Result<RequestStatus, String> {
        let cases = &mut self.cases;
        let moved = self.requests[idx].advance(now, &mut || Self::next_case_id(cases));
        let status = moved.ok_or_else(|| {
            let r = &self.requests[idx];
            format!(
                "request {} is {:?} and has no next step; approve or deny it",
                r.id, r.status
            )
        })?;
        self.after_moves(idx, &[status]);
        Ok(status)
    }

    /// Admin / seed: opens the support case now.
    pub fn open_case(&mut self, idx: usize, now: Timestamp) {
        let case = Self::next_case_id(&mut self.cases);
        let r = &mut self.requests[idx];
        r.case_id.get_or_insert(case);
        r.close(RequestStatus::CaseOpened, None, now);
        self.case_book.opened(&self.requests[idx], now);
    }

    /// Admin: closes request `idx` with `status` now.
    pub fn close(
        &mut self,
        idx: usize,
        status: RequestStatus,
        message: Option<String>,
        now: Timestamp,
    ) {
        self.requests[idx].close(status, message, now);
        self.after_moves(idx, &[status]);
    }

    /// An approval applies the requested value, as AWS does; an opened case is filed in the
    /// case book, and the request's end resolves it.
    fn after_moves(&mut self, idx: usize, entered: &[RequestStatus]) {
        for status in entered {
            let r = &self.requests[idx];
            tracing::info!(id = %r.id, status = ?status, "sim: request moved");
        }
        let r = &self.requests[idx];
        if entered.contains(&RequestStatus::CaseOpened) {
            self.case_book.opened(r, r.last_updated);
        }
        if let Some(case) = r.case_id.as_deref().filter(|_| !r.status.is_open()) {
            self.case_book.resolved(case);
        }
        if entered.contains(&RequestStatus::Approved) {
            let r = self.requests[idx].clone();
            if let Some(def) = self.catalog.get(&r.service_code, &r.quota_code).cloned() {
                self.set_value(&r.account, &r.region, &def, r.desired_value);
            }
        }
    }
}

impl Ticks for AwsState {
    /// Moves every request whose time has come (called before each API or admin call).
    fn tick(&mut self, now: Timestamp) {
        let settings = &self.scenario.utilization_report;
        self.reports.retain(|r| !r.expired(settings, now));
        for r in &mut self.reports {
            r.settle(settings, now);
        }
        for idx in 0..self.requests.len() {
            let cases = &mut self.cases;
            let entered = self.requests[idx].settle(now, &mut || Self::next_case_id(cases));
            self.after_moves(idx, &entered);
        }
        self.auto_file(now);
    }
}
