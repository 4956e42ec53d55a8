#!/usr/bin/env bash
# Benchmark: the status endpoint's requests per second with 10,000 jobs in the state
# directory: GET /healthz, and GET /api/v1/videos?limit=100 (a page of 100 jobs, ~95 kB
# of JSON each). The jobs are written straight to disk before sorad starts (done
# records and tiny outbox files), against a sora-sim that is never called. Records the
# figures in bench/RESULTS.md (section "sorad status endpoint", replaced on each run).
# Target: >= 5000 req/s for the list.
#
# Usage: bench/httpd_status.sh   (env: BUILD_DIR=build, JOBS=10000, DURATION=10s,
#        THREADS=2, CONNECTIONS=32)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/${BUILD_DIR:-build}
sorad=$build/sorad
sim=$build/sora-sim
jobs=${JOBS:-10000}
duration=${DURATION:-10s}
threads=${THREADS:-2}
conns=${CONNECTIONS:-32}
target=5000
results=$root/bench/RESULTS.md

[ -x "$sorad" ] && [ -x "$sim" ] || { echo "build first: cmake --build ${BUILD_DIR:-build}" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed (scripts/install-deps.sh)" >&2; exit 1; }

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]:-}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null || true
		[ -n "$p" ] && wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

wait_file() { # SECONDS WHAT TEST-ARGS...
	local deadline=$(($(date +%s) + $1)) what=$2
	shift 2
	until "$@"; do
		[ "$(date +%s)" -le "$deadline" ] || { echo "timed out waiting for $what" >&2; exit 1; }
		sleep 0.05
	done
}

"$sim" --listen 127.0.0.1:0 --port-file "$tmp/sim.port" >"$tmp/sim.log" 2>&1 &
pids+=($!)
wait_file 20 "sora-sim" test -s "$tmp/sim.port"
sim_url="http://127.0.0.1:$(cat "$tmp/sim.port")"

# 10,000 finished jobs, as sorad itself would have left them.
echo "writing $jobs done jobs into $tmp/state ..."
mkdir -p "$tmp/state/jobs" "$tmp/outbox" "$tmp/inbox"
now=$(date +%s)
for ((i = 1; i <= jobs; i++)); do
	n=$(printf 'bench-%05d' "$i")
	t=$((now - jobs + i))
	id=$(printf 'video_%032x' "$i")
	printf '{"version":1,"name":"%s","state":"done","source":"c%05d/%s.txt","prompt":"Benchmark job %d: a slow aerial shot over a coastline at golden hour, waves breaking on the rocks.","model":"sora-2","size":"1280x720","seconds":4,"video_id":"%s","status":"completed","progress":100,"video_created_at":%d,"video_completed_at":%d,"video_expires_at":%d,"claimed_at":%d,"submit_at":%d,"finished_at":%d,"attempts":0,"cost_usd":0.4}\n' \
		"$n" "$i" "$n" "$i" "$id" "$t" "$((t + 60))" "$((t + 3660))" "$t" "$t" "$((t + 70))" \
		>"$tmp/state/jobs/$n.json"
	printf 'mp4' >"$tmp/outbox/$n.mp4"
	printf 'webp' >"$tmp/outbox/$n.thumbnail.webp"
	printf 'jpg' >"$tmp/outbox/$n.spritesheet.jpg"
	printf '{"name":"%s"}\n' "$n" >"$tmp/outbox/$n.json"
done

cat >"$tmp/sorad.conf" <<CONF
api_base = "$sim_url/v1"
inbox = "$tmp/inbox"
outbox = "$tmp/outbox"
state_dir = "$tmp/state"
log_dir = "$tmp/logs"
listen = "127.0.0.1:0"
notify = false
log_level = "info"
CONF
OPENAI_API_KEY=sk-bench "$sorad" -c "$tmp/sorad.conf" -f >"$tmp/sorad.out" 2>&1 &
pids+=($!)
sorad_pid=$!
wait_file 60 "sorad to be ready" grep -q ' ready: ' "$tmp/sorad.out"
url=$(grep -o 'status: listening on http://[0-9.:]*' "$tmp/sorad.out" | head -1 | sed 's/status: listening on //')
loaded=$(curl -fsS "$url/healthz" | sed -n 's/.*"jobs":\([0-9]*\).*/\1/p')
[ "$loaded" = "$jobs" ] || { echo "sorad loaded $loaded jobs, not $jobs" >&2; exit 1; }
bytes=$(curl -fsS "$url/api/v1/videos?limit=100" | wc -c)

# CPU time sorad used so far, in clock ticks (user + system).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$sorad_pid/stat"; }
hz=$(getconf CLK_TCK)

run() { # NAME PATH
	local cmd="wrk -t$threads -c$conns -d$duration --latency $url$2"
	echo "+ $cmd" >&2
	local c0 c1
	c0=$(cpu_ticks)
	wrk -t"$threads" -c"$conns" -d"$duration" --latency "$url$2" >"$tmp/wrk.$1"
	c1=$(cpu_ticks)
	cat "$tmp/wrk.$1" >&2
	local rps lat p99 total errors
	rps=$(awk '/^Requests\/sec:/ { print $2 }' "$tmp/wrk.$1")
	lat=$(awk '/^    Latency/ { print $2; exit }' "$tmp/wrk.$1")
	p99=$(awk '/^ +99%/ { print $2; exit }' "$tmp/wrk.$1")
	total=$(awk '/requests in/ { print $1; exit }' "$tmp/wrk.$1")
	errors=$(awk '/Non-2xx|Socket errors/ { print }' "$tmp/wrk.$1" | tr '\n' ' ')
	local cpu_us
	cpu_us=$(awk -v d=$((c1 - c0)) -v hz="$hz" -v n="$total" 'BEGIN { printf "%.0f", d * 1e6 / hz / n }')
	printf '| `%s` | %s | %s | %s | %s | %s µs | %s |\n' "GET $2" "$rps" "$total" "$lat" "$p99" \
		"$cpu_us" "${errors:-none}"
	echo "$rps" >"$tmp/rps.$1"
}

load=$(cut -d' ' -f1-3 /proc/loadavg)
row_health=$(run health /healthz)
row_list=$(run list '/api/v1/videos?limit=100')
rps=$(cat "$tmp/rps.list")
verdict=$(awk -v r="$rps" -v t="$target" 'BEGIN { print (r >= t) ? "meets" : "BELOW" }')
sim_calls=$({ curl -fsS "$sim_url/__sim/stats" | grep -o '"[0-9][0-9][0-9]": *[0-9]*' || true; } |
	awk -F: '{ n += $2 } END { print n + 0 }')
[ "$sim_calls" = 0 ] || { echo "sora-sim was called $sim_calls times: the benchmark is not clean" >&2; exit 1; }
echo "list of 100 with $jobs jobs: $rps req/s — $verdict the $target req/s target"

section=$(cat <<MD
## sorad status endpoint: /healthz and a list of 100 with $jobs jobs

Recorded by \`bench/httpd_status.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(uname -sr)),
load average before the run: $load (wrk shares the CPUs with sorad and anything else running).

    wrk -t$threads -c$conns -d$duration --latency http://127.0.0.1:PORT/healthz
    wrk -t$threads -c$conns -d$duration --latency 'http://127.0.0.1:PORT/api/v1/videos?limit=100'

| request | requests/s | requests in $duration | avg latency | p99 latency | sorad CPU per request | errors |
| --- | ---: | ---: | ---: | ---: | ---: | --- |
$row_health
$row_list

The list: $verdict the $target req/s target. "sorad CPU per request" is sorad's user+system
time during the run divided by the requests served: what one request costs, whatever
else the machine was doing (1,000,000 / it is the single core's ceiling). sorad serves the endpoint from its single
event-loop thread (libmicrohttpd's epoll fd inside sorad's epoll); each list answer is
$bytes bytes of JSON (100 Video objects with local fields), written by hand from the
jobs in memory. The $jobs jobs are done records written to the state directory before
sorad started; sora-sim was never called.
MD
)
# shellcheck source=bench/results.sh
. "$root/bench/results.sh"
RESULTS=$results results_section httpd_status "$section"
[ "$verdict" = meets ]
