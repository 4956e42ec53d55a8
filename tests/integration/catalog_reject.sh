#!/usr/bin/env bash
# The daemon with model_catalog = yes against sora-sim --protocol openrouter: the
# catalog is fetched at start and cached in STATE/catalog.json; a prompt file asking a
# catalog model for a duration (and a size) it does not take fails before any create,
# with every problem and the allowed values in outbox/failed/NAME.error.txt (which
# capitalises the first problem: matched without case); `sorad
# submit` says the same from the cache; a model in neither the table nor the catalog
# is named with what is available. A restart uses the cache without fetching again,
# one with a cache over an hour old fetches it again, and a service gone leaves the
# cached catalog in use.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"

sim_start --protocol openrouter --gen-ms 200
sorad_conf 'model_catalog = yes'
sed -i "s|^api_base = .*|api_base = \"$SIM_URL/api/v1\"|" "$T/sorad.conf"
catalog_gets() { sim_stats | jq '[.requests | to_entries[] | select(.key | test("models")) | .value[]] | add // 0'; }

sorad_start
test -s "$T/state/catalog.json" || fail "no catalog cached: $(tail -5 "$T/sorad.out")"
expect_eq "catalog fetches at start" 1 "$(catalog_gets)"
expect_eq "cached api_base" "$SIM_URL/api/v1" "$(jq -r .api_base "$T/state/catalog.json")"
grep -q "catalog: 3 models from $SIM_URL/api/v1/videos/models" "$T/sorad.out" ||
	fail "the fetch is not logged: $(grep catalog "$T/sorad.out")"

WAN=$'---\nmodel: alibaba/wan-2.6\nseconds: 4\nsize: 1024x1792\n---\nA kite over the dunes.\n'
drop kite.txt "$WAN"
wait_failed kite
for want in "4 seconds is not available for alibaba/wan-2.6 (allowed: 5, 10)" \
	"size 1024x1792 is not available for alibaba/wan-2.6 (allowed: 1280x720, 720x1280, 720x720"; do
	grep -qiF "$want" "$T/outbox/failed/kite.error.txt" ||
		fail "kite.error.txt does not say '$want': $(cat "$T/outbox/failed/kite.error.txt")"
done
drop veo.txt $'---\nmodel: google/veo-3.1\nseconds: 5\n---\nRain on a tin roof.\n'
wait_failed veo
grep -qiF "5 seconds is not available for google/veo-3.1 (allowed: 4, 6, 8)" \
	"$T/outbox/failed/veo.error.txt" || fail "veo.error.txt: $(cat "$T/outbox/failed/veo.error.txt")"
drop nope.txt $'---\nmodel: acme/nothing-1\n---\nA cat.\n'
wait_failed nope
grep -qiF "model 'acme/nothing-1' is not configured (available: sora-2, sora-2-pro, google/veo-3.1, openai/sora-2-pro, alibaba/wan-2.6)" \
	"$T/outbox/failed/nope.error.txt" || fail "nope.error.txt: $(cat "$T/outbox/failed/nope.error.txt")"
expect_eq "creates sent for refused prompts" 0 "$(sim_total_creates)"

# submit checks against the daemon's cache, before copying anything.
printf '%s' "$WAN" >"$T/kite2.txt"
rc=0
"$SORAD_BIN" submit -c "$T/sorad.conf" "$T/kite2.txt" >/dev/null 2>"$T/err" || rc=$?
expect_eq "submit of a duration the catalog lacks: exit" 65 "$rc"
grep -qF "4 seconds is not available for alibaba/wan-2.6 (allowed: 5, 10)" "$T/err" ||
	fail "submit: $(cat "$T/err")"
[ ! -e "$T/inbox/kite2.txt" ] || fail "submit copied a refused file"

# A restart within the hour reads the cache; it fetches nothing.
sorad_stop
sorad_start
drop veo2.txt $'---\nmodel: google/veo-3.1\nseconds: 7\n---\nRain on a tin roof.\n'
wait_failed veo2
grep -qiF "7 seconds is not available for google/veo-3.1 (allowed: 4, 6, 8)" \
	"$T/outbox/failed/veo2.error.txt" || fail "veo2.error.txt: $(cat "$T/outbox/failed/veo2.error.txt")"
expect_eq "catalog fetches after a restart" 1 "$(catalog_gets)"
expect_eq "creates sent" 0 "$(sim_total_creates)"

# A cache over an hour old is fetched again at start; with the service gone, the
# cached catalog still serves (and the failure is logged).
sorad_stop
jq '.fetched_at -= 7200' "$T/state/catalog.json" >"$T/old.json"
mv "$T/old.json" "$T/state/catalog.json"
sorad_start
expect_eq "catalog fetches after a start with a stale cache" 2 "$(catalog_gets)"
jq -e --argjson now "$(date +%s)" '.fetched_at > $now - 600' "$T/state/catalog.json" >/dev/null ||
	fail "the refreshed catalog was not cached: $(jq .fetched_at "$T/state/catalog.json")"
sorad_stop
jq '.fetched_at -= 7200' "$T/state/catalog.json" >"$T/old.json"
mv "$T/old.json" "$T/state/catalog.json"
kill "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true
sorad_start
grep -q "catalog: cannot fetch .*keeping the cached catalog" "$T/sorad.out" ||
	fail "the failed fetch is not logged: $(grep catalog "$T/sorad.out")"
drop wan3.txt $'---\nmodel: alibaba/wan-2.6\nseconds: 6\n---\nA kite.\n'
wait_failed wan3
grep -qiF "6 seconds is not available for alibaba/wan-2.6 (allowed: 5, 10)" \
	"$T/outbox/failed/wan3.error.txt" || fail "wan3.error.txt: $(cat "$T/outbox/failed/wan3.error.txt")"
! grep -qF "$SORAD_KEY" "$T/state/catalog.json" "$T/sorad.out" || fail "the key was written"
sorad_stop
echo ok
