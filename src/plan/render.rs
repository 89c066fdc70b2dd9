//! The report as a terminal table, JSON, or Markdown for a pull-request comment. Invalid objects
//! come first, each with the API server's messages: they are what a reviewer must act on.

use std::fmt::Write as _;

use super::report::{Action, ObjectReport, Report, TargetPlan, Verdict};

/// The output formats of `plan`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Json,
    Markdown,
}

pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Table => table(report),
        Format::Json => {
            let mut json = serde_json::to_string_pretty(report).expect("a report serializes");
            json.push('\n');
            json
        }
        Format::Markdown => markdown(report),
    }
}

fn object_label(o: &ObjectReport) -> String {
    match (o.kind.as_str(), o.name.as_str()) {
        ("", _) => "(unreadable document)".into(),
        (kind, "") => kind.into(),
        (kind, name) => format!("{kind} {name}"),
    }
}

fn number(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v == crate::cloud::UNLIMITED => "unlimited".into(),
        Some(v) if v.fract() == 0.0 => format!("{}", v as i64),
        Some(v) => v.to_string(),
    }
}

/// The action and, when it is not self-explanatory, why.
fn action_text(t: &TargetPlan) -> String {
    match t.action {
        Action::File { .. } | Action::Satisfied => t.action.word(),
        _ => format!("{} ({})", t.action.word(), t.message),
    }
}

fn verdict_word(o: &ObjectReport) -> &'static str {
    match o.verdict {
        Verdict::Valid => "valid",
        Verdict::Invalid => "INVALID",
        Verdict::Skipped => "skipped (not a quota-operator kind)",
    }
}

/// Rows of cells, one per object or (with --live) per target.
fn rows(report: &Report) -> Vec<Vec<String>> {
    let mut rows = vec![];
    for o in &report.objects {
        let head = vec![o.file.clone(), object_label(o)];
        if !report.live {
            rows.push([head, vec![verdict_word(o).into()]].concat());
        } else if o.targets.is_empty() {
            let dash = || "-".to_string();
            rows.push(
                [
                    head,
                    vec![dash(), dash(), dash(), dash(), verdict_word(o).into()],
                ]
                .concat(),
            );
        } else {
            for t in &o.targets {
                let cells = vec![
                    t.region.clone(),
                    t.quota.clone(),
                    number(t.current),
                    t.desired.map_or_else(|| "-".to_string(), |d| d.to_string()),
                    action_text(t),
                ];
                rows.push([head.clone(), cells].concat());
            }
        }
    }
    rows
}

fn header(report: &Report) -> Vec<&'static str> {
    if report.live {
        vec![
            "FILE", "OBJECT", "REGION", "QUOTA", "CURRENT", "DESIRED", "ACTION",
        ]
    } else {
        vec!["FILE", "OBJECT", "RESULT"]
    }
}

fn table(report: &Report) -> String {
    let mut out = String::new();
    for o in report.invalid() {
        let _ = writeln!(out, "INVALID {}: {}", o.file, object_label(o));
        for e in &o.errors {
            let _ = writeln!(out, "  {}", e.message);
        }
        out.push('\n');
    }
    let header: Vec<String> = header(report).into_iter().map(String::from).collect();
    let all: Vec<Vec<String>> = std::iter::once(header).chain(rows(report)).collect();
    let columns = all[0].len();
    let widths: Vec<usize> = (0..columns)
        .map(|c| all.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for row in &all {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == columns {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<width$}  ", width = widths[c]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let _ = writeln!(out, "\n{}", report.summary());
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let verdict = if report.exit_code() == 0 {
        "all objects valid"
    } else {
        "**invalid objects found**"
    };
    let _ = writeln!(
        out,
        "**quota-operator plan**: {verdict}. {}\n",
        report.summary()
    );
    let invalid: Vec<&ObjectReport> = report.invalid().collect();
    if !invalid.is_empty() {
        let _ = writeln!(
            out,
            "#### Invalid objects (the API server would refuse them)\n"
        );
        for o in invalid {
            let _ = writeln!(out, "- `{}`: {}", o.file, object_label(o));
            for e in &o.errors {
                let _ = writeln!(out, "  - `{}`", e.message.replace('`', "'"));
            }
        }
        out.push('\n');
    }
    let header = header(report);
    let rows = rows(report);
    let mut files: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    files.dedup();
    for file in files {
        let _ = writeln!(out, "#### `{file}`\n");
        let _ = writeln!(out, "| {} |", header[1..].join(" | "));
        let _ = writeln!(out, "|{}", " --- |".repeat(header.len() - 1));
        for row in rows.iter().filter(|r| r[0] == file) {
            let cells: Vec<String> = row[1..].iter().map(|c| cell(c)).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        out.push('\n');
    }
    out
}
