#!/usr/bin/env bash
# Benchmark: COUNT prompts dropped at once (renamed into the inbox in one mv), sora-sim
# generating each in GEN_MS, at most MAX_IN_FLIGHT jobs in flight. Runs sorad, then
# the peer (bench/peer: the Node.js script a user would write instead), each against
# a fresh sora-sim with the same options, and prints for both and as sorad/peer
# ratios: wall time from the drop to the last complete output set (NAME.json
# written), API calls per completed video (/__sim/stats), peak RSS (VmHWM) and CPU
# time (utime + stime) of the whole run, with the simulator's ideal wall time
# GEN_MS × ⌈COUNT / MAX_IN_FLIGHT⌉ beside it.
#
# Targets: wall within 15 % of the ideal and no slower than the peer; calls per video
# <= 4.3 and <= 0.75x the peer's; peak RSS <= 0.2x and CPU <= 0.5x the peer's.
#
# Usage: bench/throughput.sh   (env: BUILD_DIR=build, COUNT=1000, GEN_MS=2000,
#        MAX_IN_FLIGHT=256, PEER=1 (0: sorad only), SECTION=throughput,
#        SORAD_CONF_EXTRA='key = value' one more daemon configuration line)
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
count=${COUNT:-1000}
gen=${GEN_MS:-2000}
mif=${MAX_IN_FLIGHT:-256}
peer=${PEER:-1}
section=${SECTION:-throughput}
ideal_s=$(awk -v g="$gen" -v n="$count" -v m="$mif" 'BEGIN { w = int((n + m - 1) / m); printf "%.2f", g * w / 1000 }')

# prompts DIR: COUNT prompt files, written before the clock starts.
prompts() {
	mkdir -p "$1"
	local i
	for ((i = 1; i <= count; i++)); do
		printf 'throughput prompt %d\n' "$i" >"$1/tp-$i.txt"
	done
}


# measure WHO PID OUTBOX T0_NS: waits for every set, then prints
# "wall_s calls calls_per_video hwm_kib cpu_s" for the process PID.
measure() {
	local who=$1 pid=$2 out=$3 t0=$4
	# A coarse poll: the wall time comes from the files' mtimes, and a 20 ms find over
	# thousands of entries would take a fifth of a core from what is measured.
	WAIT_POLL_S=0.5 wait_for 600 "$count output sets from $who" all_done "$out"
	local last hwm ticks calls
	last=$(last_json_s "$out")
	hwm=$(proc_kib "$pid" VmHWM)
	ticks=$(cpu_ticks "$pid")
	calls=$(sim_calls_total)
	awk -v l="$last" -v t0="$t0" -v c="$calls" -v n="$count" -v h="$hwm" -v t="$ticks" -v hz="$CLK_TCK" \
		'BEGIN { printf "%.2f %d %.3f %d %.2f\n", l - t0 / 1e9, c, c / n, h, t / hz }'
}

read -ra sim_extra <<<"${SIM_EXTRA:-}" # SIM_EXTRA: more sora-sim options, split on blanks
sim_opts=(--gen-ms "$gen" --ffmpeg none "${sim_extra[@]}")

# --- sorad -------------------------------------------------------------------------
sim_start "${sim_opts[@]}"
bench_conf "max_in_flight = $mif" "settle_ms = 0" ${SORAD_CONF_EXTRA:+"$SORAD_CONF_EXTRA"}
prompts "$T/prompts"
sorad_start
t0=$(python3 "$BENCH_DIR/tools/drop_all.py" "$T/prompts" "$T/inbox")
read -r s_wall s_calls s_cpv s_hwm s_cpu < <(measure sorad "$SORAD_PID" "$T/outbox" "$t0")
s_stats=$(sim_stats | jq -c '.requests | with_entries(.value |= (to_entries | map(.value) | add))')
sorad_stop
kill "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true
echo "sorad: wall $s_wall s (ideal $ideal_s s), $s_calls calls = $s_cpv per video, peak RSS $s_hwm KiB, CPU $s_cpu s"
echo "sorad: requests $s_stats"

# --- the peer ----------------------------------------------------------------------
p_wall=- p_calls=- p_cpv=- p_hwm=- p_cpu=- p_stats=-
if [ "$peer" = 1 ]; then
	(cd "$BENCH_DIR/peer" && npm ci --no-audit --no-fund --silent) || fail "npm ci in bench/peer"
	sim_start "${sim_opts[@]}"
	mkdir -p "$T/peer-inbox"
	prompts "$T/peer-prompts"
	OPENAI_BASE_URL="$SIM_URL/v1" OPENAI_API_KEY=sk-bench MAX_IN_FLIGHT=$mif \
		node "$BENCH_DIR/peer/peer.mjs" "$T/peer-inbox" "$T/peer-outbox" 2>"$T/peer.err" &
	PEER_PID=$!
	_pids+=("$PEER_PID")
	wait_for 30 "the peer to watch (see $T/peer.err)" grep -q 'peer: watching' "$T/peer.err"
	t0=$(python3 "$BENCH_DIR/tools/drop_all.py" "$T/peer-prompts" "$T/peer-inbox")
	read -r p_wall p_calls p_cpv p_hwm p_cpu < <(measure peer "$PEER_PID" "$T/peer-outbox" "$t0")
	p_stats=$(sim_stats | jq -c '.requests | with_entries(.value |= (to_entries | map(.value) | add))')
	kill "$PEER_PID"
	echo "peer:  wall $p_wall s, $p_calls calls = $p_cpv per video, peak RSS $p_hwm KiB, CPU $p_cpu s"
	echo "peer:  requests $p_stats"
fi

r_wall=$(ratio "$s_wall" "$p_wall")
r_cpv=$(ratio "$s_cpv" "$p_cpv")
r_hwm=$(ratio "$s_hwm" "$p_hwm")
r_cpu=$(ratio "$s_cpu" "$p_cpu")
echo "sorad/peer: wall $r_wall, calls per video $r_cpv, peak RSS $r_hwm, CPU $r_cpu"
v_wall=$(verdict 'w <= i * 1.15' w="$s_wall" i="$ideal_s")
v_cpv=$(verdict 'c <= 4.3' c="$s_cpv")
tgt() { # a ratio target: "-" without the peer
	if [ "$2" = - ]; then echo "-"; else verdict "r <= $1" r="$2"; fi
}

head=$(results_header "sorad and the peer: $count prompts, $mif in flight, generation $((gen / 1000)) s" \
	"$(bench_cmd COUNT GEN_MS MAX_IN_FLIGHT PEER SORAD_CONF_EXTRA)")
results_section "$section" "$(cat <<MD
$head

$count prompt files renamed into the inbox at once (\`bench/tools/drop_all.py\`); sora-sim \`${sim_opts[*]}\` (a fresh
one for each client; fixtures: 4.6 KB MP4s, so disk speed does not dominate); sorad with
max_in_flight $mif, settle_ms 0, polling defaults (2 s doubling to 10 s); the peer
(\`bench/peer/peer.mjs\`, openai SDK + chokidar, Node $(node --version 2>/dev/null || echo -)) with
at most $mif jobs at once. Wall = newest NAME.json mtime − drop; RSS = VmHWM; CPU =
utime + stime of the whole process life.

| | wall | calls / video | peak RSS | CPU |
| --- | ---: | ---: | ---: | ---: |
| ideal (sim) | $ideal_s s | 4 | | |
| sorad | $s_wall s | $s_cpv ($s_calls) | $s_hwm KiB | $s_cpu s |
| peer | $p_wall s | $p_cpv ($p_calls) | $p_hwm KiB | $p_cpu s |
| sorad/peer | $r_wall | $r_cpv | $r_hwm | $r_cpu |
| target | $v_wall ≤ ideal + 15 %; $(tgt 1 "$r_wall") ≤ 1 | $v_cpv ≤ 4.3; $(tgt 0.75 "$r_cpv") ≤ 0.75 | $(tgt 0.2 "$r_hwm") ≤ 0.2 | $(tgt 0.5 "$r_cpu") ≤ 0.5 |

Requests by endpoint — sorad: \`$s_stats\`; peer: \`$p_stats\`.
MD
)"
