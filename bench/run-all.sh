#!/usr/bin/env bash
# Runs every benchmark in turn; each prints its figures and updates its own section of
# bench/RESULTS.md. Benchmarks are not part of ctest: run them on demand, on a quiet
# machine when the figures matter (each section records the load average).
# Usage: bench/run-all.sh   (env: BUILD_DIR=build, and each script's own knobs)
set -euo pipefail
dir=$(dirname "$0")
rc=0
for b in latency calls throughput resources; do
	echo "=== bench/$b.sh"
	"$dir/$b.sh" || rc=1
done
for b in "$dir"/sim_status.sh "$dir"/httpd_*.sh; do
	[ -x "$b" ] || continue
	echo "=== $b"
	"$b" || rc=1
done
exit $rc
