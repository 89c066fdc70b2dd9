//! Preferences made elsewhere, the list filters that find them, one preference per quota and
//! dimensions, and unlimited (-1) values: with the official client and gcloud.

use jiff::Timestamp;

use super::*;

/// A console increase in us-central1 and a Quota Adjuster one in europe-west4, both open.
const MADE_ELSEWHERE: &str = r#"
gcp:
  projects: [p1]
  schedule: {manual: true}
  preferences:
  - {project: p1, id: console-made, quotaId: CPUS-per-project-region, region: us-central1, preferredValue: 50}
  - {project: p1, id: adjuster-made, quotaId: CPUS-per-project-region, region: europe-west4, preferredValue: 30, origin: AUTO_ADJUSTER}
"#;

#[tokio::test]
async fn list_filters_by_origin_time_quota_and_dimensions() {
    let sim = start(MADE_ELSEWHERE).await;
    let c = client(&sim).await;
    let between = Timestamp::now();
    create(&c, "p1", "api-made", want(CPUS, "us-east1", 40))
        .await
        .unwrap();
    let adjuster = get(&c, "p1", "adjuster-made").await;
    assert_eq!(config(&adjuster).request_origin, WireOrigin::AutoAdjuster);
    assert_eq!(
        config(&get(&c, "p1", "console-made").await).request_origin,
        WireOrigin::CloudConsole
    );

    let cases = [
        ("request_type=CLOUD_CONSOLE", vec!["console-made"]),
        ("request_type=AUTO_ADJUSTER", vec!["adjuster-made"]),
        (
            "reconciling=true AND request_type=ORIGIN_UNSPECIFIED",
            vec!["api-made"],
        ),
        (
            "service=\"compute.googleapis.com\" AND quota_id=\"CPUS-per-project-region\"",
            vec!["adjuster-made", "api-made", "console-made"],
        ),
        ("dimensions.region=us-east1", vec!["api-made"]),
        ("quota_id=\"NVIDIA-L4-GPUS-per-project-region\"", vec![]),
        (&format!("creation_time>{between}"), vec!["api-made"]),
        (
            &format!("create_time<={between} AND request_type!=AUTO_ADJUSTER"),
            vec!["console-made"],
        ),
        ("update_time<2000-01-01T00:00:00", vec![]),
        (
            "reconciling=true OR creation_time>2022-12-03T10:30:00",
            vec!["adjuster-made", "api-made", "console-made"],
        ),
    ];
    for (filter, want) in cases {
        let mut got = ids(&c, "p1", filter).await;
        got.sort();
        assert_eq!(got, want, "{filter}");
    }
    for bad in ["create_time>yesterday", "etag=abc", "quota_id>A"] {
        let call = c.list_quota_preferences().set_parent(parent("p1"));
        let (code, http, msg) = failure(call.set_filter(bad).send().await);
        assert_eq!((code, http), (Code::InvalidArgument, 400), "{bad}: {msg}");
    }
}

#[tokio::test]
async fn a_second_preference_for_the_same_quota_is_refused_under_any_id() {
    let sim = start(MADE_ELSEWHERE).await;
    let c = client(&sim).await;
    let (code, http, msg) = failure(create(&c, "p1", "mine", want(CPUS, "us-central1", 200)).await);
    assert_eq!((code, http), (Code::AlreadyExists, 409));
    assert!(
        msg.contains("console-made"),
        "names the one to update: {msg}"
    );
    let upsert = want(CPUS, "us-central1", 200).set_name(pref_name("p1", "mine"));
    let missing = Flags {
        allow_missing: true,
        ..Flags::default()
    };
    let mask = ["quota_config.preferred_value"];
    let (code, _, _) = failure(update(&c, upsert, &mask, missing).await);
    assert_eq!(code, Code::AlreadyExists, "PATCH allowMissing too");

    // Updating the one that exists works, with its etag, and keeps who made it.
    let existing = get(&c, "p1", "console-made").await;
    let raised = want(CPUS, "us-central1", 200)
        .set_name(&existing.name)
        .set_etag(&existing.etag);
    let done = update(&c, raised, &mask, Flags::default()).await.unwrap();
    let cfg = config(&done);
    assert_eq!(
        (cfg.preferred_value, cfg.request_origin),
        (200, WireOrigin::CloudConsole)
    );
    assert_eq!(sim.gcp().preferences().len(), 2);
}

#[tokio::test]
async fn unlimited_is_read_asked_and_granted_as_minus_one() {
    let sim = start("gcp:\n  schedule: {manual: true}\n").await;
    let c = client(&sim).await;
    let unlimited = "RESOURCE-POLICIES-per-project-region";
    assert_eq!(region_value(&c, "p", unlimited, "us-central1").await, -1);

    // Any limit on an unlimited quota is a steep decrease.
    let capped = want(unlimited, "us-central1", 100).set_contact_email("");
    let (code, _, msg) = failure(create(&c, "p", "cap", capped.clone()).await);
    assert!(
        code == Code::FailedPrecondition && msg.contains("QUOTA_DECREASE_PERCENTAGE_TOO_HIGH"),
        "{msg}"
    );

    // Asking -1 is an increase; granting it makes the quota unlimited.
    let ask = create(&c, "p", "all", want(CPUS, "us-central1", -1))
        .await
        .unwrap();
    assert!(ask.reconciling);
    sim.gcp().grant("p", "all").unwrap();
    assert_eq!(config(&get(&c, "p", "all").await).granted_value, Some(-1));
    assert_eq!(region_value(&c, "p", CPUS, "us-central1").await, -1);
    let (code, _, _) = failure(create(&c, "p", "neg", want(CPUS, "us-east1", -2)).await);
    assert_eq!(code, Code::InvalidArgument);

    // An increase may also be granted without a limit.
    create(&c, "p", "more", want(CPUS, "us-east1", 100))
        .await
        .unwrap();
    sim.gcp().grant_unlimited("p", "more").unwrap();
    let more = config(&get(&c, "p", "more").await);
    assert_eq!((more.preferred_value, more.granted_value), (100, Some(-1)));
    assert_eq!(region_value(&c, "p", CPUS, "us-east1").await, -1);
    let changes: Vec<_> = sim.gcp().writes().iter().map(|w| w.change).collect();
    assert_eq!(changes, [Change::Increase, Change::Increase]);
}

#[tokio::test]
async fn gcloud_filters_and_is_refused_a_second_preference() {
    let sim = start(MADE_ELSEWHERE).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path();
    let listed = gcloud_ok(
        &sim,
        cfg,
        &[
            "preferences",
            "list",
            "--project",
            "p1",
            "--filter",
            "dimensions.region:europe-west4",
        ],
    )
    .await;
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, [pref_name("p1", "adjuster-made")], "{listed}");
    assert_eq!(
        listed[0]["quotaConfig"]["requestOrigin"],
        json!("AUTO_ADJUSTER")
    );

    let second = gcloud(
        &sim,
        cfg,
        &[
            "preferences",
            "create",
            "--preference-id",
            "g-second",
            "--service",
            COMPUTE,
            "--quota-id",
            CPUS,
            "--dimensions",
            "region=us-central1",
            "--preferred-value",
            "500",
            "--email",
            "ops@example.com",
            "--project",
            "p1",
        ],
    )
    .await;
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        !second.status.success()
            && stderr.contains("ALREADY_EXISTS")
            && stderr.contains("console-made"),
        "{stderr}"
    );
    assert_eq!(sim.gcp().preferences().len(), 2);
}
