#!/usr/bin/env bash
# Sanity checks for the kstatus checker: builds it (cached), runs it on testdata/ (a List, a JSON
# array, single objects, stdin) and on the chart's Argo CD health fixtures, and checks exit codes
# on bad input. Prints one line per case and "N passed, M failed"; exits non-zero on failure.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kstatus=$("$here/build.sh" | tail -n 1)/kstatus
fixtures=$here/../../charts/quota-operator/health/testdata

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

cd "$here/testdata"
for f in *.json; do
	want=$(grep -F "$f: " expected.txt | sed "s|^$f: ||" || true)
	got=$("$kstatus" "$f" 2>&1) || { bad "$f: exit $?: $got"; continue; }
	if [ -n "$want" ] && [ "$got" = "$want" ]; then ok "$f"; else bad "$f: want [$want] got [$got]"; fi
done

got=$("$kstatus" <list.json) && [ "$got" = "$("$kstatus" list.json)" ] && ok "stdin" || bad "stdin: [$got]"
got=$("$kstatus" - <list.json) && [ "$got" = "$("$kstatus" list.json)" ] && ok "stdin as -" || bad "stdin as -: [$got]"
got=$("$kstatus" array.json deleting.json | wc -l) && [ "$got" = 3 ] && ok "several files" || bad "several files: $got lines"
got=$("$kstatus" -json array.json) &&
	[ "$(echo "$got" | head -1)" = '{"namespace":"team-web","name":"spot-standard-vcpu","kind":"QuotaRequirement","status":"Failed","message":"us-east-1: AWS denied the increase to 2000 (CASE_CLOSED); not filed again until the spec changes"}' ] &&
	[ "$(echo "$got" | tail -1)" = '{"namespace":"","name":"prod-aws","kind":"CloudAccount","status":"Current","message":"Resource is current"}' ] &&
	ok "-json" || bad "-json: [$got]"

for input in '{' '' '{"metadata":{"name":"x"}}' '[1]'; do
	if out=$(printf '%s' "$input" | "$kstatus" 2>&1); then bad "input [$input] accepted: $out"
	elif [ $? = 1 ]; then ok "input [$input] refused: $out"
	else bad "input [$input]: wrong exit code"; fi
done
if out=$("$kstatus" does-not-exist.json 2>&1); then bad "missing file accepted"; else ok "missing file refused: $out"; fi

while read -r f want; do
	case $f in '#'* | '') continue ;; esac
	got=$("$kstatus" "$fixtures/$f" | awk '{print $2}')
	if [ "$got" = "$want" ]; then ok "chart fixture $f: $got"; else bad "chart fixture $f: want $want got $got"; fi
done <health-fixtures.expected

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
