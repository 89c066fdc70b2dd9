#!/usr/bin/env bash
# Start a real etcd + kube-apiserver on loopback for tests.
#
#   tools/controlplane/start.sh DIR
#
# Builds the binaries first if needed (build.sh). Everything lives in DIR:
#   DIR/kubeconfig                      admin kubeconfig (static token, CA only)
#   DIR/etcd.pid, DIR/apiserver.pid     server pids (DIR/watchdog.pid with QO_WATCH_PID)
#   DIR/etcd.log, DIR/apiserver.log     server logs
#   DIR/apiserver.cmd                   the kube-apiserver command line (for restart-apiserver.sh)
#   DIR/pki/                            CA, serving cert, service-account key, tokens.csv
#   DIR/etcd-data/                      etcd data (wiped on every start)
# Any servers already recorded in DIR are stopped first.
# Progress goes to stderr; the last stdout line is the kubeconfig path.
#
# Env:
#   QO_WATCH_PID               if set, a watchdog kills both servers once this pid exits
#   QO_READY_TIMEOUT           seconds to wait for /readyz (default 60)
#   QO_CONTROLPLANE_BIN_DIR    use kube-apiserver/etcd from this dir instead of build.sh
#   QO_APISERVER_EXTRA_ARGS    extra kube-apiserver flags (word-split)
#   QO_APISERVER_ADDRESS       address to bind and advertise (default 127.0.0.1; the test node,
#                              tools/node, uses its bridge's address so pods can reach it)
#   QO_APISERVER_EXTRA_SANS    more subjectAltNames for the serving cert, e.g. "IP:10.0.0.1"
#   QO_APISERVER_NODE_MODE     1: what a node's pods need: the ServiceAccount admission plugin
#                              (mounted tokens) and the `kubernetes` Service's endpoints
#   QO_CACHE_DIR, QO_BUILD_*   passed on to build.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
mkdir -p "$1"
dir=$(cd "$1" && pwd)
ready_timeout=${QO_READY_TIMEOUT:-60}
address=${QO_APISERVER_ADDRESS:-127.0.0.1}
sans="IP:127.0.0.1, DNS:localhost"
[ "$address" = 127.0.0.1 ] || sans+=", IP:$address"
[ -z "${QO_APISERVER_EXTRA_SANS:-}" ] || sans+=", $QO_APISERVER_EXTRA_SANS"

log() { echo "start.sh: $*" >&2; }
die() { log "$*"; exit 1; }

for tool in openssl curl base64; do
	command -v "$tool" >/dev/null || die "$tool not found in PATH"
done

# Stop whatever a previous start left in DIR.
"$here/stop.sh" "$dir" >&2 || true

if [ -n "${QO_CONTROLPLANE_BIN_DIR:-}" ]; then
	bin=$QO_CONTROLPLANE_BIN_DIR
else
	bin=$("$here/build.sh" | tail -n 1)
fi
[ -x "$bin/kube-apiserver" ] && [ -x "$bin/etcd" ] || die "no kube-apiserver/etcd in '$bin'"

t0=$(date +%s.%N)
rm -f "$dir/kubeconfig" "$dir/etcd.pid" "$dir/apiserver.pid" "$dir/watchdog.pid" "$dir/apiserver.restarting"

# --- PKI ---------------------------------------------------------------------
pki=$dir/pki
if ! [ -s "$pki/ca.crt" ] || ! [ -s "$pki/apiserver.crt" ] || ! [ -s "$pki/apiserver.key" ] ||
	! [ -s "$pki/sa.key" ] || ! [ -s "$pki/tokens.csv" ] || ! [ -s "$pki/token" ] ||
	[ "$(cat "$pki/sans" 2>/dev/null || echo "IP:127.0.0.1, DNS:localhost")" != "$sans" ]; then
	rm -rf "$pki"
	mkdir -p "$pki"
	chmod 700 "$pki"
	cat >"$pki/ca.cnf" <<-'CNF'
		[req]
		distinguished_name = dn
		x509_extensions = v3_ca
		prompt = no
		[dn]
		CN = quota-operator-test-ca
		[v3_ca]
		basicConstraints = critical, CA:TRUE
		keyUsage = critical, keyCertSign, cRLSign, digitalSignature
		subjectKeyIdentifier = hash
	CNF
	cat >"$pki/leaf.ext" <<-EXT
		basicConstraints = critical, CA:FALSE
		keyUsage = critical, digitalSignature, keyEncipherment
		extendedKeyUsage = serverAuth
		subjectAltName = $sans
		subjectKeyIdentifier = hash
		authorityKeyIdentifier = keyid
	EXT
	echo "$sans" >"$pki/sans"
	ossl() { openssl "$@" 2>>"$pki/openssl.log" || die "openssl $1 failed, see $pki/openssl.log"; }
	ossl req -x509 -config "$pki/ca.cnf" -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$pki/ca.key" -out "$pki/ca.crt" -days 3650 -sha256
	ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" -subj "/CN=localhost"
	ossl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
		-set_serial "0x$(openssl rand -hex 16)" -days 3650 -sha256 \
		-extfile "$pki/leaf.ext" -out "$pki/apiserver.crt"
	ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$pki/sa.key"
	openssl rand -hex 32 >"$pki/token"
	echo "$(cat "$pki/token"),admin,admin,\"system:masters\"" >"$pki/tokens.csv"
	chmod 600 "$pki"/*.key "$pki/token" "$pki/tokens.csv"
fi
token=$(cat "$pki/token")

# --- helpers -----------------------------------------------------------------
# A port is taken if something accepts a connection on it. Stay below the
# Linux ephemeral range (32768+) so outgoing connections do not collide.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null || (exec 3<>"/dev/tcp/$address/$1") 2>/dev/null; }
pick_port() {
	local p i
	for i in $(seq 200); do
		p=$((10000 + RANDOM % 22000))
		case " $* " in *" $p "*) continue ;; esac
		port_taken "$p" || { echo "$p"; return 0; }
	done
	return 1
}
# Running and not a zombie (a zombie also passes kill -0).
alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st:0:1}" != Z ]
}
started_pids=()
cleanup_on_error() {
	local p
	for p in "${started_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -f "$dir/etcd.pid" "$dir/apiserver.pid"
}
trap cleanup_on_error EXIT
show_log() { log "last lines of $1:"; tail -n 25 "$1" >&2 || true; }

# --- etcd --------------------------------------------------------------------
etcd_port='' etcd_pid=''
for attempt in 1 2 3 4 5; do
	etcd_port=$(pick_port) || die "no free port"
	peer_port=$(pick_port "$etcd_port") || die "no free port"
	rm -rf "$dir/etcd-data"
	"$bin/etcd" \
		--name=qo-test \
		--data-dir="$dir/etcd-data" \
		--listen-client-urls="http://127.0.0.1:$etcd_port" \
		--advertise-client-urls="http://127.0.0.1:$etcd_port" \
		--listen-peer-urls="http://127.0.0.1:$peer_port" \
		--initial-advertise-peer-urls="http://127.0.0.1:$peer_port" \
		--initial-cluster="qo-test=http://127.0.0.1:$peer_port" \
		--unsafe-no-fsync \
		--log-level=warn \
		</dev/null >"$dir/etcd.log" 2>&1 &
	etcd_pid=$!
	started_pids+=("$etcd_pid")
	ok=''
	for _ in $(seq 200); do # 20 s
		if curl -fsS -m 2 "http://127.0.0.1:$etcd_port/health" 2>/dev/null | grep -q '"health":"true"'; then
			ok=1
			break
		fi
		alive "$etcd_pid" || break
		sleep 0.1
	done
	[ -n "$ok" ] && break
	kill "$etcd_pid" 2>/dev/null || true
	wait "$etcd_pid" 2>/dev/null || true
	if grep -q 'address already in use' "$dir/etcd.log"; then
		log "etcd port clash, retrying ($attempt)"
		continue
	fi
	show_log "$dir/etcd.log"
	die "etcd did not become healthy"
done
[ -n "$ok" ] || die "etcd: could not bind a port"
echo "$etcd_pid" >"$dir/etcd.pid"
log "etcd up on 127.0.0.1:$etcd_port (pid $etcd_pid)"

# --- kube-apiserver ----------------------------------------------------------
deadline=$(($(date +%s) + ready_timeout))
api_port='' api_pid=''
for attempt in 1 2 3 4 5; do
	api_port=$(pick_port "$etcd_port" "$peer_port") || die "no free port"
	if [ "${QO_APISERVER_NODE_MODE:-}" = 1 ]; then
		mode_args=(--endpoint-reconciler-type=lease)
	else
		mode_args=(--endpoint-reconciler-type=none --disable-admission-plugins=ServiceAccount)
	fi
	# The whole command line is kept (NUL-separated) so restart-apiserver.sh can start the same
	# server on the same port and etcd.
	# shellcheck disable=SC2086
	api_cmd=("$bin/kube-apiserver" \
		--etcd-servers="http://127.0.0.1:$etcd_port" \
		--bind-address="$address" \
		--advertise-address="$address" \
		--secure-port="$api_port" \
		--cert-dir="$pki" \
		--tls-cert-file="$pki/apiserver.crt" \
		--tls-private-key-file="$pki/apiserver.key" \
		--client-ca-file="$pki/ca.crt" \
		--token-auth-file="$pki/tokens.csv" \
		--authorization-mode=RBAC \
		--service-account-issuer=https://kubernetes.default.svc.cluster.local \
		--service-account-key-file="$pki/sa.key" \
		--service-account-signing-key-file="$pki/sa.key" \
		--service-cluster-ip-range=10.0.0.0/24 \
		"${mode_args[@]}" \
		--allow-privileged=true \
		${QO_APISERVER_EXTRA_ARGS:-})
	printf '%s\0' "${api_cmd[@]}" >"$dir/apiserver.cmd"
	"${api_cmd[@]}" </dev/null >"$dir/apiserver.log" 2>&1 &
	api_pid=$!
	started_pids+=("$api_pid")
	ok=''
	while [ "$(date +%s)" -lt "$deadline" ]; do
		if [ "$(curl -sS -m 2 --cacert "$pki/ca.crt" -H "Authorization: Bearer $token" \
			"https://$address:$api_port/readyz" 2>/dev/null)" = ok ]; then
			ok=1
			break
		fi
		alive "$api_pid" || break
		sleep 0.2
	done
	[ -n "$ok" ] && break
	was_running=''
	alive "$api_pid" && was_running=1
	kill "$api_pid" 2>/dev/null || true
	wait "$api_pid" 2>/dev/null || true
	if grep -q 'address already in use' "$dir/apiserver.log" && [ "$(date +%s)" -lt "$deadline" ]; then
		log "kube-apiserver port clash, retrying ($attempt)"
		continue
	fi
	show_log "$dir/apiserver.log"
	[ -n "$was_running" ] && die "kube-apiserver not ready within ${ready_timeout}s"
	die "kube-apiserver exited during start"
done
[ -n "$ok" ] || die "kube-apiserver: could not bind a port"
echo "$api_pid" >"$dir/apiserver.pid"
log "kube-apiserver ready on https://$address:$api_port (pid $api_pid)"

# --- kubeconfig --------------------------------------------------------------
cat >"$dir/kubeconfig.tmp" <<EOF_KC
apiVersion: v1
kind: Config
clusters:
- name: quota-operator-test
  cluster:
    server: https://$address:$api_port
    certificate-authority-data: $(base64 -w0 <"$pki/ca.crt")
users:
- name: admin
  user:
    token: $token
contexts:
- name: quota-operator-test
  context:
    cluster: quota-operator-test
    user: admin
    namespace: default
current-context: quota-operator-test
EOF_KC
chmod 600 "$dir/kubeconfig.tmp"
mv -f "$dir/kubeconfig.tmp" "$dir/kubeconfig"

# --- watchdog ----------------------------------------------------------------
if [ -n "${QO_WATCH_PID:-}" ]; then
	alive "$QO_WATCH_PID" || die "QO_WATCH_PID=$QO_WATCH_PID is not running"
	(
		trap '' HUP INT
		# restart-apiserver.sh replaces the pid in apiserver.pid and marks the gap in between, so
		# a restarted server is followed, not taken for a stopped one.
		current_api() { cat "$dir/apiserver.pid" 2>/dev/null || echo "$api_pid"; }
		while alive "$QO_WATCH_PID" && { alive "$(current_api)" || [ -e "$dir/apiserver.restarting" ]; }; do
			sleep 1
		done
		# kube-apiserver first: with etcd gone it hangs on shutdown.
		for p in "$(current_api)" "$etcd_pid"; do
			kill "$p" 2>/dev/null || continue
			for _ in $(seq 100); do
				alive "$p" || break
				sleep 0.1
			done
			kill -9 "$p" 2>/dev/null || true
		done
		rm -f "$dir/watchdog.pid" "$dir/apiserver.pid" "$dir/etcd.pid"
	) </dev/null >/dev/null 2>&1 &
	echo $! >"$dir/watchdog.pid"
	log "watchdog (pid $!) will stop the servers when pid $QO_WATCH_PID exits"
fi

trap - EXIT
log "ready in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s"
echo "$dir/kubeconfig"
