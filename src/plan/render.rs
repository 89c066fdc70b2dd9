//! The report as a terminal table, JSON, YAML, or Markdown for a pull-request comment. Invalid objects
//! come first, each with the API server's messages: they are what a reviewer must act on.

use std::fmt::Write as _;

use super::report::{Action, NodePoolReport, ObjectReport, QuotaRow, Report, TargetPlan, Verdict};

/// The output formats of `plan`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Json,
    /// The same fields as JSON, for tools that read YAML.
    Yaml,
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
        Format::Yaml => serde_yaml::to_string(report).expect("a report serializes"),
        Format::Markdown => markdown(report),
    }
}

/// File names, kinds and names come from the pull request: one line each, so a crafted name
/// cannot add lines (a fake heading or verdict) to the comment the report is posted as.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

pub fn object_label(o: &ObjectReport) -> String {
    one_line(&label(o))
}

fn label(o: &ObjectReport) -> String {
    match (o.kind.as_str(), o.name.as_str(), o.document) {
        ("", _, Some(n)) => format!("(document {n})"),
        ("", _, None) => "(not read)".into(),
        (kind, "", _) => kind.into(),
        (kind, name, _) => format!("{kind} {name}"),
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
        Verdict::Refused => "REFUSED (also in --account-file)",
    }
}

/// Rows of cells, one per object or (with --live) per target.
fn rows(report: &Report) -> Vec<Vec<String>> {
    let mut rows = vec![];
    for o in &report.objects {
        let head = vec![one_line(&o.file), object_label(o)];
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
    let flagged = report
        .invalid()
        .map(|o| ("INVALID", o))
        .chain(report.refused().map(|o| ("REFUSED", o)));
    for (word, o) in flagged {
        let _ = writeln!(out, "{word} {}: {}", one_line(&o.file), object_label(o));
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
    usage_lines(report, &mut out);
    if let Some(pools) = &report.nodepools {
        out.push('\n');
        out.push_str(&aligned(&nodepool_tables(pools)));
    }
    let _ = writeln!(out, "\n{}", report.summary());
    out
}

/// Rows in aligned columns, tables separated by a blank line.
fn aligned(tables: &[Vec<Vec<String>>]) -> String {
    let mut out = String::new();
    for (n, rows) in tables.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let count = rows.first().map_or(0, Vec::len);
        let widths: Vec<usize> = (0..count)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        for row in rows {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                let _ = write!(line, "{cell:<width$}  ", width = widths[c]);
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out
}

/// The NodePool report as two tables with their headers: the NodePools, and the quotas they
/// draw on.
fn nodepool_tables(report: &NodePoolReport) -> Vec<Vec<Vec<String>>> {
    let mut pools = vec![
        ["NODEPOOL", "LIMITS.CPU", "LAUNCHES", "QUOTAS"]
            .map(String::from)
            .to_vec(),
    ];
    for p in &report.pools {
        let quotas = match &p.problem {
            Some(problem) if p.quotas.is_empty() => problem.clone(),
            Some(problem) => format!("{} ({problem})", p.quotas.join(", ")),
            None => p.quotas.join(", "),
        };
        pools.push(vec![
            one_line(&p.name),
            p.limits_cpu.map_or_else(|| "-".into(), |l| l.to_string()),
            one_line(&p.launches),
            one_line(&quotas),
        ]);
    }
    let mut quotas = vec![
        [
            "ACCOUNT",
            "REGION",
            "QUOTA",
            "CURRENT",
            "NODEPOOLS",
            "TOTAL",
            "CAN EXCEED",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for q in &report.quotas {
        quotas.push(vec![
            one_line(&q.account),
            one_line(&q.region),
            format!("{} ({})", q.quota, q.name),
            number(q.current),
            one_line(&q.node_pools.join(", ")),
            q.total.to_string(),
            one_line(&exceed_text(q)),
        ]);
    }
    vec![pools, quotas]
}

/// Which NodePools can exceed the quota: alone, or all together.
fn exceed_text(q: &QuotaRow) -> String {
    if let Some(e) = &q.error {
        return format!("unknown ({e})");
    }
    match (q.exceeded_by.is_empty(), q.together_exceed) {
        (false, _) => q.exceeded_by.join(", "),
        (true, true) => format!("all together ({} > {})", q.total, number(q.current)),
        (true, false) => "none".into(),
    }
}

/// With --live: each target's usage, and what headroom would ask for.
fn usage_lines(report: &Report, out: &mut String) {
    let mut first = true;
    for o in &report.objects {
        for t in &o.targets {
            if t.usage.is_none() && t.headroom.is_none() {
                continue;
            }
            if std::mem::take(&mut first) {
                out.push_str("\nUSAGE\n");
            }
            let at = format!("{} {}", object_label(o), t.region);
            if let Some(u) = &t.usage {
                let _ = writeln!(out, "{at}: usage {u}");
            }
            if let Some(h) = &t.headroom {
                let _ = writeln!(out, "{at}: headroom {h}");
            }
        }
    }
}

/// Text inside a Markdown code span.
fn code(s: &str) -> String {
    one_line(s).replace('`', "'")
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let verdict = match (report.invalid().next(), report.refused().next()) {
        (None, None) => "all objects valid",
        (Some(_), _) => "**invalid objects found**",
        (None, Some(_)) => "**refused objects found**",
    };
    let _ = writeln!(
        out,
        "**quota-operator plan**: {verdict}. {}\n",
        report.summary()
    );
    let sections = [
        (
            "Invalid objects (the API server would refuse them)",
            report.invalid().collect::<Vec<_>>(),
        ),
        (
            "Refused objects (--account-file defines them; its copy is used)",
            report.refused().collect(),
        ),
    ];
    for (title, objects) in sections.iter().filter(|(_, o)| !o.is_empty()) {
        let _ = writeln!(out, "#### {title}\n");
        for o in objects {
            let _ = writeln!(out, "- `{}`: {}", code(&o.file), object_label(o));
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
        let _ = writeln!(out, "#### `{}`\n", code(file));
        let _ = writeln!(out, "| {} |", header[1..].join(" | "));
        let _ = writeln!(out, "|{}", " --- |".repeat(header.len() - 1));
        for row in rows.iter().filter(|r| r[0] == file) {
            let cells: Vec<String> = row[1..].iter().map(|c| cell(c)).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        out.push('\n');
    }
    if let Some(pools) = &report.nodepools {
        nodepool_markdown(pools, &mut out);
    }
    out
}

fn nodepool_markdown(report: &NodePoolReport, out: &mut String) {
    let [pools, quotas] = <[_; 2]>::try_from(nodepool_tables(report)).expect("two tables");
    let can_fail = report
        .quotas
        .iter()
        .filter(|q| !q.exceeded_by.is_empty() || q.together_exceed)
        .count();
    let _ = writeln!(
        out,
        "#### Karpenter NodePools\n\n{can_fail} of {} quotas can be exceeded by the NodePools that launch into them.\n",
        report.quotas.len()
    );
    for rows in [pools, quotas] {
        for (n, row) in rows.iter().enumerate() {
            let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
            if n == 0 {
                let _ = writeln!(out, "|{}", " --- |".repeat(row.len()));
            }
        }
        out.push('\n');
    }
}
