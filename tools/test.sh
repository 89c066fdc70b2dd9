#!/usr/bin/env bash
# The one command that runs every test: formatting, lints, the CRD drift test, the Helm chart
# (helm lint/template/install with a real helm), the Argo CD and kstatus health checks, doc
# tests, unit tests, simulator tests, and integration tests on a real kube-apiserver + etcd
# built from pinned Go modules (tools/controlplane, tools/helm, tools/promtool, tools/kstatus:
# the first run builds them, later runs reuse the cache); then the image (tools/image.sh), the
# image run as the chart runs it (tools/image-test.sh) and the chart on a real kubelet node
# (tools/node-test.sh; tools/node builds and caches kubelet, containerd and the rest).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n== %s (at %dm%02ds)\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)) >&2; }

# CI runs on a fresh clone: compiled dependencies (aws-sdk-ec2 alone takes minutes) are kept in
# the same cache as the Go tools, and thrown away when it grows past 30 GiB. Tests all run.
if [ -n "${CI:-}" ] && [ -z "${CARGO_TARGET_DIR:-}" ]; then
	export CARGO_TARGET_DIR="$HOME/.cache/quota-operator/cargo-target"
	export CARGO_INCREMENTAL=0
	if [ -d "$CARGO_TARGET_DIR" ] && [ "$(du -s -BG "$CARGO_TARGET_DIR" | cut -dG -f1)" -gt 30 ]; then
		rm -rf "$CARGO_TARGET_DIR"
	fi
	echo "CI: cargo builds in $CARGO_TARGET_DIR (cached across runs)" >&2
fi

step "tools this needs"
tools/ensure-tools.sh

# The Go builds (kube-apiserver and the node's commands, containerd, helm, promtool, kstatus: most
# of a cold run) start now, in the background and niced, so that they fill the time cargo spends
# on one core (the long single crates, linking, the release build's fat LTO). Each build.sh takes
# a lock and skips what is cached, so the steps below that ask for them just wait or return.
go_log=$(mktemp "${TMPDIR:-/tmp}/quota-operator-go-builds.XXXXXX")
setsid bash -c 'tools/node/build.sh >/dev/null &&
	for tool in helm promtool kstatus; do tools/$tool/build.sh >/dev/null || exit; done' \
	>"$go_log" 2>&1 &
go_builds=$!
release_build=
# A failing step must not leave the builds running (they would hold the build locks).
trap 'kill -- -"$go_builds" 2>/dev/null || true; [ -z "$release_build" ] || kill -- -"$release_build" 2>/dev/null || true' EXIT
wait_go_builds() {
	if ! wait "$go_builds"; then
		cat "$go_log" >&2
		echo "test.sh: the Go builds failed (above)" >&2
		exit 1
	fi
}

step "cargo fmt --check"
cargo fmt --all -- --check

# Clippy runs inside the test build, as `cargo clippy` runs it (clippy-driver as the workspace's
# compiler wrapper, the lint flags in CLIPPY_ARGS), over the same targets as `cargo clippy
# --workspace --all-targets -- -D warnings`. The dependencies then compile once instead of twice
# (metadata for clippy, then code for the tests): aws-sdk-ec2 alone is minutes either way. Every
# cargo command below keeps the wrapper, so none rebuilds the workspace for want of it; the
# release binary the image ships is built by plain rustc (clippy-driver turns MIR optimisation
# off).
clippy_driver=$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver) || {
	echo "test.sh: clippy-driver not found (rustup component add clippy)" >&2
	exit 1
}
export RUSTC_WORKSPACE_WRAPPER="$clippy_driver"
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
plain_rustc() { env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS "$@"; }

step "cargo build of the tests, linted by clippy (-D warnings), while the Go builds run"
cargo test --workspace --all-targets --no-run

# The release binary the image ships (fat LTO into one codegen unit: one core for minutes) builds
# in the background, niced, beside the tests, which spend much of their time waiting on API
# servers; the release profile has a build lock of its own, so neither waits for the other.
release_log=$(mktemp "${TMPDIR:-/tmp}/quota-operator-release-build.XXXXXX")
env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS setsid nice -n 10 cargo build --release --locked -p quota-operator --bin quota-operator \
	>"$release_log" 2>&1 &
release_build=$!

# The tests need kube-apiserver and etcd, the first thing the background builds make: they start
# once those exist, while helm, promtool and kstatus still build (a test that needs one of those
# waits on its build lock).
step "test control plane (cached build, or the background build's)"
bin=$(tools/controlplane/build.sh | tail -n 1)
echo "kube-apiserver and etcd in $bin" >&2

step "doc tests"
cargo test --workspace --doc

step "property tests of the decision and aggregation core (with their case counts)"
props=(controller::decide::props controller::needs::tests::the_index_answers)
cargo test --lib -- --nocapture "${props[@]}"

step "cargo test (the operator and the simulator; the simulators log who called what)"
# Every simulator the tests start, in-process or the binary, appends what it served here; the
# step after holds deploy/iam to it (tests/iam_files.rs).
call_log=$(mktemp "${TMPDIR:-/tmp}/quota-operator-sim-calls.XXXXXX")
QUOTA_SIM_CALL_LOG="$call_log" cargo test --workspace --all-targets -- --skip "${props[0]}" --skip "${props[1]}" "$@"

if [ $# -eq 0 ]; then
	step "IAM: deploy/iam grants what the operator called in those tests, and nothing else"
	QUOTA_SIM_CALL_LOG="$call_log" cargo test --test iam_files -- --ignored --nocapture \
		the_calls_the_tests_made_are_what_deploy_iam_grants
else
	echo "test.sh: test filters given ($*): the IAM comparison needs the whole suite's calls; skipped" >&2
fi

step "the Go builds: the test node's commands, containerd, pause, helm, promtool, kstatus"
wait_go_builds
cat "$go_log" >&2
tools/node/build.sh >&2
for tool in helm promtool kstatus; do
	echo "$tool in $(tools/$tool/build.sh | tail -n 1)" >&2
done

step "the chart and the GitOps health checks (real helm, promtool, kstatus, Lua 5.1)"
tools/argocd-health-test.sh
tools/kstatus/test.sh
tools/chart-test.sh
tools/chart-install-test.sh
tools/quickstart-test.sh

step "the image: tools/image.sh (release binary, Debian runtime files, buildah on scratch)"
if ! wait "$release_build"; then
	cat "$release_log" >&2
	echo "test.sh: the release build failed (above)" >&2
	exit 1
fi
release_build=
image=$(plain_rustc tools/image.sh | tail -n 1)

step "the image run as the chart runs it (podman + runc, user 65532, read-only root, no capabilities)"
tools/image-test.sh "$image"

step "the chart on a real node (kubelet, containerd, kube-proxy): HA, handover, rollouts, uninstall"
if why=$(tools/node/can-run.sh); then
	tools/node-test.sh "$image"
else
	echo "SKIPPED: this machine cannot run the test node: $why" >&2
fi

step "benchmark, small: 200 objects on the debug build (figures only; tools/bench.sh N for real runs)"
QO_BENCH_PROFILE=dev QO_BENCH_NO_BUILD=1 QO_BENCH_RESYNC_SECONDS=10 tools/bench.sh 200
