#!/usr/bin/env bash
# Never pay twice: a gateway that reports the dated snapshot (sora-2-2025-10-06) for
# sora-2, or its own name for a model (a configured alias), and loses the create's
# answer (a 504 after creating): the list's video still matches, and is adopted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"

sim_start --gen-ms 800 --api-key "$SORAD_KEY" --seed 4 --p5xx-after-create 1 \
	--after-create-status 504 --dated-models
sorad_conf "max_in_flight = 4"
sorad_start
drop pro.json '{"prompt": "A chess board, pieces moving by themselves", "model": "sora-2-pro"}'
drop std.txt "A bicycle leaning on a yellow wall."
wait_done pro 60
wait_done std 60
expect_creates "A chess board, pieces moving by themselves" 1
expect_creates "A bicycle leaning on a yellow wall." 1
adopted=$(cat "$T"/logs/*.log | grep -c 'reconciled: the lost create had made this video' || true)
[ "$adopted" = 2 ] || fail "expected 2 adoptions, got $adopted"
# The service really reported the dated name (what the match had to see through).
curl -fsS -H "Authorization: Bearer $SORAD_KEY" "$SIM_URL/v1/videos" |
	jq -e '[.data[].model] | sort == ["sora-2-2025-10-06", "sora-2-pro-2025-10-06"]' >/dev/null ||
	fail "the simulator did not report dated models"
expect_usage_agrees
sorad_stop
echo "ok: dated snapshots match: 2 adopted, 2 creates"
