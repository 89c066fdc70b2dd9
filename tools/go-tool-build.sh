#!/usr/bin/env bash
# Build one Go command from a pinned module under tools/ into a cache directory keyed on that
# module's go.sum (and its own .go files, if it has any), following tools/controlplane/build.sh:
#
#   ${QO_CACHE_DIR:-$HOME/.cache/quota-operator}/<tool>/<key>/bin/<binary>
#
# <key> is the sha256 of go.sum when the module has no .go files of its own (helm, promtool),
# otherwise the sha256 of the sha256sum lines of go.sum and every *.go file (kstatus).
# If the binary already exists for that key, exits at once. Build output goes to stderr; the
# last stdout line is the bin directory.
#
# Usage: go-tool-build.sh MODULE_DIR TOOL BINARY PACKAGE [LDFLAGS]
#   e.g. go-tool-build.sh tools/helm helm helm helm.sh/helm/v4/cmd/helm "-X ..."
#   LDFLAGS may contain {{VERSION:<module path>}}, replaced by that module's version in go.mod.
#
# Env:
#   QO_CACHE_DIR    cache root (default $HOME/.cache/quota-operator)
#   QO_BUILD_JOBS   go build -p (default 2)
#   QO_BUILD_NICE   nice level for the build (default 10; 0 disables)
set -euo pipefail

[ $# -ge 4 ] || { echo "usage: $0 MODULE_DIR TOOL BINARY PACKAGE [LDFLAGS]" >&2; exit 2; }
moddir=$(cd "$1" && pwd)
tool=$2
binary=$3
pkg=$4
extra_ldflags=${5:-}

cache_root=${QO_CACHE_DIR:-${HOME:?HOME not set}/.cache/quota-operator}
cd "$moddir"
shopt -s nullglob
gofiles=(*.go)
shopt -u nullglob
if [ ${#gofiles[@]} -eq 0 ]; then
	hash=$(sha256sum go.sum | cut -d' ' -f1)
else
	hash=$(sha256sum go.sum "${gofiles[@]}" | sha256sum | cut -d' ' -f1)
fi
out=$cache_root/$tool/$hash
bin=$out/bin

have_bin() { [ -x "$bin/$binary" ]; }

if have_bin; then
	echo "$bin"
	exit 0
fi

mkdir -p "$out"
# Serialise concurrent builds (e.g. several test binaries starting at once).
exec 9>"$out/.lock"
flock 9
if have_bin; then
	echo "$bin"
	exit 0
fi

command -v go >/dev/null || { echo "go-tool-build: go not found in PATH (need Go >= 1.26)" >&2; exit 1; }

export CGO_ENABLED=0
export GOWORK=off
export GOFLAGS="-mod=readonly -buildvcs=false"

ldflags="-s -w"
if [ -n "$extra_ldflags" ]; then
	# Expand {{VERSION:<module>}} from go.mod, so the pin lives in one place.
	while [[ $extra_ldflags =~ \{\{VERSION:([^}]+)\}\} ]]; do
		m=${BASH_REMATCH[1]}
		v=$(go list -m -f '{{.Version}}' "$m")
		extra_ldflags=${extra_ldflags//"{{VERSION:$m}}"/$v}
	done
	ldflags+=" $extra_ldflags"
fi

nice_cmd=()
if [ "${QO_BUILD_NICE:-10}" != 0 ] && command -v nice >/dev/null; then
	nice_cmd=(nice -n "${QO_BUILD_NICE:-10}")
fi

tmp=$(mktemp -d "$out/bin.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "go-tool-build: building $tool ($pkg) into $bin" >&2
start=$(date +%s)
"${nice_cmd[@]}" go build -p "${QO_BUILD_JOBS:-2}" -trimpath -ldflags "$ldflags" -o "$tmp/$binary" "$pkg" >&2
[ -x "$tmp/$binary" ] || { echo "go-tool-build: $binary missing after build" >&2; exit 1; }
chmod 755 "$tmp"

rm -rf "$bin"
mv -T "$tmp" "$bin"
trap - EXIT
echo "go-tool-build: built $tool in $(( $(date +%s) - start ))s" >&2
echo "$bin"
