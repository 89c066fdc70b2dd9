#!/usr/bin/env bash
# Checks for (and, where a package registry has it, installs) the clients the tests drive:
# kubectl, gcloud and the AWS CLI (installed from PyPI when missing). Rust, Go, openssl, curl,
# kubectl and gcloud (with its alpha component) must be on the machine.
set -euo pipefail

# One AWS CLI version for every run: the tests drive its argument parsing and output, which a
# new release may change. Bump it deliberately (pip index versions awscli).
awscli_version=1.45.11
if ! command -v aws >/dev/null; then
	echo "ensure-tools: installing the AWS CLI $awscli_version from PyPI" >&2
	python3 -m pip install --quiet "awscli==$awscli_version"
elif ! aws --version 2>&1 | grep -q "^aws-cli/$awscli_version "; then
	echo "ensure-tools: using $(aws --version 2>&1 | cut -d' ' -f1), not the pinned aws-cli/$awscli_version" >&2
fi
# The chart tests read JSON with jq and check renders with python3 + PyYAML.
missing=()
command -v jq >/dev/null || missing+=(jq)
python3 -c 'import yaml' 2>/dev/null || missing+=(python3-yaml)
if [ ${#missing[@]} -gt 0 ]; then
	echo "ensure-tools: installing ${missing[*]} from Debian" >&2
	apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi
for tool in cargo go openssl curl kubectl gcloud aws jq; do
	command -v "$tool" >/dev/null || { echo "ensure-tools: $tool is required on PATH" >&2; exit 1; }
done
