#!/usr/bin/env bash
# Proves the Helm chart with a real helm v4 (built from the Go module proxy, cached):
# helm lint --strict with the default values and with ci/all-on-values.yaml, helm template in
# both modes and without leader election, each rendering checked (tools/chart-checks.py: HA,
# security context, least-privilege RBAC, PDB, Service, ServiceMonitor, NetworkPolicy (its default
# metrics sources, and each cloud identity opening only its own node credential agent: none by
# default, never 169.254.169.254 unless GKE Workload Identity is chosen), dashboard, no PrometheusRule by default),
# the PrometheusRule's alerts (rendered with the default values and with ci/all-on-values.yaml:
# promtool check rules, then promtool test rules with the unit tests in the chart's alerts/),
# the refusals (two replicas without leader election, values the schema forbids), the Grafana
# dashboard's PromQL (promtool check rules), the README's Argo CD snippet, the Dockerfiles' base
# images pinned by digest (tools/pin-images.sh --check), and helm package.
# Prints one line per check and "N passed, M failed"; exits non-zero on any failure.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
chart=$(cd "$here/../charts/quota-operator" && pwd)
ns=quota-system

helm_bin=$("$here/helm/build.sh" | tail -n 1) || { echo "chart-test: building helm failed" >&2; exit 1; }
promtool_bin=$("$here/promtool/build.sh" | tail -n 1) || { echo "chart-test: building promtool failed" >&2; exit 1; }
helm=$helm_bin/helm
promtool=$promtool_bin/promtool

# Python with PyYAML for the checks: the machine's python3, else Debian's.
py=python3
if ! "$py" -c 'import yaml' 2>/dev/null; then
	py=/usr/bin/python3
	if ! "$py" -c 'import yaml' 2>/dev/null; then
		echo "chart-test: installing python3-yaml from Debian" >&2
		(apt-cache show python3-yaml >/dev/null 2>&1 || apt-get update -qq) >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-yaml >&2
	fi
fi

# Helm keeps its own state out of the user's home.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HELM_CACHE_HOME=$work/cache HELM_CONFIG_HOME=$work/config HELM_DATA_HOME=$work/data

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
# Count the lines chart-checks.py prints (fed by process substitution, not a pipe, so the
# counters live in this shell; a checker that prints nothing or dies is a failure).
tally() {
	local line n=0
	while IFS= read -r line; do
		n=$((n + 1))
		case $line in
		"ok   "*) ok "${line#ok   }" ;;
		*) bad "${line#FAIL }" ;;
		esac
	done
	[ "$n" -gt 0 ] || bad "a checker printed nothing"
}
run() { # name, command...: passes when the command succeeds
	local name=$1
	shift
	if out=$("$@" 2>&1); then ok "$name"; else bad "$name: $out"; fi
}
refused() { # name, expected message (grep -E), helm args...: passes when helm fails with it
	local name=$1 want=$2
	shift 2
	if out=$("$helm" template qo "$chart" -n "$ns" "$@" 2>&1); then
		bad "$name: rendered, should have been refused"
	elif grep -qE -- "$want" <<<"$out"; then
		ok "$name: $(grep -E -- "$want" <<<"$out" | head -1 | cut -c1-200)"
	else
		bad "$name: refused without the expected message /$want/: $out"
	fi
}

echo "helm: $("$helm" version --short)"

run "helm lint --strict (default values)" "$helm" lint --strict "$chart"
run "helm lint --strict (ci/all-on-values.yaml)" "$helm" lint --strict "$chart" -f "$chart/ci/all-on-values.yaml"
run "helm lint --strict (leader election off, 1 replica)" "$helm" lint --strict "$chart" --set leaderElection.enabled=false --set replicaCount=1

render() { # mode, helm args...
	local mode=$1
	shift
	if "$helm" template qo "$chart" -n "$ns" "$@" >"$work/$mode.yaml" 2>"$work/$mode.err"; then
		ok "helm template ($mode)"
		tally < <("$py" "$here/chart-checks.py" "$mode" "$ns" <"$work/$mode.yaml" 2>&1)
	else
		bad "helm template ($mode): $(cat "$work/$mode.err")"
	fi
}
render default
render all-on -f "$chart/ci/all-on-values.yaml"
render no-le --set leaderElection.enabled=false --set replicaCount=1 --set teamRoles.aggregateToDefaultRoles=false
render netpol --set networkPolicy.enabled=true
# Each identity opens only its own node-local endpoint; IRSA (and the default) none.
render netpol-irsa --set networkPolicy.enabled=true --set-string 'serviceAccount.annotations.eks\.amazonaws\.com/role-arn=arn:aws:iam::123456789012:role/qo'
render netpol-pod-identity --set networkPolicy.enabled=true --set networkPolicy.eksPodIdentityAgent=true
render netpol-gke --set networkPolicy.enabled=true --set networkPolicy.gkeMetadataServer=true
render netpol-gke-annotation --set networkPolicy.enabled=true --set-string 'serviceAccount.annotations.iam\.gke\.io/gcp-service-account=qo@p.iam.gserviceaccount.com'
render netpol-both --set networkPolicy.enabled=true --set networkPolicy.gkeMetadataServer=true --set networkPolicy.eksPodIdentityAgent=true
render no-team-roles --set teamRoles.enabled=false
# NodePools read only when asked for: the default renderings above have no such rule.
render karpenter --set karpenter.nodePools=true

# The PrometheusRule's spec.groups as a rules file, checked by promtool and unit-tested with
# alerts/<name>_test.yaml (promtool reads rule_files relative to the test file, so the tests are
# copied next to the rendered rules).
mkdir -p "$work/alerts"
cp "$chart"/alerts/*_test.yaml "$work/alerts/"
alerts() { # name, helm args...
	local name=$1
	shift
	if ! "$helm" template qo "$chart" -n "$ns" "$@" >"$work/alerts/$name.yaml" 2>"$work/alerts/$name.err"; then
		bad "helm template (PrometheusRule, $name): $(cat "$work/alerts/$name.err")"
		return
	fi
	tally < <("$py" "$here/chart-checks.py" prometheusrule "$name" "$ns" "$work/alerts/rules-$name.yaml" <"$work/alerts/$name.yaml" 2>&1)
	run "promtool check rules: the PrometheusRule's alerts ($name)" "$promtool" check rules "$work/alerts/rules-$name.yaml"
	run "promtool test rules: alerts/${name}_test.yaml" "$promtool" test rules "$work/alerts/${name}_test.yaml"
}
alerts default --set prometheusRule.enabled=true
alerts all-on -f "$chart/ci/all-on-values.yaml"
tested=$(cd "$chart/alerts" && ls -- *_test.yaml | tr '\n' ' ')
if [ "$tested" = "all-on_test.yaml default_test.yaml " ]; then
	ok "every alerts/*_test.yaml has its rendering"
else
	bad "alerts/ holds $tested; chart-test.sh runs default_test.yaml and all-on_test.yaml only"
fi

refused "two replicas without leader election" "leaderElection.enabled is false" --set leaderElection.enabled=false --set replicaCount=2
refused "default replicas without leader election" "without leader election two replicas would both reconcile" --set leaderElection.enabled=false
printf 'replicaCount: "two"\n' >"$work/two.yaml"
refused "replicaCount: \"two\" in a values file" "at '/replicaCount': got string, want integer" -f "$work/two.yaml"
refused "replicaCount=two with --set-string" "at '/replicaCount': got string, want integer" --set-string replicaCount=two
refused "unknown top-level value" "additional properties 'replicas' not allowed" --set replicas=2
refused "unknown nested value" "at '/leaderElection': additional properties 'leaseNmae' not allowed" --set leaderElection.leaseNmae=x
refused "karpenter.nodePools: \"yes\"" "at '/karpenter/nodePools': got string, want boolean" --set-string karpenter.nodePools=yes
refused "logFormat: xml" "at '/logFormat': value must be one of" --set logFormat=xml
refused "probe.port out of range" "at '/probe/port': maximum" --set probe.port=70000
refused "image.pullPolicy: Sometimes" "at '/image/pullPolicy': value must be one of" --set image.pullPolicy=Sometimes
refused "serviceMonitor.interval: 30 seconds" "at '/serviceMonitor/interval'" --set "serviceMonitor.interval=30 seconds"
refused "ServiceMonitor without Service" "serviceMonitor.enabled needs service.enabled" --set serviceMonitor.enabled=true --set service.enabled=false
printf 'networkPolicy:\n  metricsFrom: [{}]\n' >"$work/empty-peer.yaml"
refused "networkPolicy.metricsFrom with an empty peer" "at '/networkPolicy/metricsFrom/0'" -f "$work/empty-peer.yaml"
refused "serviceAccount.create false without a name" "serviceAccount.name is required" --set serviceAccount.create=false
refused "prometheusRule.nearLimitRatio above 1" "at '/prometheusRule/nearLimitRatio': maximum" --set-json prometheusRule.nearLimitRatio=1.5
refused "prometheusRule.nearLimitRatio 0" "at '/prometheusRule/nearLimitRatio': exclusiveMinimum" --set prometheusRule.nearLimitRatio=0
refused "prometheusRule.exhaustionLeadTime: 7 days" "at '/prometheusRule/exhaustionLeadTime'" --set "prometheusRule.exhaustionLeadTime=7 days"
refused "prometheusRule.requestOpenTooLong empty" "at '/prometheusRule/requestOpenTooLong'" --set prometheusRule.requestOpenTooLong=
refused "prometheusRule.for of an unknown alert" "at '/prometheusRule/for': additional properties 'QuotaNearLimt' not allowed" --set prometheusRule.for.QuotaNearLimt=5m
refused "prometheusRule.for.QuotaOperatorDown: soon" "at '/prometheusRule/for/QuotaOperatorDown'" --set prometheusRule.for.QuotaOperatorDown=soon
refused "prometheusRule.severity with a space" "at '/prometheusRule/severity/QuotaNearLimit'" --set "prometheusRule.severity.QuotaNearLimit=very bad"
refused "prometheusRule.selector with a label name PromQL cannot have" "invalid propertyName 'app-name'" --set prometheusRule.selector.app-name=x
printf 'prometheusRule:\n  additionalRules: [{alert: X}]\n' >"$work/rule-no-expr.yaml"
refused "prometheusRule.additionalRules without expr" "at '/prometheusRule/additionalRules/0'" -f "$work/rule-no-expr.yaml"

tally < <("$py" "$here/chart-checks.py" dashboard "$chart/dashboards/quota-operator.json" "$work/dashboard-rules.yaml" 2>&1)
run "promtool check rules: every dashboard query parses" "$promtool" check rules "$work/dashboard-rules.yaml"
tally < <("$py" "$here/chart-checks.py" readme "$chart/README.md" "$chart" 2>&1)

# The image the chart runs: every Dockerfile's bases pinned by digest (or scratch).
run "base images pinned by digest (tools/pin-images.sh --check)" "$here/pin-images.sh" --check

if "$helm" package "$chart" -d "$work" >"$work/package.out" 2>&1; then
	tgz=$(ls "$work"/quota-operator-*.tgz)
	files=$(tar tzf "$tgz")
	if grep -q 'quota-operator/dashboards/quota-operator.json' <<<"$files" &&
		grep -q 'quota-operator/values.schema.json' <<<"$files" &&
		grep -q 'quota-operator/crds/' <<<"$files" &&
		! grep -q 'testdata/\|/ci/\|/alerts/' <<<"$files"; then
		ok "helm package: $(basename "$tgz") has the dashboard, schema and CRDs, no test data"
	else
		bad "helm package contents: $files"
	fi
else
	bad "helm package: $(cat "$work/package.out")"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
