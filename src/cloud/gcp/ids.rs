//! The operator's own QuotaPreference ids: readable, the same on every run, and distinct for
//! every (service, quota id, dimensions), because Cloud Quotas keys a preference by all three
//! and several services share quota ids (`DefaultRequestsPerMinutePerProject`, ...).

use sha2::{Digest, Sha256};

/// Longest id the operator makes: the RFC 1034 label length AIP-122 recommends for resource
/// ids. Cloud Quotas documents no limit of its own, so the strictest usual one is kept.
pub const MAX_ID: usize = 63;

/// `qo-cpus-per-project-region-us-central1-1a2b3c4d`: lowercase letters, digits and `-`, at
/// most [`MAX_ID`] characters, starting with a letter. The quota id and dimension values make
/// it readable; the trailing hash of the service, the quota id and every dimension (sorted by
/// name, the region included unless `global`) makes it unique. When too long, the quota id
/// part is shortened first, then the dimension values; the hash is always kept whole.
pub fn preference_id(
    service: &str,
    quota_id: &str,
    region: &str,
    dimensions: &[(String, String)],
) -> String {
    let mut all: Vec<(&str, &str)> = dimensions
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if region != "global" {
        all.push(("region", region));
    }
    all.sort();
    all.dedup();
    let mut hasher = Sha256::new();
    hasher.update(service.as_bytes());
    hasher.update(b"\n");
    hasher.update(quota_id.as_bytes());
    for (k, v) in &all {
        hasher.update(format!("\n{k}={v}").as_bytes());
    }
    let hash = hex::encode(&hasher.finalize()[..4]);

    let mut place: Vec<String> = vec![];
    if region != "global" {
        place.push(clean(region));
    }
    let mut named: Vec<&(String, String)> =
        dimensions.iter().filter(|(k, _)| k != "region").collect();
    named.sort();
    place.extend(named.iter().map(|(_, v)| clean(v)));
    place.retain(|p| !p.is_empty());
    let mut place = place.join("-");
    let mut quota = clean(quota_id);

    // "qo-" + quota + "-" + place + "-" + hash, without empty parts.
    let fixed = "qo-".len() + 1 + hash.len();
    let room = MAX_ID - fixed;
    let place_len = |p: &str| if p.is_empty() { 0 } else { p.len() + 1 };
    if quota.len() + place_len(&place) > room {
        let for_quota = room.saturating_sub(place_len(&place)).max(8);
        quota.truncate(for_quota.min(quota.len()));
        if quota.len() + place_len(&place) > room {
            place.truncate(room - quota.len() - 1);
        }
    }
    let parts = [
        "qo",
        quota.trim_matches('-'),
        place.trim_matches('-'),
        &hash,
    ];
    parts
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("-")
}

fn clean(s: &str) -> String {
    let mapped: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    // Runs of separators read badly and say nothing.
    let mut out = String::with_capacity(mapped.len());
    for c in mapped.chars() {
        if c == '-' && out.ends_with('-') {
            continue;
        }
        out.push(c);
    }
    out.trim_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPUTE: &str = "compute.googleapis.com";

    fn ok(id: &str) -> bool {
        id.len() <= MAX_ID
            && id.starts_with("qo-")
            && !id.ends_with('-')
            && !id.contains("--")
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }

    #[test]
    fn ids_are_readable_stable_and_end_in_a_hash() {
        let id = preference_id(COMPUTE, "CPUS-per-project-region", "us-central1", &[]);
        assert!(
            id.starts_with("qo-cpus-per-project-region-us-central1-") && ok(&id),
            "{id}"
        );
        assert_eq!(
            id.len(),
            "qo-cpus-per-project-region-us-central1-".len() + 8
        );
        assert_eq!(
            id,
            preference_id(COMPUTE, "CPUS-per-project-region", "us-central1", &[])
        );
        let global = preference_id(COMPUTE, "GPUS-ALL-REGIONS-per-project", "global", &[]);
        assert!(global.starts_with("qo-gpus-all-regions-per-project-") && ok(&global));
    }

    #[test]
    fn service_quota_and_every_dimension_change_the_id() {
        let quota = "DefaultRequestsPerMinutePerProject";
        let a = preference_id("pubsub.googleapis.com", quota, "global", &[]);
        let b = preference_id("cloudkms.googleapis.com", quota, "global", &[]);
        assert_ne!(a, b, "two services sharing a quota id");
        let l4 = [("gpu_family".to_string(), "NVIDIA_L4".to_string())];
        let t4 = [("gpu_family".to_string(), "NVIDIA_T4".to_string())];
        let q = "GPUS-PER-GPU-FAMILY-per-project-region";
        assert_ne!(
            preference_id(COMPUTE, q, "us-east4", &l4),
            preference_id(COMPUTE, q, "us-east4", &t4)
        );
        assert_ne!(
            preference_id(COMPUTE, q, "us-east4", &l4),
            preference_id(COMPUTE, q, "us-east1", &l4)
        );
    }

    #[test]
    fn dimension_order_does_not_matter() {
        let ab = [
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "2".to_string()),
        ];
        let ba = [ab[1].clone(), ab[0].clone()];
        assert_eq!(
            preference_id(COMPUTE, "Q", "global", &ab),
            preference_id(COMPUTE, "Q", "global", &ba)
        );
    }

    #[test]
    fn long_ids_are_shortened_but_keep_the_place_and_the_hash() {
        let long = preference_id(COMPUTE, &"X".repeat(80), "us-central1", &[]);
        assert!(ok(&long) && long.starts_with("qo-xxx"), "{long}");
        assert!(long.contains("-us-central1-"), "{long}");
        let other = preference_id(COMPUTE, &"X".repeat(81), "us-central1", &[]);
        assert_ne!(long, other, "the hash keeps shortened ids apart");
        let ops = preference_id(
            COMPUTE,
            "REGIONAL-CONCURRENT-OPERATIONS-per-project-region",
            "northamerica-northeast2",
            &[],
        );
        assert!(
            ok(&ops)
                && ops.starts_with("qo-regional-concurrent")
                && ops.contains("-northamerica-northeast2-"),
            "{ops}"
        );
        let many: Vec<(String, String)> = (0..10)
            .map(|i| (format!("d{i}"), "a-long-dimension-value".to_string()))
            .collect();
        let crowded = preference_id(COMPUTE, "SOME-QUOTA", "us-central1", &many);
        assert!(ok(&crowded), "{crowded}");
    }
}
