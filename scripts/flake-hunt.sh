#!/usr/bin/env bash
# The flake hunt (issue 18): the whole suite N times in a row (default 10) while
# stress-ng keeps both cores busy, as CI's machine may be. Every test that fails even
# once is a race to remove, not a timeout to raise. Prints one line per run and the
# tests that failed, and writes them to build-hunt/hunt.log; a failed test's directory is
# kept (its path is in build-hunt/run-N.log, "kept /tmp/sorad-test.…").
#
#   ./scripts/flake-hunt.sh [RUNS]        (stress-ng is installed with apt-get if missing)
#   HUNT_JOBS=3 ./scripts/flake-hunt.sh   (more tests at once than cores: harsher, and shorter)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-10}
jobs=${HUNT_JOBS:-$(nproc)}
./scripts/install-deps.sh
if ! command -v stress-ng >/dev/null 2>&1; then
	sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends stress-ng >/dev/null
fi
build="build-hunt"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSORAD_CHECK_COUNTS=ON >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
log="$build/hunt.log"
: >"$log"
stress-ng --cpu "$(nproc)" --timeout 0 --quiet &
stress=$!
trap 'kill "$stress" 2>/dev/null || true' EXIT
failed=0
for i in $(seq 1 "$runs"); do
	start=$(date +%s)
	# A failed test keeps its directory (logs, state, outbox) for the post-mortem.
	if KEEP_FAILED=1 ctest --test-dir "$build" -j"$jobs" --output-on-failure >"$build/run-$i.log" 2>&1; then
		echo "run $i: clean ($(($(date +%s) - start)) s)" | tee -a "$log"
	else
		failed=$((failed + 1))
		echo "run $i: FAILED ($(($(date +%s) - start)) s): $(grep -E '^\s+[0-9]+ - ' "$build/run-$i.log" | sed 's/^ *[0-9]* - //' | tr '\n' ' ')" | tee -a "$log"
	fi
done
echo "$((runs - failed)) of $runs runs clean under stress-ng --cpu $(nproc), ctest -j$jobs, at $(git rev-parse --short HEAD 2>/dev/null || echo unknown)" | tee -a "$log"
[ "$failed" = 0 ]
