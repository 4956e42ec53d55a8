#!/usr/bin/env bash
# Never pay twice: a gateway that answers 500/502/504 *after* its upstream created the
# video (Portkey's "Something went wrong", an nginx error page). sorad must not send the
# create again: it reconciles against the list, adopts the video, and every job
# completes with one create per prompt. The prompts carry what parsers normalize (CRLF
# line ends, a lone CR, ESC, DEL), which the list must still match.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"

sim_start --gen-ms 800 --api-key "$SORAD_KEY" --seed 5 --p5xx-after-create 1
sorad_conf "max_in_flight = 4"
sorad_start

printf 'A lighthouse at dusk,\r\nwide shot, waves below.\r\n' >"$T/crlf.txt.tmp"
mv "$T/crlf.txt.tmp" "$T/inbox/crlf.txt"
drop esc.json '{"prompt": "A neon sign \u001b[31mflickering\u001b[0m in the rain, close-up"}'
drop del.json '{"prompt": "A paper boat\u007f drifting\rdown a gutter stream"}'
drop plain.txt "A red kite over green hills, aerial shot."
drop remixed.json '{"prompt": "A fox in deep snow, tracking shot", "seconds": 8}'

for n in crlf esc del plain remixed; do
	wait_done "$n" 60
done
expect_creates $'A lighthouse at dusk,\r\nwide shot, waves below.' 1
expect_creates $'A neon sign \e[31mflickering\e[0m in the rain, close-up' 1
expect_creates $'A paper boat\x7f drifting\rdown a gutter stream' 1
expect_creates "A red kite over green hills, aerial shot." 1
expect_creates "A fox in deep snow, tracking shot" 1
[ "$(sim_total_creates)" = 5 ] || fail "the simulator made $(sim_total_creates) videos for 5 prompts"

# Every create was answered with an error, and every job adopted its video.
faults=$(sim_stats | jq '.faults["5xx_after_create"] // 0')
[ "$faults" = 5 ] || fail "expected 5 creates answered 5xx after creating, got $faults"
adopted=$(cat "$T"/logs/*.log | grep -c 'reconciled: the lost create had made this video' || true)
[ "$adopted" = 5 ] || fail "expected 5 adoptions, got $adopted"
grep -Eq 'the create may have made a video \(HTTP 50[024]' "$T"/logs/*.log ||
	fail "the log does not say what came back"
for n in crlf esc del plain remixed; do
	[ "$(job_field "$n" .creates)" = 1 ] || fail "$n recorded $(job_field "$n" .creates) creates"
	check_set "$n" 1280x720 "$([ $n = remixed ] && echo 8 || echo 4)"
done
expect_usage_agrees
echo "ok: 5 creates answered 5xx after creating, 5 adopted, 5 videos made for 5 prompts"
sorad_stop
