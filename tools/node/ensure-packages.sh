#!/usr/bin/env bash
# Installs from Debian what the image build, the container test and the test node use when it is
# missing: buildah and podman (build and run the image), runc (crun refuses this machine kind's
# hybrid cgroups), the CNI plugins, iptables and conntrack (kube-proxy), gcc's static libc (pause).
set -euo pipefail
missing=()
command -v buildah >/dev/null || missing+=(buildah)
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || missing+=(runc)
[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
command -v iptables >/dev/null || missing+=(iptables)
command -v conntrack >/dev/null || missing+=(conntrack)
command -v ip >/dev/null || missing+=(iproute2)
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || missing+=(libc6-dev)
if [ ${#missing[@]} -gt 0 ]; then
	echo "ensure-packages: installing ${missing[*]} from Debian" >&2
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
