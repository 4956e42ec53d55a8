#!/usr/bin/env bash
# One source of truth for money: a create refused at once costs $0 everywhere; a
# create that made a video (done, or failed at the service) or may have (in doubt)
# counts its estimate. `sorad list` (table and --json), `sorad show`, `sorad usage`,
# /metrics, the status API and NAME.json all give the same figures, per job and in
# total.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"
. "$(dirname "$0")/money_lib.sh"

# Phase 1: a service that answers. sora-2, 4 s, 1280x720: $0.40 a generation.
sim_start --gen-ms 300 --api-key "$SORAD_KEY" --seed 9
httpd_start
drop ok.txt 'A heron standing in a shallow river.'
drop refused.txt 'A scene the service refuses [sim:moderation]'
drop doomed.txt 'A generation that fails at the service [sim:fail]'
wait_done ok
wait_failed refused
wait_failed doomed
sorad_stop
kill "$SIM_PID" && wait "$SIM_PID" 2>/dev/null || true

# Phase 2: a gateway that loses every create's answer and cannot list: in doubt.
sim_start --gen-ms 300 --api-key "$SORAD_KEY" --seed 9 --p5xx-after-create 1 \
	--after-create-status 502 --list-mode 405
sed -i "s#^api_base = .*#api_base = \"$SIM_URL/v1\"#" "$T/sorad.conf"
sorad_start
httpd_url
drop doubt.txt 'A kettle that may or may not have been made.'
wait_state doubt in_doubt 60

declare -A want=([ok]=0.40 [refused]=0.00 [doomed]=0.40 [doubt]=0.40)
total=1.20
C=(-c "$T/sorad.conf")
"$SORAD_BIN" list "${C[@]}" --json >"$T/list.json" || fail "list --json"
"$SORAD_BIN" list "${C[@]}" >"$T/list.txt" || fail "list"
code=$(hget '/api/v1/videos?limit=100')
expect_eq "status list" 200 "$code"
cp "$T/body" "$T/api.json"
for n in "${!want[@]}"; do
	w=${want[$n]}
	expect_eq "$n: list --json" "$w" "$(jq -r --arg n "$n" '.[] | select(.name == $n) | .spent_usd' "$T/list.json" | awk '{printf "%.2f", $1}')"
	expect_eq "$n: list" "\$$w" "$(awk -v n="$n" '$1 == n { for (i = 1; i <= NF; i++) if ($i ~ /^\$/) { print $i; exit } }' "$T/list.txt")"
	"$SORAD_BIN" show "${C[@]}" "$n" >"$T/show.txt" || fail "show $n"
	grep -q "^cost *\$$w:" "$T/show.txt" || fail "$n: show says: $(grep '^cost' "$T/show.txt")"
	expect_eq "$n: status API" "$w" "$(jq -r --arg n "$n" '.data[] | select(.name == $n) | .spent_usd' "$T/api.json" | awk '{printf "%.2f", $1}')"
done
expect_eq "NAME.json" 0.40 "$(jq -r .spent_usd "$T/outbox/ok.json" | awk '{printf "%.2f", $1}')"

# Totals: the jobs' sum, sorad usage (all time), /metrics.
expect_eq "list --json total" "$total" "$(jq '[.[].spent_usd] | add' "$T/list.json" | awk '{printf "%.2f", $1}')"
expect_eq "status API total" "$total" "$(jq '[.data[].spent_usd] | add' "$T/api.json" | awk '{printf "%.2f", $1}')"
"$SORAD_BIN" usage "${C[@]}" --json >"$T/usage.json" || fail "usage --json"
expect_eq "sorad usage total" "$total" "$(jq .total.all.cost_usd "$T/usage.json" | awk '{printf "%.2f", $1}')"
expect_eq "sorad usage unconfirmed" 0.40 "$(jq .total.all.unconfirmed_cost_usd "$T/usage.json" | awk '{printf "%.2f", $1}')"
"$SORAD_BIN" usage "${C[@]}" | grep -q "^total .*\$$total" || fail "sorad usage's total line: $("$SORAD_BIN" usage "${C[@]}")"
curl -fsS "$H/metrics" >"$T/metrics" || fail "/metrics"
expect_eq "/metrics total" "$total" "$(awk '/^sorad_estimated_cost_usd_total/ { s += $2 } END { printf "%.2f", s }' "$T/metrics")"
expect_eq "/metrics unconfirmed" 0.40 "$(awk '/^sorad_unconfirmed_cost_usd / { printf "%.2f", $2 }' "$T/metrics")"
expect_eq "/metrics creates counted" 3 "$(awk '/^sorad_creates_counted_total / { print $2 }' "$T/metrics")"
sorad_stop
echo ok
