#!/usr/bin/env bash
# Build the pinned helm v4 CLI (version in go.mod) into
#   ${QO_CACHE_DIR:-$HOME/.cache/quota-operator}/helm/<sha256 of go.sum>/bin/helm
# Exits at once when it is already there. Build output goes to stderr; the last stdout line is
# the bin directory. Env: QO_CACHE_DIR, QO_BUILD_JOBS, QO_BUILD_NICE (see ../go-tool-build.sh).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The same -X flags as helm's own Makefile, so `helm version` reports the pinned release.
v=helm.sh/helm/v4/internal/version
exec "$here/../go-tool-build.sh" "$here" helm helm helm.sh/helm/v4/cmd/helm \
	"-X $v.version={{VERSION:helm.sh/helm/v4}} -X $v.gitTreeState=clean"
