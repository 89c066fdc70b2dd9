//! Region names, checked before anything is built or sent for them. A region comes from a
//! tenant's spec, and each distinct one would otherwise get its own SDK client, rate-limiter
//! buckets and cache entries for the life of the process, and calls to the cloud. The shape
//! rules are the CRD's own (`spec.regions`): an object admitted under an older CRD, or a region
//! reaching a provider another way, gets the same answer here. A well-shaped name is then
//! checked against the regions the account itself lists (`known`), where it can list them.
//!
//! Either refusal is a [`ErrorKind::SpecMismatch`]: the name will not become a region by being
//! asked again soon, so the region is Blocked, not retried with backoff. Like every Blocked
//! region it is read again at each resync, so a region the account enables later is served once
//! the list is asked for again.

mod known;
pub mod nearest;

use super::boundary::{CloudError, ErrorKind};

pub use known::KnownRegions;

/// The codes of a region the cloud does not have: badly shaped, or not in the account's list.
const CODES: [&str; 4] = [
    "InvalidRegion",
    "INVALID_REGION",
    "UnknownRegion",
    "UNKNOWN_REGION",
];

/// Whether `e` says the region itself is not one: the cloud has nothing in it, not even a
/// value, so nothing read for it before (a value, metric series) stands.
pub fn is_not_a_region(e: &CloudError) -> bool {
    e.kind == ErrorKind::SpecMismatch && CODES.contains(&e.code.as_str())
}

/// `^[a-z]{2}(-[a-z]+)+-[0-9]+$`: `us-east-1`, `us-gov-west-1`, `eu-isoe-west-1`.
pub fn check_aws(region: &str) -> Result<(), CloudError> {
    let parts: Vec<&str> = region.split('-').collect();
    let fits = match parts.as_slice() {
        [area, middle @ .., number] => {
            area.len() == 2
                && lowercase(area)
                && !middle.is_empty()
                && middle.iter().all(|p| lowercase(p))
                && digits(number)
        }
        _ => false,
    };
    fits.then_some(()).ok_or_else(|| {
        not_a_region(
            "InvalidRegion",
            format!("{region:?} is not an AWS region (one looks like us-east-1)"),
        )
    })
}

/// `global`, or `^[a-z]+-[a-z]+[0-9]+$`: `us-central1`, `northamerica-northeast2`.
pub fn check_gcp(region: &str) -> Result<(), CloudError> {
    let fits = region == "global"
        || region.split_once('-').is_some_and(|(area, place)| {
            let letters = place.trim_end_matches(|c: char| c.is_ascii_digit());
            lowercase(area) && lowercase(letters) && letters.len() < place.len()
        });
    fits.then_some(()).ok_or_else(|| {
        not_a_region(
            "INVALID_REGION",
            format!("{region:?} is not a GCP region (one looks like us-central1, or global)"),
        )
    })
}

fn not_a_region(code: &str, message: String) -> CloudError {
    CloudError::new(ErrorKind::SpecMismatch, code, message)
}

/// Non-empty, a-z only.
fn lowercase(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase())
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_regions_of_every_partition_pass() {
        for r in [
            "us-east-1",
            "eu-west-1",
            "ap-southeast-2",
            "us-gov-west-1",
            "cn-north-1",
            "eu-isoe-west-1",
            "il-central-1",
        ] {
            assert_eq!(check_aws(r), Ok(()), "{r}");
        }
    }

    #[test]
    fn anything_else_is_not_an_aws_region_and_the_error_names_it() {
        for r in [
            "",
            "nowhere",
            "us-east",
            "us-1",
            "use-east-1",
            "us-east-1-evil",
            "US-EAST-1",
            "us-east-1\n",
            "us--1",
            "us-east-1a",
            "us-central1",
            "global",
            "../us-east-1",
        ] {
            let e = check_aws(r).unwrap_err();
            assert_eq!(
                (e.kind, e.code.as_str()),
                (ErrorKind::SpecMismatch, "InvalidRegion")
            );
            assert!(is_not_a_region(&e));
            assert!(
                e.message.contains(&format!("{r:?} is not an AWS region")),
                "{e}"
            );
        }
    }

    #[test]
    fn gcp_regions_and_global_pass() {
        for r in [
            "us-central1",
            "europe-west4",
            "northamerica-northeast2",
            "me-central2",
            "global",
        ] {
            assert_eq!(check_gcp(r), Ok(()), "{r}");
        }
    }

    #[test]
    fn zones_aws_regions_and_junk_are_not_gcp_regions() {
        for r in [
            "",
            "nowhere",
            "us-central1-a",
            "us-east-1",
            "europe-west",
            "US-CENTRAL1",
            "us-central1 ",
            "-central1",
            "us-1",
            "Global",
        ] {
            let e = check_gcp(r).unwrap_err();
            assert_eq!(
                (e.kind, e.code.as_str()),
                (ErrorKind::SpecMismatch, "INVALID_REGION")
            );
            assert!(is_not_a_region(&e));
            assert!(
                e.message.contains(&format!("{r:?} is not a GCP region")),
                "{e}"
            );
        }
    }
}
