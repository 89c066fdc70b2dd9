#!/usr/bin/env bash
# The benchmark: N QuotaRequirements (default 1000) over 4 AWS accounts reached through the
# simulator's STS roles, 4 regions and 3 services, 1 in 100 needing an increase, all created
# before the release operator starts. Prints figures, asserts nothing about time:
#
#   tools/bench.sh [N]
#
# time from operator start to all settled, operator CPU (total and per object) and peak RSS,
# cloud calls by operation, status writes, apply-to-status latency of new objects on the idle
# operator, a restart's first pass and one full resync of healthy objects, and the simulator's
# own CPU and peak RSS. Everything it starts (control plane, simulator, operator) is stopped on
# exit, however it exits. Exit status: 0 when everything settled, 1 when not.
#
# Env:
#   QO_BENCH_PROFILE         cargo profile of the binaries (default release: fat LTO, one codegen unit)
#   QO_BENCH_NO_BUILD=1      use the binaries already built
#   QO_BENCH_TIMEOUT         seconds to wait for everything to settle (default 1800)
#   QO_BENCH_RESYNC_SECONDS  --resync-seconds of the resync measurement (default 30)
#   QO_BENCH_ACCOUNTS        accounts the objects spread over (default 4, 1 to 9)
#   QO_BENCH_KEEP=1          keep the work directory (logs, scenario)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
n=${1:-1000}
[[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -gt 0 ] || { echo "usage: $0 [N]" >&2; exit 2; }
profile=${QO_BENCH_PROFILE:-release}
work=$(mktemp -d "${TMPDIR:-/tmp}/quota-operator-bench.XXXXXX")

cleanup() {
	local pid
	# bench.py stops its own children; this catches what a killed bench.py left behind.
	if [ -s "$work/pids" ]; then
		while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$work/pids"
	fi
	"$root/tools/controlplane/stop.sh" "$work/controlplane" >/dev/null 2>&1 || true
	if [ -n "${QO_BENCH_KEEP:-}" ]; then echo "bench: logs in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start=$SECONDS
if [ -z "${QO_BENCH_NO_BUILD:-}" ]; then
	echo "bench: building quota-operator and quota-sim (profile $profile)" >&2
	nice -n 10 cargo build --quiet --profile "$profile" -p quota-operator -p quota-sim
fi
dir=$profile
[ "$profile" = dev ] && dir=debug
bin=${CARGO_TARGET_DIR:-$root/target}/$dir
[ -x "$bin/quota-operator" ] && [ -x "$bin/quota-sim" ] || { echo "bench: no binaries in $bin" >&2; exit 1; }

echo "bench: starting the control plane" >&2
kubeconfig=$(QO_WATCH_PID=$$ tools/controlplane/start.sh "$work/controlplane" 2>"$work/controlplane.log" | tail -n 1)
export KUBECONFIG=$kubeconfig

status=0
python3 tools/bench/bench.py --objects "$n" --kubeconfig "$kubeconfig" --root "$root" --work "$work" \
	--operator "$bin/quota-operator" --sim "$bin/quota-sim" || status=$?
echo "bench: done in $((SECONDS - start)) s (profile $profile, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
exit "$status"
