//! Reading a quota's current value: from the cached ListServiceQuotas walk, or, when that
//! listing is refused or unavailable (a least-privilege IAM policy, a 5xx, an endpoint that does
//! not implement it), one GetServiceQuota (then GetAWSDefaultServiceQuota) per distinct quota,
//! names resolved with ListAWSDefaultServiceQuotas. Either way values are shared through the
//! cache, so the cost follows the distinct quotas, not the objects.

use super::{
    cache::{Asked, Mode, QuotaCache, ServiceQuotas},
    calls::Calls,
    convert::Entry,
    mistakes,
};
use crate::cloud::boundary::{CloudError, ErrorKind, QuotaView};

/// The quota named by `code` (or else `name`) in (region, service). AWS's answer that the
/// service or the quota does not exist is remembered with the values, for the cache's TTL.
pub async fn quota(
    calls: &Calls,
    cache: &QuotaCache,
    region: &str,
    service: &str,
    code: Option<&str>,
    name: Option<&str>,
) -> Result<QuotaView, CloudError> {
    let asked = match (code, name) {
        (Some(code), _) => Asked::Code(code.to_string()),
        (None, Some(name)) => Asked::Name(name.to_string()),
        (None, None) => {
            return Err(CloudError::new(
                ErrorKind::InvalidArgument,
                "InvalidSpec",
                "the quota has neither a code nor a name",
            ));
        }
    };
    let known = cache
        .get(region, service, || listing(calls, region, service))
        .await?;
    if let Mode::NoSuchService(answer) = &known.mode {
        return Err(answer.clone());
    }
    if let Some(answer) = known.missing.get(&asked) {
        return Err(answer.clone());
    }
    if let Some(found) = known.find(&asked)
        && !found.may_pass()
    {
        return found.result();
    }
    let entry = match &asked {
        Asked::Code(code) => calls.read_one(region, service, code).await,
        Asked::Name(name) => by_name(calls, cache, &known, region, service, name).await,
    };
    let entry = match entry {
        Err(e) if e.kind == ErrorKind::NotFound => {
            let where_ = (region, service);
            let e = mistakes::no_such_quota(calls, cache, &known, where_, &asked, &e).await;
            cache.add_missing(region, service, asked, e.clone()).await;
            return Err(e);
        }
        entry => entry?,
    };
    // A value AWS could not fetch this time is not kept: the next reconcile asks again.
    if !entry.may_pass() {
        cache.add(region, service, entry.clone()).await;
    }
    entry.result()
}

/// Lists `service` into the cache unless it is there already: what a usage read asks before it
/// batches the services the fleet names. A failure is the reconcile's to report when it reads
/// that service; the usage read goes on without it.
pub async fn listed(calls: &Calls, cache: &QuotaCache, region: &str, service: &str) {
    let _ = cache
        .get(region, service, || listing(calls, region, service))
        .await;
}

/// ListServiceQuotas, or the single-read mode when the listing is refused or fails in a way
/// single reads may not (throttling is answered as it is; a timeout too, since a stalled
/// endpoint would stall the single reads as well). An unknown service is kept as AWS's answer.
async fn listing(calls: &Calls, region: &str, service: &str) -> Result<ServiceQuotas, CloudError> {
    match calls.list_quotas(region, service).await {
        Ok(entries) => Ok(ServiceQuotas::listed(entries)),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(ServiceQuotas::no_such_service(
            mistakes::no_such_service(calls, region, service, &e).await,
        )),
        Err(e) if falls_back(&e) => {
            tracing::warn!(
                account = %calls.account, region, service, error = %e,
                "ListServiceQuotas failed; reading quotas one by one (GetServiceQuota) until the cache expires"
            );
            Ok(ServiceQuotas::single_reads(e))
        }
        Err(e) => Err(e),
    }
}

fn falls_back(e: &CloudError) -> bool {
    matches!(
        e.kind,
        ErrorKind::AccessDenied | ErrorKind::Unavailable | ErrorKind::Other
    ) && e.code != "Timeout"
}

/// A quota named, not coded. Listed mode: a quota absent from the listing has no applied
/// value, so its default is its value. Single-read mode: the name gives the code, then the
/// quota is read.
async fn by_name(
    calls: &Calls,
    cache: &QuotaCache,
    known: &ServiceQuotas,
    region: &str,
    service: &str,
    name: &str,
) -> Result<Entry, CloudError> {
    let not_found = || {
        CloudError::new(
            ErrorKind::NotFound,
            "NoSuchResourceException",
            format!("service {service} has no quota named {name:?} in {region}"),
        )
    };
    if known.mode == Mode::Listed {
        let defaults = calls.list_defaults(region, service).await?;
        return defaults
            .into_iter()
            .find(|q| q.view.name == name)
            .ok_or_else(not_found);
    }
    let code = match known.names.get(name) {
        Some(code) => code.clone(),
        // The names were listed this period (for another name, or a code's hint).
        None if !known.names.is_empty() => return Err(not_found()),
        None => {
            let names: std::collections::HashMap<String, String> = calls
                .list_defaults(region, service)
                .await?
                .into_iter()
                .map(|e| (e.view.name, e.view.id))
                .collect();
            let code = names.get(name).cloned();
            cache.add_names(region, service, names).await;
            code.ok_or_else(not_found)?
        }
    };
    calls.read_one(region, service, &code).await
}
