#!/usr/bin/env bash
# The status page in headless Chromium (tests/node/page.test.mjs): listing, filter,
# sort, pagination, a live progress bar that becomes a thumbnail without a reload, the
# player reaching HAVE_ENOUGH_DATA and playing, keyboard and labels, a phone's width,
# no request to another origin. Screenshots land in build/test-output/httpd_browser/.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"

[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing: run scripts/install-deps.sh"
nodedir="$SORAD_SOURCE_DIR/tests/node"
[ -d "$nodedir/node_modules/playwright-core" ] ||
	fail "playwright-core is missing in tests/node: run scripts/install-deps.sh"

sim_start --gen-ms 4000 --api-key "$SORAD_KEY" --seed 12
httpd_start
drop alpha.txt 'A hummingbird hovering at a red flower, slow motion.'
wait_for 10 "alpha to be claimed" test -f "$T/state/jobs/alpha.json"
drop beta.txt 'Neon signs reflected in puddles at night.'
wait_for 10 "beta to be claimed" test -f "$T/state/jobs/beta.json"
drop doomed.txt 'This one cannot be made [sim:fail]'
wait_done alpha
wait_done beta
wait_failed doomed

out="$SORAD_BUILD_DIR/test-output/httpd_browser"
rm -rf "$out"
mkdir -p "$out"
STATUS_URL=$H INBOX="$T/inbox" OUT_DIR=$out HOME="$T" \
	node "$nodedir/page.test.mjs" 2>&1 | tee "$T/browser.log" ||
	fail "the browser test failed (see above)"
grep -q '^screenshot: ' "$T/browser.log" || fail "the browser test did not finish"
sorad_stop
echo "ok: the page in Chromium; screenshots in $out"
