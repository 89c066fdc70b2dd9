#!/usr/bin/env bash
# Follows the README's quick-starts on a real kube-apiserver + etcd (tools/controlplane) with the
# chart, up to the point a real cloud is needed, running the README's own shell blocks:
# - a fenced block right after `<!-- quickstart: NAME:STEP ... -->` is run, for each NAME, in
#   STEP order, as a reader would paste it (bash -eu, from the repository's root, with this
#   project's helm and the test API server's kubeconfig);
# - a block after `<!-- quickstart-cloud: NAME:STEP ... -->` needs a real cloud or registry
#   (an image push, an IAM association, `kubectl wait` for a grant): it is only parsed (bash -n).
# Only the placeholders a reader replaces are replaced (the account id, and so the role ARN;
# the project; the registry; the cluster), and the checks find the replaced values where the
# reader would: on the ServiceAccount, in the CloudAccount, in the image. Then, per quick-start:
# the CloudAccount and QuotaRequirement were accepted, `kubectl get qr` printed them, and the
# documented CRD upgrade (`kubectl apply --server-side --force-conflicts -f crds/`) is accepted
# over Helm's CRDs.
# Between quick-starts the release and the team namespace go (kube-controller-manager runs, so
# namespaces are deleted for real). Prints one line per check and "N passed, M failed".
#
# Env: QO_README              the Markdown to follow (default: README.md)
#      QO_CONTROLPLANE_DIR    where the control plane's state goes (default: a temp dir)
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
readme=${QO_README:-$root/README.md}
for tool in kubectl jq awk; do
	command -v "$tool" >/dev/null || { echo "quickstart-test: $tool not found in PATH" >&2; exit 1; }
done

work=$(mktemp -d)
cp_dir=${QO_CONTROLPLANE_DIR:-$work/controlplane}
cleanup() { "$here/controlplane/stop.sh" "$cp_dir" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

# The blocks, one file each: $work/blocks/NNN.run|cloud, their NAME:STEP tags in NNN.tags.
mkdir -p "$work/blocks"
awk -v out="$work/blocks" '
	/^<!-- quickstart(-cloud)?: .* -->$/ {
		kind = ($0 ~ /^<!-- quickstart-cloud:/) ? "cloud" : "run"
		tags = $0; sub(/^<!-- quickstart(-cloud)?: /, "", tags); sub(/ -->$/, "", tags)
		pending = NR; next
	}
	pending && /^```/ {
		n++; file = sprintf("%s/%03d.%s", out, n, kind)
		print tags > sprintf("%s/%03d.tags", out, n)
		pending = 0; inblock = 1; printf "" > file; next
	}
	inblock && /^```$/ { inblock = 0; close(file); next }
	inblock { print > file; next }
	pending && NF { printf "line %d: a quickstart marker not followed by a fenced block\n", pending > "/dev/stderr"; bad = 1; pending = 0 }
	END { exit bad }
' "$readme" || { echo "quickstart-test: cannot read the quick-start blocks of $readme" >&2; exit 1; }

names=$(cat "$work"/blocks/*.tags 2>/dev/null | tr ' ' '\n' | cut -d: -f1 | awk 'NF && !seen[$0]++')
[ -n "$names" ] || { echo "quickstart-test: no quickstart markers in $readme" >&2; exit 1; }

# What a reader substitutes, and what this test writes instead.
substitute() {
	sed -e 's/123456789012/210987654321/g' -e 's/my-project/qs-project-1/g' \
		-e 's#registry\.example\.com/platform#localhost/qs-registry#g' -e 's/my-cluster/qs-cluster/g' "$1"
}

# A quick-start's blocks of one kind, in STEP order.
blocks_of() { # NAME KIND
	local f tags
	for f in "$work"/blocks/*."$2"; do
		tags=$(cat "${f%.*}.tags")
		for tag in $tags; do
			[ "${tag%%:*}" = "$1" ] && echo "${tag#*:} $f"
		done
	done | sort -n | cut -d' ' -f2
}

# What a reader who followed quick-start NAME has, asked of the API server.
check_quickstart() { # NAME
	local name=$1 out=$work/$1.out account want qr got
	case $name in gke) account=prod-gcp ;; *) account=prod-aws ;; esac
	if k -n quota-operator get serviceaccount quota-operator -o name >/dev/null 2>&1; then
		ok "$name: the chart's ServiceAccount is quota-operator/quota-operator, as the identity steps name it"
	else
		bad "$name: no ServiceAccount quota-operator/quota-operator: $(k -n quota-operator get sa -o name 2>&1 | tr '\n' ' ')"
	fi
	got=$(k -n quota-operator get deployment quota-operator -o jsonpath='{.spec.template.spec.containers[0].image}' 2>&1)
	case $got in localhost/qs-registry/quota-operator:*) ok "$name: the image is the reader's: $got" ;; *) bad "$name: image $got" ;; esac
	got=$(k -n quota-operator get serviceaccount quota-operator -o json 2>/dev/null | jq -c '.metadata.annotations // {}')
	case $name in
		eks-irsa) want='{"eks.amazonaws.com/role-arn":"arn:aws:iam::210987654321:role/quota-operator"}' ;;
		gke) want='{"iam.gke.io/gcp-service-account":"quota-operator@qs-project-1.iam.gserviceaccount.com"}' ;;
		*) want='{}' ;;
	esac
	if [ "$(jq -c 'with_entries(select(.key | test("eks.amazonaws.com|iam.gke.io")))' <<<"$got")" = "$want" ]; then
		ok "$name: the identity annotation: $want"
	else
		bad "$name: ServiceAccount annotations $got, want $want"
	fi
	got=$(k get cloudaccount "$account" -o jsonpath='{.spec.aws.accountId}{.spec.gcp.project}' 2>&1)
	case $name in gke) want=qs-project-1 ;; *) want=210987654321 ;; esac
	if [ "$got" = "$want" ]; then ok "$name: CloudAccount $account accepted, for $want"; else bad "$name: CloudAccount $account: $got"; fi
	qr=$(k get qr -n team-batch -o name 2>&1 | head -1)
	case $qr in quotarequirement*/*) ok "$name: QuotaRequirement accepted: team-batch/${qr#*/}" ;; *) bad "$name: no QuotaRequirement in team-batch: $qr" ;; esac
	if grep -q '^NAME  *ACCOUNT  *QUOTA' "$out" && grep -q "^${qr#*/} " "$out"; then
		ok "$name: kubectl get qr printed it: $(grep "^${qr#*/} " "$out" | head -1 | tr -s ' ')"
	else
		bad "$name: kubectl get qr did not print ${qr#*/}: $(tail -5 "$out")"
	fi
	# docs/operations.md's CRD upgrade over the CRDs Helm created, with a schema that changed (a
	# new version's: one description differs). Without --force-conflicts the API server refuses
	# it (Helm's field manager owns .spec.versions), which is why the docs give the flag.
	mkdir -p "$work/next/crds"
	sed 's/The 12-digit AWS account id/The twelve-digit AWS account id/' "$root/crds/crds.yaml" >"$work/next/crds/crds.yaml"
	if got=$(cd "$work/next" && k apply --server-side -f crds/ 2>&1); then
		bad "$name: a changed CRD applied without --force-conflicts: the docs' flag may be dropped: $got"
	elif grep -q 'conflict with "helm"' <<<"$got"; then
		ok "$name: without --force-conflicts a changed CRD conflicts with Helm's field manager"
	else
		bad "$name: kubectl apply --server-side -f crds/: $got"
	fi
	for dir in "$work/next" "$root"; do
		if got=$(cd "$dir" && k apply --server-side --force-conflicts -f crds/ 2>&1); then
			ok "$name: kubectl apply --server-side --force-conflicts -f crds/ (the upgrade step) from ${dir/#$work/the next version in $work}"
		else
			bad "$name: kubectl apply --server-side --force-conflicts -f crds/ in $dir: $got"
		fi
		[ "$dir" = "$root" ] && continue
		if k get crd cloudaccounts.quota-operator.dev -o yaml | grep -q 'The twelve-digit AWS account id'; then
			ok "$name: the API server has the new version's CRD"
		else
			bad "$name: the upgrade did not change the CRD"
		fi
	done
}

kc=$(QO_WATCH_PID=$$ "$here/controlplane/start.sh" "$cp_dir" | tail -n 1) ||
	{ echo "quickstart-test: control plane did not start" >&2; exit 1; }
"$here/controlplane/start-controllers.sh" "$cp_dir" >/dev/null 2>"$work/controllers.err" ||
	{ echo "quickstart-test: kube-controller-manager did not start: $(tail -3 "$work/controllers.err")" >&2; exit 1; }
helm_dir=$("$here/helm/build.sh" | tail -n 1)
k() { kubectl --kubeconfig "$kc" "$@"; }
export KUBECONFIG=$kc HELM_CACHE_HOME=$work/helm HELM_CONFIG_HOME=$work/helm HELM_DATA_HOME=$work/helm
export PATH=$helm_dir:$PATH

for name in $names; do
	script=$work/$name.sh
	: >"$script"
	for f in $(blocks_of "$name" run); do substitute "$f" >>"$script"; done
	for f in $(blocks_of "$name" cloud); do
		if substitute "$f" | bash -n 2>"$work/syntax.err"; then ok "$name: the block that needs a cloud parses: $(head -1 "$f")"; else bad "$name: $(head -1 "$f"): $(cat "$work/syntax.err")"; fi
	done
	if (cd "$root" && bash -eu "$script") >"$work/$name.out" 2>&1; then
		ok "$name: $(grep -c . "$script") lines of the README's blocks ran"
	else
		bad "$name: the README's blocks failed: $(tail -5 "$work/$name.out")"
	fi
	check_quickstart "$name"
	# The next quick-start starts from an empty cluster but for the CRDs, as a reader's would.
	helm uninstall quota-operator -n quota-operator >/dev/null 2>&1
	k delete cloudaccounts --all >/dev/null 2>&1
	k delete namespace team-batch --wait --timeout=120s >/dev/null 2>&1 || bad "$name: namespace team-batch did not go"
done 2>&1

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
