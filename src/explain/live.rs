//! `--live`: the quota's current value, read through the operator's own providers (the same
//! SDK clients, endpoint rules and account verification as `quota-operator run`), with the
//! caller's credentials: the AWS default chain, GCP Application Default Credentials.

use aws_config::{BehaviorVersion, Region};

use super::{
    catalog::CATALOG,
    finding::{ExplainError, Finding, Options, QuotaId, aws_region_for},
    render::{Current, SUGGESTED_HEADROOM},
    text,
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
    let (factory, account, quota) = match &f.quota {
        QuotaId::Aws {
            service_code,
            quota_code,
        } => aws_source(f, s, service_code, quota_code).await?,
        QuotaId::Gcp {
            service,
            quota_id,
            dimensions,
        } => {
            let quota = QuotaRef::Gcp {
                service: service.clone(),
                quota_id: quota_id.clone(),
                dimensions: dimensions.clone().into_iter().collect(),
            };
            gcp_source(f, s, quota)?
        }
    };
    read(f, factory.as_ref(), &account, quota).await
}

/// Where a quota is read from: the provider factory, a stand-in CloudAccount, the quota.
type Source = (Box<dyn ProviderFactory>, CloudAccount, QuotaRef);

fn live(e: String) -> ExplainError {
    ExplainError::Live(e)
}

/// The caller's AWS account (from STS), read with the default credential chain.
async fn aws_source(
    f: &Finding,
    s: &LiveSettings,
    service_code: &str,
    quota_code: &str,
) -> Result<Source, ExplainError> {
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
            support_case_allowed: None,
            quota_template: None,
        }),
        gcp: None,
        namespace_selector: None,
        guardrails: None,
        usage: None,
        endpoint: None,
    };
    let quota = QuotaRef::Aws {
        service_code: service_code.to_string(),
        quota_code: Some(quota_code.to_string()),
        quota_name: None,
    };
    Ok((
        Box::new(AwsFactory::new(base, settings)),
        CloudAccount::new("explain", spec),
        quota,
    ))
}

/// The project the error or `--project` names, read with Application Default Credentials.
fn gcp_source(f: &Finding, s: &LiveSettings, quota: QuotaRef) -> Result<Source, ExplainError> {
    let project = s
        .project
        .clone()
        .or_else(|| f.project.clone())
        .ok_or_else(|| live("the error names no GCP project: pass --project PROJECT_ID".into()))?;
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
    Ok((
        Box::new(GcpFactory::new(settings)),
        CloudAccount::new("explain", spec),
        quota,
    ))
}

/// The quota's value and usage now, with the headroom explain suggests.
async fn read(
    f: &Finding,
    factory: &dyn ProviderFactory,
    account: &CloudAccount,
    quota: QuotaRef,
) -> Result<Current, ExplainError> {
    let provider = factory
        .provider(account)
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

/// With --live, an error code the catalog does not know (`SubnetLimitExceeded`,
/// `FooQuotaExceededException`) is matched against the quota names Service Quotas lists for the
/// services the catalog covers: every word of the code must be in the name (`Subnets per VPC`).
pub async fn by_name(
    text: &str,
    options: &Options,
    s: &LiveSettings,
) -> Result<Finding, ExplainError> {
    let not_found = |why: String| ExplainError::NotRecognised(format!(": {why}"));
    let code = unknown_code(text).ok_or_else(|| {
        not_found("no ...LimitExceeded or ...QuotaExceeded code to look up".into())
    })?;
    let region = aws_region_for(text, options, &code)?;
    let words = code_words(&code);
    let listed = listed_quotas(s, &region).await?;
    let best = listed
        .iter()
        .filter(|q| words.iter().all(|w| name_words(&q.2).contains(w)))
        .min_by_key(|q| name_words(&q.2).len())
        .ok_or_else(|| {
            not_found(format!(
                "--live: no Service Quotas name in {region} has every word of {code} ({})",
                words.join(" ")
            ))
        })?;
    let (service, quota_code, name) = best.clone();
    Ok(Finding {
        why: format!(
            "{code} is not in explain's catalog; with --live its words match the Service Quotas \
             quota \"{name}\" ({service}/{quota_code}) in {region}. Check that it is the one \
             the failed call counts against before applying."
        ),
        quota: QuotaId::aws(&service, &quota_code),
        quota_name: name,
        region,
        limit: None,
        need: None,
        documented_default: None,
        unit: "units",
        advice: None,
        project: None,
        quoted: text::line_with(text, &code, 300),
        slug: format!(
            "{}-{}",
            service.to_ascii_lowercase(),
            quota_code.to_ascii_lowercase()
        ),
        error_code: code,
    })
}

/// The first word ending in LimitExceeded or QuotaExceeded (an `Exception` suffix dropped).
fn unknown_code(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .map(|w| w.strip_suffix("Exception").unwrap_or(w))
        .find(|w| {
            let stem = w
                .strip_suffix("LimitExceeded")
                .or_else(|| w.strip_suffix("QuotaExceeded"));
            stem.is_some_and(|s| !s.is_empty())
        })
        .map(str::to_string)
}

/// `RoutesPerRouteTableLimitExceeded` -> route per route table (singular, lower case).
fn code_words(code: &str) -> Vec<String> {
    let stem = code
        .strip_suffix("LimitExceeded")
        .or_else(|| code.strip_suffix("QuotaExceeded"))
        .unwrap_or(code);
    let mut words = Vec::new();
    let mut word = String::new();
    for c in stem.chars() {
        if c.is_ascii_uppercase() && !word.is_empty() {
            words.push(singular(&word));
            word.clear();
        }
        word.push(c.to_ascii_lowercase());
    }
    if !word.is_empty() {
        words.push(singular(&word));
    }
    words
}

fn name_words(name: &str) -> Vec<String> {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| singular(&w.to_ascii_lowercase()))
        .collect()
}

fn singular(w: &str) -> String {
    w.strip_suffix('s')
        .filter(|s| s.len() > 2)
        .unwrap_or(w)
        .to_string()
}

/// (service, quota code, quota name) of every quota ListServiceQuotas returns in `region` for
/// the services the catalog covers.
async fn listed_quotas(
    s: &LiveSettings,
    region: &str,
) -> Result<Vec<(String, String, String)>, ExplainError> {
    // Named like every other call of `explain --live`, so the read-only policy is checked on it.
    let name = crate::cloud::permissions::Client::current().name();
    let base = aws_config::defaults(BehaviorVersion::latest())
        .app_name(aws_config::AppName::new(name).expect("a valid app name"))
        .load()
        .await;
    let mut conf =
        aws_sdk_servicequotas::config::Builder::from(&base).region(Region::new(region.to_string()));
    if let Some(endpoint) = &s.aws_endpoint {
        conf = conf.endpoint_url(endpoint);
    }
    let client = aws_sdk_servicequotas::Client::from_conf(conf.build());
    let mut services: Vec<&str> = CATALOG.aws.iter().map(|e| e.service.as_str()).collect();
    services.sort_unstable();
    services.dedup();
    let mut out = Vec::new();
    for service in services {
        let mut pages = client
            .list_service_quotas()
            .service_code(service)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                ExplainError::Live(format!(
                    "ListServiceQuotas {service} in {region}: {}",
                    aws_smithy_types::error::display::DisplayErrorContext(&e)
                ))
            })?;
            out.extend(page.quotas().iter().filter_map(|q| {
                Some((
                    service.to_string(),
                    q.quota_code()?.to_string(),
                    q.quota_name()?.to_string(),
                ))
            }));
        }
    }
    Ok(out)
}
