#!/usr/bin/env bash
# Build a pinned kube-apiserver and etcd (versions from go.mod) into a cache
# directory keyed on the sha256 of go.sum:
#
#   ${QO_CACHE_DIR:-$HOME/.cache/quota-operator}/controlplane/<sha256 of go.sum>/bin/{kube-apiserver,etcd}
#
#   build.sh [COMMAND...]
#
# COMMANDs (default: kube-apiserver etcd) are etcd or any of go.mod's `tool` commands:
# kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy (the last four
# are for the test node, tools/node). Only the missing ones are built, into the same bin dir.
# If they all exist already for the current go.sum, exits at once.
# Build output goes to stderr; the last stdout line is the bin directory.
#
# Env:
#   QO_CACHE_DIR    cache root (default $HOME/.cache/quota-operator)
#   QO_BUILD_JOBS   go build -p (default 2)
#   QO_BUILD_NICE   nice level for the build (default 10; 0 disables)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${QO_CACHE_DIR:-${HOME:?HOME not set}/.cache/quota-operator}
hash=$(sha256sum "$here/go.sum" | cut -d' ' -f1)
out=$cache_root/controlplane/$hash
bin=$out/bin

commands=("$@")
[ ${#commands[@]} -gt 0 ] || commands=(kube-apiserver etcd)
missing=()
find_missing() {
	missing=()
	local c
	for c in "${commands[@]}"; do
		[ -x "$bin/$c" ] || missing+=("$c")
	done
}
have_bins() { find_missing; [ ${#missing[@]} -eq 0 ]; }

if have_bins; then
	echo "$bin"
	exit 0
fi

mkdir -p "$out"
# Serialise concurrent builds (e.g. several test binaries starting at once).
exec 9>"$out/.lock"
flock 9
if have_bins; then
	echo "$bin"
	exit 0
fi

command -v go >/dev/null || { echo "build.sh: go not found in PATH (need Go >= 1.26)" >&2; exit 1; }

cd "$here"
export CGO_ENABLED=0
export GOWORK=off
export GOFLAGS="-mod=readonly -buildvcs=false"

k8s_version=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
k8s_minor=${k8s_version#v1.}
k8s_minor=${k8s_minor%%.*}
# Release time of the module, so the stamp is reproducible.
build_date=$(go list -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes)
build_date=${build_date:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}

vpkg=k8s.io/component-base/version
ldflags="-s -w"
ldflags+=" -X $vpkg.gitVersion=$k8s_version"
ldflags+=" -X $vpkg.gitMajor=1"
ldflags+=" -X $vpkg.gitMinor=$k8s_minor"
ldflags+=" -X $vpkg.gitTreeState=clean"
ldflags+=" -X $vpkg.buildDate=$build_date"

nice_cmd=()
if [ "${QO_BUILD_NICE:-10}" != 0 ] && command -v nice >/dev/null; then
	nice_cmd=(nice -n "${QO_BUILD_NICE:-10}")
fi

packages=()
for c in "${missing[@]}"; do
	case $c in
	etcd) packages+=(./cmd/etcd) ;;
	kube-apiserver | kube-controller-manager | kube-scheduler | kubelet | kube-proxy) packages+=("k8s.io/kubernetes/cmd/$c") ;;
	*) echo "build.sh: unknown command '$c'" >&2; exit 2 ;;
	esac
done

tmp=$(mktemp -d "$out/bin.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "build.sh: building ${missing[*]} ($k8s_version) into $bin (a cold build takes a while)" >&2
start=$(date +%s)
"${nice_cmd[@]}" go build -p "${QO_BUILD_JOBS:-2}" -trimpath -ldflags "$ldflags" -o "$tmp/" "${packages[@]}" >&2
for c in "${missing[@]}"; do
	[ -x "$tmp/$c" ] || { echo "build.sh: $c missing after build" >&2; exit 1; }
done
chmod 755 "$tmp"

# Binaries built earlier for this go.sum stay (and may be running): the new ones join them, one
# atomic rename each.
if [ -d "$bin" ]; then
	for c in "${missing[@]}"; do
		mv -f "$tmp/$c" "$bin/$c"
	done
	rm -rf "$tmp"
else
	mv -T "$tmp" "$bin"
fi
trap - EXIT
echo "build.sh: built ${missing[*]} in $(( $(date +%s) - start ))s" >&2
echo "$bin"
