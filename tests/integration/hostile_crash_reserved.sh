#!/usr/bin/env bash
# A crash between reserving an output name (OUTBOX/.NAME.reserved, issue 18 item 7)
# and recording the job that took it. The claim is processed again at the next start
# and must get the same name: the reservation is its own. It was read as someone
# else's, so the job became NAME-2 (seen as daemon_crash waiting for job1.json forever),
# and a crash between creating the reservation and writing its owner left an empty one
# that no claim could recognise.
# The crash: crash_on_read.so with SORAD_TEST_CRASH_AFTER_RESERVE, which aborts sorad
# right after the reservation is linked into place. Then an outbox without hard links
# (SORAD_TEST_NO_LINKS: link() fails with EPERM, as on FAT): the reservation is made
# the exclusive-create way and still guards a name another daemon holds.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

ulimit -c 0 # the abort is expected: no core file
PRELOAD="$SORAD_BUILD_DIR/tests/crash_on_read.so"
[ -f "$PRELOAD" ] || fail "missing $PRELOAD (build the crash_on_read target)"
export ASAN_OPTIONS="verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

sim_start --gen-ms 300 --api-key "$SORAD_KEY" --seed 23
sorad_conf
sorad_start
drop warmup.txt 'A heron before the crash.'
wait_done warmup 60
sorad_stop

PROMPT='A heron whose name must survive a crash.'
drop keepname.txt "$PROMPT"
# shellcheck disable=SC2086 # the wrapper is a command line, split into words
OPENAI_API_KEY=$SORAD_KEY env LD_PRELOAD="$PRELOAD" SORAD_TEST_CRASH_AFTER_RESERVE=keepname \
	${SORAD_WRAP:-} "$SORAD_BIN" -c "$T/sorad.conf" -f >>"$T/sorad.out" 2>&1 &
crash_pid=$!
_pids+=("$crash_pid")
_gone() { ! kill -0 "$crash_pid" 2>/dev/null; }
wait_for 30 "sorad to abort after reserving keepname (see $T/sorad.out)" _gone
rc=0
wait "$crash_pid" || rc=$?
[ "$rc" = 134 ] || fail "sorad exited with $rc, expected the abort after the reservation (134)"
[ -f "$T/outbox/.keepname.reserved" ] || fail "no reservation was left by the crash"
grep -qF " $(basename "$(ls -d "$T"/state/inputs/[0-9]*)")" "$T/outbox/.keepname.reserved" ||
	fail "the reservation does not name the claim: $(cat "$T/outbox/.keepname.reserved")"

sorad_start
wait_done keepname 60
[ ! -e "$T/outbox/keepname-2.json" ] || fail "the job was renamed keepname-2 after the crash"
[ "$(sim_created_count "$PROMPT")" = 1 ] || fail "created $(sim_created_count "$PROMPT") times"
[ ! -e "$T/outbox/.keepname.reserved" ] || fail "the reservation outlived the job"
leftover=$(find "$T/outbox" -maxdepth 1 -name '.keepname.reserved.*' | head -1)
[ -z "$leftover" ] || fail "a reservation's temporary file was left: $leftover"
sorad_stop

# An outbox without hard links (FAT, some shares; link() fails with EPERM there): the
# reservation is created exclusively instead, and still keeps a name taken by another
# daemon (a reservation holding another state directory) from being made twice.
printf '/elsewhere/state 1-2-3\n' >"$T/outbox/.taken.reserved"
SORAD_WRAP="env LD_PRELOAD=$PRELOAD SORAD_TEST_NO_LINKS=1 ${SORAD_WRAP:-}"
sorad_start
drop taken.txt 'A heron on a share without hard links.'
drop plain.txt 'Another heron on that share.'
wait_done taken-2 60
wait_done plain 60
[ ! -e "$T/outbox/taken.json" ] || fail "a name reserved by another daemon was made"
[ "$(cat "$T/outbox/.taken.reserved")" = '/elsewhere/state 1-2-3' ] ||
	fail "the other daemon's reservation was touched"
[ ! -e "$T/outbox/.plain.reserved" ] || fail "plain's reservation outlived the job"
echo "ok: a crash right after reserving keepname, then the job was made as keepname, once; without hard links, a name reserved elsewhere was not made"
sorad_stop
