#!/usr/bin/env bash
# The official OpenAI Node SDK (pinned in tests/node/package-lock.json), unchanged,
# against sora-sim: create/retrieve/list/downloadContent/remix/delete and its error
# classes. Skips only when node is missing.
source "$(dirname "$0")/lib.sh"

if ! command -v node >/dev/null 2>&1; then
	echo "SKIP sim_node_sdk: node is not installed (scripts/install-deps.sh installs it)"
	exit 0
fi
nodedir="$SORAD_SOURCE_DIR/tests/node"
if [ ! -d "$nodedir/node_modules/openai" ]; then
	(cd "$nodedir" && npm ci --no-audit --no-fund >"$T/npm.log" 2>&1) ||
		fail "tests/node has no node_modules and 'npm ci' failed (run scripts/install-deps.sh): $(tail -5 "$T/npm.log")"
fi

ffmpeg -nostdin -loglevel error -f lavfi -i color=c=green:s=720x1280 -frames:v 1 "$T/ref.png"
ffmpeg -nostdin -loglevel error -f lavfi -i color=c=green:s=640x480 -frames:v 1 "$T/wrong.png"
sim_start --gen-ms 300 --api-key sk-node-test
cd "$nodedir"
SIM_URL=$SIM_URL REF_OK="$T/ref.png" REF_WRONG="$T/wrong.png" \
	node --test --test-reporter=spec videos.test.mjs || fail "Node SDK tests failed (sim log: $T/sim.log)"
echo "PASS sim_node_sdk"
