#!/usr/bin/env bash
# Benchmark: how many GET /v1/videos/{id} per second sora-sim serves on loopback.
# Starts sora-sim, creates one video, runs wrk against its status URL with the auth
# header, prints the figures and records them in bench/RESULTS.md (section
# "sora-sim: GET /v1/videos/{id}", replaced on each run). Target: >= 2000 req/s.
#
# Usage: bench/sim_status.sh   (env: BUILD_DIR=build, SIM_BIN, DURATION=10s,
#        THREADS=2, CONNECTIONS=32)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sim=${SIM_BIN:-$root/${BUILD_DIR:-build}/sora-sim}
duration=${DURATION:-10s}
threads=${THREADS:-2}
conns=${CONNECTIONS:-32}
target=2000
results=$root/bench/RESULTS.md

[ -x "$sim" ] || { echo "no sora-sim at $sim: build it first (cmake --build build --target sora-sim)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed (scripts/install-deps.sh)" >&2; exit 1; }

tmp=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

"$sim" --listen 127.0.0.1:0 --port-file "$tmp/port" --gen-ms 100 >"$tmp/sim.log" 2>&1 &
pid=$!
deadline=$(($(date +%s) + 20))
until [ -s "$tmp/port" ]; do
	[ "$(date +%s)" -le "$deadline" ] || { echo "sora-sim did not start: $(cat "$tmp/sim.log")" >&2; exit 1; }
	sleep 0.02
done
url="http://127.0.0.1:$(cat "$tmp/port")"
auth="Authorization: Bearer sk-bench"
id=$(curl -fsS -H "$auth" -F "prompt=benchmark" "$url/v1/videos" | sed -n 's/.*"id":"\(video_[0-9a-f]*\)".*/\1/p')
[ -n "$id" ] || { echo "could not create a video" >&2; exit 1; }
until curl -fsS -H "$auth" "$url/v1/videos/$id" | grep -q '"status":"completed"'; do
	[ "$(date +%s)" -le "$((deadline + 30))" ] || { echo "video never completed" >&2; exit 1; }
	sleep 0.05
done

load=$(cut -d' ' -f1-3 /proc/loadavg)
cmd="wrk -t$threads -c$conns -d$duration -H '$auth' $url/v1/videos/$id"
echo "+ $cmd"
wrk -t"$threads" -c"$conns" -d"$duration" --latency -H "$auth" "$url/v1/videos/$id" | tee "$tmp/wrk.out"
rps=$(awk '/^Requests\/sec:/ { print $2 }' "$tmp/wrk.out")
lat=$(awk '/^    Latency/ { print $2; exit }' "$tmp/wrk.out")
p99=$(awk '/^ +99%/ { print $2; exit }' "$tmp/wrk.out")
total=$(awk '/requests in/ { print $1; exit }' "$tmp/wrk.out")
errors=$(awk '/Non-2xx|Socket errors/ { print }' "$tmp/wrk.out" | tr '\n' ' ')
verdict=$(awk -v r="$rps" -v t="$target" 'BEGIN { print (r >= t) ? "meets" : "BELOW" }')
echo "sora-sim GET /v1/videos/{id}: $rps req/s (avg latency $lat, p99 $p99) — $verdict the $target req/s target"

section=$(cat <<MD
## sora-sim: GET /v1/videos/{id}

Recorded by \`bench/sim_status.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(uname -sr)),
load average before the run: $load (wrk shares the CPUs with sora-sim and anything else running).

    $(echo "$cmd" | sed "s#$url#http://127.0.0.1:PORT#")

| requests/s | requests in $duration | avg latency | p99 latency | errors | target |
| ---: | ---: | ---: | ---: | --- | --- |
| $rps | $total | $lat | $p99 | ${errors:-none} | $verdict $target req/s |

sora-sim runs with its defaults (2 libmicrohttpd epoll threads, no faults); the video is
completed, so each response is the full Video object (~300 bytes of JSON).
MD
)
# shellcheck source=bench/results.sh
. "$root/bench/results.sh"
RESULTS=$results results_section sim_status "$section"
[ "$verdict" = meets ]
