#!/usr/bin/env bash
# Start kube-controller-manager and kube-scheduler beside a control plane that start.sh started
# in DIR, so that Deployments get ReplicaSets and Pods, Pods get a node, namespaces get their
# kube-root-ca.crt ConfigMap (mounted service-account tokens need it), ClusterRoles with an
# aggregationRule (view, edit, admin) get their rules, and deleted namespaces go away.
#
#   tools/controlplane/start-controllers.sh DIR
#
# Both are built from the same pinned k8s.io/kubernetes as the API server (build.sh), talk to it
# with the admin kubeconfig, serve nothing (--secure-port=0) and run without leader election.
# Logs: DIR/controller-manager.log, DIR/scheduler.log; pids: DIR/controller-manager.pid,
# DIR/scheduler.pid. stop.sh stops them. They stop by themselves when the API server recorded in
# DIR exits, or QO_WATCH_PID when set.
#
# Env: QO_CONTROLPLANE_BIN_DIR (as for start.sh), QO_CACHE_DIR, QO_BUILD_* (passed to build.sh)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$(cd "$1" && pwd)
log() { echo "start-controllers.sh: $*" >&2; }
die() { log "$*"; exit 1; }

[ -s "$dir/kubeconfig" ] && [ -s "$dir/apiserver.pid" ] || die "no control plane in $dir (run start.sh first)"
api_pid=$(cat "$dir/apiserver.pid")
if [ -n "${QO_CONTROLPLANE_BIN_DIR:-}" ]; then
	bin=$QO_CONTROLPLANE_BIN_DIR
else
	bin=$("$here/build.sh" kube-controller-manager kube-scheduler | tail -n 1)
fi
[ -x "$bin/kube-controller-manager" ] && [ -x "$bin/kube-scheduler" ] || die "no kube-controller-manager/kube-scheduler in '$bin'"

alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st:0:1}" != Z ]
}

pki=$dir/pki
"$bin/kube-controller-manager" \
	--kubeconfig="$dir/kubeconfig" \
	--authentication-kubeconfig="$dir/kubeconfig" \
	--authorization-kubeconfig="$dir/kubeconfig" \
	--secure-port=0 \
	--leader-elect=false \
	--controllers='*' \
	--root-ca-file="$pki/ca.crt" \
	--service-account-private-key-file="$pki/sa.key" \
	--use-service-account-credentials=false \
	--allocate-node-cidrs=false \
	--node-monitor-grace-period=40s \
	</dev/null >"$dir/controller-manager.log" 2>&1 &
cm_pid=$!
echo "$cm_pid" >"$dir/controller-manager.pid"

"$bin/kube-scheduler" \
	--kubeconfig="$dir/kubeconfig" \
	--authentication-kubeconfig="$dir/kubeconfig" \
	--authorization-kubeconfig="$dir/kubeconfig" \
	--secure-port=0 \
	--leader-elect=false \
	</dev/null >"$dir/scheduler.log" 2>&1 &
sched_pid=$!
echo "$sched_pid" >"$dir/scheduler.pid"

# Both must stay up for a few seconds (a bad flag or an unreachable server ends them at once).
sleep 3
for p in "$cm_pid:controller-manager" "$sched_pid:scheduler"; do
	if ! alive "${p%%:*}"; then
		tail -n 20 "$dir/${p#*:}.log" >&2
		kill "$cm_pid" "$sched_pid" 2>/dev/null || true
		rm -f "$dir/controller-manager.pid" "$dir/scheduler.pid"
		die "kube-${p#*:} exited"
	fi
done

(
	trap '' HUP INT
	watched=${QO_WATCH_PID:-$api_pid}
	current_api() { cat "$dir/apiserver.pid" 2>/dev/null || echo "$api_pid"; }
	while alive "$watched" && { alive "$(current_api)" || [ -e "$dir/apiserver.restarting" ]; } &&
		{ alive "$cm_pid" || alive "$sched_pid"; }; do
		sleep 1
	done
	kill "$cm_pid" "$sched_pid" 2>/dev/null || true
	rm -f "$dir/controllers-watchdog.pid"
) </dev/null >/dev/null 2>&1 &
echo $! >"$dir/controllers-watchdog.pid"
log "kube-controller-manager (pid $cm_pid) and kube-scheduler (pid $sched_pid) running"
