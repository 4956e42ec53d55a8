#!/usr/bin/env bash
# Hostile world: a \u0000 inside a JSON prompt would cut the prompt short ("A fox\u0000
# walking..." was paid as "A fox"). Refused with a clear reason, in a .json and in
# one line of a .jsonl; nothing is sent.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"

sim_start --gen-ms 200 --api-key "$SORAD_KEY" --seed 47
sorad_conf
sorad_start
drop fox.json '{"prompt": "A fox\u0000 walking through the snow at dusk"}'
wait_failed fox
grep -q 'NUL character (\\u0000)' "$T/outbox/failed/fox.error.txt" ||
	fail "fox.error.txt: $(cat "$T/outbox/failed/fox.error.txt")"
drop pair.jsonl '{"prompt": "A quiet harbour at dawn."}
{"prompt": "A heron\u0000 standing"}
{"prompt": "An escaped backslash then u0000: \\u0000 is text"}
'
wait_done pair-1
wait_failed pair-2
wait_done pair-3
grep -qi 'line 2: .*NUL character' "$T/outbox/failed/pair-2.error.txt" ||
	fail "pair-2.error.txt: $(cat "$T/outbox/failed/pair-2.error.txt")"
[ "$(sim_total_creates)" = 2 ] || fail "creates: $(sim_stats | jq -c .creates_by_prompt)"
[ "$(sim_stats | jq '.creates_by_prompt["A fox"] // 0')" = 0 ] || fail "the cut prompt was sent"
sorad_stop
echo ok
