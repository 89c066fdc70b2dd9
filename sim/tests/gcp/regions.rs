//! Compute Engine `regions.list` against the official Rust client (google-cloud-compute-v1,
//! feature `regions`) and gcloud: Google's regions plus the scenario's, paged, with Compute's
//! refusals.

use google_cloud_compute_v1::client::Regions;
use quota_sim::{SimHandle, gcp::Fault};

use super::{SimCode, start};

async fn compute(sim: &SimHandle) -> Regions {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    Regions::builder()
        .with_endpoint(sim.endpoint())
        .with_credentials(google_cloud_auth::credentials::anonymous::Builder::new().build())
        .build()
        .await
        .expect("Compute regions client")
}

/// Every region name of `project`, page by page of `size`; and how many pages it took.
async fn names(c: &Regions, project: &str, size: u32) -> (Vec<String>, usize) {
    let (mut names, mut pages, mut token) = (Vec::new(), 0, None);
    loop {
        let page = (c.list().set_project(project))
            .set_max_results(size)
            .set_or_clear_page_token(token)
            .send()
            .await
            .expect("regions.list");
        pages += 1;
        names.extend(page.items.into_iter().filter_map(|r| r.name));
        token = page.next_page_token.filter(|t| !t.is_empty());
        if token.is_none() {
            return (names, pages);
        }
    }
}

const LAB: &str = "gcp:\n  projects: [p1]\n  regions: [moon-base1]\n";

#[tokio::test]
async fn lists_googles_regions_and_the_scenarios_in_pages() {
    let sim = start(LAB).await;
    let c = compute(&sim).await;
    let (all, pages) = names(&c, "p1", 10).await;
    for r in [
        "us-central1",
        "us-east1",
        "europe-west4",
        "asia-east1",
        "moon-base1",
    ] {
        assert!(all.contains(&r.to_string()), "{r}: {all:?}");
    }
    assert!(!all.contains(&"us-moon1".to_string()));
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted, "sorted by name, as Google lists them");
    assert_eq!(pages, all.len().div_ceil(10));
    let page = c.list().set_project("p1").set_filter("name = us-central1");
    let one = page.send().await.unwrap();
    let region = &one.items[0];
    assert_eq!(
        (region.name.as_deref(), region.zones.len(), one.items.len()),
        (Some("us-central1"), 4, 1)
    );
    assert_eq!(
        region.self_link.as_deref(),
        Some("https://www.googleapis.com/compute/v1/projects/p1/regions/us-central1")
    );
}

#[tokio::test]
async fn an_unknown_project_and_a_fault_are_computes_refusals() {
    let sim = start(LAB).await;
    let c = compute(&sim).await;
    let e = c.list().set_project("p2").send().await.unwrap_err();
    assert_eq!(e.http_status_code(), Some(403), "{e:?}");
    sim.gcp()
        .inject_fault(Fault {
            method: "compute.regions.list".into(),
            count: 1,
            project: None,
            code: SimCode::PermissionDenied,
            message: None,
        })
        .unwrap();
    let e = c.list().set_project("p1").send().await.unwrap_err();
    assert_eq!(e.http_status_code(), Some(403), "{e:?}");
    assert!(c.list().set_project("p1").send().await.is_ok());
    assert_eq!(sim.gcp().calls_in("p1", "compute.regions.list"), 2);
}

#[tokio::test]
async fn gcloud_lists_the_regions() {
    let sim = start(LAB).await;
    let dir = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new("gcloud")
        .args([
            "compute",
            "regions",
            "list",
            "--project",
            "p1",
            "--format",
            "json",
        ])
        .envs([
            ("CLOUDSDK_CONFIG", dir.path().to_str().unwrap()),
            (
                "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE",
                &format!("{}/compute/v1/", sim.endpoint()),
            ),
            ("CLOUDSDK_AUTH_ACCESS_TOKEN", "dummy"),
            ("CLOUDSDK_CORE_DISABLE_PROMPTS", "1"),
            ("CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK", "true"),
        ])
        .env_remove("CLOUDSDK_CORE_PROJECT")
        .output()
        .await
        .expect("gcloud (google-cloud-cli) must be installed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = (listed.as_array().unwrap().iter())
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"moon-base1") && names.contains(&"us-central1"),
        "{names:?}"
    );
    assert!(listed[0]["status"] == "UP", "{listed}");
}
