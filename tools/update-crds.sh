#!/usr/bin/env bash
# Regenerates the CRDs from the Rust types into crds/ and the chart (what tests/crd_drift.rs
# checks): `quota-operator crd` is the one source.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo run --quiet --bin quota-operator -- crd > crds/crds.yaml
cp crds/crds.yaml charts/quota-operator/crds/crds.yaml
echo "crds/crds.yaml and charts/quota-operator/crds/crds.yaml regenerated" >&2
