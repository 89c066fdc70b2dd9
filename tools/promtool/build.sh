#!/usr/bin/env bash
# Build the pinned promtool (github.com/prometheus/prometheus in go.mod; module v0.316.0 is
# Prometheus 3.16.0) into
#   ${QO_CACHE_DIR:-$HOME/.cache/quota-operator}/promtool/<sha256 of go.sum>/bin/promtool
# Exits at once when it is already there. Build output goes to stderr; the last stdout line is
# the bin directory. Env: QO_CACHE_DIR, QO_BUILD_JOBS, QO_BUILD_NICE (see ../go-tool-build.sh).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Prometheus releases stamp github.com/prometheus/common/version (see its .promu.yml). The Go
# module is numbered v0.3MM.P for Prometheus 3.MM.P; report the release number.
modv=$(cd "$here" && GOFLAGS=-mod=readonly go list -m -f '{{.Version}}' github.com/prometheus/prometheus)
minor=${modv#v0.3}
minor=${minor%%.*}
patch=${modv##*.}
release="3.$((10#$minor)).$patch"
exec "$here/../go-tool-build.sh" "$here" promtool promtool github.com/prometheus/prometheus/cmd/promtool \
	"-X github.com/prometheus/common/version.Version=$release -X github.com/prometheus/common/version.Branch=HEAD -X github.com/prometheus/common/version.Revision=$modv"
