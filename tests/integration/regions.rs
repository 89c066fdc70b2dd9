//! Regions nobody has, end to end on a real API server: an object naming a region its account
//! does not have (AWS `us-east-9`, GCP names made up by the dozen) ends Blocked with the nearest
//! real names, is reconciled again and again without anything filed or written in the
//! simulator, and never becomes a metric label; an object in a real region beside it is served.

use quota_operator::api::{QuotaRequirement, TargetState};
use serde_json::json;

use crate::{
    fleet::{Fleet, PROJECT, SPOT, aws_account, aws_scenario, gcp_account, is, target},
    harness::Qr,
};

/// The operator's metrics, as this process renders them (the operator runs in it). Other tests
/// run in this process too, and series are kept per `namespace/name`: each test has a namespace
/// and an account of its own, and every assertion names them.
fn metrics() -> String {
    quota_operator::metrics::render_text()
}

/// Each target's message, by region.
fn messages(qr: &QuotaRequirement) -> Vec<(String, String)> {
    let targets = &qr.status.as_ref().expect("status").targets;
    (targets.iter())
        .map(|t| (t.region.clone(), t.message.clone().unwrap_or_default()))
        .collect()
}

const AWS_TEAM: &str = "regions-aws";

#[tokio::test]
async fn an_aws_region_the_account_does_not_have_is_blocked_never_filed_and_never_a_label() {
    let approve = "{outcome: approve, closeAfter: 1s}";
    let mut fleet = Fleet::new(
        &aws_scenario(approve),
        aws_account("regions-aws", json!({})),
        &[AWS_TEAM],
    )
    .await;
    // Above the simulator's 5 everywhere: filed at once in any region the check lets through.
    let nowhere = Qr::ec2("nowhere", &fleet.account, SPOT)
        .regions(&["us-east-9"])
        .desired(10);
    fleet.create(AWS_TEAM, nowhere).await;
    let real = Qr::ec2("real", &fleet.account, SPOT)
        .regions(&["us-east-1"])
        .desired(3);
    fleet.create(AWS_TEAM, real).await;
    fleet.start_operator().await;

    let blocked = fleet
        .wait(AWS_TEAM, "nowhere", "Blocked", |qr| {
            is(qr, TargetState::Blocked)
        })
        .await;
    assert_eq!(
        target(&blocked).message.as_deref(),
        Some(
            "UnknownRegion: \"us-east-9\" is not a region this AWS account has \
             (nearest: us-east-1, us-east-2)"
        )
    );
    fleet
        .wait(AWS_TEAM, "real", "Satisfied", |qr| {
            is(qr, TargetState::Satisfied)
        })
        .await;
    fleet.reconciled(&[format!("{AWS_TEAM}/nowhere")], 3).await;

    let again = fleet.qrs(AWS_TEAM).get("nowhere").await.expect("get");
    assert!(is(&again, TargetState::Blocked), "{:#?}", again.status);
    assert_eq!(
        target(&again).current_value,
        None,
        "no value for a region AWS lacks"
    );
    assert!(
        fleet.filed().is_empty(),
        "nothing filed: {:?}",
        fleet.filed()
    );
    let sent_there: u64 = (fleet.sim.aws().counters().iter())
        .filter(|c| c.region == "us-east-9")
        .map(|c| c.calls)
        .sum();
    assert_eq!(sent_there, 0, "no call was made in us-east-9");
    let text = metrics();
    let served = "quota_operator_quota_current_value{account=\"regions-aws\",region=\"us-east-1\"";
    assert!(text.contains(served), "{text}");
    assert!(
        !text.contains("us-east-9"),
        "us-east-9 became a label:\n{text}"
    );
}

const GCP_TEAM: &str = "regions-gcp";

#[tokio::test]
async fn made_up_gcp_regions_are_blocked_never_written_and_never_labels() {
    let scenario = format!(
        "gcp:\n  values:\n  - {{quotaId: CPUS-per-project-region, project: {PROJECT}, \
         region: us-central1, value: 96}}\n"
    );
    let mut fleet = Fleet::new(
        &scenario,
        gcp_account("regions-gcp", json!({})),
        &[GCP_TEAM],
    )
    .await;
    // The 40 regions the CRD allows, every one well shaped and none Google's.
    let made_up: Vec<String> = (1..=40).map(|i| format!("mars-north{i}")).collect();
    let named: Vec<&str> = made_up.iter().map(String::as_str).collect();
    let cpus = "CPUS-per-project-region";
    fleet
        .create(
            GCP_TEAM,
            Qr::gcp("mars", "regions-gcp", cpus)
                .regions(&named)
                .desired(200),
        )
        .await;
    fleet
        .create(
            GCP_TEAM,
            Qr::gcp("typo", "regions-gcp", cpus)
                .regions(&["us-centrall1"])
                .desired(200),
        )
        .await;
    let real = Qr::gcp("real", "regions-gcp", cpus)
        .regions(&["us-central1"])
        .desired(50);
    fleet.create(GCP_TEAM, real).await;
    fleet.start_operator().await;

    let mars = fleet
        .wait(GCP_TEAM, "mars", "Blocked", |qr| {
            is(qr, TargetState::Blocked)
        })
        .await;
    assert_eq!(messages(&mars).len(), 40);
    for (region, message) in messages(&mars) {
        let refused = format!("UNKNOWN_REGION: \"{region}\" is not a region this GCP project has");
        assert!(message.starts_with(&refused), "{message}");
    }
    let typo = fleet
        .wait(GCP_TEAM, "typo", "Blocked", |qr| {
            is(qr, TargetState::Blocked)
        })
        .await;
    assert!(
        target(&typo)
            .message
            .as_deref()
            .unwrap_or_default()
            .ends_with("(nearest: us-central1)"),
        "{:?}",
        target(&typo).message
    );
    fleet
        .wait(GCP_TEAM, "real", "Satisfied", |qr| {
            is(qr, TargetState::Satisfied)
        })
        .await;
    fleet
        .reconciled(&[format!("{GCP_TEAM}/mars"), format!("{GCP_TEAM}/typo")], 3)
        .await;

    let gcp = fleet.sim.gcp();
    assert!(
        gcp.writes().is_empty(),
        "nothing written: {:?}",
        gcp.writes()
    );
    let listings = gcp.calls("compute.regions.list");
    assert!(
        (1..40).contains(&listings),
        "a listing now and then, never one per region: {listings}"
    );
    let text = metrics();
    let served =
        "quota_operator_quota_current_value{account=\"regions-gcp\",region=\"us-central1\"";
    assert!(text.contains(served), "{text}");
    for label in ["mars-north", "us-centrall1"] {
        assert!(!text.contains(label), "{label} became a label:\n{text}");
    }
}
