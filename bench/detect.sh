#!/usr/bin/env bash
# Benchmark (issue 21): how soon sorad sees a video completed, and what it pays for it.
# Four runs, each against a fresh sora-sim and a fresh daemon (empty state: nothing
# observed before), prompts renamed into the inbox at once (bench/tools/drop_all.py):
#
#   a. 200 prompts, 200 in flight, generation 20 s           wall <= 1.05x ideal, <= 4.15 calls/video
#   b. 1,000 prompts, 256 in flight, generation 2 s          wall <= 1.05x ideal
#   c. as a, with --gen-jitter-pct 30 --progress-curve ease-in
#                                                            detection p50 <= 0.5 s, p99 <= 2 s,
#                                                            <= 4.3 calls/video
#   d. the LiteLLM profile without progress (--profile litellm-veo: no progress, no
#      list either), 400 prompts, 200 in flight, generation 20 s (two waves: the
#      second is predicted from what the first took)    wall <= 1.15x ideal
#
# and, for a, the peer (bench/peer/peer.mjs: openai SDK + chokidar, 2 s doubling to 10 s)
# against its own fresh sora-sim, as bench/throughput.sh runs it.
#
# Ideal = generation × ⌈prompts / in flight⌉ (sora-sim's own time, as throughput.sh
# counts it). Wall = newest NAME.json mtime − drop. Calls = every /v1 request sora-sim
# answered. Detection delay is measured by sora-sim on its own monotonic clock: from
# each video's completion to the first answer (retrieve or list) that reported it
# completed (/__sim/stats .detection); no clock of sorad's is trusted for it. sorad
# runs with the product's defaults (polling 2 s doubling to 10 s as the cap), settle_ms
# 0, no status endpoint; variants the service cannot serve are left out (ffmpeg = "")
# so that the LiteLLM run measures polling, not ffmpeg.
#
# Usage: bench/detect.sh   (env: BUILD_DIR=build, PEER=1 (0: sorad only),
#        RUNS="a b c d" a subset, SECTION=detect)
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
peer=${PEER:-1}
runs=${RUNS:-a b c d}
section=${SECTION:-detect}

# prompts DIR COUNT: COUNT prompt files, written before the clock starts.
prompts() {
	mkdir -p "$1"
	local i
	for ((i = 1; i <= $2; i++)); do
		printf 'detect prompt %d\n' "$i" >"$1/dp-$i.txt"
	done
}


# conf_for PROFILE MIF: $T/sorad.conf; PROFILE "" (OpenAI) or litellm-veo (the example).
conf_for() {
	local profile=$1 mif=$2
	bench_conf "max_in_flight = $mif" "settle_ms = 0" 'ffmpeg = ""'
	if [ -n "$profile" ]; then
		local ex="$ROOT/examples/gateways/$profile.conf"
		grep -v '^api_base = ' "$T/sorad.conf" >"$T/bench-lines.conf"
		{
			grep -v '^api_base = \|^api_key_file = ' "$ex"
			echo "api_base = \"$SIM_URL/v1\""
			cat "$T/bench-lines.conf"
		} >"$T/sorad.conf"
	fi
}

# run_sorad COUNT MIF GEN_MS PROFILE [SIM OPTIONS...]: one run; sets W (wall s),
# C (calls), CPV, P50, P99, DMAX (detection, s), REQ (requests by endpoint).
run_sorad() {
	local count=$1 mif=$2 gen=$3 profile=$4
	shift 4
	# The last run's files are moved aside, not deleted: deleting thousands of files
	# slows the next run's file creations on this disk (bench/run-all.sh).
	local d old="$T/old.$RANDOM"
	mkdir -p "$old"
	for d in inbox outbox state logs prompts; do
		[ ! -e "$T/$d" ] || mv "$T/$d" "$old/"
	done
	sim_start --gen-ms "$gen" --ffmpeg none "$@"
	conf_for "$profile" "$mif"
	prompts "$T/prompts" "$count"
	sorad_start
	local t0 last stats
	t0=$(python3 "$BENCH_DIR/tools/drop_all.py" "$T/prompts" "$T/inbox")
	WAIT_POLL_S=0.5 wait_for 900 "$count output sets from sorad" all_done "$T/outbox" "$count"
	last=$(last_json_s "$T/outbox")
	stats=$(sim_stats)
	sorad_stop
	kill "$SIM_PID"
	wait "$SIM_PID" 2>/dev/null || true
	W=$(awk -v l="$last" -v t0="$t0" 'BEGIN { printf "%.2f", l - t0 / 1e9 }')
	C=$(jq '[.requests[] | to_entries[] | .value] | add // 0' <<<"$stats")
	CPV=$(awk -v c="$C" -v n="$count" 'BEGIN { printf "%.3f", c / n }')
	P50=$(jq '.detection.p50_ms // 0 | . / 1000' <<<"$stats")
	P99=$(jq '.detection.p99_ms // 0 | . / 1000' <<<"$stats")
	DMAX=$(jq '.detection.max_ms // 0 | . / 1000' <<<"$stats")
	REQ=$(jq -c '.requests | with_entries(.value |= (to_entries | map(.value) | add)) |
		with_entries(select(.value != null))' <<<"$stats")
}

ideal_of() { # GEN_MS COUNT MIF
	awk -v g="$1" -v n="$2" -v m="$3" 'BEGIN { printf "%.2f", g * int((n + m - 1) / m) / 1000 }'
}

rows=""
row() { # LABEL IDEAL VERDICTS...
	local label=$1 ideal=$2 verdicts=$3
	rows+="| $label | $ideal s | $W s | $(ratio "$W" "$ideal") | $CPV ($C) | $P50 s | $P99 s | $DMAX s | $verdicts |"$'\n'
	reqs+="- $label: \`$REQ\`"$'\n'
	echo "$label: wall $W s (ideal $ideal s), $C calls = $CPV per video, detection p50 $P50 s p99 $P99 s max $DMAX s; $verdicts"
}
reqs=""

for run in $runs; do
	case $run in
	a)
		run_sorad 200 200 20000 ""
		i=$(ideal_of 20000 200 200)
		row "a. sorad: 200 prompts, gen 20 s" "$i" \
			"$(verdict 'w <= i * 1.05' w="$W" i="$i") wall ≤ 1.05×; $(verdict 'c <= 4.15' c="$CPV") ≤ 4.15 calls"
		a_w=$W a_cpv=$CPV
		if [ "$peer" = 1 ]; then
			(cd "$BENCH_DIR/peer" && npm ci --no-audit --no-fund --silent) || fail "npm ci in bench/peer"
			sim_start --gen-ms 20000 --ffmpeg none
			mkdir -p "$T/peer-inbox"
			prompts "$T/peer-prompts" 200
			OPENAI_BASE_URL="$SIM_URL/v1" OPENAI_API_KEY=sk-bench MAX_IN_FLIGHT=200 \
				node "$BENCH_DIR/peer/peer.mjs" "$T/peer-inbox" "$T/peer-outbox" 2>"$T/peer.err" &
			PEER_PID=$!
			_pids+=("$PEER_PID")
			wait_for 30 "the peer to watch (see $T/peer.err)" grep -q 'peer: watching' "$T/peer.err"
			t0=$(python3 "$BENCH_DIR/tools/drop_all.py" "$T/peer-prompts" "$T/peer-inbox")
			WAIT_POLL_S=0.5 wait_for 600 "200 output sets from the peer" all_done "$T/peer-outbox" 200
			last=$(last_json_s "$T/peer-outbox")
			stats=$(sim_stats)
			kill "$PEER_PID"
			kill "$SIM_PID"
			wait "$SIM_PID" 2>/dev/null || true
			W=$(awk -v l="$last" -v t0="$t0" 'BEGIN { printf "%.2f", l - t0 / 1e9 }')
			C=$(jq '[.requests[] | to_entries[] | .value] | add // 0' <<<"$stats")
			CPV=$(awk -v c="$C" 'BEGIN { printf "%.3f", c / 200 }')
			P50=$(jq '.detection.p50_ms // 0 | . / 1000' <<<"$stats")
			P99=$(jq '.detection.p99_ms // 0 | . / 1000' <<<"$stats")
			DMAX=$(jq '.detection.max_ms // 0 | . / 1000' <<<"$stats")
			REQ=$(jq -c '.requests | with_entries(.value |= (to_entries | map(.value) | add)) |
				with_entries(select(.value != null))' <<<"$stats")
			row "a. peer: 200 prompts, gen 20 s" "$i" "-"
			rows+="| a. sorad/peer | | $(ratio "$a_w" "$W") | | $(ratio "$a_cpv" "$CPV") | | | | wall and calls per video, sorad ÷ peer |"$'\n'
		fi
		;;
	b)
		run_sorad 1000 256 2000 ""
		i=$(ideal_of 2000 1000 256)
		row "b. sorad: 1,000 prompts, 256 in flight, gen 2 s" "$i" \
			"$(verdict 'w <= i * 1.05' w="$W" i="$i") wall ≤ 1.05×"
		;;
	c)
		run_sorad 200 200 20000 "" --gen-jitter-pct 30 --progress-curve ease-in
		i=$(ideal_of 20000 200 200)
		row "c. sorad: 200 prompts, gen 20 s ±30 %, ease-in progress" "$i" \
			"$(verdict 'p <= 0.5' p="$P50") p50 ≤ 0.5 s; $(verdict 'p <= 2' p="$P99") p99 ≤ 2 s; $(verdict 'c <= 4.3' c="$CPV") ≤ 4.3 calls"
		;;
	d)
		run_sorad 400 200 20000 litellm-veo --profile litellm-veo
		i=$(ideal_of 20000 400 200)
		row "d. sorad: LiteLLM (litellm-veo: no progress, no list), 400 prompts, 200 in flight, gen 20 s" "$i" \
			"$(verdict 'w <= i * 1.15' w="$W" i="$i") wall ≤ 1.15×"
		;;
	*) fail "RUNS: unknown run $run" ;;
	esac
done

head=$(results_header "sorad: completion seen when it happens (issue 21)" "$(bench_cmd PEER RUNS)")
results_section "$section" "$(cat <<MD
$head

Each run: a fresh sora-sim (\`--gen-ms G --ffmpeg none\`, plus the options named) and a
fresh sorad (empty state directory: no durations observed before; max_in_flight as
named, settle_ms 0, polling defaults 2 s doubling to 10 s as the cap, \`ffmpeg = ""\`),
prompts renamed into the inbox at once. Ideal = generation × waves; wall = newest
NAME.json mtime − drop; calls = every /v1 request; detection = sora-sim's completion
of each video → the first answer that reported it completed, on sora-sim's monotonic
clock (\`/__sim/stats\` .detection, nearest-rank percentiles over every video).

| run | ideal | wall | wall / ideal | calls / video | detection p50 | p99 | max | target |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
$rows
Requests by endpoint:

$reqs
MD
)"
