#!/usr/bin/env bash
# A one-node Kubernetes cluster on this machine, for the chart's tests on a real kubelet:
#
#   tools/node/start.sh DIR [IMAGE_ARCHIVE...]
#
# - a bridge (qo-br0, 10.244.0.1/24) that no traffic leaves: pods get routes only to their own
#   subnet and the Service range, the host keeps IP forwarding as it is (off here) and
#   blackholes the Service range, so a packet kube-proxy did not rewrite goes nowhere;
# - kube-apiserver + etcd (tools/controlplane/start.sh) bound to the bridge's address, with the
#   ServiceAccount admission plugin and the `kubernetes` Service's endpoints, and a serving cert
#   for 10.0.0.1 (the Service) too; kube-controller-manager and kube-scheduler beside it;
# - containerd (CRI) with Debian's runc and CNI plugins (bridge, host-local, loopback);
# - the pause image and every IMAGE_ARCHIVE (docker archives, as tools/image.sh --archive writes
#   them) imported into containerd;
# - kubelet (cgroupfs driver; failCgroupV1: false, since Kubernetes 1.35 refuses cgroup v1
#   unless told otherwise) registered as node `qo-node`, and kube-proxy (iptables mode), so a pod
#   reaches the API server through KUBERNETES_SERVICE_HOST=10.0.0.1 like on any cluster.
#
# Waits until the node is Ready and the Service's rules exist. Progress goes to stderr; the last
# stdout line is the kubeconfig. Everything lives in DIR (logs: DIR/*.log); tools/node/stop.sh DIR
# undoes it all. Needs root.
#
# Env: QO_WATCH_PID (stop everything when this pid exits), QO_CACHE_DIR, QO_BUILD_*
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools=$(cd "$here/.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 DIR [IMAGE_ARCHIVE...]" >&2; exit 2; }
mkdir -p "$1"
dir=$(cd "$1" && pwd)
shift
archives=("$@")
log() { echo "node/start.sh: $*" >&2; }
die() { log "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network, mounts, cgroups)"

bridge=qo-br0
node_ip=10.244.0.1
pod_cidr=10.244.0.0/24
service_cidr=10.0.0.0/24
node_name=qo-node

"$here/stop.sh" "$dir" >&2 || true
t0=$(date +%s)

built=$("$here/build.sh") || die "tools/node/build.sh failed"
kube_bin=$(echo "$built" | awk '$1 == "kube" { print $2 }')
containerd_bin=$(echo "$built" | awk '$1 == "containerd" { print $2 }')
pause_bin=$(echo "$built" | awk '$1 == "pause" { print $2 }')
[ -n "$kube_bin" ] && [ -n "$containerd_bin" ] && [ -n "$pause_bin" ] || die "tools/node/build.sh printed: $built"
export PATH="$kube_bin:$containerd_bin:$PATH"
command -v containerd-shim-runc-v2 >/dev/null || die "no containerd-shim-runc-v2 in $containerd_bin"

alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st:0:1}" != Z ]
}
port_taken() { (exec 3<>"/dev/tcp/$node_ip/$1") 2>/dev/null || (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
	local p
	for _ in $(seq 200); do
		p=$((10000 + RANDOM % 22000))
		port_taken "$p" || { echo "$p"; return 0; }
	done
	return 1
}
on_error() {
	log "failed; stopping what was started"
	"$here/stop.sh" "$dir" >&2 || true
}
trap on_error EXIT
wait_for() { # SECONDS WHAT COMMAND...
	local until=$(($(date +%s) + $1)) what=$2
	shift 2
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$until" ] || { log "timed out waiting for $what"; return 1; }
		sleep 0.5
	done
}

# The kubelet sets vm.overcommit_memory, kernel.panic and kernel.panic_on_oops (its
# protectKernelDefaults would refuse to start instead), and bridged traffic must pass iptables:
# stop.sh puts back what was there.
sysctls=(vm.overcommit_memory kernel.panic kernel.panic_on_oops net.bridge.bridge-nf-call-iptables net.ipv4.conf.all.route_localnet)
for s in "${sysctls[@]}"; do
	echo "$s=$(sysctl -n "$s")"
done >"$dir/sysctl-before"

# --- network -------------------------------------------------------------------------------------
for n in /var/run/netns/cni-*; do [ -e "$n" ] && echo "${n##*/}"; done >"$dir/netns-before"
ip link add "$bridge" type bridge
ip addr add "$node_ip/24" dev "$bridge"
ip link set "$bridge" up
ip route add blackhole "$service_cidr"
echo "$bridge" >"$dir/bridge"
# A Service's DNAT happens in PREROUTING on the bridge; bridged pod-to-pod traffic goes through
# iptables too, as kube-proxy expects.
sysctl -qw net.bridge.bridge-nf-call-iptables=1
mkdir -p "$dir/cni/net.d" "$dir/cni/ipam"
cat >"$dir/cni/net.d/10-qo.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "qo-pods",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$bridge",
      "isGateway": false,
      "isDefaultGateway": false,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$dir/cni/ipam",
        "ranges": [[{"subnet": "$pod_cidr", "gateway": "$node_ip"}]],
        "routes": [{"dst": "$service_cidr", "gw": "$node_ip"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
# isGateway is false so that the plugin does not turn IP forwarding on: the bridge already has
# the gateway address, and pods need nothing beyond this host.

# --- control plane -------------------------------------------------------------------------------
kc=$(QO_CONTROLPLANE_BIN_DIR=$kube_bin QO_APISERVER_ADDRESS=$node_ip QO_APISERVER_NODE_MODE=1 \
	QO_APISERVER_EXTRA_SANS="IP:10.0.0.1, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local" \
	"$tools/controlplane/start.sh" "$dir/cp" | tail -n 1)
QO_CONTROLPLANE_BIN_DIR=$kube_bin "$tools/controlplane/start-controllers.sh" "$dir/cp"
k() { kubectl --kubeconfig "$kc" "$@"; }

# --- containerd ----------------------------------------------------------------------------------
c=$dir/containerd
mkdir -p "$c"
sock=$c/containerd.sock
cat >"$c/config.toml" <<EOF
version = 3
root = "$c/root"
state = "$c/state"
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[debug]
  level = "info"
[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "localhost/pause:3.10"
[plugins."io.containerd.cri.v1.runtime"]
  enable_selinux = false
  # Root here lacks CAP_SYS_RESOURCE (CapEff 000001fffeffffff), so no process may lower its
  # oom_score_adj, and runc fails the sandbox's -998 ("failed to update /proc/self/oom_score_adj:
  # Permission denied"). Clamp to containerd's own, as for rootless containerd.
  restrict_oom_score_adj = true
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "$dir/cni/net.d"
    max_conf_num = 1
[plugins."io.containerd.grpc.v1.cri"]
  disable_tcp_service = true
[plugins."io.containerd.internal.v1.opt"]
  path = "$c/opt"
EOF
containerd --config "$c/config.toml" </dev/null >"$dir/containerd.log" 2>&1 &
echo $! >"$dir/containerd.pid"
ctr() { command ctr --address "$sock" --namespace k8s.io "$@"; }
wait_for 30 containerd ctr version || { tail -n 20 "$dir/containerd.log" >&2; exit 1; }
# Docker archives name their images (RepoTags), so the names are kept as they are.
for a in "$pause_bin" "${archives[@]}"; do
	ctr images import "$a" >&2
done
ctr images ls -q >"$dir/images.txt"
log "containerd $(command ctr --address "$sock" version 2>/dev/null | awk '/Version:/ { print $2; exit }'), images: $(tr '\n' ' ' <"$dir/images.txt")"

# --- kubelet -------------------------------------------------------------------------------------
kl=$dir/kubelet
mkdir -p "$kl/root" "$kl/pki"
kubelet_port=$(pick_port) || die "no free port"
kubelet_healthz=$(pick_port) || die "no free port"
cat >"$kl/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# Kubernetes 1.35+ refuses to start on cgroup v1 by default; this machine has v1 controllers
# (with a unified v2 mount beside them), which kubelet still supports when told so.
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$sock
address: $node_ip
port: $kubelet_port
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $kubelet_healthz
# The API server connects for logs and exec with no client certificate.
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
failSwapOn: false
resolvConf: /etc/resolv.conf
clusterDomain: cluster.local
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
registerNode: true
podCIDR: $pod_cidr
maxPods: 30
EOF
kubelet \
	--config="$kl/config.yaml" \
	--kubeconfig="$kc" \
	--root-dir="$kl/root" \
	--cert-dir="$kl/pki" \
	--hostname-override="$node_name" \
	--node-ip="$node_ip" \
	--v=1 \
	</dev/null >"$dir/kubelet.log" 2>&1 &
echo $! >"$dir/kubelet.pid"
node_ready() { [ "$(k get node "$node_name" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; }
if ! wait_for 120 "node $node_name Ready" node_ready; then
	grep -E ' E[0-9]{4}|rror' "$dir/kubelet.log" | tail -n 20 >&2
	exit 1
fi

# --- kube-proxy ----------------------------------------------------------------------------------
proxy_healthz=$(pick_port) || die "no free port"
proxy_metrics=$(pick_port) || die "no free port"
kube-proxy \
	--kubeconfig="$kc" \
	--hostname-override="$node_name" \
	--proxy-mode=iptables \
	--cluster-cidr="$pod_cidr" \
	--healthz-bind-address="127.0.0.1:$proxy_healthz" \
	--metrics-bind-address="127.0.0.1:$proxy_metrics" \
	--conntrack-max-per-core=0 \
	--conntrack-tcp-timeout-established=0 \
	--conntrack-tcp-timeout-close-wait=0 \
	--iptables-localhost-nodeports=false \
	--v=1 \
	</dev/null >"$dir/kube-proxy.log" 2>&1 &
echo $! >"$dir/kube-proxy.pid"
service_rules() { iptables -t nat -S KUBE-SERVICES 2>/dev/null | grep -q -- '-d 10.0.0.1/32'; }
wait_for 60 "kube-proxy's rules for 10.0.0.1" service_rules || { tail -n 20 "$dir/kube-proxy.log" >&2; exit 1; }

# --- watchdog ------------------------------------------------------------------------------------
if [ -n "${QO_WATCH_PID:-}" ]; then
	(
		trap '' HUP INT
		while alive "$QO_WATCH_PID"; do sleep 1; done
		"$here/stop.sh" "$dir"
	) </dev/null >/dev/null 2>&1 &
	echo $! >"$dir/watchdog.pid"
fi

trap - EXIT
log "node $node_name Ready in $(($(date +%s) - t0))s: kubelet $(kubelet --version | awk '{ print $2 }'), API server $(k version -o json 2>/dev/null | jq -r .serverVersion.gitVersion)"
echo "$kc"
