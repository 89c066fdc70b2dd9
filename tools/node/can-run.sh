#!/usr/bin/env bash
# Says whether this machine can run the test node (tools/node/start.sh), and if not, why:
# exits 0 when it can, 1 with the reason on stdout when it cannot.
set -uo pipefail
[ "$(id -u)" = 0 ] || { echo "not root: the node needs to create a bridge, mounts and cgroups"; exit 1; }
[ "$(uname -s)" = Linux ] || { echo "not Linux"; exit 1; }
if [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" != cgroup2fs ]; then
	for c in cpu cpuacct memory pids; do
		[ -d "/sys/fs/cgroup/$c" ] || { echo "cgroup v1 controller $c not mounted at /sys/fs/cgroup/$c"; exit 1; }
	done
fi
grep -qw overlay /proc/filesystems || { echo "no overlayfs in this kernel (containerd's snapshotter)"; exit 1; }
if ! ip link add qo-canrun0 type bridge 2>/dev/null; then
	echo "cannot create a bridge (ip link add ... type bridge)"
	exit 1
fi
ip link del qo-canrun0
if ! iptables -t nat -L -n >/dev/null 2>&1; then
	echo "iptables' nat table is not usable (kube-proxy needs it)"
	exit 1
fi
if ip link show qo-br0 >/dev/null 2>&1; then
	echo "bridge qo-br0 exists already: another node test is running (or tools/node/stop.sh was not run)"
	exit 1
fi
exit 0
