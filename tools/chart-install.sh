#!/usr/bin/env bash
# Install the chart into an API server (e.g. the test control plane) and print the operator's
# ServiceAccount name, for running the operator out of cluster as that ServiceAccount
# (kubeconfig impersonation: system:serviceaccount:NAMESPACE:<name>).
#
#   tools/chart-install.sh KUBECONFIG NAMESPACE [helm install args...]
#
# Uses the helm v4 that tools/helm/build.sh builds (cached). Creates NAMESPACE if needed. Does
# not wait for the Deployment (helm v4's default --wait=hookOnly; the chart has no hooks): a test
# control plane has no controller-manager, so no Pod ever runs. The CRDs in crds/ are installed
# unless they exist already. The release is named quota-operator-NAMESPACE (QO_RELEASE_NAME
# overrides), so several namespaces can each have one: the ClusterRole and ClusterRoleBinding are
# named after the release. Progress goes to stderr; the last stdout line is the ServiceAccount's
# name. Exits non-zero if the install fails or the ServiceAccount is not there afterwards.
set -euo pipefail
command -v kubectl >/dev/null || { echo "chart-install: kubectl not found in PATH" >&2; exit 1; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 2 ] || { echo "usage: $0 KUBECONFIG NAMESPACE [helm install args...]" >&2; exit 2; }
kubeconfig=$1
ns=$2
shift 2
release=${QO_RELEASE_NAME:-quota-operator-$ns}
[ -r "$kubeconfig" ] || { echo "chart-install: cannot read kubeconfig $kubeconfig" >&2; exit 1; }

helm=$("$here/helm/build.sh" | tail -n 1)/helm
# Helm's cache and config stay out of the user's home.
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
export HELM_CACHE_HOME=$state/cache HELM_CONFIG_HOME=$state/config HELM_DATA_HOME=$state/data

"$helm" install "$release" "$here/../charts/quota-operator" \
	--kubeconfig "$kubeconfig" --namespace "$ns" --create-namespace "$@" >&2

# The ServiceAccount the chart's pods run as, as the API server has it.
sa=$(kubectl --kubeconfig "$kubeconfig" -n "$ns" get deployments -l "app.kubernetes.io/instance=$release" \
	-o jsonpath='{.items[0].spec.template.spec.serviceAccountName}')
[ -n "$sa" ] || { echo "chart-install: no Deployment with a ServiceAccount in release $release" >&2; exit 1; }
kubectl --kubeconfig "$kubeconfig" -n "$ns" get serviceaccount "$sa" -o name >&2 ||
	{ echo "chart-install: ServiceAccount $ns/$sa not found after install" >&2; exit 1; }
echo "$sa"
