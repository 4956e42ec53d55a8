#!/usr/bin/env bash
# The official OpenRouter TypeScript SDK (@openrouter/sdk, pinned in
# tests/node/package-lock.json), unchanged, against sora-sim --protocol openrouter:
# generate, getGeneration, getVideoContent and listVideosModels, a 400 for a duration
# the model does not take, previous_job_id, and the SDK's error classes (401, 404, 409,
# and an injected 429). Skips only when node is missing.
source "$(dirname "$0")/lib.sh"

if ! command -v node >/dev/null 2>&1; then
	echo "SKIP sim_openrouter_sdk: node is not installed (scripts/install-deps.sh installs it)"
	exit 0
fi
nodedir="$SORAD_SOURCE_DIR/tests/node"
if [ ! -d "$nodedir/node_modules/@openrouter/sdk" ]; then
	(cd "$nodedir" && npm ci --no-audit --no-fund >"$T/npm.log" 2>&1) ||
		fail "tests/node has no @openrouter/sdk and 'npm ci' failed (run scripts/install-deps.sh): $(tail -5 "$T/npm.log")"
fi

ffmpeg -nostdin -loglevel error -f lavfi -i color=c=green:s=64x36 -frames:v 1 "$T/ref.png"
sim_start --protocol openrouter --gen-ms 300
main_url=$SIM_URL
sim_start --protocol openrouter --gen-ms 300 --api-key sk-or-test --p429 1
fault_url=$SIM_URL
cd "$nodedir"
SIM_URL=$main_url FAULT_URL=$fault_url REF_PNG="$T/ref.png" \
	node --test --test-reporter=spec openrouter.test.mjs || fail "OpenRouter SDK tests failed (sim log: $T/sim.log)"
echo "PASS sim_openrouter_sdk"
