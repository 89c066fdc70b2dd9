//! A subcommand's exit codes as one table: the code returns the constants the table names and
//! `--help` prints the table, so the two cannot drift apart.

/// One exit code and what it means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitCodeDoc {
    pub code: u8,
    pub meaning: &'static str,
}

/// The `--help` text for `codes`, after the flags (clap's `after_help`).
pub fn help(codes: &[ExitCodeDoc]) -> String {
    let mut out = String::from("Exit codes:");
    for c in codes {
        out.push_str(&format!("\n  {}  {}", c.code, c.meaning));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lists_every_code_on_its_own_line() {
        let text = help(&[
            ExitCodeDoc {
                code: 0,
                meaning: "fine",
            },
            ExitCodeDoc {
                code: 3,
                meaning: "not fine",
            },
        ]);
        assert_eq!(text, "Exit codes:\n  0  fine\n  3  not fine");
    }
}
