#!/usr/bin/env bash
# Benchmark: API calls per completed video with 200 jobs in flight (200 prompts,
# max_in_flight 200), sorad against the peer — bench/throughput.sh with those
# settings, recorded in its own section. Target: <= 4.3, and <= 0.75x the peer's.
# Usage: bench/calls.sh   (env: BUILD_DIR=build, PEER=1)
COUNT=200 MAX_IN_FLIGHT=200 SECTION=calls exec "$(dirname "$0")/throughput.sh"
