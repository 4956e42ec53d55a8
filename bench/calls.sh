#!/usr/bin/env bash
# Benchmark: API calls per completed video with 200 jobs in flight (200 prompts,
# max_in_flight 200), sorad against the peer — bench/throughput.sh with those
# settings, recorded in its own sections. Target: <= 4.3, and <= 0.75x the peer's.
#
# Run twice: with generation 2 s (the throughput benchmark's setting) and 20 s. At 2 s
# the peer polls each video once (create + 1 retrieve + 3 downloads = 5 calls), so
# 0.75x the peer's is 3.75, below the floor of 4 (one create, three downloads) that
# any client needs: the ratio only means something when generation takes long enough
# for polling to matter, as a real one does (Sora takes minutes).
# Usage: bench/calls.sh   (env: BUILD_DIR=build, PEER=1)
set -euo pipefail
dir=$(dirname "$0")
COUNT=200 MAX_IN_FLIGHT=200 SECTION=calls "$dir/throughput.sh"
COUNT=200 MAX_IN_FLIGHT=200 GEN_MS=20000 SECTION=calls_20s "$dir/throughput.sh"
