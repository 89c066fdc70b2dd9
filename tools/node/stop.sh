#!/usr/bin/env bash
# Undo tools/node/start.sh DIR: pods' containers, kube-proxy's rules, kubelet, containerd, the
# control plane, mounts under DIR, the bridge and its blackhole route. Safe to run when nothing
# is running; leaves logs in DIR.
#
#   tools/node/stop.sh DIR
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
[ -d "$1" ] || exit 0
dir=$(cd "$1" && pwd)

running() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st:0:1}" != Z ]
}
# stop NAME EXPECTED: TERM the pid in DIR/NAME.pid if its command line mentions EXPECTED, KILL
# after 10 s.
stop() {
	local pidfile=$dir/$1.pid pid
	[ -s "$pidfile" ] || { rm -f "$pidfile"; return 0; }
	pid=$(cat "$pidfile")
	if [[ "$pid" =~ ^[0-9]+$ ]] && running "$pid" &&
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2"; then
		kill "$pid" 2>/dev/null
		for _ in $(seq 100); do
			running "$pid" || break
			sleep 0.1
		done
		running "$pid" && kill -9 "$pid" 2>/dev/null
	fi
	rm -f "$pidfile"
}

# The watchdog calls this script: never stop the process that runs it.
if [ -s "$dir/watchdog.pid" ] && [ "$(cat "$dir/watchdog.pid")" != "$PPID" ] && [ "$(cat "$dir/watchdog.pid")" != "$$" ]; then
	stop watchdog start.sh
fi
rm -f "$dir/watchdog.pid"

kc=$dir/cp/kubeconfig
sock=$dir/containerd/containerd.sock
ctr_bin=$(compgen -G "${QO_CACHE_DIR:-$HOME/.cache/quota-operator}/ctr/*/bin/ctr" | head -n 1)

# Pods first, while kubelet runs: it stops their sandboxes, and so the CNI plugin frees their
# addresses and network namespaces.
if [ -s "$dir/kubelet.pid" ] && running "$(cat "$dir/kubelet.pid")" && [ -s "$kc" ]; then
	kubectl --kubeconfig "$kc" delete pods --all -A --grace-period=1 --wait=false >/dev/null 2>&1
	for _ in $(seq 60); do
		[ -z "$(kubectl --kubeconfig "$kc" get pods -A -o name 2>/dev/null)" ] && break
		sleep 0.5
	done
fi
stop kube-proxy kube-proxy
stop kubelet kubelet
# Whatever is left: kill the containers' tasks and remove the sandboxes through containerd.
if [ -S "$sock" ] && [ -n "$ctr_bin" ]; then
	c() { "$ctr_bin" --address "$sock" --namespace k8s.io "$@"; }
	for t in $(c tasks ls -q 2>/dev/null); do
		c tasks kill -s SIGKILL "$t" >/dev/null 2>&1
	done
	sleep 1
	for t in $(c tasks ls -q 2>/dev/null); do c tasks delete -f "$t" >/dev/null 2>&1; done
	for x in $(c containers ls -q 2>/dev/null); do c containers delete "$x" >/dev/null 2>&1; done
fi
stop containerd containerd
# Shims whose containerd is gone (they name its socket on their command line).
for p in $(pgrep -f "containerd-shim-runc-v2 .*-address $sock" 2>/dev/null); do
	kill -9 "$p" 2>/dev/null
done
"$here/../controlplane/stop.sh" "$dir/cp" >/dev/null 2>&1

# kube-proxy's chains.
if command -v iptables >/dev/null && iptables -t nat -S KUBE-SERVICES >/dev/null 2>&1; then
	kp=$(compgen -G "${QO_CACHE_DIR:-$HOME/.cache/quota-operator}/controlplane/*/bin/kube-proxy" | head -n 1)
	[ -n "$kp" ] && "$kp" --cleanup >/dev/null 2>&1
fi

# What is left of the kubelet's own chains (KUBE-FIREWALL, KUBE-KUBELET-CANARY), and of
# kube-proxy's if --cleanup missed any: the jumps to them first, then the chains.
if [ -s "$dir/bridge" ]; then
	for ipt in iptables ip6tables; do
		command -v "$ipt" >/dev/null || continue
		for table in filter nat mangle; do
			"$ipt" -t "$table" -S 2>/dev/null | grep -E '^-A [A-Z]+ .*-j KUBE-' | grep -vE '^-A KUBE-' |
				while read -r rule; do
					# iptables -S quotes comments: eval reads the rule back as iptables wrote it.
					eval "\"\$ipt\" -t \"\$table\" -D ${rule#-A }" 2>/dev/null
				done
			for chain in $("$ipt" -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^KUBE-/ { print $2 }'); do
				"$ipt" -t "$table" -F "$chain" 2>/dev/null
			done
			for chain in $("$ipt" -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^KUBE-/ { print $2 }'); do
				"$ipt" -t "$table" -X "$chain" 2>/dev/null
			done
		done
	done
fi

# Mounts under DIR, deepest first (projected volumes, shm, rootfs overlays).
grep -F " $dir/" /proc/mounts | awk '{ print $2 }' | sort -r | while read -r m; do
	umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
done
# Network namespaces the CNI plugin left (containerd names them cni-<uuid>) whose pods are gone.
if [ -e "$dir/netns-before" ]; then
	for n in /var/run/netns/cni-*; do
		[ -e "$n" ] || continue
		grep -qx "${n##*/}" "$dir/netns-before" || ip netns delete "${n##*/}" 2>/dev/null
	done
fi
if [ -s "$dir/sysctl-before" ]; then
	while IFS= read -r kv; do sysctl -qw "$kv" >/dev/null 2>&1; done <"$dir/sysctl-before"
	rm -f "$dir/sysctl-before"
fi
if [ -s "$dir/bridge" ]; then
	ip route del blackhole 10.0.0.0/24 2>/dev/null
	ip link del "$(cat "$dir/bridge")" 2>/dev/null
	rm -f "$dir/bridge"
fi
exit 0
