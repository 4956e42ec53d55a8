#!/usr/bin/env bash
# The whole test suite: install what is missing, build, run every test with ctest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/install-deps.sh
build=${BUILD_DIR:-build}
# Extra cmake options (e.g. -DSORAD_SANITIZE=ON) may come from $CMAKE_ARGS.
# shellcheck disable=SC2086
# The suite runs with the debug check of the job state machine's counters and indexes.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSORAD_CHECK_COUNTS=ON ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "$@"
