#!/usr/bin/env bash
# Continuations (extend_of, OpenRouter's previous_job_id) against sora-sim --protocol
# openrouter, with examples/gateways/openrouter.conf:
#  - storyboard .jsonl files of three lines, each extending the line before
#    ("previous"; examples/openrouter/storyboard.jsonl is one of them):
#    three videos, each created once, each create sent after its source completed and
#    naming the source's id as previous_job_id; every output set valid;
#  - a chain whose first link fails ([sim:fail]): the other links fail with "the video
#    it extends failed", and nothing is sent for them;
#  - a SIGKILL of sorad while links wait for their source, then a restart: the wait
#    resumes and each link is still created exactly once;
#  - under api_protocol openai, extend_of is refused before any create, with a
#    NAME.error.txt that says why and suggests remix_of.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/gateway_lib.sh"

command -v ffmpeg >/dev/null 2>&1 || { echo "SKIP extend_openrouter: no ffmpeg"; exit 0; }
# Generation takes long enough that a link is seen waiting while its source runs.
sim_start --protocol openrouter --gen-ms 2500 --api-key "$SORAD_KEY" --seed 12 \
	--log-bodies "$T/bodies.jsonl"
gateway_conf openrouter "$SIM_URL/api/v1"
gateway_sorad_start

P1='A paper kite lies on wet grass at dawn (board one).'
P2='The kite lifts into the wind, string taut (board two).'
P3='The kite climbs above the clouds, sun behind it (board three).'
F1='A lantern that will not light (chain one) [sim:fail]'
F2='The lantern glows on a windowsill (chain two).'
F3='The lantern floats away over a lake (chain three).'
K1='A red train leaves a small station (killed one).'
K2='The train crosses a long bridge (killed two).'
K3='The train enters a tunnel in the hills (killed three).'

line() { # line PROMPT [EXTRA_JSON_MEMBERS]
	printf '{"prompt": "%s"%s}\n' "$1" "${2:+, $2}"
}
state_of() { jq -r .state "$T/state/jobs/$1.json" 2>/dev/null; }
# The links of the killed chain wait while their source (with a video id) runs.
waiting_on_running_source() {
	[ "$(state_of killed-2)" = waiting ] && [ "$(state_of killed-3)" = waiting ] &&
		[ "$(state_of killed-1)" = running ] &&
		[ "$(jq -r '.video_id // empty' "$T/state/jobs/killed-1.json")" != "" ]
}

drop board.jsonl "$(line "$P1")
$(line "$P2" '"extend_of": "previous"')
$(line "$P3" '"extend_of": "previous"')"
# The second form: each link names the job it extends.
drop chain.jsonl "$(line "$F1" '"name": "chain-a"')
$(line "$F2" '"name": "chain-b", "extend_of": "chain-a"')
$(line "$F3" '"name": "chain-c", "extend_of": "chain-b"')"
# The storyboard of examples/openrouter/, as shipped.
cp "$SORAD_SOURCE_DIR/examples/openrouter/storyboard.jsonl" "$T/inbox/.storyboard.tmp"
mv "$T/inbox/.storyboard.tmp" "$T/inbox/storyboard.jsonl"
drop killed.jsonl "$(line "$K1")
$(line "$K2" '"extend_of": "previous"')
$(line "$K3" '"extend_of": "previous"')"

# ---- a crash while links wait ---------------------------------------------------------
wait_for 30 "killed-2 and killed-3 waiting while killed-1 runs" waiting_on_running_source
for p in "$K2" "$K3"; do
	[ "$(sim_created_count "$p")" = 0 ] || fail "a waiting link was created: $p"
done
kill -KILL "$SORAD_PID"
wait "$SORAD_PID" 2>/dev/null || true
sorad_start

for n in board-{1,2,3} killed-{1,2,3} storyboard-{1,2,3}; do
	wait_done "$n" 120
done
for n in chain-a chain-b chain-c; do
	wait_failed "$n" 120
done

# ---- the storyboards: three videos each, in order, each extending its source -------------
body() { jq -c --arg p "$1" 'select(.prompt == $p)' "$T/bodies.jsonl"; }
video_id() { jq -r .video.id "$T/outbox/$1.json"; }
# after_in_log JOB1 TEXT1 JOB2 TEXT2: sorad logged TEXT1 for JOB1 before TEXT2 for JOB2.
after_in_log() {
	local a b
	a=$(cat "$T"/logs/*.log | grep -n -F "[job=$1 " | grep -F "$2" | head -n1 | cut -d: -f1)
	b=$(cat "$T"/logs/*.log | grep -n -F "[job=$3 " | grep -F "$4" | head -n1 | cut -d: -f1)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] ||
		fail "expected '$1 ... $2' before '$3 ... $4' in the log (lines '$a', '$b')"
}
check_chain() { # check_chain NAME PROMPT1 PROMPT2 PROMPT3
	local n=$1 prev="" i=1 p b
	shift
	for p in "$@"; do
		created_once "$p"
		[ "$(body "$p" | wc -l)" = 1 ] || fail "$n-$i: expected one create body, got $(body "$p" | wc -l)"
		check_set "$n-$i" 1280x720 8
		b=$(body "$p")
		if [ -z "$prev" ]; then
			expect_eq "$n-1 previous_job_id" null "$(jq -r .previous_job_id <<<"$b")"
		else
			expect_eq "$n-$i previous_job_id" "$(video_id "$n-$prev")" \
				"$(jq -r .previous_job_id <<<"$b")"
			expect_eq "$n-$i.json previous_job_id" "$(video_id "$n-$prev")" \
				"$(jq -r .previous_job_id "$T/outbox/$n-$i.json")"
			expect_eq "$n-$i.json extend_of" "$n-$prev" "$(jq -r .extend_of "$T/outbox/$n-$i.json")"
			# Sent after its source was done (the service refuses an unfinished one).
			[ "$(jq -r .timings.submitted_at "$T/outbox/$n-$i.json")" -ge \
				"$(jq -r .timings.finished_at "$T/outbox/$n-$prev.json")" ] ||
				fail "$n-$i was sent before $n-$prev was done"
			after_in_log "$n-$prev" 'done: ' "$n-$i" 'created ('

		fi
		prev=$i
		i=$((i + 1))
	done
	# ...and in that order on the wire.
	expect_eq "$n: create order" "$*" \
		"$(jq -r --arg a "$1" --arg b "$2" --arg c "$3" \
			'select(.prompt == $a or .prompt == $b or .prompt == $c) | .prompt' \
			"$T/bodies.jsonl" | paste -sd' ' -)"
}
check_chain board "$P1" "$P2" "$P3"
check_chain killed "$K1" "$K2" "$K3"
mapfile -t S < <(jq -r .prompt "$SORAD_SOURCE_DIR/examples/openrouter/storyboard.jsonl")
check_chain storyboard "${S[@]}"

# ---- a failed first link fails the rest, with nothing spent on them ---------------------
created_once "$F1"
for n in chain-b chain-c; do
	grep -qi "the video it extends failed" "$T/outbox/failed/$n.error.txt" ||
		fail "$n.error.txt does not say its source failed: $(cat "$T/outbox/failed/$n.error.txt")"
	grep -q "nothing was spent" "$T/outbox/failed/$n.error.txt" ||
		fail "$n.error.txt does not say nothing was spent"
done
grep -q '"chain-a"' "$T/outbox/failed/chain-b.error.txt" || fail "chain-b.error.txt does not name chain-a"
for p in "$F2" "$F3"; do
	[ "$(sim_created_count "$p")" = 0 ] || fail "a link of a failed chain was created: $p"
	[ -z "$(body "$p")" ] || fail "a create was sent for a link of a failed chain: $p"
done
for n in chain-b chain-c; do
	[ "$(jq -r .creates "$T/state/jobs/$n.json")" = 0 ] || fail "$n counts a create"
done

# ---- the Videos API has no extend: refused before any create ----------------------------
sorad_stop
sim_start --gen-ms 200 --api-key "$SORAD_KEY"
sorad_conf
sorad_start
drop more.txt $'---\nextend_of: board-3\n---\nThe kite lands on a hill (openai).'
wait_failed more 30
grep -q "'extend_of' cannot be sent with api_protocol openai" "$T/outbox/failed/more.error.txt" &&
	grep -q "remix_of" "$T/outbox/failed/more.error.txt" ||
	fail "more.error.txt does not explain: $(cat "$T/outbox/failed/more.error.txt")"
[ -f "$T/outbox/failed/more.txt" ] || fail "the refused input was not kept"
[ "$(sim_stats | jq '[.requests | to_entries[] | select(.key | startswith("POST")) | .value[]] | add // 0')" = 0 ] ||
	fail "something was sent for a refused extension: $(sim_stats | jq -c .requests)"
grep -qF "$SORAD_KEY" "$T"/logs/*.log && fail "the API key is in the log"
sorad_stop
echo "extend_openrouter: ok"
