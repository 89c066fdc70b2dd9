#!/usr/bin/env bash
# Karpenter's own CRDs (NodePool, NodeClaim, NodeOverlay), from its Go module through the module
# proxy, as a cluster with Karpenter installed serves them; cached in
#   ${QO_CACHE_DIR:-$HOME/.cache/quota-operator}/karpenter/<version>/
# Exits at once when they are there. Progress goes to stderr; the last stdout line is the
# directory holding the CRD files. Env: QO_CACHE_DIR, QO_KARPENTER_VERSION.
set -euo pipefail
version=${QO_KARPENTER_VERSION:-v1.12.1}
dir=${QO_CACHE_DIR:-$HOME/.cache/quota-operator}/karpenter/$version
if [[ -s $dir/karpenter.sh_nodepools.yaml ]]; then
  echo "$dir"
  exit 0
fi
echo "downloading sigs.k8s.io/karpenter@$version from the Go module proxy" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Outside any module, and without the host's go.work: only the module's files are wanted.
module=$(cd "$work" && GOWORK=off GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/karpenter@$version")
src=$(printf '%s' "$module" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [[ -z $src || ! -d $src/pkg/apis/crds ]]; then
  echo "sigs.k8s.io/karpenter@$version has no pkg/apis/crds: $module" >&2
  exit 1
fi
mkdir -p "$dir.tmp"
cp "$src"/pkg/apis/crds/karpenter.sh_*.yaml "$dir.tmp/"
chmod u+w "$dir.tmp"/*
rm -rf "$dir"
mv "$dir.tmp" "$dir"
echo "$dir"
