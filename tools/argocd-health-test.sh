#!/usr/bin/env bash
# Test the chart's Argo CD health checks (charts/quota-operator/health/*.lua) with a real Lua 5.1
# interpreter, the language version Argo CD runs (gopher-lua), on every case in
# charts/quota-operator/health/health_test.yaml (Argo CD's own test format).
# Installs Debian's lua5.1 and lua-dkjson (the JSON decoder) when missing.
# Prints one line per case, then "N passed, M failed"; exits non-zero on any failure.
#
# Usage: tools/argocd-health-test.sh [HEALTH_DIR]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
health_dir=${1:-$here/../charts/quota-operator/health}

need=()
command -v lua5.1 >/dev/null || need+=(lua5.1)
[ -f /usr/share/lua/5.1/dkjson.lua ] || need+=(lua-dkjson)
if [ ${#need[@]} -gt 0 ]; then
	echo "argocd-health-test: installing ${need[*]} from Debian" >&2
	sudo=()
	[ "$(id -u)" = 0 ] || sudo=(sudo)
	# An empty package list (a fresh machine) needs an update first.
	if ! apt-cache show "${need[@]}" >/dev/null 2>&1; then
		"${sudo[@]}" apt-get update -qq >&2
	fi
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}" >&2
fi

exec lua5.1 "$here/argocd-health-test.lua" "$health_dir"
