//! GCP error shapes as Google documents them (compute/operations-quota, QuotaExceededInfo) and as
//! gcloud and GKE print them.

use super::*;

fn run(t: &str) -> Option<Result<Finding, ExplainError>> {
    recognise(t, &text::normalise(t), &Options::default())
}

fn found(t: &str) -> Finding {
    run(t).expect("recognised").expect("a finding")
}

fn gcp(id: &str) -> QuotaId {
    QuotaId::gcp(COMPUTE, id)
}

#[test]
fn quota_sentence_in_a_region() {
    let err = "ERROR: (gcloud.compute.instances.create) Could not fetch resource:\n - Quota 'CPUS' \
               exceeded.  Limit: 8.0 in region us-east1.";
    let f = found(err);
    assert_eq!(f.quota, gcp("CPUS-per-project-region"));
    assert_eq!(
        (f.region.as_str(), f.limit, f.unit),
        ("us-east1", Some(8.0), "CPUs")
    );
    let n2 = found("Quota 'N2_CPUS' exceeded. Limit: 24.0 in region europe-west1.");
    assert_eq!(n2.quota, gcp("N2-CPUS-per-project-region"));
    let ips = found("Quota 'IN_USE_ADDRESSES' exceeded. Limit: 8.0 in region us-central1.");
    assert_eq!(ips.quota, gcp("IN-USE-ADDRESSES-per-project-region"));
}

#[test]
fn quota_sentence_globally() {
    let f = found("Quota 'GPUS_ALL_REGIONS' exceeded. Limit: 0.0 globally.");
    assert_eq!(f.quota, gcp("GPUS-ALL-REGIONS-per-project"));
    assert_eq!((f.region.as_str(), f.limit), ("global", Some(0.0)));
}

#[test]
fn compute_json_with_quota_info_uses_the_limit_name() {
    let body = r#"{"error": {"code": 403, "message": "Quota 'NVIDIA_L4_GPUS' exceeded.  Limit: 1.0 in region us-central1.",
      "errors": [{"message": "Quota 'NVIDIA_L4_GPUS' exceeded.  Limit: 1.0 in region us-central1.", "domain": "usageLimits", "reason": "quotaExceeded"}],
      "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "QUOTA_EXCEEDED", "domain": "compute.googleapis.com"}],
      "errorDetails": [{"quotaInfo": {"metricName": "compute.googleapis.com/nvidia_l4_gpus",
        "limitName": "NVIDIA-L4-GPUS-per-project-region", "dimensions": {"region": "us-central1"}, "limit": 1}}]}}"#;
    let f = found(body);
    assert_eq!(f.quota, gcp("NVIDIA-L4-GPUS-per-project-region"));
    assert_eq!((f.region.as_str(), f.limit), ("us-central1", Some(1.0)));
}

/// The documented body (compute/operations-quota), with `metadatas` as some responses spell it.
const CONCURRENT_BODY: &str = r#"{
  "error": {
    "code": 403,
    "message": "Rate Limit Exceeded",
    "errors": [{"message": "Rate Limit Exceeded", "domain": "usageLimits", "reason": "rateLimitExceeded"}],
    "details": [
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "CONCURRENT_OPERATIONS_QUOTA_EXCEEDED",
        "domain": "compute.googleapis.com",
        "metadatas": {
          "containerType": "PROJECT",
          "containerId": "batch-prod-1234",
          "quotaMetric": "compute.googleapis.com/regional_concurrent_operations",
          "quotaLimit": "RegionalConcurrentOperationsPerProject",
          "operationType": "instances.insert",
          "location": "us-central1"
        }
      },
      {"@type": "type.googleapis.com/google.rpc.Help",
       "links": [{"description": "Concurrent operations quota documentation.",
                  "url": "https://cloud.google.com/compute/operations-quota#concurrent_operation_limits"}]}
    ]
  }
}"#;

#[test]
fn concurrent_operations_error_info_names_the_quota_and_says_back_off() {
    let f = found(CONCURRENT_BODY);
    assert_eq!(
        f.quota,
        gcp("REGIONAL-CONCURRENT-OPERATIONS-per-project-region")
    );
    assert_eq!(f.region, "us-central1");
    assert_eq!(f.project.as_deref(), Some("batch-prod-1234"));
    assert_eq!(f.error_code, "CONCURRENT_OPERATIONS_QUOTA_EXCEEDED");
    assert_eq!(f.documented_default, Some(500.0));
    let advice = f.advice.expect("advice");
    assert!(
        advice.contains("concurrency limit") && advice.contains("Back off"),
        "{advice}"
    );
    assert!(f.why.contains("instances.insert"), "{}", f.why);
}

#[test]
fn concurrent_operations_metadata_spelling_and_newer_short_form() {
    let metadata = CONCURRENT_BODY.replace("\"metadatas\"", "\"metadata\"");
    assert_eq!(found(&metadata).project.as_deref(), Some("batch-prod-1234"));
    // Newer responses: only containerType, containerId and location; a global location.
    let short = r#"{"code": 403, "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "CONCURRENT_OPERATIONS_QUOTA_EXCEEDED", "domain": "compute.googleapis.com",
        "metadata": {"containerType": "PROJECT", "containerId": "p-1", "location": "global"}}]}"#;
    let f = found(short);
    assert_eq!(f.quota, gcp("GLOBAL-CONCURRENT-OPERATIONS-per-project"));
    assert_eq!(f.region, "global");
    // A zone as location counts against its region; a per-type limit is said.
    let zonal = CONCURRENT_BODY
        .replace(
            "\"location\": \"us-central1\"",
            "\"location\": \"us-central1-a\"",
        )
        .replace("PerProject\"", "PerProjectOperationType\"");
    let f = found(&zonal);
    assert_eq!(f.region, "us-central1");
    assert!(f.advice.unwrap().contains("per-operation-type"));
    // Without the JSON, the message sentence is enough.
    let f =
        found("Quota on concurrent operations exceeded for project p-2 in location europe-west4.");
    assert_eq!(
        f.quota,
        gcp("REGIONAL-CONCURRENT-OPERATIONS-per-project-region")
    );
    assert_eq!(
        (f.region.as_str(), f.project.as_deref()),
        ("europe-west4", Some("p-2"))
    );
}

#[test]
fn gke_insufficient_quota_states_limit_and_shortfall() {
    let err = "Insufficient regional quota to satisfy request: resource \"CPUS\": request requires \
               '48.0' and is short '24.0'. project has a quota of '24.0' with '0.0' available. \
               View and manage quotas at https://console.cloud.google.com/iam-admin/quotas?usage=USED&project=p \
               (region us-central1)";
    let f = found(err);
    assert_eq!(f.quota, gcp("CPUS-per-project-region"));
    assert_eq!((f.limit, f.need), (Some(24.0), Some(24.0)));
}

#[test]
fn other_text_is_not_a_gcp_quota_error() {
    assert!(run("Permission 'compute.instances.create' denied on resource").is_none());
    assert!(run("{\"error\": {\"code\": 404, \"message\": \"not found\"}}").is_none());
}
