#!/usr/bin/env bash
# Checks for (and, where a package registry has it, installs) the clients the tests drive:
# kubectl and the AWS CLI (installed from PyPI when missing). Rust, Go, openssl, curl and kubectl
# must be on the machine.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if ! command -v aws >/dev/null; then
	echo "ensure-tools: installing the AWS CLI from PyPI" >&2
	python3 -m pip install --quiet awscli
fi
for tool in cargo go openssl curl kubectl aws; do
	command -v "$tool" >/dev/null || { echo "ensure-tools: $tool is required on PATH" >&2; exit 1; }
done
