#!/usr/bin/env bash
# The chart on a real node (tools/node: kubelet, containerd, runc, CNI bridge, kube-proxy, with
# kube-controller-manager and kube-scheduler beside the API server) with the image tools/image.sh
# builds, imported into containerd: `helm install` with the chart's defaults (two replicas,
# leader election, PDB, hardened pod), the simulator behind it, in a namespace that enforces the
# restricted Pod Security Standard. Checks:
#
# - both pods Running and Ready through the kubelet's own probes, no restarts; the container runs
#   as the chart says (uid 65532, no capabilities, no_new_privs, read-only root) and reaches the
#   API server through KUBERNETES_SERVICE_HOST (kube-proxy) with its mounted token;
# - only the Lease holder reconciles: the standby's metrics show no reconcile, no cloud call;
# - the PodDisruptionBudget: one eviction allowed, the second refused;
# - `kubectl delete pod` of the leader: the handover time, and zero duplicate requests (the
#   simulator's record of every request filed), with two requests open across it (the next
#   leader must adopt them) and two filings in flight;
# - `kubectl rollout restart` and `helm upgrade`: the same, zero duplicates;
# - `helm uninstall`: QuotaRequirements, their status and the cloud's requests stay as they were.
#
#   tools/node-test.sh [IMAGE]     (default: tools/image.sh builds it)
#
# Prints one line per check and "N passed, M failed"; exits non-zero on any failure.
# Env: QO_NODE_TEST_DIR (state; default a temp dir, removed), QO_SIM_BIN, CARGO_TARGET_DIR
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=image/containers-env.sh
. "$here/image/containers-env.sh"

image=${1:-}
if [ -z "$image" ]; then
	image=$("$here/image.sh" | tail -n 1) || { echo "node-test: tools/image.sh failed" >&2; exit 1; }
fi
work=${QO_NODE_TEST_DIR:-$(mktemp -d)}
mkdir -p "$work"
sim_pid=''
cleanup() {
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null
	"$here/node/stop.sh" "$work/node" >/dev/null 2>&1
	[ -n "${QO_NODE_TEST_DIR:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" = 0 ]; exit; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

rm -f "$work/image.tar"
podman save --quiet --format docker-archive -o "$work/image.tar" "$image" || { bad "podman save $image"; finish; }
kc=$(QO_WATCH_PID=$$ "$here/node/start.sh" "$work/node" "$work/image.tar" 2>"$work/node-start.log" | tail -n 1)
if [ -z "$kc" ] || [ ! -s "$kc" ]; then
	bad "the node did not start: $(tail -n 8 "$work/node-start.log")"
	finish
fi
ok "$(grep 'Ready in' "$work/node-start.log" | sed 's/^node\/start.sh: //')"
k() { kubectl --kubeconfig "$kc" "$@"; }
node_ip=10.244.0.1
echo "versions: $(k version -o json | jq -r '"API server \(.serverVersion.gitVersion)"'), $(k get node qo-node -o jsonpath='kubelet {.status.nodeInfo.kubeletVersion}, runtime {.status.nodeInfo.containerRuntimeVersion}, kernel {.status.nodeInfo.kernelVersion}'), $(runc --version | head -n 1), CNI plugins $(dpkg-query -W -f '${Version}' containernetworking-plugins 2>/dev/null)"

# --- the simulator, on the node's address --------------------------------------------------------
sim=$("$root/tools/sim-bin.sh")
# Requests stay open 25 s, so each handover below happens with requests in flight.
cat >"$work/scenario.yaml" <<'EOF'
aws:
  accounts:
    AKIANODETESTEXAMPLE: "111111111111"
  quotas:
  - {serviceCode: ec2, quotaCode: L-34B43A08, value: 640}
  schedule:
    default: {outcome: approve, caseOpenedAfter: 2s, closeAfter: 25s}
    rules:
    # The request still open when helm uninstall runs stays open through it.
    - {region: ap-east-1, outcome: approve, caseOpenedAfter: 2s, closeAfter: 600s}
EOF
"$sim" --scenario "$work/scenario.yaml" --listen "$node_ip:0" >"$work/sim.out" 2>"$work/sim.log" &
sim_pid=$!
endpoint=''
for _ in $(seq 100); do
	endpoint=$(sed -n 's/^AWS Service Quotas simulator: //p' "$work/sim.out")
	[ -n "$endpoint" ] && break
	sleep 0.1
done
[ -n "$endpoint" ] || { bad "simulator did not start: $(tail -3 "$work/sim.log")"; finish; }
filed() { curl -fsS "$endpoint/_sim/aws/filed"; }

# --- helm install, restricted namespace ----------------------------------------------------------
ns=quota-system
k create namespace "$ns" >/dev/null
k label namespace "$ns" pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/enforce-version=latest >/dev/null
helm=$("$here/helm/build.sh" | tail -n 1)/helm
export HELM_CACHE_HOME=$work/helm/cache HELM_CONFIG_HOME=$work/helm/config HELM_DATA_HOME=$work/helm/data
cat >"$work/values.yaml" <<EOF
awsEndpointUrl: $endpoint
pollSeconds: 1
resyncSeconds: 10
awsCacheTtlSeconds: 1
extraEnv:
  - {name: AWS_ACCESS_KEY_ID, value: AKIANODETESTEXAMPLE}
  - {name: AWS_SECRET_ACCESS_KEY, value: secret}
  - {name: AWS_REGION, value: us-east-1}
  - {name: AWS_EC2_METADATA_DISABLED, value: "true"}
EOF
release=quota-operator
deploy=deployment/quota-operator
sel=app.kubernetes.io/instance=$release
t=$(now)
if out=$("$helm" install "$release" "$root/charts/quota-operator" --kubeconfig "$kc" -n "$ns" \
	-f "$work/values.yaml" --wait --timeout 180s 2>&1); then
	ok "helm install --wait with the chart's default image ($(k -n "$ns" get $deploy -o jsonpath='{.spec.template.spec.containers[0].image}')) in $(since "$t")s"
else
	bad "helm install: $(echo "$out" | tail -n 3)"
	k -n "$ns" get pods -o wide >&2
	k -n "$ns" get events --sort-by=.lastTimestamp 2>/dev/null | tail -n 15 >&2
	finish
fi

pods_ready() { # the names of Ready pods of the release, not terminating
	k -n "$ns" get pods -l "$sel" -o json |
		jq -r '.items[] | select(.metadata.deletionTimestamp == null) | select(any(.status.conditions[]?; .type == "Ready" and .status == "True")) | .metadata.name'
}
wait_two_ready() {
	local until=$(($(date +%s) + ${1:-120}))
	while [ "$(pods_ready | grep -c .)" -ne 2 ] || [ "$(k -n "$ns" get pods -l "$sel" -o name | grep -c .)" -ne 2 ]; do
		[ "$(date +%s)" -lt "$until" ] || return 1
		sleep 0.5
	done
}
if wait_two_ready 60; then
	ok "2 replicas Running and Ready (kubelet's readiness probe on /readyz): $(pods_ready | tr '\n' ' ')"
else
	bad "not 2 Ready pods: $(k -n "$ns" get pods -l "$sel" --no-headers 2>&1 | tr '\n' ';')"
	finish
fi
pod_json=$(k -n "$ns" get pods -l "$sel" -o json)
restarts=$(echo "$pod_json" | jq '[.items[].status.containerStatuses[].restartCount] | add')
[ "$restarts" = 0 ] && ok "no restarts (the liveness probe on /healthz passes)" || bad "$restarts restarts"
admitted=$(k get namespace "$ns" -o jsonpath='{.metadata.labels.pod-security\.kubernetes\.io/enforce}')
[ "$admitted" = restricted ] && ok "namespace $ns enforces Pod Security '$admitted' and admitted the pods" || bad "namespace label $admitted"
root_pod=$(echo "$pod_json" | jq '.items[0] | {apiVersion: "v1", kind: "Pod", metadata: {name: "root-check", namespace: .metadata.namespace}, spec: (.spec | .nodeName = null | .securityContext.runAsUser = 0 | .securityContext.runAsNonRoot = false | .containers[0].securityContext.runAsUser = 0 | .containers[0].securityContext.runAsNonRoot = false)}')
if out=$(echo "$root_pod" | k create --dry-run=server -f - 2>&1); then
	bad "a root pod was admitted in $ns: the restricted check proves nothing"
else
	ok "a root variant of the pod is refused there ($(echo "$out" | grep -o 'violates PodSecurity "restricted[^"]*"' | head -1))"
fi

# The container as the kubelet and runc run it (the operator's process on this host).
ctr_bin=$(compgen -G "${QO_CACHE_DIR:-$HOME/.cache/quota-operator}/ctr/*/bin/ctr" | head -n 1)
pid_of() { # pod name -> host pid of the operator container's process
	local cid
	cid=$(k -n "$ns" get pod "$1" -o jsonpath='{.status.containerStatuses[0].containerID}')
	cid=${cid#containerd://}
	"$ctr_bin" --address "$work/node/containerd/containerd.sock" -n k8s.io tasks ls 2>/dev/null |
		awk -v c="$cid" '$1 == c { print $2 }'
}
first=$(pods_ready | head -n 1)
pid=$(pid_of "$first")
if [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; then
	st=/proc/$pid/status
	uid=$(awk '/^Uid:/ { print $2 ":" $3 }' "$st")
	capeff=$(awk '/^CapEff:/ { print $2 }' "$st")
	nnp=$(awk '/^NoNewPrivs:/ { print $2 }' "$st")
	sc=$(awk '/^Seccomp:/ { print $2 }' "$st")
	rootopts=$(awk '$5 == "/" { print $6 }' "/proc/$pid/mountinfo" | head -n 1)
	if [ "$uid" = 65532:65532 ] && [ "$capeff" = 0000000000000000 ] && [ "$nnp" = 1 ] && [ "$sc" = 2 ] && [[ ",$rootopts," == *,ro,* ]]; then
		ok "pod $first's process: uid $uid, CapEff $capeff, NoNewPrivs $nnp, seccomp $sc, root $rootopts"
	else
		bad "pod $first's process: uid $uid, CapEff $capeff, NoNewPrivs $nnp, seccomp $sc, root $rootopts"
	fi
	envs=$(tr '\0' '\n' <"/proc/$pid/environ")
	host=$(echo "$envs" | sed -n 's/^KUBERNETES_SERVICE_HOST=//p')
	[ "$host" = 10.0.0.1 ] && ok "in-cluster config from the kubelet's environment: KUBERNETES_SERVICE_HOST=$host (kube-proxy routes it)" || bad "KUBERNETES_SERVICE_HOST=$host"
	mnt=$(awk '$5 == "/var/run/secrets/kubernetes.io/serviceaccount" { print $6, $9 }' "/proc/$pid/mountinfo")
	[[ "$mnt" == ro* ]] && ok "service-account token mounted read-only by the kubelet ($mnt)" || bad "token mount: '$mnt'"
else
	bad "no host pid for pod $first's container"
fi

# --- leader election: only the holder reconciles -------------------------------------------------
lease=quota-operator-leader
holder() { k -n "$ns" get lease "$lease" -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }
pod_ip() { k -n "$ns" get pod "$1" -o jsonpath='{.status.podIP}'; }
metric() { # pod, metric name -> sum of its samples
	curl -fsS -m 5 "http://$(pod_ip "$1"):8080/metrics" | awk -v m="$2" '$1 == m || index($1, m "{") == 1 { s += $NF } END { print s + 0 }'
}
k apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Namespace
metadata:
  name: team-node
  labels: {quota-operator.dev/allowed: "true"}
---
apiVersion: quota-operator.dev/v1alpha1
kind: CloudAccount
metadata: {name: node-aws}
spec:
  aws: {accountId: "111111111111"}
  namespaceSelector: {matchLabels: {quota-operator.dev/allowed: "true"}}
EOF
regions=(us-east-1 us-east-2 us-west-1 us-west-2 eu-west-1 eu-west-2 eu-west-3 eu-central-1
	eu-north-1 ap-south-1 ap-southeast-1 ap-southeast-2 ap-northeast-1 ap-northeast-2 ca-central-1 sa-east-1)
apply_qrs() { # FIRST LAST: one QuotaRequirement per region, each needing one increase
	local i
	for i in $(seq "$1" "$2"); do
		cat <<-EOF
			apiVersion: quota-operator.dev/v1alpha1
			kind: QuotaRequirement
			metadata: {name: spot-${regions[$i]}, namespace: team-node}
			spec:
			  accountRef: node-aws
			  aws: {serviceCode: ec2, quotaCode: L-34B43A08}
			  regions: [${regions[$i]}]
			  desiredValue: 2000
			---
		EOF
	done | k apply -f - >/dev/null
}
count_filed() { filed | jq 'length'; }
duplicates() { filed | jq '[group_by(.region + "/" + .quotaCode)[] | length - 1] | add // 0'; }
wait_filed() { # N SECONDS
	local until=$(($(date +%s) + $2))
	while [ "$(count_filed)" -lt "$1" ]; do
		[ "$(date +%s)" -lt "$until" ] || return 1
		sleep 0.5
	done
}
all_satisfied() { # N: that many QuotaRequirements, every one Satisfied
	local states
	states=$(k -n team-node get qr -o jsonpath='{range .items[*]}{.status.targets[0].state}{"\n"}{end}')
	[ "$(echo "$states" | grep -c '^Satisfied$')" -eq "$1" ]
}
wait_satisfied() { # N SECONDS
	local until=$(($(date +%s) + $2))
	until all_satisfied "$1"; do
		[ "$(date +%s)" -lt "$until" ] || return 1
		sleep 1
	done
}
# Before each disruption: two requirements filed and open (the simulator holds them 25 s), so
# the next leader must adopt them, and two applied just before, so their filings are in flight.
prepare_disruption() { # FIRST: regions FIRST..FIRST+3
	apply_qrs "$1" $(($1 + 1))
	wait_filed $(($1 + 2)) 60 || bad "requests for regions $1..$(($1 + 1)) not filed within 60s"
	apply_qrs $(($1 + 2)) $(($1 + 3))
}
open_requests() { curl -fsS "$endpoint/_sim/aws/requests" | jq '[.[] | select(.status != "APPROVED" and .status != "DENIED" and .status != "CASE_CLOSED")] | length'; }
old_pods() { k -n "$ns" get pods -l "$sel" -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'; }
all_new() { # OLD_PODS: the Ready pods are none of them, and the Lease holder is one of the Ready
	local p
	for p in $(pods_ready); do
		echo "$1" | grep -qx "$p" && return 1
	done
	pods_ready | grep -qx "$(holder)"
}
wait_all_new() { # OLD_PODS
	local until=$(($(date +%s) + 120))
	until wait_two_ready 5 && all_new "$1"; do
		[ "$(date +%s)" -lt "$until" ] || return 1
		sleep 0.5
	done
}
check_phase() { # NAME EXPECTED_FILED
	if wait_satisfied "$2" 120; then ok "$1: all $2 QuotaRequirements Satisfied"; else bad "$1: not all $2 Satisfied: $(k -n team-node get qr --no-headers | awk '{ print $1, $5 }' | tr '\n' ';')"; fi
	local n d
	n=$(count_filed) d=$(duplicates)
	if [ "$n" = "$2" ] && [ "$d" = 0 ]; then
		ok "$1: the simulator recorded $n requests for $2 quotas, 0 duplicates"
	else
		bad "$1: the simulator recorded $n requests for $2 quotas, $d duplicates"
	fi
}

prepare_disruption 0
wait_filed 4 60 || bad "4 requests not filed within 60s (filed $(count_filed))"
leader=$(holder)
standby=$(pods_ready | grep -vx "$leader" | head -n 1)
if [ -n "$leader" ] && pods_ready | grep -qx "$leader"; then ok "Lease $lease held by pod $leader"; else bad "Lease holder '$leader' is not a Ready pod"; fi
lm=$(metric "$leader" quota_operator_leader) sm=$(metric "$standby" quota_operator_leader)
lr=$(metric "$leader" controller_runtime_reconcile_total) sr=$(metric "$standby" controller_runtime_reconcile_total)
lc=$(metric "$leader" quota_operator_cloud_api_calls_total) sc=$(metric "$standby" quota_operator_cloud_api_calls_total)
if [ "$lm" = 1 ] && [ "$sm" = 0 ] && [ "$lr" -gt 0 ] && [ "$sr" = 0 ] && [ "$lc" -gt 0 ] && [ "$sc" = 0 ]; then
	ok "only the leader reconciles: leader $leader leader=$lm reconciles=$lr cloud calls=$lc; standby $standby leader=$sm reconciles=$sr cloud calls=$sc"
else
	bad "leader $leader leader=$lm reconciles=$lr calls=$lc; standby $standby leader=$sm reconciles=$sr calls=$sc"
fi

# --- the PodDisruptionBudget ---------------------------------------------------------------------
evict() {
	k create --raw "/api/v1/namespaces/$ns/pods/$1/eviction" -f - <<-EOF 2>&1
		{"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "$1", "namespace": "$ns"}}
	EOF
}
allowed=$(k -n "$ns" get pdb quota-operator -o jsonpath='{.status.disruptionsAllowed}')
[ "$allowed" = 1 ] && ok "PodDisruptionBudget: disruptionsAllowed=1 with 2 healthy pods" || bad "PodDisruptionBudget disruptionsAllowed=$allowed"
if out=$(evict "$standby"); then ok "evicting the standby $standby is allowed"; else bad "evicting the standby: $out"; fi
if out=$(evict "$leader"); then
	bad "a second eviction was allowed while the first pod's replacement was not ready"
else
	ok "a second eviction (the leader) is refused: $(echo "$out" | grep -o 'disruption budget[^"]*' | head -n 1 | cut -c1-100)"
fi
wait_two_ready 120 || bad "2 Ready pods not back after the eviction"
check_phase "eviction of the standby" 4

# --- handover: kubectl delete pod of the leader, with filings in flight --------------------------
prepare_disruption 4
leader=$(holder)
echo "before deleting the leader: $(open_requests) requests open in the cloud"
t=$(now)
k -n "$ns" delete pod "$leader" --wait=false >/dev/null
new=''
while [ "$(awk -v a="$t" -v b="$(now)" 'BEGIN { print (b - a < 60) }')" = 1 ]; do
	h=$(holder)
	if [ -n "$h" ] && [ "$h" != "$leader" ]; then new=$h; break; fi
	sleep 0.1
done
handover=$(since "$t")
if [ -n "$new" ]; then ok "handover after kubectl delete pod $leader: $new holds the Lease after ${handover}s"; else bad "no new Lease holder within 60s of deleting $leader"; fi
wait_two_ready 120 || bad "2 Ready pods not back after deleting the leader"
check_phase "delete of the leader pod" 8

# --- kubectl rollout restart ---------------------------------------------------------------------
prepare_disruption 8
before=$(old_pods) old_holder=$(holder)
echo "before the rollout restart: $(open_requests) requests open in the cloud, holder $old_holder"
t=$(now)
k -n "$ns" rollout restart "$deploy" >/dev/null
if k -n "$ns" rollout status "$deploy" --timeout=180s >/dev/null 2>&1 && wait_all_new "$before"; then
	ok "kubectl rollout restart: 2 new pods Ready, $(holder) holds the Lease, $(since "$t")s"
else
	bad "rollout restart did not replace both pods: $(pods_ready | tr '\n' ' '), holder $(holder)"
fi
check_phase "rollout restart" 12

# --- helm upgrade --------------------------------------------------------------------------------
prepare_disruption 12
before=$(old_pods) old_holder=$(holder)
echo "before the helm upgrade: $(open_requests) requests open in the cloud, holder $old_holder"
t=$(now)
if out=$("$helm" upgrade "$release" "$root/charts/quota-operator" --kubeconfig "$kc" -n "$ns" \
	-f "$work/values.yaml" --set logLevel=debug --wait --timeout 180s 2>&1) && wait_all_new "$before"; then
	ok "helm upgrade (logLevel=debug, so a new pod template): 2 new pods Ready, $(holder) holds the Lease, $(since "$t")s"
else
	bad "helm upgrade did not replace both pods: $(echo "$out" | tail -n 2) $(pods_ready | tr '\n' ' ')"
fi
rl=$(k -n "$ns" get $deploy -o jsonpath='{.spec.template.spec.containers[0].env[?(@.name=="RUST_LOG")].value}')
[ "$rl" = debug ] && ok "the upgraded Deployment runs with RUST_LOG=$rl" || bad "RUST_LOG=$rl after the upgrade"
check_phase "helm upgrade" 16

# --- helm uninstall ------------------------------------------------------------------------------
# One more requirement whose request is open when the operator goes.
regions+=(ap-east-1)
apply_qrs 16 16
wait_filed 17 60 || bad "the 17th request not filed within 60s"
values() { # the quota's value in every region, as the cloud has it
	local r
	for r in "${regions[@]}"; do
		printf '%s=%s\n' "$r" "$(curl -fsS "$endpoint/_sim/aws/values/111111111111/$r/ec2/L-34B43A08" | jq -c .)"
	done
}
before_values=$(values)
before_qr=$(k -n team-node get qr -o json | jq -S '[.items[] | {name: .metadata.name, spec, status: (.status | del(.conditions[]?.lastTransitionTime))}]')
before_req=$(curl -fsS "$endpoint/_sim/aws/requests" | jq -S '[.[] | {id, region, desiredValue}]')
open_at_uninstall=$(open_requests)
if out=$("$helm" uninstall "$release" --kubeconfig "$kc" -n "$ns" --wait --timeout 120s 2>&1); then ok "helm uninstall"; else bad "helm uninstall: $out"; fi
for _ in $(seq 120); do
	[ -z "$(k -n "$ns" get pods -l "$sel" -o name 2>/dev/null)" ] && break
	sleep 0.5
done
[ -z "$(k -n "$ns" get pods -l "$sel" -o name 2>/dev/null)" ] && ok "the operator's pods are gone" || bad "pods still there after uninstall"
sleep 3
after_qr=$(k -n team-node get qr -o json | jq -S '[.items[] | {name: .metadata.name, spec, status: (.status | del(.conditions[]?.lastTransitionTime))}]')
after_req=$(curl -fsS "$endpoint/_sim/aws/requests" | jq -S '[.[] | {id, region, desiredValue}]')
after_values=$(values)
nqr=$(echo "$after_qr" | jq length)
if [ "$before_qr" = "$after_qr" ] && [ "$nqr" = 17 ]; then ok "after uninstall the $nqr QuotaRequirements and their status are as they were"; else bad "QuotaRequirements changed by the uninstall ($nqr left)"; fi
if [ "$before_req" = "$after_req" ] && [ "$(echo "$after_req" | jq length)" = 17 ] && [ "$open_at_uninstall" -ge 1 ]; then
	ok "after uninstall the cloud's 17 requests are as they were, the $open_at_uninstall open at uninstall among them (none withdrawn, none added)"
else
	bad "the cloud's requests changed with the uninstall (open at uninstall: $open_at_uninstall)"
fi
if [ "$before_values" = "$after_values" ]; then ok "after uninstall the quota values in all ${#regions[@]} regions are as they were"; else bad "quota values changed with the uninstall"; fi
k get crd quotarequirements.quota-operator.dev cloudaccounts.quota-operator.dev -o name >/dev/null 2>&1 &&
	k get cloudaccount node-aws -o name >/dev/null 2>&1 && ok "CRDs and the CloudAccount stay" || bad "CRDs or CloudAccount gone"

echo "node test: handover ${handover}s after deleting the leader; requests filed: $(count_filed) for 17 quotas, $(duplicates) duplicates"
finish
