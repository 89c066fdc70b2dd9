#!/usr/bin/env bash
# Prints the path of the quota-sim binary: $QO_SIM_BIN, else the debug build (built here if
# needed), so every script that runs the simulator finds it the same way.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -n "${QO_SIM_BIN:-}" ]; then
	echo "$QO_SIM_BIN"
	exit 0
fi
cargo build --quiet -p quota-sim --bin quota-sim --manifest-path "$root/Cargo.toml" >&2
echo "${CARGO_TARGET_DIR:-$root/target}/debug/quota-sim"
