#!/usr/bin/env bash
# Benchmark: drop-to-create latency — from the close() of a prompt file written into
# the inbox to the arrival of its create request at sora-sim (--log-creates records
# each arrival with CLOCK_REALTIME ns; bench/tools/drop_timed.py records each close),
# p50 and p99, with settle_ms = 0 and with the default settle_ms (500).
# Targets: p50 <= settle + 5 ms, p99 <= settle + 20 ms.
#
# Usage: bench/latency.sh   (env: BUILD_DIR=build, COUNT=200 files per run, GAP_MS=50)
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
count=${COUNT:-200}
gap=${GAP_MS:-50}

sim_start --gen-ms 100 --ffmpeg none --log-creates "$T/creates.log"

# created TAG N: at least N creates with prompts TAG-* reached sora-sim.
created() {
	[ "$(grep -c " $1-" "$T/creates.log")" -ge "$2" ]
}

# run SETTLE: one daemon with that settle time; prints "p50 p99 n" in ms.
run() {
	local settle=$1 tag="lat-s$1"
	# The last run's files are moved aside, not deleted: deleting thousands of files
	# slows file creation for minutes on this disk (see bench/run-all.sh).
	mkdir -p "$T/old.$settle"
	for d in inbox outbox state; do
		[ ! -e "$T/$d" ] || mv "$T/$d" "$T/old.$settle/"
	done
	bench_conf "settle_ms = $settle" "max_in_flight = 256" ${SORAD_CONF_EXTRA:+"$SORAD_CONF_EXTRA"}
	sorad_start
	python3 "$BENCH_DIR/tools/drop_timed.py" "$T/inbox" "$count" "$gap" "$tag" >"$T/closes.$settle"
	wait_for 60 "$count creates for $tag" created "$tag" "$count"
	sorad_stop
	# Join close and create times by prompt; latency in ms.
	awk -v tag="$tag-" '
		FNR == NR { close_ns[$2] = $1; next }
		index($2, tag) == 1 && ($2 in close_ns) { printf "%.3f\n", ($1 - close_ns[$2]) / 1e6 }
	' "$T/closes.$settle" "$T/creates.log" | sort -n >"$T/lat.$settle"
	awk '{ v[NR] = $1 } END {
		p50 = v[int((NR - 1) * 0.50) + 1]; p99 = v[int((NR - 1) * 0.99) + 1]
		printf "%.1f %.1f %d %.1f %.1f\n", p50, p99, NR, v[1], v[NR] }' "$T/lat.$settle"
}

read -r p50_0 p99_0 n0 min0 max0 < <(run 0)
read -r p50_d p99_d nd mind maxd < <(run 500)
echo "settle 0 ms:   p50 $p50_0 ms, p99 $p99_0 ms (n=$n0, min $min0, max $max0)"
echo "settle 500 ms: p50 $p50_d ms, p99 $p99_d ms (n=$nd, min $mind, max $maxd)"
v0=$(verdict 'p50 <= 5 && p99 <= 20' p50="$p50_0" p99="$p99_0")
vd=$(verdict 'p50 <= 505 && p99 <= 520' p50="$p50_d" p99="$p99_d")

head=$(results_header "sorad: drop-to-create latency" "$(bench_cmd COUNT GAP_MS)")
results_section latency "$(cat <<MD
$head

$count prompt files per run, written and closed in the inbox one every $gap ms (daemon:
max_in_flight 256; sora-sim: --gen-ms 100, fixtures), so other jobs are being polled
and downloaded meanwhile. Latency = create request received by sora-sim
(--log-creates) − close() of the file.

| settle_ms | p50 | p99 | min | max | n | target (p50 / p99) |
| ---: | ---: | ---: | ---: | ---: | ---: | --- |
| 0 | $p50_0 ms | $p99_0 ms | $min0 ms | $max0 ms | $n0 | $v0 (≤ 5 / ≤ 20 ms) |
| 500 (default) | $p50_d ms | $p99_d ms | $mind ms | $maxd ms | $nd | $vd (≤ 505 / ≤ 520 ms) |
MD
)"
