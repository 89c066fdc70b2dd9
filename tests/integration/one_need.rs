//! One quota, one need, end to end with a dozen teams (`fleet`): every kind of need (a floor, a
//! capacity, headroom over usage) on a shared quota adds up to one request at the largest, a
//! decrease never goes under another team's headroom, a GCP quota has one name, a refused
//! quota is asked at most once per cooldown however many objects a team adds, and headroom is
//! raised no faster than the account allows. Each test first proves the operator reconciled in
//! the window in which it asserts that nothing more was filed.

use kube::api::PostParams;
use quota_operator::api::{QuotaRequirement, TargetState};
use quota_sim::Usage;
use serde_json::{Value, json};

use crate::{
    fleet::{ACCOUNT, Fleet, KEY, PROJECT, SPOT, aws_account, gcp_account, is, target},
    harness::Qr,
    process,
};

const TEAMS: [&str; 12] = [
    "team-a", "team-b", "team-c", "team-d", "team-e", "team-f", "team-g", "team-h", "team-i",
    "team-j", "team-k", "team-l",
];
const CPUS: &str = "CPUS-per-project-region";

/// An AWS scenario with the Spot quota at `value` and `usage` in us-east-1.
fn aws_with_usage(value: i64, usage: i64, outcome: &str) -> String {
    format!(
        "aws:\n  accounts: {{{KEY}: \"{ACCOUNT}\", {}: \"{ACCOUNT}\"}}\n  quotas:\n  - {{serviceCode: ec2, quotaCode: {SPOT}, value: {value}, usage: {usage}}}\n  schedule:\n    default: {outcome}\n",
        process::KEY
    )
}

fn gcp_with_usage(value: i64, usage: i64) -> String {
    format!(
        "gcp:\n  values:\n  - {{quotaId: {CPUS}, project: {PROJECT}, region: us-central1, value: {value}, usage: {usage}}}\n  - {{quotaId: {CPUS}, project: {PROJECT}, region: us-west1, value: {value}, usage: 1}}\n"
    )
}

fn names(teams: &[&str], name: &str) -> Vec<String> {
    teams.iter().map(|t| format!("{t}/{name}")).collect()
}

/// The first region's message, empty before the first status.
fn message(qr: &QuotaRequirement) -> String {
    let first = qr.status.as_ref().and_then(|s| s.targets.first());
    first.and_then(|t| t.message.clone()).unwrap_or_default()
}

#[tokio::test]
async fn a_dozen_teams_headroom_on_one_quota_is_one_request_at_the_largest() {
    // Usage 280 of 300: the teams ask 10 %, 12 %, ..., 32 %, and one 35 % (378).
    let scenario = aws_with_usage(300, 280, "{outcome: approve, closeAfter: 1s}");
    let mut fleet = Fleet::new(&scenario, aws_account("shared", json!({})), &TEAMS).await;
    for (i, team) in TEAMS.iter().enumerate() {
        let percent = if i == 7 { 35 } else { 10 + 2 * i as i64 };
        let headroom = json!({"percent": percent, "max": 5000});
        fleet
            .create(
                team,
                Qr::ec2("spot", &fleet.account, SPOT)
                    .regions(&["us-east-1"])
                    .headroom(headroom),
            )
            .await;
    }
    fleet.start_operator().await;
    for team in TEAMS {
        let qr = fleet
            .wait(team, "spot", "Satisfied at 378", |qr| {
                is(qr, TargetState::Satisfied) && target(qr).current_value == Some(378.0)
            })
            .await;
        assert_eq!(target(&qr).desired_value, Some(378), "{team}");
        let driver = if team == "team-h" {
            "team-h/spot"
        } else {
            "(another namespace)"
        };
        assert_eq!(target(&qr).driven_by.as_deref(), Some(driver), "{team}");
    }
    fleet.reconciled(&names(&TEAMS, "spot"), 3).await;
    assert_eq!(
        fleet.filed(),
        [("us-east-1".to_string(), vec![378.0])].into(),
        "one request, at the largest headroom, whichever object reconciled first"
    );
}

#[tokio::test]
async fn headroom_floors_and_capacity_of_a_dozen_teams_add_up_to_one_request() {
    // Floors of 100 to 320, a capacity of 40 m5.2xlarge (320 vCPUs), and headroom 50 % over 280
    // (420): one request, at 420, driven by the headroom.
    let scenario = aws_with_usage(300, 280, "{outcome: approve, closeAfter: 1s}");
    let mut fleet = Fleet::new(&scenario, aws_account("shared", json!({})), &TEAMS).await;
    for (i, team) in TEAMS.iter().enumerate() {
        let qr = Qr::ec2("spot", &fleet.account, SPOT).regions(&["us-east-1"]);
        let qr = match i {
            0 => qr.headroom(json!({"percent": 50, "max": 5000})),
            1 => qr.capacity(json!([{"instanceType": "m5.2xlarge", "count": 40}])),
            _ => qr.desired(100 + 20 * i as i64),
        };
        fleet.create(team, qr).await;
    }
    fleet.start_operator().await;
    for team in TEAMS {
        fleet
            .wait(team, "spot", "Satisfied at 420", |qr| {
                is(qr, TargetState::Satisfied) && target(qr).current_value == Some(420.0)
            })
            .await;
    }
    fleet.reconciled(&names(&TEAMS, "spot"), 3).await;
    assert_eq!(
        fleet.filed(),
        [("us-east-1".to_string(), vec![420.0])].into()
    );
}

#[tokio::test]
async fn no_decrease_goes_under_another_teams_headroom() {
    // Usage 76 of 100; team-b's headroom of 20 % asks 92. Team-a, with the account's consent to
    // lower to 50, asks for 88: the quota is not lowered under 92.
    let account = gcp_account(
        "shared-gcp",
        json!({"decrease": {"minValues": {CPUS: 50}, "ignoreSafetyChecks": true}}),
    );
    let mut fleet = Fleet::new(&gcp_with_usage(100, 76), account, &TEAMS).await;
    let cpus = |name: &str| Qr::gcp(name, "shared-gcp", CPUS).regions(&["us-central1"]);
    fleet
        .create("team-a", cpus("shrink").desired(88).allow_decrease())
        .await;
    fleet
        .create(
            "team-b",
            cpus("grow").headroom(json!({"percent": 20, "max": 500})),
        )
        .await;
    for team in &TEAMS[2..] {
        fleet.create(team, cpus("small").desired(10)).await;
    }
    fleet.start_operator().await;
    let shrink = fleet
        .wait("team-a", "shrink", "Satisfied", |qr| {
            is(qr, TargetState::Satisfied)
        })
        .await;
    assert_eq!(target(&shrink).desired_value, Some(92), "{shrink:?}");
    let mut all = names(&TEAMS[2..], "small");
    all.extend(["team-a/shrink".to_string(), "team-b/grow".to_string()]);
    fleet.reconciled(&all, 3).await;
    let writes: Vec<i64> = fleet
        .sim
        .gcp()
        .writes()
        .iter()
        .map(|w| w.preferred_value)
        .collect();
    assert!(
        writes.iter().all(|v| *v >= 92),
        "never lowered under the other team's headroom: {writes:?}"
    );
    assert!(writes.is_empty(), "100 meets every need: {writes:?}");
}

#[tokio::test]
async fn a_gcp_quota_has_one_name_and_global_never_sets_every_region() {
    let mut fleet = Fleet::new(
        &gcp_with_usage(50, 1),
        gcp_account("shared-gcp", json!({})),
        &TEAMS[..3],
    )
    .await;
    // The region as a dimension is refused at admission, naming the field.
    let as_dimension: QuotaRequirement = serde_json::from_value(
        Qr::gcp("dim", "shared-gcp", CPUS)
            .regions(&["global"])
            .desired(60)
            .json_with(|spec| spec["gcp"]["dimensions"] = json!({"region": "us-central1"})),
    )
    .unwrap();
    let refused = fleet
        .qrs("team-a")
        .create(&PostParams::default(), &as_dimension)
        .await
        .expect_err("refused at admission");
    let text = refused.to_string();
    assert!(
        text.contains("spec.gcp.dimensions") && text.contains("one quota, one name"),
        "{text}"
    );
    // `global` on a per-region quota is Blocked, naming its dimensions; nothing is written.
    fleet
        .create(
            "team-b",
            Qr::gcp("everywhere", "shared-gcp", CPUS)
                .regions(&["global"])
                .desired(60),
        )
        .await;
    fleet
        .create(
            "team-c",
            Qr::gcp("central", "shared-gcp", CPUS)
                .regions(&["us-central1"])
                .desired(40),
        )
        .await;
    fleet.start_operator().await;
    let blocked = fleet
        .wait("team-b", "everywhere", "Blocked", |qr| {
            is(qr, TargetState::Blocked)
        })
        .await;
    let text = message(&blocked);
    assert!(
        text.contains("PerRegionQuota") && text.contains("(its dimensions: region)"),
        "{text}"
    );
    fleet
        .reconciled(&["team-b/everywhere".into(), "team-c/central".into()], 3)
        .await;
    assert!(
        fleet.sim.gcp().writes().is_empty(),
        "no preference without a region: {:?}",
        fleet.sim.gcp().writes()
    );
}

#[tokio::test]
async fn a_team_adding_objects_after_each_refusal_asks_once_per_cooldown() {
    let scenario = aws_with_usage(5, 0, "{outcome: deny, closeAfter: 1s}");
    let account = aws_account("shared", json!({"refusalCooldown": "1h"}));
    let mut fleet = Fleet::new(&scenario, account, &TEAMS[..2]).await;
    let spot = |name: &str, value: i64| {
        Qr::ec2(name, "shared", SPOT)
            .regions(&["us-east-1"])
            .desired(value)
    };
    fleet.create("team-a", spot("ask-10", 10)).await;
    fleet.start_operator().await;
    fleet
        .wait("team-a", "ask-10", "Denied", |qr| {
            is(qr, TargetState::Denied)
        })
        .await;
    // Five more objects, each a little larger, one after another: every one waits.
    let mut all = vec!["team-a/ask-10".to_string()];
    for value in 11..=15 {
        let (team, name) = (TEAMS[(value % 2) as usize], format!("ask-{value}"));
        fleet.create(team, spot(&name, value)).await;
        let waiting = fleet
            .wait(team, &name, "waiting out the cooldown", |qr| {
                is(qr, TargetState::Queued)
            })
            .await;
        let text = message(&waiting);
        assert!(text.contains("at most once per 1h"), "{text}");
        all.push(format!("{team}/{name}"));
    }
    fleet.reconciled(&all, 3).await;
    assert_eq!(
        fleet.filed(),
        [("us-east-1".to_string(), vec![10.0])].into(),
        "one request per cooldown, however many objects come after the refusal"
    );
}

#[tokio::test]
async fn headroom_is_raised_no_faster_than_the_account_allows() {
    // A team's 1s cooldown and a factor of 4: without a pace the quota would go 400 -> 1600 ->
    // 3000 in seconds. The account's minimum (1h by default) holds the second raise.
    let scenario = aws_with_usage(400, 1000, "{outcome: approve, closeAfter: 1s}");
    let account = aws_account("shared", json!({"maxIncreaseFactor": 4}));
    let mut fleet = Fleet::new(&scenario, account, &TEAMS[..1]).await;
    let headroom = json!({"percent": 50, "max": 100000, "cooldown": "1s"});
    fleet
        .create(
            "team-a",
            Qr::ec2("fast", "shared", SPOT)
                .regions(&["us-east-1"])
                .headroom(headroom),
        )
        .await;
    fleet.start_operator().await;
    fleet
        .wait("team-a", "fast", "raised once", |qr| {
            is(qr, TargetState::Satisfied) && target(qr).current_value == Some(1500.0)
        })
        .await;
    fleet
        .sim
        .aws()
        .set_usage(ACCOUNT, "us-east-1", "ec2", SPOT, Usage::flat(2000.0))
        .unwrap();
    let held = fleet
        .wait("team-a", "fast", "held by the account's pace", |qr| {
            target(qr)
                .headroom
                .as_ref()
                .and_then(|h| h.held.as_deref())
                .is_some_and(|h| h.contains("headroomMinCooldown 1h"))
        })
        .await;
    assert_eq!(target(&held).headroom.as_ref().map(|h| h.value), Some(1500));
    fleet.reconciled(&["team-a/fast".into()], 3).await;
    assert_eq!(
        fleet.filed(),
        [("us-east-1".to_string(), vec![1500.0])].into()
    );
}

/// The JSON of `qr`, changed by `f` (for a spelling the builder does not offer).
trait JsonWith {
    fn json_with(self, f: impl FnOnce(&mut Value)) -> Value;
}

impl JsonWith for Qr {
    fn json_with(self, f: impl FnOnce(&mut Value)) -> Value {
        let mut json = self.json();
        f(&mut json["spec"]);
        json
    }
}

#[tokio::test]
async fn a_team_holding_a_regions_slot_lets_the_other_teams_file_first() {
    // team-a's two support cases: one closes after 8s, the other stays open past the test.
    let quotas = [
        "L-34B43A08",
        "L-1216C47A",
        "L-3819A6DF",
        "L-DB2E81BA",
        "L-88CF9481",
        "L-E3A00192",
        "L-7212CCBC",
    ];
    let listed: String = quotas
        .iter()
        .map(|q| format!("  - {{serviceCode: ec2, quotaCode: {q}, value: 5}}\n"))
        .collect();
    let scenario = format!(
        "aws:\n  accounts: {{{KEY}: \"{ACCOUNT}\", {}: \"{ACCOUNT}\"}}\n  quotas:\n{listed}  schedule:\n    default: {{outcome: approve, closeAfter: 1s}}\n    rules:\n    - {{quotaCode: L-34B43A08, outcome: approve, caseOpenedAfter: 100ms, closeAfter: 8s}}\n    - {{quotaCode: L-1216C47A, outcome: approve, caseOpenedAfter: 100ms, closeAfter: 600s}}\n",
        process::KEY
    );
    let mut fleet = Fleet::new(&scenario, aws_account("shared", json!({})), &TEAMS).await;
    let ask = |name: &str, quota: &str| {
        Qr::ec2(name, "shared", quota)
            .regions(&["us-east-1"])
            .desired(100)
    };
    fleet.create("team-a", ask("big-1", quotas[0])).await;
    fleet.create("team-a", ask("big-2", quotas[1])).await;
    fleet.start_operator().await;
    for name in ["big-1", "big-2"] {
        fleet
            .wait("team-a", name, "Requested", |qr| {
                is(qr, TargetState::Requested)
            })
            .await;
    }
    // Both slots are team-a's; eleven teams come, on four quotas, and team-a a third time.
    let mut others = vec![];
    for (i, team) in TEAMS[1..].iter().enumerate() {
        fleet.create(team, ask("need", quotas[2 + i % 4])).await;
        others.push(format!("{team}/need"));
    }
    fleet.create("team-a", ask("big-3", quotas[6])).await;
    let held = fleet
        .wait("team-a", "big-3", "waiting its turn", |qr| {
            message(qr).contains("waiting its turn")
        })
        .await;
    assert!(is(&held, TargetState::Queued), "{held:?}");
    for team in &TEAMS[1..] {
        fleet
            .wait(team, "need", "Satisfied", |qr| {
                is(qr, TargetState::Satisfied)
            })
            .await;
    }
    fleet
        .wait("team-a", "big-3", "Satisfied", |qr| {
            is(qr, TargetState::Satisfied)
        })
        .await;
    let mut filed = fleet.sim.aws().filed();
    filed.sort_by_key(|f| f.filed_at);
    let order: Vec<&str> = filed.iter().map(|f| f.quota_code.as_str()).collect();
    assert_eq!(order.len(), 7, "one request per quota: {order:?}");
    assert_eq!(
        order.last(),
        Some(&quotas[6]),
        "team-a's third request waits until no other team waits: {order:?}"
    );
}

#[tokio::test]
async fn two_cloudaccounts_for_one_aws_account_are_one_quota() {
    let scenario = aws_with_usage(50, 0, "{outcome: approve, closeAfter: 1s}");
    let mut fleet = Fleet::new(&scenario, aws_account("shared", json!({})), &TEAMS).await;
    // A second CloudAccount for the same AWS account, as an admin may make one per team.
    let accounts: kube::Api<quota_operator::api::CloudAccount> =
        kube::Api::all(fleet.client.clone());
    let second: quota_operator::api::CloudAccount =
        serde_json::from_value(aws_account("shared-b", json!({}))).unwrap();
    accounts
        .create(&PostParams::default(), &second)
        .await
        .expect("second CloudAccount");
    for (i, team) in TEAMS.iter().enumerate() {
        let account = if i % 2 == 0 { "shared" } else { "shared-b" };
        let value = if i == 11 { 500 } else { 100 + 10 * i as i64 };
        let qr = Qr::ec2("spot", account, SPOT)
            .regions(&["us-east-1"])
            .desired(value);
        fleet.create(team, qr).await;
    }
    fleet.start_operator().await;
    for team in TEAMS {
        let qr = fleet
            .wait(team, "spot", "Satisfied at 500", |qr| {
                is(qr, TargetState::Satisfied) && target(qr).current_value == Some(500.0)
            })
            .await;
        assert_eq!(
            target(&qr).desired_value,
            Some(500),
            "{team} sees the need made through the other CloudAccount"
        );
    }
    fleet.reconciled(&names(&TEAMS, "spot"), 3).await;
    assert_eq!(
        fleet.filed(),
        [("us-east-1".to_string(), vec![500.0])].into()
    );
}
