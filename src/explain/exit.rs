//! `explain`'s exit codes: the code returns these constants and `explain --help` prints
//! `CODES`.

use crate::cli::exit_codes::ExitCodeDoc;

pub const RECOGNISED: u8 = 0;
pub const NOT_RECOGNISED: u8 = 1;
/// Also what clap exits with on an unknown flag or a bad value.
pub const FLAG_NEEDED: u8 = 2;
pub const LIVE_FAILED: u8 = 3;

pub const CODES: &[ExitCodeDoc] = &[
    ExitCodeDoc {
        code: RECOGNISED,
        meaning: "recognised: the QuotaRequirement is on stdout",
    },
    ExitCodeDoc {
        code: NOT_RECOGNISED,
        meaning: "not a quota error explain knows, not a quota at all (a stock-out, throttling, \
                  a fixed limit, a placement failure or a call too large; named as such), or \
                  nothing on stdin",
    },
    ExitCodeDoc {
        code: FLAG_NEEDED,
        meaning: "a flag is needed (--instance-type, --region; the message names it), --count \
                  on a quota that is not an EC2 vCPU quota, or a usage error",
    },
    ExitCodeDoc {
        code: LIVE_FAILED,
        meaning: "--live could not read the quota (the cloud's answer is on stderr)",
    },
];
