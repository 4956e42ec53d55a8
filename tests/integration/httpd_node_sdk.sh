#!/usr/bin/env bash
# The official OpenAI Node SDK (tests/node), unchanged, against sorad's status API:
# lists page by page, limit 0 and 101, retrieve by id and name, download, and errors
# with the fields the SDK reads (tests/node/status.test.mjs). Skips only when node is
# missing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"

if ! command -v node >/dev/null 2>&1; then
	echo "SKIP httpd_node_sdk: node is not installed (scripts/install-deps.sh installs it)"
	exit 0
fi
nodedir="$SORAD_SOURCE_DIR/tests/node"
[ -d "$nodedir/node_modules/openai" ] || fail "tests/node has no node_modules: run scripts/install-deps.sh"

sim_start --gen-ms 200 --api-key "$SORAD_KEY" --seed 5
httpd_start
for n in a b c; do
	drop "$n.txt" "A $n-shaped cloud over a quiet town."
	wait_done "$n"
done
drop doomed.txt 'This one fails [sim:fail]'
wait_failed doomed
(cd "$nodedir" && STATUS_URL=$H node --test --test-reporter=spec status.test.mjs) ||
	fail "the SDK against the status API failed (sorad log: $T/sorad.out)"
sorad_stop
echo ok
