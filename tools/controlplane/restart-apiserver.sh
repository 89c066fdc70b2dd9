#!/usr/bin/env bash
# Restart the kube-apiserver that start.sh started in DIR, keeping etcd (and so every object)
# and the port (so kubeconfigs and clients stay valid): what a control-plane upgrade or a
# crashed API server looks like to a controller.
#
#   tools/controlplane/restart-apiserver.sh DIR [DOWN_SECONDS]
#
# SIGTERM (then SIGKILL after QO_STOP_TIMEOUT seconds, default 10), DOWN_SECONDS (default 0)
# with no server, then the same command line again (DIR/apiserver.cmd), waiting for /readyz.
# The watchdog of start.sh follows the new pid. Progress goes to stderr; the exit status is
# non-zero if the server does not come back within QO_READY_TIMEOUT seconds (default 60).
set -euo pipefail

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 DIR [DOWN_SECONDS]" >&2; exit 2; }
dir=$(cd "$1" && pwd)
down=${2:-0}
ready_timeout=${QO_READY_TIMEOUT:-60}
log() { echo "restart-apiserver.sh: $*" >&2; }
die() { log "$*"; exit 1; }

[ -s "$dir/apiserver.pid" ] && [ -s "$dir/apiserver.cmd" ] && [ -s "$dir/kubeconfig" ] ||
	die "no running control plane recorded in $dir (start it with start.sh)"
alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st:0:1}" != Z ]
}
old=$(cat "$dir/apiserver.pid")
tr '\0' ' ' <"/proc/$old/cmdline" 2>/dev/null | grep -q kube-apiserver || die "pid $old is not a kube-apiserver"

# Tell start.sh's watchdog that the gap is a restart, not a stop (it would stop etcd too).
touch "$dir/apiserver.restarting"
trap 'rm -f "$dir/apiserver.restarting"' EXIT

t0=$(date +%s.%N)
kill "$old"
for _ in $(seq $((${QO_STOP_TIMEOUT:-10} * 10))); do
	alive "$old" || break
	sleep 0.1
done
if alive "$old"; then
	log "kube-apiserver (pid $old) did not exit on TERM within ${QO_STOP_TIMEOUT:-10}s, killing"
	kill -9 "$old"
fi
sleep "$down"

mapfile -d '' cmd <"$dir/apiserver.cmd"
"${cmd[@]}" </dev/null >>"$dir/apiserver.log" 2>&1 &
pid=$!
echo "$pid" >"$dir/apiserver.pid"

server=$(sed -n 's/^ *server: //p' "$dir/kubeconfig")
token=$(cat "$dir/pki/token")
deadline=$(($(date +%s) + ready_timeout))
until [ "$(curl -sS -m 2 --cacert "$dir/pki/ca.crt" -H "Authorization: Bearer $token" \
	"$server/readyz" 2>/dev/null)" = ok ]; do
	alive "$pid" || { tail -n 25 "$dir/apiserver.log" >&2; die "kube-apiserver exited during restart"; }
	[ "$(date +%s)" -lt "$deadline" ] || die "kube-apiserver not ready within ${ready_timeout}s"
	sleep 0.2
done
log "kube-apiserver back on $server (pid $pid) after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s"
