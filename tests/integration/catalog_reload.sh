#!/usr/bin/env bash
# SIGHUP and the model catalog: a SIGHUP within a minute of the last fetch uses the
# catalog it has (no request); model_catalog = no drops it (a catalog model is then
# unknown, as before catalogs); yes again fetches it at once, before the rescan.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"

sim_start --protocol openrouter --gen-ms 200
sorad_conf 'model_catalog = yes'
sed -i "s|^api_base = .*|api_base = \"$SIM_URL/api/v1\"|" "$T/sorad.conf"
catalog_gets() { sim_stats | jq '[.requests | to_entries[] | select(.key | test("models")) | .value[]] | add // 0'; }
reloaded() { [ "$(grep -c 'reload: configuration reloaded' "$T/sorad.out" || true)" -ge "$1" ]; }
# hup N: SIGHUP, then wait until the Nth reload is logged.
hup() {
	kill -HUP "$SORAD_PID"
	wait_for 20 "reload $1" reloaded "$1"
}

sorad_start
expect_eq "fetches at start" 1 "$(catalog_gets)"
hup 1
expect_eq "fetches after a SIGHUP within a minute" 1 "$(catalog_gets)"

sed -i 's/^model_catalog = yes/model_catalog = no/' "$T/sorad.conf"
hup 2
drop wan.txt $'---\nmodel: alibaba/wan-2.6\nseconds: 5\n---\nA kite.\n'
wait_failed wan
grep -qiF "model 'alibaba/wan-2.6' is not configured (available: sora-2, sora-2-pro)" \
	"$T/outbox/failed/wan.error.txt" || fail "wan.error.txt: $(cat "$T/outbox/failed/wan.error.txt")"

sed -i 's/^model_catalog = no/model_catalog = yes/' "$T/sorad.conf"
hup 3
expect_eq "fetches after model_catalog = yes again" 2 "$(catalog_gets)"
drop wan2.txt $'---\nmodel: alibaba/wan-2.6\nseconds: 6\n---\nA kite.\n'
wait_failed wan2
grep -qiF "6 seconds is not available for alibaba/wan-2.6 (allowed: 5, 10)" \
	"$T/outbox/failed/wan2.error.txt" || fail "wan2.error.txt: $(cat "$T/outbox/failed/wan2.error.txt")"
expect_eq "creates sent" 0 "$(sim_total_creates)"
sorad_stop
echo ok
