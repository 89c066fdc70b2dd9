#!/usr/bin/env bash
# The main job on the embedded default: a real kube-apiserver + etcd (tools/controlplane), the
# AWS Service Quotas simulator, the operator, and every example in examples/, shown with
# `kubectl get qr` until each requirement settles. Ends by itself; exits non-zero if they don't.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/quota-operator-demo.XXXXXX")
timeout_s=${QO_DEMO_TIMEOUT:-120}
pids=()

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	"$root/tools/controlplane/stop.sh" "$work/controlplane" >/dev/null 2>&1 || true
}
trap cleanup EXIT

say "building quota-operator and the cloud simulator (quota-sim)"
# -p for both: the root package is the only default member, so --bin quota-sim alone is not found.
cargo build --quiet -p quota-operator -p quota-sim --bins
bin=${CARGO_TARGET_DIR:-$root/target}/debug/quota-operator
sim=${CARGO_TARGET_DIR:-$root/target}/debug/quota-sim

say "starting a local control plane (kube-apiserver + etcd; the first run builds them)"
KUBECONFIG=$(QO_WATCH_PID=$$ tools/controlplane/start.sh "$work/controlplane" | tail -n 1)
export KUBECONFIG
kubectl version 2>/dev/null | grep -i server || true

say "starting the cloud simulator: AWS Service Quotas and GCP Cloud Quotas (examples/simulator/scenario.yaml)"
"$sim" --scenario examples/simulator/scenario.yaml --listen 127.0.0.1:0 >"$work/sim.out" 2>"$work/sim.log" &
pids+=($!)
for _ in $(seq 50); do
	endpoint=$(sed -n 's/^AWS Service Quotas simulator: //p' "$work/sim.out")
	[ -n "$endpoint" ] && break
	sleep 0.1
done
[ -n "${endpoint:-}" ] || { cat "$work/sim.log"; echo "the simulator did not start" >&2; exit 1; }
echo "simulator at $endpoint"

say "installing the CRDs"
kubectl apply --server-side -f crds/crds.yaml
kubectl wait --for=condition=Established crd --all --timeout=60s >/dev/null

say "starting the operator (the real AWS SDK and Cloud Quotas client, pointed at the simulator)"
AWS_ACCESS_KEY_ID=AKIADEMOPRODEXAMPLE AWS_SECRET_ACCESS_KEY=demo-secret AWS_REGION=us-east-1 \
	AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	QO_AWS_ENDPOINT_URL=$endpoint QO_GCP_ENDPOINT_URL=$endpoint QO_PROBE_ADDR=127.0.0.1:0 QO_POLL_SECONDS=1 QO_RESYNC_SECONDS=10 QO_AWS_CACHE_TTL_SECONDS=1 QO_GCP_CACHE_TTL_SECONDS=1 \
	"$bin" run >"$work/operator.log" 2>&1 &
pids+=($!)

say "applying examples/"
kubectl apply -f examples/

say "watching kubectl get qr -n team-batch (until every requirement settles)"
# Settled: every object has per-region states and none is still moving (Requested, Queued, Error).
moving='^(Requested|Queued|Error)$'
last=""
deadline=$((SECONDS + timeout_s))
while :; do
	table=$(kubectl get qr -n team-batch 2>/dev/null || true)
	if [ "$table" != "$last" ]; then
		printf '\n[%3ss]\n%s\n' "$SECONDS" "$table"
		last=$table
	fi
	objects=$(kubectl get qr -n team-batch -o name | grep -c . || true)
	observed=$(kubectl get qr -n team-batch -o jsonpath='{range .items[?(@.status.targets)]}{.metadata.name}{"\n"}{end}' | grep -c . || true)
	states=$(kubectl get qr -n team-batch -o jsonpath='{range .items[*].status.targets[*]}{.state}{"\n"}{end}')
	in_flight=$(printf '%s\n' "$states" | grep -Ec "$moving" || true)
	if [ "$objects" -gt 0 ] && [ "$observed" -eq "$objects" ] && [ "$in_flight" -eq 0 ]; then break; fi
	if [ "$SECONDS" -ge "$deadline" ]; then
		echo "not settled after ${timeout_s}s; operator log:" >&2
		tail -n 40 "$work/operator.log" >&2
		exit 1
	fi
	sleep 1
done

say "what the simulator received: every AWS increase request filed, every GCP QuotaPreference written"
python3 - "$endpoint" <<'PY'
import json, sys, urllib.request
endpoint = sys.argv[1]
def get(path):
    with urllib.request.urlopen(endpoint + path) as r:
        return json.load(r)
for r in get("/_sim/aws/filed"):
    print(f"  aws  {r['region']:<14} {r['serviceCode']}/{r['quotaCode']} -> {r['desiredValue']:g}")
for w in get("/_sim/gcp/writes"):
    print(f"  gcp  {w['id']} -> {w['preferredValue']}")
PY

say "capacity: the vCPUs the operator computed from the clouds' catalogs (status.targets[].capacity)"
kubectl get qr spot-fleet-vcpu checkout-fargate-vcpu gcp-n2-machines -n team-batch \
	-o jsonpath='{range .items[*]}{.metadata.name}{":\n"}{range .status.targets[*]}{"  "}{.region}{": "}{.capacity.arithmetic}{" (share "}{.capacity.share}{" of "}{.capacity.total}{")\n"}{end}{end}'

say "why p-spot is Denied and gcp-cpus PartiallyGranted"
kubectl get qr p-spot gcp-cpus -n team-batch \
	-o jsonpath='{range .items[*]}{.metadata.name}{":\n"}{range .status.targets[*]}{"  "}{.region}{": "}{.message}{"\n"}{end}{end}'

say "events"
kubectl get events -n team-batch --sort-by=.metadata.creationTimestamp \
	-o custom-columns=OBJECT:.involvedObject.name,REASON:.reason,MESSAGE:.message 2>/dev/null ||
	kubectl get events -n team-batch

say "done: every requirement settled (logs in $work)"
