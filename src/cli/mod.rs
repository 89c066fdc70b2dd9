//! What the subcommands share on the command line: which cluster to talk to, the build's
//! version, and exit codes written once for both the code and `--help`.

pub mod exit_codes;
pub mod kubeconfig;
pub mod version;
