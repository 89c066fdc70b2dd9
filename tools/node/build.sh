#!/usr/bin/env bash
# Builds everything the test node runs, from pinned sources, into the cache (nothing prebuilt is
# downloaded):
#
# - kubelet and kube-proxy, with kube-apiserver, etcd, kube-controller-manager and kube-scheduler,
#   from tools/controlplane's go.mod (one k8s.io/kubernetes, so no version skew) by
#   tools/controlplane/build.sh;
# - containerd, containerd-shim-runc-v2 and ctr from tools/node/containerd's go.mod
#   (github.com/containerd/containerd/v2) by tools/go-tool-build.sh;
# - the pod sandbox ("pause") image: Kubernetes' own build/pause/linux/pause.c from the pinned
#   k8s.io/kubernetes module, compiled static with gcc, on scratch, saved as a docker archive.
#
# runc and the CNI plugins come from Debian (runc, containernetworking-plugins), installed here
# when missing, like the image tools (buildah, podman).
#
# Prints three lines: `kube DIR`, `containerd DIR:DIR:DIR` (a PATH) and `pause FILE`.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools=$(cd "$here/.." && pwd)
log() { echo "node/build.sh: $*" >&2; }

"$here/ensure-packages.sh"

kube=$("$tools/controlplane/build.sh" kube-apiserver etcd kube-controller-manager kube-scheduler kubelet kube-proxy | tail -n 1)

cv='{{VERSION:github.com/containerd/containerd/v2}}'
cld="-X github.com/containerd/containerd/v2/version.Version=$cv"
# One cache dir per command (go-tool-build.sh keeps one binary per tool), all keyed on the same go.sum.
containerd_path=''
for cmd in containerd containerd-shim-runc-v2 ctr; do
	d=$("$tools/go-tool-build.sh" "$here/containerd" "$cmd" "$cmd" \
		"github.com/containerd/containerd/v2/cmd/$cmd" "$cld" | tail -n 1)
	containerd_path+=${containerd_path:+:}$d
done

# The pause image, keyed on pause.c and this recipe.
k8s_dir=$(cd "$tools/controlplane" && GOWORK=off GOFLAGS=-mod=readonly go list -m -f '{{.Dir}}' k8s.io/kubernetes)
src=$k8s_dir/build/pause/linux/pause.c
[ -f "$src" ] || { go -C "$tools/controlplane" mod download k8s.io/kubernetes; }
[ -f "$src" ] || { log "no $src"; exit 1; }
# shellcheck source=../image/containers-env.sh
. "$tools/image/containers-env.sh"
key=$(cat "$src" "$here/pause/Dockerfile" | sha256sum | cut -c1-16)
pause_dir=$QO_CONTAINERS_CACHE/pause-$key
pause=$pause_dir/pause.docker.tar
if ! [ -s "$pause" ]; then
	log "building the pause image from $src"
	ctx=$(mktemp -d)
	gcc -Os -static -o "$ctx/pause" "$src" -DVERSION=v3.10-quota-operator
	strip "$ctx/pause"
	buildah bud --quiet --layers=false --timestamp 0 -f "$here/pause/Dockerfile" -t localhost/pause:3.10 "$ctx" >&2
	mkdir -p "$pause_dir"
	rm -f "$pause.tmp"
	podman save --quiet --format docker-archive -o "$pause.tmp" localhost/pause:3.10
	mv "$pause.tmp" "$pause"
	rm -rf "$ctx"
fi
echo "kube $kube"
echo "containerd $containerd_path"
echo "pause $pause"
