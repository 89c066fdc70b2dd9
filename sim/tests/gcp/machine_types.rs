//! Compute Engine machine types against the official Rust client (google-cloud-compute-v1,
//! feature `machine-types`): aggregated lists with name filters, single gets, refusals.

use std::collections::BTreeMap;

use google_cloud_compute_v1::{client::MachineTypes, model::MachineTypeAggregatedList};
use quota_sim::{SimHandle, gcp::Fault};

use super::{SimCode, start};

async fn compute(sim: &SimHandle) -> MachineTypes {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    MachineTypes::builder()
        .with_endpoint(sim.endpoint())
        .with_credentials(google_cloud_auth::credentials::anonymous::Builder::new().build())
        .build()
        .await
        .expect("Compute machine types client")
}

async fn aggregated(
    c: &MachineTypes,
    project: &str,
    filter: Option<&str>,
) -> MachineTypeAggregatedList {
    let call = c.aggregated_list().set_project(project);
    let call = match filter {
        Some(f) => call.set_filter(f),
        None => call,
    };
    call.send().await.expect("aggregated list")
}

/// Zone -> guestCpus of the named type there, for the zones that list it.
fn zones_with(list: &MachineTypeAggregatedList, name: &str) -> BTreeMap<String, i32> {
    (list.items.iter())
        .flat_map(|(scope, l)| l.machine_types.iter().map(move |t| (scope, t)))
        .filter(|(_, t)| t.name.as_deref() == Some(name))
        .map(|(scope, t)| {
            let zone = scope.strip_prefix("zones/").unwrap().to_string();
            assert_eq!(t.zone.as_deref(), Some(zone.as_str()));
            (zone, t.guest_cpus.unwrap())
        })
        .collect()
}

const WITHDRAWN: &str = r#"
gcp:
  projects: [p1]
  compute:
    machineTypes:
    - {name: n4-standard-8, guestCpus: 8, memoryMb: 32768}
    notOffered:
      us-central1-f: [n2-standard-8]
      europe-west4: [n2-standard-8]
"#;

#[tokio::test]
async fn aggregated_list_with_a_name_filter_returns_the_zones_offering_it() {
    let sim = start(WITHDRAWN).await;
    let c = compute(&sim).await;
    for filter in ["name = \"n2-standard-8\"", "name eq n2-standard-8"] {
        let list = aggregated(&c, "p1", Some(filter)).await;
        assert_eq!(
            list.kind.as_deref(),
            Some("compute#machineTypeAggregatedList")
        );
        let zones = zones_with(&list, "n2-standard-8");
        assert!(zones.values().all(|&cpus| cpus == 8), "{zones:?}");
        assert!(zones.contains_key("us-central1-a") && zones.contains_key("us-east1-b"));
        assert!(
            !zones.contains_key("us-central1-f"),
            "withdrawn from that zone"
        );
        assert!(
            !zones.contains_key("us-east1-a"),
            "us-east1 has zones b, c and d only"
        );
        assert!(
            !zones.keys().any(|z| z.starts_with("europe-west4-")),
            "withdrawn from the region"
        );
        let only_it = list.items.values().flat_map(|l| &l.machine_types);
        assert!(
            only_it
                .clone()
                .all(|t| t.name.as_deref() == Some("n2-standard-8"))
        );
        let empty = &list.items["zones/us-central1-f"];
        assert!(empty.machine_types.is_empty());
        let warning = empty.warning.as_ref().expect("a warning for an empty zone");
        assert_eq!(
            warning.data[0].value.as_deref(),
            Some("zones/us-central1-f")
        );
    }
    // Unfiltered, 17 types in every zone fill several pages of 500: follow nextPageToken.
    let (mut a, mut token, mut pages) = (Vec::new(), String::new(), 0);
    loop {
        let call = c.aggregated_list().set_project("p1");
        let page = call.set_page_token(&token).send().await.expect("a page");
        pages += 1;
        let entries: usize = page.items.values().map(|l| l.machine_types.len()).sum();
        assert!(entries <= 500, "a page holds at most 500 machine types");
        if let Some(l) = page.items.get("zones/us-central1-a") {
            a.extend(l.machine_types.clone());
        }
        match page.next_page_token {
            Some(t) if !t.is_empty() => token = t,
            _ => break,
        }
    }
    assert!(pages > 1, "{pages} pages");
    assert_eq!(a.len(), 17, "the 16 built-in types and the scenario's");
    let e2 = a
        .iter()
        .find(|t| t.name.as_deref() == Some("e2-medium"))
        .unwrap();
    assert_eq!(
        (e2.guest_cpus, e2.memory_mb, e2.is_shared_cpu),
        (Some(2), Some(4096), Some(true))
    );
    let a2 = a
        .iter()
        .find(|t| t.name.as_deref() == Some("a2-highgpu-1g"))
        .unwrap();
    assert_eq!(a2.guest_cpus, Some(12));
    assert_eq!(a2.maximum_persistent_disks_size_gb, Some(263168));
    assert_eq!(
        sim.gcp().calls("compute.machineTypes.aggregatedList"),
        2 + pages
    );
}

#[tokio::test]
async fn get_answers_one_type_and_404_for_an_unknown_one() {
    let sim = start(WITHDRAWN).await;
    let c = compute(&sim).await;
    let get = |zone: &str, name: &str| {
        c.get()
            .set_project("p1")
            .set_zone(zone)
            .set_machine_type(name)
            .send()
    };
    let t = get("us-central1-a", "n2-standard-8").await.expect("get");
    assert_eq!(
        (t.guest_cpus, t.memory_mb, t.is_shared_cpu),
        (Some(8), Some(32768), Some(false))
    );
    assert_eq!(
        t.self_link.as_deref(),
        Some(
            "https://www.googleapis.com/compute/v1/projects/p1/zones/us-central1-a/machineTypes/n2-standard-8"
        )
    );
    for (zone, name) in [
        ("us-central1-a", "n2-standard-9"),
        ("us-central1-f", "n2-standard-8"),
    ] {
        let e = get(zone, name).await.expect_err("not found");
        assert_eq!(e.http_status_code(), Some(404), "{e:?}");
        let msg = e.status().map(|s| s.message.clone()).unwrap_or_default();
        assert_eq!(
            msg,
            format!("The resource 'projects/p1/zones/{zone}/machineTypes/{name}' was not found")
        );
    }
    let other = c
        .get()
        .set_project("p2")
        .set_zone("us-central1-a")
        .set_machine_type("e2-medium");
    let e = other.send().await.expect_err("unknown project");
    assert_eq!(e.http_status_code(), Some(403), "{e:?}");
}

#[tokio::test]
async fn raw_json_has_computes_shapes_and_faults_are_counted() {
    let sim = start(WITHDRAWN).await;
    let path = "/compute/v1/projects/p1/zones/us-east1-b/machineTypes/nope";
    let (status, body) = super::admin(&sim, "GET", path, None).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["errors"][0]["reason"], "notFound", "{body}");
    assert_eq!(body["error"]["errors"][0]["domain"], "global", "{body}");
    let path = "/compute/v1/projects/p1/zones/us-east1-b/machineTypes/n2-standard-8";
    let (status, body) = super::admin(&sim, "GET", path, None).await;
    assert_eq!(status, 200);
    assert_eq!(body["kind"], "compute#machineType");
    assert_eq!(
        body["id"].as_str().map(|s| s.parse::<u64>().is_ok()),
        Some(true),
        "{body}"
    );
    assert_eq!(body["maximumPersistentDisksSizeGb"], "263168");

    sim.gcp()
        .inject_fault(Fault {
            method: "compute.machineTypes.get".into(),
            count: 1,
            project: None,
            code: SimCode::ResourceExhausted,
            message: None,
        })
        .unwrap();
    let (status, body) = super::admin(&sim, "GET", path, None).await;
    assert_eq!(status, 429);
    assert_eq!(
        body["error"]["errors"][0]["reason"], "rateLimitExceeded",
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("compute.googleapis.com")
    );
    assert_eq!(sim.gcp().calls_in("p1", "compute.machineTypes.get"), 3);
}
