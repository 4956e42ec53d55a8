#!/usr/bin/env bash
# The catalog with OpenRouter's protocol, end to end: no model table for OpenRouter's
# models and model_catalog left at auto (yes with api_protocol = openrouter), so the
# catalog alone says what each model takes. A duration the
# catalog lists is created once and completes; one it lacks fails before any create,
# with the allowed values in NAME.error.txt.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"

sim_start --protocol openrouter --gen-ms 300 --api-key "$SORAD_KEY"
sorad_conf 'api_protocol = "openrouter"'
sed -i "s|^api_base = .*|api_base = \"$SIM_URL/api/v1\"|" "$T/sorad.conf"
"$SORAD_BIN" check-config -c "$T/sorad.conf" >"$T/check.out" 2>&1 ||
	fail "check-config: $(cat "$T/check.out")"
command -v ffmpeg >/dev/null 2>&1 || { echo "SKIP catalog_openrouter: no ffmpeg"; exit 0; }

sorad_start
test -s "$T/state/catalog.json" || fail "model_catalog = auto fetched no catalog with OpenRouter"
P_OK='A heron lifts off a misty pond (catalog six seconds).'
drop six.txt $'---\nmodel: google/veo-3.1\nseconds: 6\n---\n'"$P_OK"$'\n'
drop five.txt $'---\nmodel: alibaba/wan-2.6\nseconds: 4\n---\nA kite (catalog four seconds).\n'
wait_failed five
grep -qiF "4 seconds is not available for alibaba/wan-2.6 (allowed: 5, 10)" \
	"$T/outbox/failed/five.error.txt" || fail "five.error.txt: $(cat "$T/outbox/failed/five.error.txt")"
wait_done six 120
expect_eq "six created" 1 "$(sim_created_count "$P_OK")"
expect_eq "creates in all" 1 "$(sim_total_creates)"
sorad_stop
echo ok
