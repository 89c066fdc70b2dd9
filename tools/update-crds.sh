#!/usr/bin/env bash
# Regenerates the CRDs from the Rust types into crds/ and the chart (what tests/crd_drift.rs
# checks): `quota-operator crd` is the one source. Then docs/api.md, the API reference rendered
# from crds/crds.yaml (what tests/api_reference.rs checks).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo run --quiet --bin quota-operator -- crd > crds/crds.yaml
cp crds/crds.yaml charts/quota-operator/crds/crds.yaml
echo "crds/crds.yaml and charts/quota-operator/crds/crds.yaml regenerated" >&2
QO_UPDATE_DOCS=1 cargo test --quiet --test api_reference -- docs_api_md_is_rendered_from_the_crds >/dev/null
echo "docs/api.md regenerated" >&2
