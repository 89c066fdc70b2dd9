//! `plan`'s exit codes: the code returns these constants and `plan --help` prints `CODES`.

use crate::cli::exit_codes::ExitCodeDoc;

pub const VALID: u8 = 0;
pub const INVALID: u8 = 1;
/// Also what clap exits with on an unknown flag or a bad value.
pub const USAGE: u8 = 2;

pub const CODES: &[ExitCodeDoc] = &[
    ExitCodeDoc {
        code: VALID,
        meaning: "every object is valid (or not a quota-operator kind); a --live read that \
                  fails shows as `error (...)` in its row",
    },
    ExitCodeDoc {
        code: INVALID,
        meaning: "an object is invalid, a file was not read, or an object is refused (also \
                  defined by --account-file)",
    },
    ExitCodeDoc {
        code: USAGE,
        meaning: "a usage error: a missing path, an unknown flag or value, an invalid \
                  --account-file",
    },
];
