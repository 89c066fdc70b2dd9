#!/usr/bin/env bash
# Installs the chart into a real kube-apiserver + etcd (tools/controlplane) with
# tools/chart-install.sh and proves, on the API server itself:
# - the default install and an everything-on install (ServiceMonitor and PrometheusRule aside: no Prometheus
#   Operator CRDs here) are accepted, in two namespaces side by side;
# - the ServiceAccount can do what the operator needs and nothing more (kubectl auth can-i
#   with impersonation): no Secrets, no spec writes, leases only in its own namespace;
# - the teams' ClusterRoles, aggregated (kube-controller-manager runs beside the API server) into
#   view, edit and admin: a namespace viewer reads QuotaRequirements, an editor and an admin
#   manage them, none writes their status or touches CloudAccounts (can-i, then real requests);
# - the pod template passes the "restricted" Pod Security Standard (a server-side dry-run Pod
#   in a namespace that enforces it), and a root pod is refused there (the check bites);
# - helm uninstall works.
# Prints one line per check and "N passed, M failed"; exits non-zero on any failure.
#
# Env: QO_CONTROLPLANE_DIR  where the control plane's state goes (default: a temp dir)
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
chart=$here/../charts/quota-operator
for tool in kubectl jq; do
	command -v "$tool" >/dev/null || { echo "chart-install-test: $tool not found in PATH" >&2; exit 1; }
done

cp_dir=${QO_CONTROLPLANE_DIR:-$(mktemp -d)}
cleanup() { "$here/controlplane/stop.sh" "$cp_dir" >/dev/null 2>&1; [ -n "${QO_CONTROLPLANE_DIR:-}" ] || rm -rf "$cp_dir"; }
trap cleanup EXIT
kc=$(QO_WATCH_PID=$$ "$here/controlplane/start.sh" "$cp_dir" | tail -n 1) || { echo "chart-install-test: control plane did not start" >&2; exit 1; }
k() { kubectl --kubeconfig "$kc" "$@"; }
# kube-controller-manager fills the aggregated ClusterRoles (view, edit, admin) with the chart's
# team roles; Pods of the Deployments stay Pending (no node here: tools/node-test.sh has one).
"$here/controlplane/start-controllers.sh" "$cp_dir" >/dev/null 2>"$cp_dir/controllers.err" ||
	{ echo "chart-install-test: kube-controller-manager did not start: $(tail -3 "$cp_dir/controllers.err")" >&2; exit 1; }

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

a=qo-a b=qo-b c=qo-all
if sa=$("$here/chart-install.sh" "$kc" "$a" 2>"$cp_dir/install-a.log" | tail -n 1) && [ -n "$sa" ]; then
	ok "install (default values) in $a: ServiceAccount $sa"
else
	bad "install in $a: $(tail -5 "$cp_dir/install-a.log")"
fi
if sb=$("$here/chart-install.sh" "$kc" "$b" 2>"$cp_dir/install-b.log" | tail -n 1) && [ -n "$sb" ]; then
	ok "second install beside it in $b: ServiceAccount $sb"
else
	bad "install in $b: $(tail -5 "$cp_dir/install-b.log")"
fi
if sc=$("$here/chart-install.sh" "$kc" "$c" -f "$chart/ci/all-on-values.yaml" \
	--set serviceMonitor.enabled=false --set prometheusRule.enabled=false --set dashboards.namespace= 2>"$cp_dir/install-c.log" | tail -n 1) && [ "$sc" = quota-operator-controller ]; then
	ok "install with everything on (NetworkPolicy, dashboard, PDB 2, annotations) in $c"
else
	bad "install with everything on in $c: $sc $(tail -5 "$cp_dir/install-c.log")"
fi

for kind in deployment/quota-operator-$a service/quota-operator-$a poddisruptionbudget/quota-operator-$a \
	role/quota-operator-$a-leader-election rolebinding/quota-operator-$a-leader-election; do
	if k -n "$a" get "$kind" -o name >/dev/null 2>&1; then ok "$a has $kind"; else bad "$a has no $kind"; fi
done
if k -n "$c" get networkpolicy -o name | grep -q .; then ok "$c has a NetworkPolicy"; else bad "$c has no NetworkPolicy"; fi
if k -n "$c" get configmap -l grafana_dashboard=1 -o name | grep -q dashboard; then ok "$c has the dashboard ConfigMap"; else bad "$c has no dashboard ConfigMap"; fi
if k get crd quotarequirements.quota-operator.dev cloudaccounts.quota-operator.dev -o name >/dev/null; then ok "CRDs installed from crds/"; else bad "CRDs missing"; fi

# What the ServiceAccount may do, asked of the API server's own RBAC.
as="system:serviceaccount:$a:${sa:-missing}"
can() { # yes|no, description, can-i args...
	local want=$1 what=$2
	shift 2
	local got
	if k auth can-i --as "$as" "$@" >/dev/null 2>&1; then got=yes; else got=no; fi
	if [ "$got" = "$want" ]; then ok "can-i $what: $got"; else bad "can-i $what: $got, want $want"; fi
}
can yes "list quotarequirements in all namespaces" list quotarequirements.quota-operator.dev -A
can yes "watch quotarequirements" watch quotarequirements.quota-operator.dev -n team-x
can yes "get cloudaccounts" get cloudaccounts.quota-operator.dev
can yes "watch cloudaccounts" watch cloudaccounts.quota-operator.dev
can yes "patch quotarequirements/status" patch quotarequirements.quota-operator.dev --subresource=status -n team-x
can yes "update quotarequirements/status" update quotarequirements.quota-operator.dev --subresource=status -n team-x
can yes "patch cloudaccounts/status" patch cloudaccounts.quota-operator.dev --subresource=status
can yes "list namespaces" list namespaces
can yes "create events.k8s.io events" create events.events.k8s.io -n team-x
can yes "create core events" create events -n team-x
can yes "create leases in its namespace" create leases.coordination.k8s.io -n "$a"
can yes "update leases in its namespace" update leases.coordination.k8s.io -n "$a"
can no "create leases in another namespace" create leases.coordination.k8s.io -n "$b"
can no "delete leases" delete leases.coordination.k8s.io -n "$a"
can no "get secrets" get secrets -n "$a"
can no "list secrets anywhere" list secrets -A
can no "update quotarequirements (spec)" update quotarequirements.quota-operator.dev -n team-x
can no "patch quotarequirements (spec)" patch quotarequirements.quota-operator.dev -n team-x
can no "create quotarequirements" create quotarequirements.quota-operator.dev -n team-x
can no "delete quotarequirements" delete quotarequirements.quota-operator.dev -n team-x
can no "patch cloudaccounts (spec)" patch cloudaccounts.quota-operator.dev
can no "create cloudaccounts" create cloudaccounts.quota-operator.dev
can no "update namespaces" update namespaces
can no "create pods" create pods -n "$a"
can no "get configmaps" get configmaps -n "$a"

# The teams' roles: a namespace's usual RoleBindings to Kubernetes' view, edit and admin cover
# QuotaRequirements through aggregation, never their status, never CloudAccounts.
for r in view edit; do
	labels=$(k get clusterrole "quota-operator-$a-$r" -o jsonpath='{.metadata.labels}' 2>/dev/null)
	if echo "$labels" | grep -q "aggregate-to-$r"; then ok "ClusterRole quota-operator-$a-$r aggregates to $r"; else bad "ClusterRole quota-operator-$a-$r: labels $labels"; fi
done
team="team-roles"
k create namespace "$team" >/dev/null
k -n "$team" create rolebinding viewer --clusterrole=view --user=team-viewer >/dev/null
k -n "$team" create rolebinding editor --clusterrole=edit --user=team-editor >/dev/null
k -n "$team" create rolebinding admin --clusterrole=admin --user=team-admin >/dev/null
as_can() { # yes|no, user, description, can-i args...
	local want=$1 user=$2 what=$3
	shift 3
	local got
	if k auth can-i --as "$user" "$@" >/dev/null 2>&1; then got=yes; else got=no; fi
	if [ "$got" = "$want" ]; then ok "$user can-i $what: $got"; else bad "$user can-i $what: $got, want $want"; fi
}
qr=quotarequirements.quota-operator.dev
# The aggregation controller adds the rules within moments of the ClusterRoles' creation.
for _ in $(seq 60); do
	k auth can-i --as team-viewer list "$qr" -n "$team" >/dev/null 2>&1 &&
		k auth can-i --as team-editor create "$qr" -n "$team" >/dev/null 2>&1 && break
	sleep 0.5
done
as_can no nobody "list quotarequirements without a binding" list "$qr" -n "$team"
for v in get list watch; do as_can yes team-viewer "$v quotarequirements" "$v" "$qr" -n "$team"; done
for v in create update patch delete; do as_can no team-viewer "$v quotarequirements" "$v" "$qr" -n "$team"; done
for v in get list watch create update patch delete deletecollection; do as_can yes team-editor "$v quotarequirements" "$v" "$qr" -n "$team"; done
for user in team-viewer team-editor team-admin; do
	as_can no "$user" "patch quotarequirements/status" patch "$qr" --subresource=status -n "$team"
	as_can no "$user" "update quotarequirements/status" update "$qr" --subresource=status -n "$team"
	as_can no "$user" "get cloudaccounts" get cloudaccounts.quota-operator.dev
	as_can no "$user" "create cloudaccounts" create cloudaccounts.quota-operator.dev
	as_can no "$user" "create quotarequirements in another namespace" create "$qr" -n "$a"
done
as_can yes team-admin "create quotarequirements" create "$qr" -n "$team"
as_can yes team-admin "delete quotarequirements" delete "$qr" -n "$team"
# And what a can-i answers, the API server does: the editor creates one, its status stays shut.
cat >"$cp_dir/team-qr.yaml" <<EOF_QR
apiVersion: quota-operator.dev/v1alpha1
kind: QuotaRequirement
metadata: {name: by-editor, namespace: $team}
spec:
  accountRef: prod-aws
  aws: {serviceCode: ec2, quotaCode: L-34B43A08}
  regions: [us-east-1]
  desiredValue: 100
EOF_QR
if out=$(k --as team-editor create -f "$cp_dir/team-qr.yaml" 2>&1); then ok "team-editor creates a QuotaRequirement"; else bad "team-editor create: $out"; fi
if out=$(k --as team-editor -n "$team" patch qr by-editor --subresource=status --type=merge -p '{"status":{"observedGeneration":1}}' 2>&1); then
	bad "team-editor patched the status: $out"
else
	ok "team-editor's status patch is refused: $(echo "$out" | head -1 | cut -c1-120)"
fi
if out=$(k --as team-viewer -n "$team" delete qr by-editor 2>&1); then bad "team-viewer deleted it: $out"; else ok "team-viewer's delete is refused"; fi

# The pod template under the restricted Pod Security Standard, judged by the API server's
# PodSecurity admission (a server-side dry run creates nothing).
k label namespace "$a" pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/enforce-version=latest --overwrite >/dev/null
pod=$(k -n "$a" get deployment "quota-operator-$a" -o json |
	jq --arg ns "$a" '{apiVersion: "v1", kind: "Pod", metadata: {name: "pss-check", namespace: $ns, labels: .spec.template.metadata.labels}, spec: .spec.template.spec}')
if out=$(echo "$pod" | k create --dry-run=server -f - 2>&1); then
	ok "the chart's pod passes Pod Security 'restricted' (server-side dry run)"
else
	bad "the chart's pod under Pod Security 'restricted': $out"
fi
root_pod=$(echo "$pod" | jq '.spec.securityContext.runAsUser = 0 | .spec.securityContext.runAsNonRoot = false | .spec.containers[0].securityContext.runAsUser = 0 | .spec.containers[0].securityContext.runAsNonRoot = false')
if out=$(echo "$root_pod" | k create --dry-run=server -f - 2>&1); then
	bad "a root pod was admitted: the restricted check proves nothing"
else
	ok "a root variant is refused there: $(echo "$out" | head -1 | cut -c1-160)"
fi

if out=$(HELM_CACHE_HOME=$cp_dir/helm HELM_CONFIG_HOME=$cp_dir/helm HELM_DATA_HOME=$cp_dir/helm \
	"$("$here/helm/build.sh" | tail -n 1)/helm" uninstall "quota-operator-$b" --kubeconfig "$kc" -n "$b" 2>&1) &&
	! k get clusterrole "quota-operator-$b" >/dev/null 2>&1 &&
	k get clusterrole "quota-operator-$a" >/dev/null 2>&1; then
	ok "helm uninstall removes its ClusterRole and leaves the other release's"
else
	bad "helm uninstall: $out"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
