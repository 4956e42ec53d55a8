# shellcheck shell=bash
# bench/soak_lib.sh — the fault soak, one implementation for two callers:
# bench/soak.sh (300 jobs, on demand, figures into bench/RESULTS.md) and
# tests/integration/daemon_soak_short.sh (40 jobs in the regular suite). Sourced after
# tests/integration/lib.sh and daemon_lib.sh ($T, sim_start, sorad_start, drop, ...).
#
# soak_run runs one soak:
#   - sora-sim with every fault kind on at once: 429 with retry-after, 500/503,
#     connection resets after processing (lost answers), bodies cut short, slow answers,
#     and with SOAK_AFTER_CREATE > 0 creates that make the video but are answered 500,
#     502 or 504 (sora-sim --p5xx-after-create: a gateway's error after the money was
#     spent, which sorad must reconcile from the list instead of creating again);
#   - SOAK_JOBS jobs of every input format (.txt, .txt with front matter, .json, .jsonl
#     batches of 3), dropped in batches while the daemon runs;
#   - SOAK_KILLS SIGKILLs of the daemon at random instants (bash RANDOM seeded with
#     SOAK_SEED, so the run is reproducible), each followed by a check that the outbox
#     shows only complete sets, and a restart;
#   - afterwards: every job done with a consistent set (every NAME.json's sizes), a
#     sample of videos probed with ffprobe, nothing failed, no job left in doubt
#     (state in_doubt: the list works here, so every create in doubt must be settled
#     from it; any that is not is reported with its log lines and fails the run), and
#     the simulator created each prompt exactly once (creates_by_prompt) and nothing
#     else.
# It prints the figures and leaves them in SOAK_* variables (see soak_figures).
#
# Knobs (environment): SOAK_JOBS, SOAK_KILLS, SOAK_SEED, SOAK_GAP_MS (kills come
# 0..GAP ms apart), SOAK_P (each fault kind's probability per request), SOAK_SLOW_MS,
# SOAK_GEN_MS, SOAK_IN_FLIGHT, SOAK_DEADLINE_S (for the last job after the last kill),
# SOAK_AFTER_CREATE (probability per create of sora-sim's --p5xx-after-create; 0: off),
# SOAK_SIM_ARGS (more sora-sim options, split into words, e.g. "--clock-offset-s 600").

SOAK_JOBS=${SOAK_JOBS:-300}
SOAK_KILLS=${SOAK_KILLS:-60}
SOAK_SEED=${SOAK_SEED:-6}
SOAK_GAP_MS=${SOAK_GAP_MS:-1500}
SOAK_P=${SOAK_P:-0.04}
SOAK_SLOW_MS=${SOAK_SLOW_MS:-1000}
SOAK_GEN_MS=${SOAK_GEN_MS:-1500}
SOAK_IN_FLIGHT=${SOAK_IN_FLIGHT:-16}
SOAK_DEADLINE_S=${SOAK_DEADLINE_S:-300}
SOAK_AFTER_CREATE=${SOAK_AFTER_CREATE:-0}
SOAK_SIM_ARGS=${SOAK_SIM_ARGS:-}

_soak_names=()   # expected job names
_soak_prompts=() # their prompts (distinct, so creates_by_prompt counts each job)
_soak_shapes=()  # "WxH SECONDS" of each

_soak_expect() {
	_soak_names+=("$1")
	_soak_prompts+=("$2")
	_soak_shapes+=("$3")
}

# _soak_drop I: drops input file number I (one job, or three for a .jsonl batch) and
# records what it should become.
_soak_drop() {
	local i=$1 p="Soak prompt $1: a paper boat crossing a puddle, seed $SOAK_SEED."
	case $((i % 5)) in
	0)
		drop "soak$i.json" "{\"prompt\": \"$p\", \"seconds\": \"8\"}"
		_soak_expect "soak$i" "$p" "1280x720 8"
		;;
	1)
		drop "soak$i.txt" "$(printf -- '---\nsize: 720x1280\n---\n%s' "$p")"
		_soak_expect "soak$i" "$p" "720x1280 4"
		;;
	2)
		drop "soak$i.jsonl" "$(printf '{"prompt": "%s (a)"}\n{"prompt": "%s (b)"}\n{"prompt": "%s (c)"}\n' "$p" "$p" "$p")"
		_soak_expect "soak$i-1" "$p (a)" "1280x720 4"
		_soak_expect "soak$i-2" "$p (b)" "1280x720 4"
		_soak_expect "soak$i-3" "$p (c)" "1280x720 4"
		;;
	*)
		drop "soak$i.txt" "$p"
		_soak_expect "soak$i" "$p" "1280x720 4"
		;;
	esac
}

# _soak_random_sleep MAX_MS: sleeps a random 0..MAX_MS ms. This picks the instant of
# the next kill; it does not wait for anything.
_soak_random_sleep() {
	local ms=$((RANDOM * 32768 + RANDOM))
	ms=$((ms % ($1 + 1)))
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
}

soak_run() {
	local t0 k file=0 target
	t0=$(date +%s%N)
	# shellcheck disable=SC2086 # SOAK_SIM_ARGS is a list of options
	sim_start --gen-ms "$SOAK_GEN_MS" --api-key "$SORAD_KEY" --seed "$SOAK_SEED" \
		--p429 "$SOAK_P" --p5xx "$SOAK_P" --preset "$SOAK_P" --ptruncate "$SOAK_P" \
		--pslow "$SOAK_P" --slow-ms "$SOAK_SLOW_MS" --p5xx-after-create "$SOAK_AFTER_CREATE" \
		$SOAK_SIM_ARGS
	sorad_conf "max_in_flight = $SOAK_IN_FLIGHT" "log_level = \"info\""
	sorad_start
	RANDOM=$SOAK_SEED
	SOAK_INFLIGHT_KILLS=0
	for k in $(seq 1 "$SOAK_KILLS"); do
		# Jobs arrive in batches spread over the first two thirds of the kills, so
		# that claims, submissions, polls and downloads are all cut by some kill.
		target=$(((SOAK_JOBS * k * 3 + 2 * SOAK_KILLS - 1) / (2 * SOAK_KILLS)))
		while [ "${#_soak_names[@]}" -lt "$target" ] && [ "${#_soak_names[@]}" -lt "$SOAK_JOBS" ]; do
			file=$((file + 1))
			_soak_drop "$file"
		done
		_soak_random_sleep "$SOAK_GAP_MS"
		kill -KILL "$SORAD_PID"
		wait "$SORAD_PID" 2>/dev/null || true
		check_outbox_sets
		sorad_start
	done
	while [ "${#_soak_names[@]}" -lt "$SOAK_JOBS" ]; do
		file=$((file + 1))
		_soak_drop "$file"
	done
	SOAK_JOBS=${#_soak_names[@]} # a final .jsonl batch may add up to two more
	local n
	for n in "${_soak_names[@]}"; do
		wait_for "$SOAK_DEADLINE_S" "outbox/$n.json or $n in doubt (see $T/sorad.out)" \
			_soak_settled "$n"
	done
	SOAK_WALL_S=$((($(date +%s%N) - t0) / 1000000000))
	check_outbox_sets
	soak_in_doubt
	soak_verify
	soak_figures
	sorad_stop
}

# _soak_settled NAME: the job is done (its set is in the outbox) or waits in doubt
# for the user (nothing more will happen to it without one).
_soak_settled() {
	[ -f "$T/outbox/$1.json" ] ||
		[ "$(jq -r .state "$T/state/jobs/$1.json" 2>/dev/null)" = in_doubt ]
}

# soak_in_doubt: sets SOAK_IN_DOUBT (jobs left in state in_doubt). With a working list
# there must be none: each one is reported with its record's error and its log lines
# (why sorad could not settle it), and the run fails.
soak_in_doubt() {
	local f n names=()
	for f in "$T"/state/jobs/*.json; do
		[ -f "$f" ] || continue
		[ "$(jq -r .state "$f")" = in_doubt ] && names+=("$(basename "$f" .json)")
	done
	SOAK_IN_DOUBT=${#names[@]}
	[ "$SOAK_IN_DOUBT" = 0 ] && return 0
	for n in "${names[@]}"; do
		echo "soak: $n is in doubt: $(jq -r .error "$T/state/jobs/$n.json" | head -c 1500)" >&2
		echo "soak: $n in the logs:" >&2
		grep -h -F -- "[job=$n]" "$T"/logs/*.log | tail -20 >&2 || true
	done
	fail "$SOAK_IN_DOUBT job(s) left in doubt: ${names[*]} (see above; KEEP_TMP=1 keeps the logs and state)"
}

# soak_verify: the end state proves the guarantees (see the top of this file).
soak_verify() {
	local i n stats
	[ ! -d "$T/outbox/failed" ] || [ -z "$(ls -A "$T/outbox/failed")" ] ||
		fail "jobs failed: $(ls "$T/outbox/failed") ($(cat "$T"/outbox/failed/*.error.txt | head -5))"
	n=$(find "$T/outbox" -maxdepth 1 -name '*.json' | wc -l)
	[ "$n" = "$SOAK_JOBS" ] || fail "expected $SOAK_JOBS output sets, found $n"
	[ -z "$(ls -A "$T/inbox")" ] || fail "the inbox still holds: $(ls -A "$T/inbox")"
	stats=$(sim_stats)
	for i in "${!_soak_names[@]}"; do
		n=$(jq -r --arg p "${_soak_prompts[$i]}" '.creates_by_prompt[$p] // 0' <<<"$stats")
		[ "$n" = 1 ] || fail "${_soak_names[$i]} was created $n times (prompt: ${_soak_prompts[$i]})"
		[ "$(jq -r .prompt "$T/outbox/${_soak_names[$i]}.json")" = "${_soak_prompts[$i]}" ] ||
			fail "${_soak_names[$i]}.json carries another job's prompt"
	done
	SOAK_CREATES=$(jq '[.creates_by_prompt[]] | add // 0' <<<"$stats")
	[ "$SOAK_CREATES" = "$SOAK_JOBS" ] || fail "the simulator created $SOAK_CREATES videos for $SOAK_JOBS jobs"
	# A sample of the videos is probed for real (size, duration, codecs of all three).
	local step=$(((SOAK_JOBS + 7) / 8))
	for ((i = 0; i < SOAK_JOBS; i += step)); do
		# shellcheck disable=SC2086 # the shape is "WxH SECONDS"
		check_set "${_soak_names[$i]}" ${_soak_shapes[$i]}
	done
	SOAK_PROBED=$(((SOAK_JOBS + step - 1) / step))
	# No temp file is left behind either, in the outbox or the state's inputs.
	n=$(find "$T/outbox" -name '.*' | wc -l)
	[ "$n" = 0 ] || fail "$n hidden temp files left in the outbox: $(find "$T/outbox" -name '.*' | head -3)"
	echo "$stats" >"$T/soak.stats.json"
}

# soak_figures: sets and prints SOAK_FAULTS_* (injected by kind), SOAK_REQUESTS,
# SOAK_KILLS, SOAK_INFLIGHT_KILLS, SOAK_ADOPTED / SOAK_RESUBMITTED (reconciliations),
# SOAK_WALL_S.
soak_figures() {
	local s="$T/soak.stats.json" k
	for k in 429 5xx reset truncated slow 5xx_after_create; do
		printf -v "SOAK_FAULTS_$k" '%s' "$(jq -r --arg k "$k" '.faults[$k] // 0' "$s")"
	done
	SOAK_REQUESTS=$(jq '[.requests[] | to_entries[] | .value] | add // 0' "$s")
	# Create answers by status, as sora-sim sent them (reset/truncated: the answer lost).
	SOAK_CREATE_ANSWERS=$(jq -c '.requests["POST /v1/videos"] // {}' "$s")
	SOAK_ADOPTED=$(cat "$T"/logs/*.log | grep -c 'reconciled: the lost create had made this video' || true)
	SOAK_RESUBMITTED=$(cat "$T"/logs/*.log | grep -c 'reconciled: the service has no video' || true)
	# Creates whose answer said nothing sure (5xx, lost, unusable), which sorad then
	# reconciled instead of repeating; restarts that found a create in flight reconcile
	# without this line.
	SOAK_MAY_HAVE_MADE=$(cat "$T"/logs/*.log | grep -c 'the create may have made a video' || true)
	SOAK_DOUBT_EVENTS=$(cat "$T"/logs/*.log | grep -c 'in doubt: ' || true)
	SOAK_LIST_CALLS=$(jq '[.requests["GET /v1/videos"] // {} | to_entries[] | .value] | add // 0' "$s")
	# Restarts that found unfinished work prove the kills hit jobs in flight.
	SOAK_INFLIGHT_KILLS=$(grep -c 'job(s) loaded, [1-9][0-9]* to resume' "$T/sorad.out" || true)
	echo "soak: $SOAK_JOBS jobs, $SOAK_KILLS SIGKILLs ($SOAK_INFLIGHT_KILLS restarts found jobs in flight), wall time ${SOAK_WALL_S} s"
	# shellcheck disable=SC2154 # SOAK_FAULTS_* are set by printf -v above
	echo "soak: faults injected: $SOAK_FAULTS_429 x 429, $SOAK_FAULTS_5xx x 5xx, $SOAK_FAULTS_reset resets, $SOAK_FAULTS_truncated truncated bodies, $SOAK_FAULTS_slow slow answers, $SOAK_FAULTS_5xx_after_create x 5xx after the video was created (of $SOAK_REQUESTS API requests)"
	echo "soak: create answers by status: $SOAK_CREATE_ANSWERS; $SOAK_LIST_CALLS list calls"
	echo "soak: reconciliations: $SOAK_MAY_HAVE_MADE creates answered without certainty reconciled, $SOAK_ADOPTED lost creates adopted, $SOAK_RESUBMITTED in-doubt jobs found not created and resubmitted"
	echo "soak: in doubt: $SOAK_IN_DOUBT jobs left in doubt ($SOAK_DOUBT_EVENTS 'in doubt:' log lines)"
	echo "soak: every job done once: $SOAK_CREATES creates for $SOAK_JOBS jobs, $SOAK_PROBED videos probed, no partial file at any of the $SOAK_KILLS kills"
}
