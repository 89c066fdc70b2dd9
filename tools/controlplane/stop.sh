#!/usr/bin/env bash
# Stop the servers that start.sh and start-controllers.sh recorded in DIR (watchdogs,
# kube-controller-manager, kube-scheduler, kube-apiserver, etcd). Safe to call when nothing is running. Leaves logs and certs in DIR.
#
#   tools/controlplane/stop.sh DIR
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
[ -d "$dir" ] || exit 0

# Running and not a zombie (a zombie also passes kill -0).
running() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st:0:1}" != Z ]
}

# stop NAME EXPECTED: kill the pid in DIR/NAME.pid if its command line
# mentions EXPECTED (guards against a recycled pid), TERM then KILL after 10 s.
stop() {
	local pidfile=$dir/$1.pid pid i
	[ -s "$pidfile" ] || { rm -f "$pidfile"; return 0; }
	pid=$(cat "$pidfile")
	if [[ "$pid" =~ ^[0-9]+$ ]] && running "$pid" &&
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2"; then
		kill "$pid" 2>/dev/null
		for i in $(seq 100); do
			running "$pid" || break
			sleep 0.1
		done
		if running "$pid"; then
			echo "stop.sh: $1 (pid $pid) did not exit on TERM, killing" >&2
			kill -9 "$pid" 2>/dev/null
		fi
	fi
	rm -f "$pidfile"
}

stop watchdog start.sh
stop controllers-watchdog start-controllers.sh
stop controller-manager kube-controller-manager
stop scheduler kube-scheduler
stop apiserver kube-apiserver
stop etcd etcd
exit 0
