#!/usr/bin/env bash
# The image, run as the chart runs it: podman with runc, user 65532, a read-only root filesystem,
# every capability dropped, no privilege escalation, seccomp on, and the service-account token
# mounted as the kubelet mounts it (a read-only projected volume: ..data symlinks, files of group
# 65532, the fsGroup), against the test API server (tools/controlplane) as the chart's
# ServiceAccount, with the chart's arguments and environment and the cloud simulator behind it.
# Passes when a QuotaRequirement is Satisfied, /readyz answers, the process is what the chart asks
# for, and the container wrote nothing and logged no write refused.
#
#   tools/image-test.sh [IMAGE]       (default: tools/image.sh builds it)
#
# Prints one line per check and "N passed, M failed"; exits non-zero on any failure.
# Env: QO_IMAGE_TEST_DIR (state; default a temp dir), CARGO_TARGET_DIR, QO_SIM_BIN
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=image/containers-env.sh
. "$here/image/containers-env.sh"
for tool in podman kubectl jq curl; do
	command -v "$tool" >/dev/null || { echo "image-test: $tool not found in PATH" >&2; exit 1; }
done

image=${1:-}
if [ -z "$image" ]; then
	image=$("$here/image.sh" | tail -n 1) || { echo "image-test: tools/image.sh failed" >&2; exit 1; }
fi

work=${QO_IMAGE_TEST_DIR:-$(mktemp -d)}
mkdir -p "$work"
name=qo-image-test-$$
sim_pid=''
cleanup() {
	podman rm -f -t 2 "$name" >/dev/null 2>&1
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null
	"$here/controlplane/stop.sh" "$work/cp" >/dev/null 2>&1
	[ -n "${QO_IMAGE_TEST_DIR:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" = 0 ]; exit; }

# --- the image's own configuration ---------------------------------------------------------------
cfg=$(podman image inspect "$image" | jq '.[0]')
size=$(echo "$cfg" | jq '.Size')
limit=$((32 * 1024 * 1024))
if [ "$size" -le "$limit" ]; then
	ok "image $image is $(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }') MiB uncompressed (at most 32)"
else
	bad "image is $size bytes, over 32 MiB"
fi
user=$(echo "$cfg" | jq -r '.Config.User')
[ "$user" = 65532:65532 ] && ok "image user $user (numeric)" || bad "image user '$user', want 65532:65532"
ep=$(echo "$cfg" | jq -c '[.Config.Entrypoint, .Config.Cmd]')
[ "$ep" = '[["/usr/local/bin/quota-operator"],["run"]]' ] && ok "entrypoint and command $ep" || bad "entrypoint/cmd $ep"
labels=$(echo "$cfg" | jq -r '.Config.Labels // {} | to_entries[] | "\(.key)=\(.value)"')
for key in title version revision created url licenses; do
	v=$(echo "$labels" | sed -n "s/^org\.opencontainers\.image\.$key=//p")
	if [ -n "$v" ] && [ "$v" != unknown ]; then ok "label org.opencontainers.image.$key=$v"; else bad "label org.opencontainers.image.$key missing"; fi
done
# No shell, no package manager: nothing but the binary and its runtime files.
files=$(podman run --rm --entrypoint /usr/local/bin/quota-operator "$image" --version 2>&1)
[ -n "$files" ] && ok "the binary runs in the image: $files" || bad "quota-operator --version printed nothing"
if podman run --rm --entrypoint /bin/sh "$image" -c true >/dev/null 2>&1; then
	bad "the image has a shell"
else
	ok "no /bin/sh in the image"
fi

# --- the test API server, the chart's ServiceAccount, the simulator ------------------------------
kc=$(QO_WATCH_PID=$$ "$here/controlplane/start.sh" "$work/cp" | tail -n 1) || { bad "control plane did not start"; finish; }
k() { kubectl --kubeconfig "$kc" "$@"; }
ns=qo-image
sa=$("$here/chart-install.sh" "$kc" "$ns" 2>"$work/install.log" | tail -n 1) || { bad "chart install: $(tail -3 "$work/install.log")"; finish; }
api_port=$(sed -n 's|.*server: https://127.0.0.1:\([0-9]*\)|\1|p' "$kc")

sim=$("$root/tools/sim-bin.sh")
cat >"$work/scenario.yaml" <<'EOF'
aws:
  accounts:
    AKIAIMAGETESTEXAMPLE: "111111111111"
  quotas:
  - {serviceCode: ec2, quotaCode: L-34B43A08, value: 640}
  schedule:
    default: {outcome: approve, caseOpenedAfter: 1s, closeAfter: 2s}
EOF
"$sim" --scenario "$work/scenario.yaml" --listen 127.0.0.1:0 >"$work/sim.out" 2>"$work/sim.log" &
sim_pid=$!
endpoint=''
for _ in $(seq 100); do
	endpoint=$(sed -n 's/^AWS Service Quotas simulator: //p' "$work/sim.out")
	[ -n "$endpoint" ] && break
	sleep 0.1
done
[ -n "$endpoint" ] || { bad "simulator did not start: $(tail -3 "$work/sim.log")"; finish; }

# The token as the kubelet mounts it: a projected volume with a timestamped dir, ..data and
# symlinks to it, group-readable by the pod's fsGroup, read-only in the container.
sec=$work/serviceaccount
ts=..$(date -u +%Y_%m_%d_%H_%M_%S).000000001
mkdir -p "$sec/$ts"
k -n "$ns" create token "$sa" --duration 2h >"$sec/$ts/token" || { bad "TokenRequest for $sa"; finish; }
cp "$work/cp/pki/ca.crt" "$sec/$ts/ca.crt"
printf '%s' "$ns" >"$sec/$ts/namespace"
ln -s "$ts" "$sec/..data"
for f in token ca.crt namespace; do ln -s "..data/$f" "$sec/$f"; done
chown -R 0:65532 "$sec"
chmod 0750 "$sec" "$sec/$ts"
chmod 0640 "$sec/$ts"/*

# The chart's Deployment, as rendered and installed, gives the arguments and environment.
dep=$(k -n "$ns" get deployment -l "app.kubernetes.io/instance=quota-operator-$ns" -o json | jq '.items[0]')
ctr=$(echo "$dep" | jq '.spec.template.spec.containers[0]')
mapfile -t args < <(echo "$ctr" | jq -r '.args[]')
probe_port=$(echo "$ctr" | jq -r '.ports[0].containerPort')
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if port_taken "$probe_port"; then probe_port=$((20000 + RANDOM % 10000)); fi
for i in "${!args[@]}"; do
	[ "${args[$i]}" = --probe-addr ] && args[i + 1]=127.0.0.1:$probe_port
done
envs=()
while IFS= read -r e; do envs+=(--env "$e"); done < <(echo "$ctr" | jq -r '.env[] | select(.value != null) | "\(.name)=\(.value)"')
sc=$(echo "$ctr" | jq '.securityContext')
psc=$(echo "$dep" | jq '.spec.template.spec.securityContext')
run_user=$(echo "$sc" | jq -r '"\(.runAsUser):\(.runAsGroup)"')
fs_group=$(echo "$psc" | jq -r '.fsGroup')
sec_opts=()
[ "$(echo "$sc" | jq -r '.allowPrivilegeEscalation')" = false ] && sec_opts+=(--security-opt no-new-privileges)
ro=()
[ "$(echo "$sc" | jq -r '.readOnlyRootFilesystem')" = true ] && ro=(--read-only --read-only-tmpfs=false)
caps=()
[ "$(echo "$sc" | jq -r '.capabilities.drop | join(",")')" = ALL ] && caps=(--cap-drop ALL)

podman run -d --name "$name" --network host \
	--user "$run_user" --group-add "$fs_group" "${ro[@]}" "${caps[@]}" "${sec_opts[@]}" \
	-v "$sec:/var/run/secrets/kubernetes.io/serviceaccount:ro" \
	--env KUBERNETES_SERVICE_HOST=127.0.0.1 --env KUBERNETES_SERVICE_PORT="$api_port" \
	--env POD_NAME="$name" --env POD_NAMESPACE="$ns" \
	"${envs[@]}" \
	--env QO_AWS_ENDPOINT_URL="$endpoint" --env QO_POLL_SECONDS=1 --env QO_AWS_CACHE_TTL_SECONDS=1 \
	--env AWS_ACCESS_KEY_ID=AKIAIMAGETESTEXAMPLE --env AWS_SECRET_ACCESS_KEY=secret --env AWS_REGION=us-east-1 \
	--env AWS_EC2_METADATA_DISABLED=true \
	"$image" "${args[@]}" >"$work/cid" 2>"$work/run.err" || { bad "podman run: $(cat "$work/run.err")"; finish; }
ok "podman run (runtime $(podman inspect -f '{{.OCIRuntime}}' "$name"), user $run_user, groups +$fs_group, ${ro[*]:-(writable root)}, ${caps[*]:-(default caps)}, ${sec_opts[*]:-(escalation allowed)})"

# --- what runs -----------------------------------------------------------------------------------
pid=$(podman inspect -f '{{.State.Pid}}' "$name")
status=/proc/$pid/status
uid=$(awk '/^Uid:/ { print $2 ":" $3 ":" $4 ":" $5 }' "$status")
[ "$uid" = 65532:65532:65532:65532 ] && ok "process uid 65532 (real, effective, saved, fs)" || bad "process uids $uid"
gid=$(awk '/^Gid:/ { print $2 }' "$status")
[ "$gid" = 65532 ] && ok "process gid 65532" || bad "process gid $gid"
capeff=$(awk '/^CapEff:/ { print $2 }' "$status")
capbnd=$(awk '/^CapBnd:/ { print $2 }' "$status")
[ "$capeff" = 0000000000000000 ] && [ "$capbnd" = 0000000000000000 ] && ok "no capabilities (effective and bounding sets empty)" || bad "capabilities eff=$capeff bnd=$capbnd"
nnp=$(awk '/^NoNewPrivs:/ { print $2 }' "$status")
[ "$nnp" = 1 ] && ok "no_new_privs set" || bad "NoNewPrivs=$nnp"
seccomp=$(awk '/^Seccomp:/ { print $2 }' "$status")
[ "$seccomp" = 2 ] && ok "seccomp filter on (mode 2)" || bad "Seccomp=$seccomp"
rootopts=$(awk '$5 == "/" { print $6 }' "/proc/$pid/mountinfo" | head -n 1)
case ",$rootopts," in *,ro,*) ok "root filesystem mounted read-only ($rootopts)" ;; *) bad "root filesystem options $rootopts" ;; esac

# --- it works ------------------------------------------------------------------------------------
k apply -f - >/dev/null <<EOF
apiVersion: quota-operator.dev/v1alpha1
kind: CloudAccount
metadata: {name: image-test}
spec:
  aws: {accountId: "111111111111"}
  namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: team-image}}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-image}
---
apiVersion: quota-operator.dev/v1alpha1
kind: QuotaRequirement
metadata: {name: spot, namespace: team-image}
spec:
  accountRef: image-test
  aws: {serviceCode: ec2, quotaCode: L-34B43A08}
  regions: [us-east-1]
  desiredValue: 1000
EOF
if k -n team-image wait qr/spot --for=condition=Ready --timeout=90s >/dev/null 2>&1; then
	ok "QuotaRequirement Satisfied through the image: $(k -n team-image get qr spot -o jsonpath='{.status.targets[0].state} {.status.targets[0].currentValue}')"
else
	bad "QuotaRequirement not Ready in 90s: $(k -n team-image get qr spot -o jsonpath='{.status.targets}' 2>&1 | cut -c1-300)"
fi
filed=$(curl -fsS "$endpoint/_sim/aws/filed" | jq 'length')
[ "$filed" = 1 ] && ok "the simulator recorded exactly 1 request" || bad "the simulator recorded $filed requests, want 1"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$probe_port/readyz")
[ "$code" = 200 ] && ok "/readyz answers 200" || bad "/readyz answered $code"
holder=$(k -n "$ns" get lease quota-operator-leader -o jsonpath='{.spec.holderIdentity}' 2>/dev/null)
[ "$holder" = "$name" ] && ok "it holds the Lease as POD_NAME ($holder)" || bad "lease holder '$holder', want $name"

# --- nothing written, nothing refused ------------------------------------------------------------
state=$(podman inspect -f '{{.State.Status}}' "$name")
[ "$state" = running ] && ok "still running" || bad "container is $state"
# The runtime's own mount points (podman's /etc/hosts, /etc/hostname, /etc/resolv.conf,
# /run/.containerenv, the token's directory) are not the binary's writes; anything else would be.
runtime_made='^[ACD] (/etc|/etc/hosts|/etc/hostname|/etc/resolv.conf|/run|/run/.containerenv|/var|/var/run|/var/run/secrets|/var/run/secrets/kubernetes.io|/var/run/secrets/kubernetes.io/serviceaccount)$'
changes=$(podman diff "$name" 2>&1 | grep -Ev "$runtime_made")
[ -z "$changes" ] && ok "no file changed in the container but the runtime's mount points (podman diff)" || bad "files changed: $(echo "$changes" | head -5 | tr '\n' ' ')"
podman logs "$name" >"$work/operator.log" 2>&1
if grep -Eiq 'read-only file system|permission denied|EROFS|EACCES' "$work/operator.log"; then
	bad "the log shows a refused write or read: $(grep -Ei 'read-only file system|permission denied|EROFS|EACCES' "$work/operator.log" | head -2)"
else
	ok "no 'read-only file system' or 'permission denied' in $(wc -l <"$work/operator.log") log lines"
fi

finish
