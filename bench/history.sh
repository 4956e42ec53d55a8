#!/usr/bin/env bash
# Benchmark (issue 20): what a long history of finished jobs costs sorad. For each size
# N of SIZES (finished jobs already in the state directory), in one run:
#  - start-up: exec of sorad to its READY=1 (sd_notify, sent just before the "ready:"
#    log line), both on CLOCK_MONOTONIC (bench/tools/mono.py: a stamp written just
#    before execv, the arrival of READY=1 on a NOTIFY_SOCKET the script listens on),
#    and the CPU time (utime + stime) sorad used to get there (less mono.py's own);
#  - peak RSS: VmHWM (and VmRSS) of /proc/PID/status once ready, and after the prompts;
#  - COUNT (200) new prompts renamed into the inbox at once (bench/tools/drop_all.py),
#    sora-sim generating each in GEN_MS (2000), MAX_IN_FLIGHT (256) in flight, as
#    bench/throughput.sh runs them: wall = newest NAME.json mtime − the drop; CPU =
#    sorad's utime + stime (/proc/PID/stat) from just before the drop to the moment
#    the last NAME.json is seen; when they are not all done within DONE_S, the size
#    is recorded as not finished (how many were, the CPU used so far) and the run goes
#    on; "API timeouts" counts sorad's log lines of requests that timed out meanwhile;
#  - the status list of 100, GET /api/v1/videos?limit=100 on 127.0.0.1, REQS (200)
#    times in one curl process on one kept-alive connection, once ready and before the
#    drop: p50 and p99 of curl's time_total (one warm-up request not counted);
#  - `sorad list --state running`: wall time (CLOCK_MONOTONIC) of the command while
#    the daemon runs idle, the median of LIST_RUNS (3) runs;
#  - stop: SIGTERM to exit (SIGKILL after STOP_S s, recorded as such).
# The finished jobs are written before any daemon starts by bench/tools/make_history.py
# (records and usage lines byte for byte as sorad leaves them, no outbox files), every
# size first, then one sync; the daemons then start on a warm page cache. Each size has
# its own sora-sim and daemon; every temp dir is deleted at the end.
#
# Targets (issue 20), judged at the largest size (they are set for 1,000,000): start-up
# <= 1 s to ready; peak RSS <= 48 MiB; CPU for the prompts <= 1.3x the empty-state
# run's; status list of 100 p99 <= 10 ms; `sorad list --state running` <= 0.2 s.
#
# Usage: bench/history.sh   (env: BUILD_DIR=build, SIZES="0 100000 1000000",
#        COUNT=200, GEN_MS=2000, MAX_IN_FLIGHT=256, REQS=200, LIST_RUNS=3,
#        READY_S=1800 and DONE_S=1800 (deadlines), STOP_S=120 (SIGTERM to SIGKILL),
#        SECTION=history;
#        QUICK=1: a smoke run, SIZES="0 2000", COUNT=20, REQS=50, LIST_RUNS=1, and
#        nothing recorded in RESULTS.md unless SECTION is set)
# Needs about 4.5 GB of free disk in ${TMPDIR:-/tmp} for 1,000,000 jobs, and with the
# code of 2026-12-06 about an hour on a loaded 2-CPU machine (bench/RESULTS.md).
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
quick=${QUICK:-0}
if [ "$quick" = 1 ]; then
	sizes=${SIZES:-0 2000}
	count=${COUNT:-20}
	reqs=${REQS:-50}
	list_runs=${LIST_RUNS:-1}
	section=${SECTION:-}
else
	sizes=${SIZES:-0 100000 1000000}
	count=${COUNT:-200}
	reqs=${REQS:-200}
	list_runs=${LIST_RUNS:-3}
	section=${SECTION:-history}
fi
gen=${GEN_MS:-2000}
mif=${MAX_IN_FLIGHT:-256}
ready_s=${READY_S:-1800}
done_s=${DONE_S:-1800}
stop_s=${STOP_S:-120}
read -ra size_list <<<"$sizes"
[ "${#size_list[@]}" -gt 0 ] || fail "SIZES is empty"
MONO=$BENCH_DIR/tools/mono.py
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	commit+=" (with uncommitted changes)"
fi

# fmt_n N: 1000000 as 1,000,000.
fmt_n() {
	echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'
}

# hist_conf DIR: DIR/sorad.conf for a daemon in DIR (product defaults, polling 2 s
# doubling to 10 s), with the status endpoint on a free loopback port.
hist_conf() {
	local d=$1
	mkdir -p "$d/inbox"
	cat >"$d/sorad.conf" <<CONF
api_base = "$SIM_URL/v1"
inbox = "$d/inbox"
outbox = "$d/outbox"
state_dir = "$d/state"
log_dir = "$d/logs"
listen = "127.0.0.1:0"
notify = false
log_level = "info"
max_in_flight = $mif
settle_ms = 0
CONF
}

# ready_or_dead DIR PID: true once DIR/ready.ns exists; fails when sorad exited.
# alive PID: PID runs (a zombie does not: it exited, not waited for yet).
alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$st" ] && [ "$st" != Z ]
}
ready_or_dead() {
	kill -0 "$2" 2>/dev/null || fail "sorad exited before it was ready: $(tail -5 "$1/sorad.out")"
	[ -s "$1/ready.ns" ]
}
# api_total URL QUERY: the list's "total" for QUERY.
api_total() {
	curl -fsS "$1/api/v1/videos?limit=1$2" | jq .total
}
total_is() {
	[ "$(api_total "$1" "$2")" = "$3" ]
}
# pct FILE Q: the Q-quantile (nearest rank) of the numbers in FILE, one per line.
pct() {
	sort -n "$1" | awk -v q="$2" '{ v[NR] = $1 } END { i = int(q * NR); if (i < q * NR) i++; if (i < 1) i = 1; print v[i] }'
}

# --- the state directories, all written before any daemon runs ---------------------
declare -A gen_s
for n in "${size_list[@]}"; do
	d=$T/h$n
	mkdir -p "$d/state" "$d/prompts"
	for ((i = 1; i <= count; i++)); do
		printf 'history bench, %d finished before: new prompt %d\n' "$n" "$i" >"$d/prompts/new-$i.txt"
	done
	if [ "$n" -gt 0 ]; then
		echo "writing $n finished jobs into $d/state ..."
		python3 "$MONO" time "$d/gen.ms" python3 "$BENCH_DIR/tools/make_history.py" "$d/state" "$n" ||
			fail "make_history.py $n"
		gen_s[$n]=$(awk '{ printf "%.0f", $1 / 1000 }' "$d/gen.ms")
	else
		gen_s[$n]=0
	fi
done
echo "syncing ..."
sync -f "$T"

# --- one size --------------------------------------------------------------------
declare -A r_first r_start r_scpu r_hwm0 r_rss0 r_hwm1 r_wall r_cpu r_p50 r_p99 r_list r_load r_fin r_tmo r_stop
run_size() {
	local n=$1 d=$T/h$1
	r_load[$n]=$(loadavg)
	sim_start --gen-ms "$gen" --ffmpeg none
	hist_conf "$d"
	# The first start on this state directory reads every record (as a start after an
	# upgrade, or after a power loss, does) and writes STATE/history.tsv and STATE/live;
	# then a clean stop. The start measured below is the next one, as every start after
	# a clean stop or a crash on the same boot is.
	r_first[$n]="-"
	if [ "$n" -gt 0 ]; then
		local f0 fp
		f0=$(now_ns)
		OPENAI_API_KEY=$SORAD_KEY "$SORAD_BIN" -c "$d/sorad.conf" -f >>"$d/first.out" 2>&1 &
		fp=$!
		_pids+=("$fp")
		WAIT_POLL_S=0.1 wait_for "$ready_s" "the first start with $n jobs (see $d/first.out)" \
			grep -q ' ready: ' "$d/first.out"
		r_first[$n]="$(awk -v a="$f0" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s"
		kill -TERM "$fp"
		wait "$fp" || fail "the first start with $n jobs did not stop cleanly"
		echo "$n jobs: first start ${r_first[$n]} (every record read, history.tsv and STATE/live written)"
	fi
	python3 "$MONO" ready "$d/notify.sock" "$d/ready.ns" "$ready_s" &
	local lp=$!
	_pids+=("$lp")
	wait_for 20 "the notify socket" test -S "$d/notify.sock"
	NOTIFY_SOCKET=$d/notify.sock OPENAI_API_KEY=$SORAD_KEY \
		python3 "$MONO" exec "$d/exec.ns" "$SORAD_BIN" -c "$d/sorad.conf" -f >>"$d/sorad.out" 2>&1 &
	local pid=$!
	_pids+=("$pid")
	WAIT_POLL_S=0.1 wait_for "$ready_s" "sorad with $n jobs to be ready (see $d/sorad.out)" ready_or_dead "$d" "$pid"
	wait "$lp" || fail "the READY=1 listener failed"
	r_start[$n]=$(awk -v a="$(cat "$d/exec.ns")" -v b="$(cat "$d/ready.ns")" 'BEGIN { printf "%.0f", (b - a) / 1e6 }')
	# sorad's CPU time at ready, less what mono.py used before its execv.
	r_scpu[$n]=$(awk -v t="$(cpu_ticks "$pid")" -v hz="$CLK_TCK" -v py="$(cat "$d/exec.ns.cpu")" \
		'BEGIN { printf "%.2f", t / hz - py }')
	r_hwm0[$n]=$(proc_kib "$pid" VmHWM)
	r_rss0[$n]=$(proc_kib "$pid" VmRSS)
	echo "$n jobs: start-up ${r_start[$n]} ms (CPU ${r_scpu[$n]} s), VmHWM ${r_hwm0[$n]} KiB (VmRSS ${r_rss0[$n]} KiB)"

	local url
	url=$(grep -o 'status: listening on http://[0-9.:]*' "$d/sorad.out" | head -1 | sed 's/status: listening on //')
	[ -n "$url" ] || fail "no status endpoint in $d/sorad.out"
	local loaded
	loaded=$(curl -fsS "$url/healthz" | jq .jobs)
	[ "$loaded" = "$n" ] || fail "sorad loaded $loaded jobs, not $n"
	total_is "$url" "&status=done" "$n" || fail "/api/v1/videos?status=done does not count $n jobs"

	# The status list of 100: REQS + 1 requests on one connection, the first not counted.
	local urls=() i
	for ((i = 0; i <= reqs; i++)); do
		urls+=("$url/api/v1/videos?limit=100")
	done
	curl -sS -w '%{stderr}%{http_code} %{time_total}\n' "${urls[@]}" >/dev/null 2>"$d/list-lat.txt" ||
		fail "curl of the list: $(tail -2 "$d/list-lat.txt")"
	awk 'NR > 1 && $1 == 200 { print $2 * 1000 }' "$d/list-lat.txt" >"$d/list-ms.txt"
	[ "$(wc -l <"$d/list-ms.txt")" = "$reqs" ] || fail "not $reqs answers 200 to the list: $(sort "$d/list-lat.txt" | uniq -c | head -3)"
	r_p50[$n]=$(pct "$d/list-ms.txt" 0.5)
	r_p99[$n]=$(pct "$d/list-ms.txt" 0.99)
	echo "$n jobs: list of 100 p50 ${r_p50[$n]} ms, p99 ${r_p99[$n]} ms ($reqs requests)"

	# sorad list --state running, while the daemon runs idle.
	: >"$d/cli-ms.txt"
	for ((i = 1; i <= list_runs; i++)); do
		OPENAI_API_KEY=$SORAD_KEY python3 "$MONO" time "$d/cli.ms" \
			"$SORAD_BIN" -c "$d/sorad.conf" list --state running >"$d/cli.out" 2>&1 ||
			fail "sorad list --state running: $(tail -3 "$d/cli.out")"
		cat "$d/cli.ms" >>"$d/cli-ms.txt"
	done
	grep -q 'no jobs in state running' "$d/cli.out" || fail "sorad list --state running listed jobs: $(head -3 "$d/cli.out")"
	r_list[$n]=$(pct "$d/cli-ms.txt" 0.5)
	echo "$n jobs: sorad list --state running ${r_list[$n]} ms (median of $list_runs)"

	# COUNT new prompts at once.
	local c0 c1 t0 tmo0 deadline
	c0=$(cpu_ticks "$pid")
	tmo0=$(grep -c 'timed out after' "$d/sorad.out" || true)
	t0=$(python3 "$BENCH_DIR/tools/drop_all.py" "$d/prompts" "$d/inbox")
	deadline=$(($(date +%s) + done_s))
	r_fin[$n]=1
	# Polled every 0.5 s: the wall time comes from the files' mtimes (throughput.sh).
	until all_done "$d/outbox"; do
		kill -0 "$pid" 2>/dev/null || fail "sorad exited: $(tail -5 "$d/sorad.out")"
		if [ "$(date +%s)" -ge "$deadline" ]; then
			r_fin[$n]=0
			break
		fi
		sleep 0.5
	done
	c1=$(cpu_ticks "$pid")
	r_hwm1[$n]=$(proc_kib "$pid" VmHWM)
	r_cpu[$n]=$(ticks_s $((c1 - c0)))
	r_tmo[$n]=$(($(grep -c 'timed out after' "$d/sorad.out" || true) - tmo0))
	if [ "${r_fin[$n]}" = 1 ]; then
		r_wall[$n]=$(awk -v l="$(last_json_s "$d/outbox")" -v t0="$t0" 'BEGIN { printf "%.2f", l - t0 / 1e9 }')
		WAIT_POLL_S=0.5 wait_for 60 "$((n + count)) jobs done" total_is "$url" "&status=done" "$((n + count))"
		echo "$n jobs: $count new in ${r_wall[$n]} s wall, ${r_cpu[$n]} s CPU; VmHWM ${r_hwm1[$n]} KiB; ${r_tmo[$n]} API timeouts"
	else
		r_wall[$n]="not finished in $done_s s ($(done_count "$d/outbox") of $count done)"
		echo "$n jobs: $count new ${r_wall[$n]}; ${r_cpu[$n]} s CPU meanwhile; VmHWM ${r_hwm1[$n]} KiB; ${r_tmo[$n]} API timeouts"
	fi

	# SIGTERM, and how long sorad takes to exit; SIGKILL after STOP_S.
	local s0 sdl rc=0
	s0=$(now_ns)
	sdl=$((s0 + stop_s * 1000000000))
	kill -TERM "$pid"
	while alive "$pid" && [ "$(now_ns)" -lt "$sdl" ]; do
		sleep 0.1
	done
	if alive "$pid"; then
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null || true
		r_stop[$n]="not within $stop_s s (SIGKILL)"
	else
		r_stop[$n]="$(awk -v a="$s0" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s"
		wait "$pid" || rc=$?
		[ "$rc" = 0 ] || fail "sorad exited with $rc after SIGTERM"
	fi
	echo "$n jobs: SIGTERM → exit: ${r_stop[$n]}"
	kill "$SIM_PID"
	wait "$SIM_PID" 2>/dev/null || true
}

for n in "${size_list[@]}"; do
	echo "=== $n finished jobs (load average $(loadavg))"
	run_size "$n"
done
end_load=$(loadavg)

# --- the table and the targets -------------------------------------------------------
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
big=${size_list[0]}
for n in "${size_list[@]}"; do
	[ "$n" -gt "$big" ] && big=$n
done
empty_cpu=${r_cpu[0]:-}
rows=""
for n in "${size_list[@]}"; do
	cr=-
	[ -n "$empty_cpu" ] && cr=$(ratio "${r_cpu[$n]}" "$empty_cpu")
	w="${r_wall[$n]} s" c="${r_cpu[$n]} s"
	if [ "${r_fin[$n]}" = 0 ]; then
		w=${r_wall[$n]} c="≥ ${r_cpu[$n]} s" cr="≥ $cr"
	fi
	rows+="| $(fmt_n "$n") | ${gen_s[$n]} s | ${r_first[$n]} | ${r_start[$n]} ms (${r_scpu[$n]} s) | $(mib "${r_hwm0[$n]}") → $(mib "${r_hwm1[$n]}") MiB | $(mib "${r_rss0[$n]}") MiB | $w | $c | $cr | ${r_tmo[$n]} | ${r_p50[$n]} / ${r_p99[$n]} ms | ${r_list[$n]} ms | ${r_stop[$n]} | ${r_load[$n]} |"$'\n'
done
pm() { # pass/miss from an awk condition, as verdict
	local v
	v=$(verdict "$@")
	[ "$v" = meets ] && echo PASS || echo MISS
}
t_start=$(pm 's <= 1000' s="${r_start[$big]}")
t_rss=$(pm 'h <= 49152' h="${r_hwm1[$big]}")
if [ -n "$empty_cpu" ]; then
	cpu_ratio=$(ratio "${r_cpu[$big]}" "$empty_cpu")
	t_cpu=$(pm 'c <= 1.3 * e' c="${r_cpu[$big]}" e="$empty_cpu")
	if [ "${r_fin[$big]}" = 0 ]; then
		cpu_ratio="≥ $cpu_ratio"
		t_cpu="MISS (not finished)"
	fi
else
	cpu_ratio=-
	t_cpu="- (no empty-state run)"
fi
t_p99=$(pm 'p <= 10' p="${r_p99[$big]}")
t_list=$(pm 'l <= 200' l="${r_list[$big]}")
targets="| start-up ≤ 1 s to ready | ${r_start[$big]} ms | $t_start |
| peak RSS ≤ 48 MiB | $(mib "${r_hwm1[$big]}") MiB | $t_rss |
| CPU for $count new ≤ 1.3× the empty state's | $([ "${r_fin[$big]}" != 0 ] || echo "≥ ")${r_cpu[$big]} s = ${cpu_ratio}× | $t_cpu |
| list of 100 p99 ≤ 10 ms | ${r_p99[$big]} ms | $t_p99 |
| \`sorad list --state running\` ≤ 0.2 s | ${r_list[$big]} ms | $t_list |"
scope="at $(fmt_n "$big") finished jobs"
[ "$big" = 1000000 ] || scope+=" (the targets are set for 1,000,000)"

table="| finished jobs | written in | first start (every record read) | start-up (exec → READY=1) (its CPU) | peak RSS (VmHWM) ready → after $count | RSS ready | wall for $count new | CPU for $count new | CPU / empty | API timeouts | list of 100 p50 / p99 | \`sorad list --state running\` | SIGTERM → exit | load average at the size's start |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
${rows%$'\n'}"
echo
echo "$table"
echo
echo "Targets $scope:"
echo "$targets"

[ -n "$section" ] || exit 0
head=$(results_header "sorad with a history of finished jobs (issue 20)" \
	"$(bench_cmd SIZES COUNT GEN_MS MAX_IN_FLIGHT REQS LIST_RUNS READY_S DONE_S STOP_S QUICK)")
results_section "$section" "$(cat <<MD
$head

Commit $commit. Load average at the end: $end_load.

For each size, finished jobs written into the state directory before any daemon starts
(\`bench/tools/make_history.py\`: done records and usage lines byte for byte as sorad
leaves them, no outbox files; every size written first, then one \`sync\`, so each
daemon starts on a warm page cache). Then one daemon per size (default configuration
plus status endpoint on 127.0.0.1, max_in_flight $mif, settle_ms 0, no
notifications) against its own sora-sim \`--gen-ms $gen --ffmpeg none\`. Its
first start on that state directory reads every record and writes STATE/history.tsv
and STATE/live (as after an upgrade or a power loss; wall time to the "ready" log line,
polled every 0.1 s), then stops cleanly; everything else is measured on the next start,
which is what every start after a clean stop or a crash on the same boot is:
start-up = exec → READY=1 on a NOTIFY_SOCKET, both CLOCK_MONOTONIC
(\`bench/tools/mono.py\`), with sorad's utime + stime at ready beside it; peak RSS = VmHWM once ready → after the prompts; the list =
\`GET /api/v1/videos?limit=100\` $reqs times on one kept-alive connection (one curl,
\`time_total\`, after one warm-up), idle, before the drop; \`sorad list --state
running\` = its wall time, median of $list_runs, daemon idle; then $count prompt files
renamed into the inbox at once: wall = newest NAME.json mtime − drop, CPU = sorad's
utime + stime from the drop to the last NAME.json seen (polled every 0.5 s), or to
the deadline (DONE_S, $done_s s) when not all were done; API timeouts = sorad's log
lines of requests that timed out during the prompts; then SIGTERM → exit (SIGKILL
after $stop_s s).

$table

Targets $scope:

| target | figure | verdict |
| --- | ---: | --- |
$targets
MD
)"
