#!/usr/bin/env bash
# Benchmark (issue 17): API calls per completed video with signed callbacks on.
# COUNT prompts (default 100) renamed into the inbox at once, all in flight, generation
# GEN_MS (default 5 s), sorad with api_protocol = "openrouter" and callback_listen /
# callback_url / callback_secret_file against sora-sim --protocol openrouter, which
# posts each job's end, signed, to the callback URL. Polling keeps the product's
# defaults (2 s doubling to 10 s; JOBS_CALLBACK_POLL_S apart once callbacks arrive).
#
# Counted by sora-sim (/__sim/stats, every answer): creates (POST /videos), retrieves
# (GET /videos/{id}) and content downloads (GET /videos/{id}/content). A signed
# callback that says the video ended is taken as the service's answer (sorad's
# "callback: ...: the job goes on from it" lines); one it cannot use makes sorad
# retrieve that job at once ("refreshing the job now"), so retrieves are split into
# those a callback asked for and polls, sorad's own timer. Goal: 1 create + 1 download
# + <= 0.1 polls per video.
#
# Usage: bench/callbacks.sh   (env: BUILD_DIR=build, COUNT=100, GEN_MS=5000,
#        SECTION=callbacks)
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
count=${COUNT:-100}
gen=${GEN_MS:-5000}
section=${SECTION:-callbacks}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# calls ENDPOINT: every answer sora-sim gave on ENDPOINT, whatever its status.
calls() {
	jq --arg e "$1" '[.requests[$e] // {} | to_entries[] | .value] | add // 0' <<<"$stats"
}

(umask 077 && printf 'whsec_bench_%s%s\n' "$RANDOM" "$RANDOM" >"$T/cbsecret")
sim_start --protocol openrouter --gen-ms "$gen" --ffmpeg none \
	--callback-secret-file "$T/cbsecret"
port=$(free_port)
bench_conf "api_base = \"$SIM_URL/api/v1\"" 'api_protocol = "openrouter"' \
	"max_in_flight = $count" "settle_ms = 0" 'ffmpeg = ""' \
	"callback_listen = \"127.0.0.1:$port\"" "callback_url = \"http://127.0.0.1:$port/hooks/sorad\"" \
	"callback_secret_file = \"$T/cbsecret\""
mkdir -p "$T/prompts"
for ((i = 1; i <= count; i++)); do
	printf -- '---\nmodel: google/veo-3.1\nseconds: 4\n---\ncallback bench prompt %d\n' "$i" \
		>"$T/prompts/cb-$i.txt"
done
sorad_start
t0=$(python3 "$BENCH_DIR/tools/drop_all.py" "$T/prompts" "$T/inbox")
WAIT_POLL_S=0.5 wait_for 900 "$count output sets from sorad" all_done "$T/outbox" "$count"
last=$(last_json_s "$T/outbox")
# The callbacks of the last jobs may still be on their way: wait until the sim has
# delivered one per video (or 30 s), so that none is counted as missing.
delivered() {
	[ "$(sim_stats | jq '[.callbacks[]] | add // 0')" -ge "$count" ]
}
WAIT_POLL_S=0.2 wait_for 30 "a callback delivered per video" delivered
stats=$(sim_stats)
sorad_stop
load_end=$(loadavg)
failed=$(find "$T/outbox/failed" -name '*.error.txt' 2>/dev/null | wc -l)
W=$(awk -v l="$last" -v t0="$t0" 'BEGIN { printf "%.2f", l - t0 / 1e9 }')
creates=$(calls "POST /v1/videos")
retrieves=$(calls "GET /v1/videos/{id}")
downloads=$(calls "GET /v1/videos/{id}/content")
total=$(jq '[.requests[] | to_entries[] | .value] | add // 0' <<<"$stats")
asked=$(grep -c "callback: video.generation.[a-z]*: refreshing the job now" "$T/sorad.out" || true)
polls=$((retrieves - asked))
cb=$(jq -c '.callbacks' <<<"$stats")
per() { awk -v a="$1" -v n="$count" 'BEGIN { printf "%.3f", a / n }'; }
c_pv=$(per "$creates") r_pv=$(per "$retrieves") a_pv=$(per "$asked") p_pv=$(per "$polls")
d_pv=$(per "$downloads") t_pv=$(per "$total")
v_c=$(verdict 'c == 1' c="$c_pv") v_d=$(verdict 'd == 1' d="$d_pv") v_p=$(verdict 'p <= 0.1' p="$p_pv")
v_r=$(verdict 'r <= 0.1' r="$r_pv")

echo "callbacks: $count videos ($failed failed) in $W s; per video: create $c_pv ($v_c 1), download $d_pv ($v_d 1), retrieves $r_pv = $a_pv asked by a callback + $p_pv polls ($v_p <= 0.1 polls; retrieves of any kind: $v_r <= 0.1); every call $t_pv; callbacks answered $cb; load average $BENCH_LOAD at the start, $load_end at the end"

head=$(results_header "sorad: calls per video with signed callbacks (issue 17)" "$(bench_cmd COUNT GEN_MS)")
results_section "$section" "$(cat <<MD
$head

Load average at the end: $load_end.

One run: a fresh sora-sim (\`--protocol openrouter --gen-ms $gen --ffmpeg none
--callback-secret-file F\`, which posts each job's end, signed, to the job's
callback_url) and a fresh sorad (api_protocol = "openrouter", callback_listen on a
loopback port, callback_url = http://127.0.0.1:PORT/hooks/sorad, max_in_flight
$count, settle_ms 0, \`ffmpeg = ""\`, polling defaults 2 s doubling to 10 s), $count
prompts renamed into the inbox at once. Calls are every answer sora-sim gave, by
endpoint. A signed callback that says the job ended is taken as the service's answer
(no retrieve); "asked by a callback" counts sorad's "refreshing the job now" lines,
the retrieves of callbacks it could not use; polls are the other retrieves. $failed of
$count failed; wall (drop → newest NAME.json) $W s.

| per completed video | calls | target |
| --- | ---: | --- |
| creates | $c_pv ($creates) | $v_c 1 |
| content downloads | $d_pv ($downloads) | $v_d 1 |
| retrieves asked by a callback | $a_pv ($asked) | |
| polls (sorad's own retrieves) | $p_pv ($polls) | $v_p ≤ 0.1 |
| retrieves of any kind | $r_pv ($retrieves) | $v_r ≤ 0.1 (were the callback-asked one counted as a poll) |
| every call | $t_pv ($total) | |

Callbacks delivered by the sim, by answer: \`$cb\`.
MD
)"
