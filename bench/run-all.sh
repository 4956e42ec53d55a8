#!/usr/bin/env bash
# Runs every benchmark in turn; each prints its figures and updates its own section of
# bench/RESULTS.md. Benchmarks are not part of ctest: run them on demand, on a quiet
# machine when the figures matter (each section records the load average).
# On ext4 without a journal (this machine's disk), creating a file skips the inodes
# deleted in the last minutes one by one, so the thousands of files a run deletes
# when it ends would slow the next run's file creations for minutes (see the notes
# in RESULTS.md): each run's temp dir is moved to a trash dir instead, deleted once
# every run is over, and the throughput run goes first.
# Not run here: bench/history.sh (issue 20: start-up, memory, CPU and list times with
# 0, 100,000 and 1,000,000 finished jobs; ~4.5 GB of temp files, tens of minutes): run
# it on its own.
# Usage: bench/run-all.sh   (env: BUILD_DIR=build, and each script's own knobs)
set -euo pipefail
dir=$(dirname "$0")
TRASH_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sorad-bench-trash.XXXXXX")
export TRASH_DIR
trap 'rm -rf "$TRASH_DIR"' EXIT
rc=0
for b in throughput latency calls detect resources; do
	echo "=== bench/$b.sh"
	"$dir/$b.sh" || rc=1
done
for b in "$dir"/sim_status.sh "$dir"/httpd_*.sh; do
	[ -x "$b" ] || continue
	echo "=== $b"
	"$b" || rc=1
done
exit $rc
