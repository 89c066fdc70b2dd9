//! `quota-operator explain` on real error texts people pasted into public threads
//! (tests/explain_corpus/*.yaml, each with its source): the built binary, the text on stdin, the
//! verdict checked. Prints the figures; asserts every text the catalog was written from is
//! recognised right, at least 9 in 10 of the held-out ones, and that every not-a-quota text
//! exits non-zero with no YAML and says what it is.

#[path = "support/cli.rs"]
mod cli;

use std::process::Stdio;

use quota_operator::api::QuotaRequirement;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    id: String,
    source: String,
    wrapper: String,
    held_out: bool,
    args: Vec<String>,
    text: String,
    expect: Option<Expect>,
    not_a_quota: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    service: String,
    code: String,
    region: String,
}

fn cases() -> Vec<Case> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/explain_corpus");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("tests/explain_corpus")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            serde_yaml::from_str::<Vec<Case>>(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()))
        })
        .collect()
}

async fn explain(case: &Case) -> (i32, String, String) {
    let mut child = cli::quota_operator("explain", &[])
        .args(&case.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("quota-operator runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(case.text.as_bytes()).await.unwrap();
    drop(input);
    let out = child.wait_with_output().await.unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Why the verdict is wrong, or None when it is right.
fn wrong(case: &Case, code: i32, stdout: &str, stderr: &str) -> Option<String> {
    if let Some(kind) = &case.not_a_quota {
        let named = stderr.contains(&format!("not a quota ({kind}): "));
        return (code == 0 || !stdout.is_empty() || !named)
            .then(|| format!("exit {code}, stdout {} bytes: {stderr}", stdout.len()));
    }
    let e = case.expect.as_ref().expect("expect or not_a_quota");
    if code != 0 {
        return Some(format!("exit {code}: {stderr}"));
    }
    let qr: QuotaRequirement = serde_yaml::from_str(stdout).ok()?;
    let got = match (&qr.spec.aws, &qr.spec.gcp) {
        (Some(a), _) => (
            a.service_code.clone(),
            a.quota_code.clone().unwrap_or_default(),
        ),
        (_, Some(g)) => (g.service.clone(), g.quota_id.clone()),
        _ => return Some("neither aws nor gcp".into()),
    };
    let right = got == (e.service.clone(), e.code.clone()) && qr.spec.regions == [e.region.clone()];
    (!right).then(|| format!("got {got:?} in {:?}", qr.spec.regions))
}

#[tokio::test]
async fn real_error_texts_are_recognised_with_the_right_quota_and_region() {
    let cases = cases();
    let (mut right, mut held_right, mut held, mut refused) = (0, 0, 0, 0);
    let mut misses = Vec::new();
    for case in &cases {
        assert!(
            case.source.starts_with("https://"),
            "{}: a source URL",
            case.id
        );
        assert!(!case.wrapper.is_empty(), "{}: the wrapper", case.id);
        assert!(
            case.expect.is_some() != case.not_a_quota.is_some(),
            "{}: expect or not_a_quota, not both",
            case.id
        );
        let (code, stdout, stderr) = explain(case).await;
        let miss = wrong(case, code, &stdout, &stderr);
        held += usize::from(case.held_out);
        refused += usize::from(case.not_a_quota.is_some() && miss.is_none());
        if miss.is_none() {
            right += 1;
            held_right += usize::from(case.held_out);
        }
        if let Some(why) = miss {
            misses.push(format!("{} (held_out: {}): {why}", case.id, case.held_out));
        }
    }
    let not_quotas = cases.iter().filter(|c| c.not_a_quota.is_some()).count();
    println!(
        "explain corpus: {right}/{} right; held out {held_right}/{held}; not-a-quota refused \
         {refused}/{not_quotas}",
        cases.len()
    );
    assert!(
        cases.len() >= 60 && held >= 30 && not_quotas >= 10,
        "corpus too small"
    );
    let rest_missed: Vec<_> = misses
        .iter()
        .filter(|m| m.contains("held_out: false"))
        .collect();
    assert!(
        rest_missed.is_empty(),
        "texts the catalog was written from: {rest_missed:#?}"
    );
    assert!(
        held_right * 10 >= held * 9,
        "held out {held_right}/{held} is under 9 in 10: {misses:#?}"
    );
    assert_eq!(refused, not_quotas, "{misses:#?}");
}
