#!/usr/bin/env bash
# Checks for (and, where a package registry has it, installs) the clients the tests drive:
# kubectl, gcloud and the AWS CLI (installed from PyPI when missing). Rust, Go, openssl, curl,
# kubectl and gcloud (with its alpha component) must be on the machine.
set -euo pipefail

if ! command -v aws >/dev/null; then
	echo "ensure-tools: installing the AWS CLI from PyPI" >&2
	python3 -m pip install --quiet awscli
fi
for tool in cargo go openssl curl kubectl gcloud aws; do
	command -v "$tool" >/dev/null || { echo "ensure-tools: $tool is required on PATH" >&2; exit 1; }
done
