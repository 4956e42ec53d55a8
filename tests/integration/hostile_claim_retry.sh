#!/usr/bin/env bash
# Issue 18, item 6: a claim that fails for a local reason used to be logged once and
# the file then sat in the inbox until a SIGHUP or a restart. Now it is tried again on
# a timer (1 s, doubling to 5 min), its reason logged once (each later try that fails
# the same way only at debug level), and it is claimed as soon as the cause is gone —
# no SIGHUP. The cause here is STATE/inputs turned into a plain file (ENOTDIR), which
# works as root too (a read-only directory would not stop root). Then an inbox on
# another file system than state_dir (EXDEV), when /dev/shm is one: retried, logged
# once with the hint to put both on one file system.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

sim_start --gen-ms 300 --api-key "$SORAD_KEY" --seed 6
sorad_conf
sorad_start

count() { # PATTERN FILE: how many lines of FILE hold PATTERN (fixed string)
	grep -cF -- "$1" "$2" || true
}
at_least() { # N PATTERN FILE
	[ "$(count "$2" "$3")" -ge "$1" ]
}

# The claim directory's parent is not a directory: every claim fails with ENOTDIR.
mv "$T/state/inputs" "$T/state/inputs.away"
echo "not a directory" >"$T/state/inputs"
drop blocked.txt 'A fox waiting for its claim.'
wait_for 30 "the failed claim to be logged (see $T/sorad.out)" \
	at_least 1 "Not a directory" "$T/sorad.out"
# It is tried again (twice more: 1 s, then 2 s later), quietly.
wait_for 30 "two more tries of the claim (see $T/sorad.out)" \
	at_least 2 "claim of blocked.txt failed again" "$T/sorad.out"
[ "$(count "cannot claim blocked.txt" "$T/sorad.out")" = 1 ] ||
	fail "the same reason was logged more than once: $(grep -F 'blocked.txt' "$T/sorad.out")"
grep -F "cannot claim blocked.txt" "$T/sorad.out" | grep -qF "Not a directory" ||
	fail "the reason is not given: $(grep -F 'cannot claim blocked.txt' "$T/sorad.out")"
[ -f "$T/inbox/blocked.txt" ] || fail "the file left the inbox although its claim failed"

# The cause goes away: the file is claimed and made, without SIGHUP or restart.
rm "$T/state/inputs"
mv "$T/state/inputs.away" "$T/state/inputs"
wait_done blocked 60
grep -qF "claimed blocked.txt after" "$T/sorad.out" || fail "the late claim was not logged"
[ ! -e "$T/inbox/blocked.txt" ] || fail "blocked.txt is still in the inbox"
sorad_stop
! grep -q 'SIGHUP\|reload' "$T/sorad.out" || fail "a reload happened during the test"

# EXDEV: an inbox on another file system than state_dir (when /dev/shm is one).
shm=$(mktemp -d /dev/shm/sorad-claim-retry.XXXXXX 2>/dev/null) || shm=
if [ -n "$shm" ] && [ "$(stat -c %d "$shm")" != "$(stat -c %d "$T")" ]; then
	trap 'rm -rf "$shm"; _cleanup' EXIT
	sorad_conf "inbox = \"$shm\""
	sorad_start
	printf 'A fox on another file system.' >"$shm/.far.tmp"
	mv "$shm/.far.tmp" "$shm/far.txt"
	wait_for 30 "the cross-device claim to be logged (see $T/sorad.out)" \
		at_least 1 "cannot claim far.txt" "$T/sorad.out"
	wait_for 30 "another try of the cross-device claim (see $T/sorad.out)" \
		at_least 1 "claim of far.txt failed again" "$T/sorad.out"
	[ "$(count "cannot claim far.txt" "$T/sorad.out")" = 1 ] ||
		fail "the cross-device reason was logged more than once"
	grep -F "cannot claim far.txt" "$T/sorad.out" | grep -qF "same file system" ||
		fail "the cross-device failure does not say what to do: $(grep -F 'cannot claim far.txt' "$T/sorad.out")"
	[ -f "$shm/far.txt" ] || fail "far.txt left the inbox although its claim failed"
	sorad_stop
	echo "ok: EXDEV retried and logged once"
else
	[ -n "$shm" ] && rmdir "$shm"
	echo "skipped the EXDEV part: /dev/shm is not another file system here"
fi
echo "ok: a failed claim was retried and claimed once its cause was gone"
