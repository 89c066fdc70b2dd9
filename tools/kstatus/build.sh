#!/usr/bin/env bash
# Build the kstatus checker (main.go; sigs.k8s.io/cli-utils pinned in go.mod) into
#   ${QO_CACHE_DIR:-$HOME/.cache/quota-operator}/kstatus/<sha256 of go.sum and main.go>/bin/kstatus
# Exits at once when it is already there. Build output goes to stderr; the last stdout line is
# the bin directory. Env: QO_CACHE_DIR, QO_BUILD_JOBS, QO_BUILD_NICE (see ../go-tool-build.sh).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec "$here/../go-tool-build.sh" "$here" kstatus kstatus .
