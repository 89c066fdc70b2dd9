//! A real kube-apiserver + etcd for the whole test run (tools/controlplane), the CRDs installed
//! once, a fresh namespace per test, and the operator running in-process against a fake cloud.

use std::{
    path::PathBuf,
    process::Command,
    sync::{Arc, OnceLock},
    time::Duration,
};

use k8s_openapi::{
    api::core::v1::Namespace,
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{
    Api, Client, ResourceExt,
    api::{Patch, PatchParams, PostParams},
    config::{KubeConfigOptions, Kubeconfig},
};
use quota_operator::{
    api::{CloudAccount, QuotaRequirement},
    cloud::ProviderFactory,
    controller,
};
use serde_json::{Value, json};

use crate::{
    fake::{FakeCloud, FakeFactory},
    gate::Gate,
};
use tokio::task::JoinHandle;

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The kubeconfig of the run's control plane: `QO_TEST_KUBECONFIG` when set (a server someone
/// already started), else one started now by tools/controlplane/start.sh. The server stops when
/// this test process exits (the script's watchdog follows our pid).
pub fn kubeconfig() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        if let Some(path) = std::env::var_os("QO_TEST_KUBECONFIG") {
            return PathBuf::from(path);
        }
        let dir = std::env::temp_dir().join(format!("qo-controlplane-{}", std::process::id()));
        let out = Command::new(format!("{ROOT}/tools/controlplane/start.sh"))
            .arg(&dir)
            .env("QO_WATCH_PID", std::process::id().to_string())
            .output()
            .expect("run tools/controlplane/start.sh");
        assert!(
            out.status.success(),
            "control plane failed to start:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        PathBuf::from(stdout.lines().last().expect("kubeconfig path").trim())
    })
}

pub async fn client() -> Client {
    Client::try_from(config().await).expect("client")
}

/// The client configuration for the run's control plane.
async fn config() -> kube::Config {
    // Operator logs only on request (RUST_LOG=info cargo test ...): they drown test output.
    if std::env::var_os("RUST_LOG").is_some() {
        quota_operator::telemetry::init(quota_operator::telemetry::LogFormat::Text);
    }
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let path = kubeconfig().clone();
    let kubeconfig = Kubeconfig::read_from(&path).expect("read kubeconfig");
    kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig")
}

/// Installs the CRDs (once per process) and waits until the server serves them.
async fn install_crds(client: &Client) {
    static DONE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    DONE.get_or_init(|| install_crds_on(client)).await;
}

/// Installs the CRDs on the server `client` talks to (a test's own control plane too) and waits
/// until it serves them.
pub async fn install_crds_on(client: &Client) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let yaml = quota_operator::api::crds_yaml();
    for doc in yaml.split("---\n") {
        let crd: CustomResourceDefinition = serde_yaml::from_str(doc).expect("CRD");
        let pp = PatchParams::apply("quota-operator-tests").force();
        crds.patch(&crd.name_any(), &pp, &Patch::Apply(&crd))
            .await
            .expect("apply CRD");
        eventually(Duration::from_secs(30), || async {
            let c = crds.get(&crd.name_any()).await.ok()?;
            let established = c
                .status?
                .conditions?
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            established.then_some(())
        })
        .await;
    }
    // Discovery lags establishment a little; wait until the resources answer.
    eventually(Duration::from_secs(30), || async {
        let qr: Api<QuotaRequirement> = Api::all(client.clone());
        let ca: Api<CloudAccount> = Api::all(client.clone());
        (qr.list(&Default::default()).await.is_ok() && ca.list(&Default::default()).await.is_ok())
            .then_some(())
    })
    .await;
}

/// Polls `check` until it returns Some, or panics after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A QuotaRequirement as the tests create it, as JSON: the one place in the tests that knows the
/// CRD's shape (field names, nesting, which cloud's block), so a change to the spec is made here
/// rather than in every file's own copy. Only what some test sets is settable; an object that is
/// meant to be malformed stays literal JSON where it is tested.
#[derive(Clone, Debug)]
#[must_use]
pub struct Qr(Value);

impl Qr {
    /// An EC2 quota (`serviceCode: ec2`) by its code.
    pub fn ec2(name: &str, account: &str, code: &str) -> Self {
        Self::aws(name, account, ("ec2", code))
    }

    /// An AWS quota by service and quota code.
    pub fn aws(name: &str, account: &str, (service, code): (&str, &str)) -> Self {
        Self::new(
            name,
            account,
            json!({"aws": {"serviceCode": service, "quotaCode": code}}),
        )
    }

    /// A Compute Engine quota (`service: compute.googleapis.com`) by its quota id.
    pub fn gcp(name: &str, account: &str, quota_id: &str) -> Self {
        Self::new(
            name,
            account,
            json!({"gcp": {"service": "compute.googleapis.com", "quotaId": quota_id}}),
        )
    }

    fn new(name: &str, account: &str, mut spec: Value) -> Self {
        spec["accountRef"] = json!(account);
        Self(json!({"metadata": {"name": name}, "spec": spec}))
    }

    pub fn regions(self, regions: &[&str]) -> Self {
        self.spec("regions", json!(regions))
    }

    /// `desiredValue`.
    pub fn desired(self, value: i64) -> Self {
        self.spec("desiredValue", json!(value))
    }

    /// `capacity`: the instances or machines to fit, as the CRD lists them.
    pub fn capacity(self, items: Value) -> Self {
        self.spec("capacity", items)
    }

    pub fn justification(self, text: &str) -> Self {
        self.spec("justification", json!(text))
    }

    /// `headroom`, as the CRD writes it (`{percent, max, cooldown, ...}`).
    pub fn headroom(self, headroom: Value) -> Self {
        self.spec("headroom", headroom)
    }

    /// `allowDecrease: true`.
    pub fn allow_decrease(self) -> Self {
        self.spec("allowDecrease", json!(true))
    }

    /// With `apiVersion` and `kind` written out, as a manifest has them.
    pub fn typed(mut self) -> Self {
        self.0["apiVersion"] = json!("quota-operator.dev/v1alpha1");
        self.0["kind"] = json!("QuotaRequirement");
        self
    }

    fn spec(mut self, field: &str, value: Value) -> Self {
        self.0["spec"][field] = value;
        self
    }

    pub fn json(self) -> Value {
        self.0
    }
}

impl From<Qr> for Value {
    fn from(qr: Qr) -> Self {
        qr.json()
    }
}

/// One test's world: a fresh namespace (allowed by default), its own CloudAccount names, and an
/// operator watching only that namespace.
pub struct TestEnv {
    pub client: Client,
    pub ns: String,
    operator: Option<JoinHandle<()>>,
    /// What the operator serves as `/readyz`.
    pub readiness: quota_operator::probes::Readiness,
    /// Finished reconciles per object, across operator restarts in this test.
    pub reconciles: Arc<controller::Reconciles>,
    /// Start the operator with Karpenter NodePools watched (`--karpenter-nodepools`).
    pub nodepools: bool,
    /// Start the operator with the quota template writer (`spec.aws.quotaTemplate`).
    pub templates: bool,
}

impl TestEnv {
    pub async fn new(name: &str) -> Self {
        Self::with_labels(name, json!({"quota-operator.dev/allowed": "true"})).await
    }

    pub async fn with_labels(name: &str, labels: Value) -> Self {
        let client = client().await;
        install_crds(&client).await;
        let ns = format!("{name}-{}", rand_suffix());
        let namespaces: Api<Namespace> = Api::all(client.clone());
        let obj: Namespace = serde_json::from_value(json!({
            "metadata": {"name": ns, "labels": labels}
        }))
        .unwrap();
        namespaces
            .create(&PostParams::default(), &obj)
            .await
            .expect("create namespace");
        Self {
            client,
            ns,
            operator: None,
            readiness: Default::default(),
            reconciles: Default::default(),
            nodepools: false,
            templates: false,
        }
    }

    /// A name unique to this test, for cluster-scoped objects.
    pub fn unique(&self, name: &str) -> String {
        format!("{}-{name}", self.ns)
    }

    pub fn qrs(&self) -> Api<QuotaRequirement> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    pub fn accounts(&self) -> Api<CloudAccount> {
        Api::all(self.client.clone())
    }

    /// Creates an AWS CloudAccount that admits namespaces labelled allowed=true.
    pub async fn aws_account(&self, name: &str, account_id: &str) -> String {
        self.aws_account_with(name, account_id, Value::Null).await
    }

    /// An AWS CloudAccount as [`Self::aws_account`] makes, with these guardrails.
    pub async fn aws_account_with(
        &self,
        name: &str,
        account_id: &str,
        guardrails: Value,
    ) -> String {
        let name = self.unique(name);
        self.create_account(json!({
            "metadata": {"name": name},
            "spec": {
                "aws": {"accountId": account_id},
                "namespaceSelector": {"matchLabels": {"quota-operator.dev/allowed": "true"}},
                "guardrails": guardrails
            }
        }))
        .await
        .expect("create CloudAccount");
        name
    }

    /// Creates a GCP CloudAccount for `project` that admits namespaces labelled allowed=true.
    pub async fn gcp_account(&self, name: &str, project: &str) -> String {
        let name = self.unique(name);
        self.create_account(json!({
            "metadata": {"name": name},
            "spec": {
                "gcp": {"project": project, "contactEmail": "quotas@example.com"},
                "namespaceSelector": {"matchLabels": {"quota-operator.dev/allowed": "true"}}
            }
        }))
        .await
        .expect("create CloudAccount");
        name
    }

    pub async fn create_account(&self, obj: Value) -> Result<CloudAccount, kube::Error> {
        let obj: CloudAccount = serde_json::from_value(obj).expect("CloudAccount JSON");
        self.accounts().create(&PostParams::default(), &obj).await
    }

    /// A uniquely named AWS CloudAccount with `aws` (accountId, roleArn, quotaTemplate, ...) that
    /// admits the test's namespaces; its name.
    pub async fn aws_account_spec(&self, name: &str, aws: Value) -> String {
        let name = self.unique(name);
        self.create_account(serde_json::json!({
            "metadata": {"name": name},
            "spec": {
                "aws": aws,
                "namespaceSelector": {"matchLabels": {"quota-operator.dev/allowed": "true"}}
            }
        }))
        .await
        .expect("create CloudAccount");
        name
    }

    /// Creates a QuotaRequirement from raw JSON (so invalid ones reach the server as written).
    pub async fn create_raw(&self, kind: &str, obj: Value) -> Result<Value, kube::Error> {
        use kube::{api::DynamicObject, core::ApiResource};
        let ar = ApiResource {
            group: "quota-operator.dev".into(),
            version: "v1alpha1".into(),
            api_version: "quota-operator.dev/v1alpha1".into(),
            kind: kind.into(),
            plural: format!("{}s", kind.to_lowercase()),
        };
        let api: Api<DynamicObject> = if kind == "CloudAccount" {
            Api::all_with(self.client.clone(), &ar)
        } else {
            Api::namespaced_with(self.client.clone(), &self.ns, &ar)
        };
        let mut obj = obj;
        obj["apiVersion"] = json!("quota-operator.dev/v1alpha1");
        obj["kind"] = json!(kind);
        let dynamic: DynamicObject = serde_json::from_value(obj).expect("object JSON");
        api.create(&PostParams::default(), &dynamic)
            .await
            .map(|o| serde_json::to_value(o).unwrap())
    }

    pub async fn create_qr(&self, obj: impl Into<Value>) -> QuotaRequirement {
        let obj: QuotaRequirement =
            serde_json::from_value(obj.into()).expect("QuotaRequirement JSON");
        self.qrs()
            .create(&PostParams::default(), &obj)
            .await
            .expect("create QuotaRequirement")
    }

    /// Creates `spot`: 2000 vCPUs of the standard Spot families (L-34B43A08) in `regions`.
    pub async fn create_spot(&self, account: &str, regions: &[&str]) -> QuotaRequirement {
        self.create_qr(
            Qr::ec2("spot", account, "L-34B43A08")
                .regions(regions)
                .desired(2000),
        )
        .await
    }

    /// Starts the operator for this namespace on `cloud`, with intervals short enough for tests.
    pub fn start_operator(&mut self, cloud: Arc<FakeCloud>) {
        self.start_operator_with(Arc::new(FakeFactory(cloud)));
    }

    pub fn start_operator_with(&mut self, providers: Arc<dyn ProviderFactory>) {
        let client = self.client.clone();
        self.start_operator_on(client, providers);
    }

    /// Starts the operator on `cloud` with a client whose QuotaRequirement watch passes through
    /// `gate`, so a test decides which objects' events the operator's cache lags behind on.
    pub async fn start_operator_gated(&mut self, cloud: Arc<FakeCloud>, gate: Gate) {
        let client = kube::client::ClientBuilder::try_from(config().await)
            .expect("client stack")
            .with_layer(&gate)
            .build();
        self.start_operator_on(client, Arc::new(FakeFactory(cloud)));
    }

    fn start_operator_on(&mut self, client: Client, providers: Arc<dyn ProviderFactory>) {
        let config = controller::Config {
            resync: Duration::from_millis(500),
            poll: Duration::from_millis(200),
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(2),
            namespace: Some(self.ns.clone()),
            concurrency: 8,
            instance: format!("test-{}", self.ns),
            readiness: self.readiness.clone(),
            karpenter_nodepools: self.nodepools,
            ..Default::default()
        };
        let seams = controller::Seams {
            reconciles: Some(self.reconciles.clone()),
            account_status: false,
            templates: self.templates,
        };
        self.operator = Some(tokio::spawn(controller::run_with(
            client,
            providers,
            config,
            seams,
            std::future::pending(),
        )));
    }

    /// Stops the operator at once, as a crash would.
    pub fn kill_operator(&mut self) {
        if let Some(op) = self.operator.take() {
            op.abort();
        }
    }

    /// Waits until the operator has finished `n` more reconciles of `name` than it had when
    /// called: what every "nothing more happened" assertion waits on instead of a bare sleep, so
    /// it cannot pass with the operator asleep.
    pub async fn reconciled(&self, name: &str, n: u64) {
        let key = format!("{}/{name}", self.ns);
        let start = self.reconciles.count(&key);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while self.reconciles.count(&key) < start + n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name} was reconciled {} times in 30s, expected {n}",
                self.reconciles.count(&key) - start
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the object's status satisfies `check`, and returns the object; on time-out
    /// the panic shows the last status seen.
    pub async fn wait_qr(
        &self,
        name: &str,
        check: impl Fn(&QuotaRequirement) -> bool,
    ) -> QuotaRequirement {
        let api = self.qrs();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let qr = api.get_opt(name).await.expect("get QuotaRequirement");
            if let Some(qr) = qr.as_ref().filter(|qr| check(qr)) {
                return qr.clone();
            }
            if tokio::time::Instant::now() > deadline {
                let status = qr
                    .and_then(|q| q.status)
                    .map(|s| serde_json::to_string_pretty(&s).unwrap());
                panic!(
                    "{name} did not reach the expected status within 30s; last status: {status:#?}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl TestEnv {
    /// Waits until any of the named objects satisfies `check`, and returns it.
    pub async fn wait_qr_any(
        &self,
        names: &[&str],
        check: impl Fn(&QuotaRequirement) -> bool,
    ) -> QuotaRequirement {
        let api = self.qrs();
        eventually(Duration::from_secs(30), || async {
            for name in names {
                if let Ok(qr) = api.get(name).await
                    && check(&qr)
                {
                    return Some(qr);
                }
            }
            None
        })
        .await
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        self.kill_operator();
    }
}

fn rand_suffix() -> String {
    use rand::Rng;
    let n: u32 = rand::rng().random_range(0..0xff_ffff);
    format!("{n:06x}")
}

/// The summary printed in `kubectl get qr`'s State column.
pub fn summary(qr: &QuotaRequirement) -> &str {
    qr.status
        .as_ref()
        .and_then(|s| s.summary.as_deref())
        .unwrap_or_default()
}

/// The status of condition `type_`, "True"/"False", or "" when absent.
pub fn condition<'a>(qr: &'a QuotaRequirement, type_: &str) -> (&'a str, &'a str) {
    qr.status
        .as_ref()
        .and_then(|s| s.conditions.iter().find(|c| c.type_ == type_))
        .map(|c| (c.status.as_str(), c.reason.as_str()))
        .unwrap_or_default()
}

/// Both clouds' real providers pointed at the simulator: AWS with static credentials for `key`,
/// GCP anonymous over http; quota caches of `ttl`.
pub async fn sim_clouds(
    sim: &quota_sim::SimHandle,
    key: &str,
    ttl: Duration,
) -> Arc<quota_operator::cloud::Clouds> {
    use quota_operator::cloud::{
        Clouds,
        aws::{AwsFactory, AwsSettings},
        gcp::{GcpFactory, GcpSettings},
    };
    let aws = AwsSettings {
        endpoint: Some(sim.endpoint()),
        cache_ttl: ttl,
        ..AwsSettings::default()
    };
    let gcp = GcpSettings {
        endpoint: Some(sim.endpoint()),
        cache_ttl: ttl,
        ..GcpSettings::default()
    };
    let aws = AwsFactory::with_static_credentials(key, "secret", "us-east-1", aws).await;
    Arc::new(Clouds::new(aws, GcpFactory::new(gcp)))
}

/// The AWS provider factory pointed at the simulator, with static credentials for `key` and a
/// quota cache of `ttl`.
pub async fn sim_aws(
    sim: &quota_sim::SimHandle,
    key: &str,
    ttl: Duration,
) -> Arc<quota_operator::cloud::aws::AwsFactory> {
    use quota_operator::cloud::aws::{AwsFactory, AwsSettings};
    let settings = AwsSettings {
        endpoint: Some(sim.endpoint()),
        cache_ttl: ttl,
        ..AwsSettings::default()
    };
    Arc::new(AwsFactory::with_static_credentials(key, "secret", "us-east-1", settings).await)
}

/// A Go tool built from the Go module proxy (tools/<name>/build.sh, cached): its binary.
pub fn go_tool(name: &str) -> PathBuf {
    let build = Command::new(format!("{ROOT}/tools/{name}/build.sh"))
        .output()
        .unwrap_or_else(|e| panic!("tools/{name}/build.sh: {e}"));
    assert!(
        build.status.success(),
        "building {name}: {}",
        String::from_utf8_lossy(&build.stderr)
    );
    let dir = String::from_utf8_lossy(&build.stdout)
        .lines()
        .last()
        .expect("the bin directory")
        .trim()
        .to_string();
    PathBuf::from(dir).join(name)
}
