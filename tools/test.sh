#!/usr/bin/env bash
# The one command that runs every test: formatting, lints, the CRD drift test, unit tests,
# simulator tests, and integration tests on a real kube-apiserver + etcd built from pinned Go
# modules (tools/controlplane; the first run builds it, later runs reuse the cache).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n== %s\n' "$*" >&2; }

step "tools this needs"
tools/ensure-tools.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "test control plane (cached build)"
bin=$(tools/controlplane/build.sh | tail -n 1)
echo "kube-apiserver and etcd in $bin" >&2

step "cargo test (the operator and the simulator)"
cargo test --workspace --all-targets -- "$@"
