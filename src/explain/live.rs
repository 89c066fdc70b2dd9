//! `--live`: the quota's current value, read through the operator's own providers (the same
//! SDK clients, endpoint rules and account verification as `quota-operator run`), with the
//! caller's credentials: the AWS default chain, GCP Application Default Credentials.

use aws_config::{BehaviorVersion, Region};

use super::{
    finding::{ExplainError, Finding, QuotaId},
    render::{Current, SUGGESTED_HEADROOM},
};
use crate::{
    api::{AwsAccount, CloudAccount, CloudAccountSpec, GcpAccount, Headroom, UsageBasis},
    cloud::{
        ProviderFactory, QuotaRef, Target,
        aws::{AwsFactory, AwsSettings},
        gcp::{GcpFactory, GcpSettings},
        no_fleet,
    },
};

/// Where to read from.
#[derive(Clone, Debug, Default)]
pub struct LiveSettings {
    /// Service Quotas (and STS) endpoint, e.g. a simulator.
    pub aws_endpoint: Option<String>,
    /// Cloud Quotas endpoint, e.g. a simulator.
    pub gcp_endpoint: Option<String>,
    /// The GCP project when the error names none.
    pub project: Option<String>,
}

/// The current value of the finding's quota.
pub async fn current(f: &Finding, s: &LiveSettings) -> Result<Current, ExplainError> {
    crate::cloud::permissions::Client::Explain.claim();
    let live = |e: String| ExplainError::Live(e);
    let (factory, account, quota): (Box<dyn ProviderFactory>, CloudAccount, QuotaRef) =
        match &f.quota {
            QuotaId::Aws {
                service_code,
                quota_code,
            } => {
                let base = aws_config::defaults(BehaviorVersion::latest()).load().await;
                let account_id = who_am_i(&base, s.aws_endpoint.as_deref(), &f.region)
                    .await
                    .map_err(live)?;
                let settings = AwsSettings {
                    endpoint: s.aws_endpoint.clone(),
                    ..AwsSettings::default()
                };
                let spec = CloudAccountSpec {
                    aws: Some(AwsAccount {
                        account_id,
                        role_arn: None,
                        external_id: None,
                    }),
                    gcp: None,
                    namespace_selector: None,
                    guardrails: None,
                    usage: None,
                    endpoint: None,
                };
                let quota = QuotaRef::Aws {
                    service_code: service_code.clone(),
                    quota_code: Some(quota_code.clone()),
                    quota_name: None,
                };
                (
                    Box::new(AwsFactory::new(base, settings)),
                    CloudAccount::new("explain", spec),
                    quota,
                )
            }
            QuotaId::Gcp {
                service,
                quota_id,
                dimensions,
            } => {
                let project = s
                    .project
                    .clone()
                    .or_else(|| f.project.clone())
                    .ok_or_else(|| {
                        live("the error names no GCP project: pass --project PROJECT_ID".into())
                    })?;
                let settings = GcpSettings {
                    endpoint: s.gcp_endpoint.clone(),
                    ..GcpSettings::default()
                };
                let spec = CloudAccountSpec {
                    aws: None,
                    // Reading needs no contact; Cloud Quotas asks for one only on increases.
                    gcp: Some(GcpAccount {
                        project,
                        contact_email: "unused@example.invalid".into(),
                    }),
                    namespace_selector: None,
                    guardrails: None,
                    usage: None,
                    endpoint: None,
                };
                let quota = QuotaRef::Gcp {
                    service: service.clone(),
                    quota_id: quota_id.clone(),
                    dimensions: dimensions.clone().into_iter().collect(),
                };
                (
                    Box::new(GcpFactory::new(settings)),
                    CloudAccount::new("explain", spec),
                    quota,
                )
            }
        };
    let provider = factory
        .provider(&account)
        .await
        .map_err(|e| live(e.to_string()))?;
    let target = Target {
        quota,
        region: f.region.clone(),
    };
    let view = provider
        .quota(&target)
        .await
        .map_err(|e| live(format!("reading {}: {e}", f.quota.label())))?;
    let usage = provider.usage(&target, &view.id, &no_fleet).await;
    let suggested = Headroom {
        percent: SUGGESTED_HEADROOM,
        of: UsageBasis::Peak,
        window: None,
        // No ceiling for the figure shown; the YAML's reader picks one.
        max: i64::MAX,
        cooldown: None,
    };
    let seen = crate::usage::observation(
        &usage,
        Some(&suggested),
        view.value,
        None,
        &crate::usage::Bounds::default(),
        jiff::Timestamp::now(),
    );
    Ok(Current {
        value: view.value,
        name: view.name,
        adjustable: view.adjustable,
        usage: crate::usage::describe(&seen.usage),
        headroom: seen.headroom.map(|h| h.arithmetic),
    })
}

/// The account the caller's AWS credentials act in (STS GetCallerIdentity), so the provider can
/// be built for it: `explain` reads in whatever account the user is logged in to.
async fn who_am_i(
    base: &aws_config::SdkConfig,
    endpoint: Option<&str>,
    region: &str,
) -> Result<String, String> {
    let mut conf = aws_sdk_sts::config::Builder::from(base);
    if let Some(endpoint) = endpoint {
        conf = conf.endpoint_url(endpoint);
    }
    if base.region().is_none() {
        conf = conf.region(Region::new(region.to_string()));
    }
    let me = aws_sdk_sts::Client::from_conf(conf.build())
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| {
            format!(
                "STS GetCallerIdentity failed (are AWS credentials set?): {}",
                aws_smithy_types::error::display::DisplayErrorContext(&e)
            )
        })?;
    me.account()
        .map(str::to_string)
        .ok_or_else(|| "STS GetCallerIdentity named no account".into())
}
