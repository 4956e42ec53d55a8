#!/usr/bin/env bash
# Signals and systemd: READY/STATUS/WATCHDOG/RELOADING/STOPPING through NOTIFY_SOCKET,
# SIGUSR1 reopens the log file, SIGHUP reloads (a broken file keeps the running
# configuration), SIGTERM stops cleanly with exit status 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

sim_start --gen-ms 500 --api-key "$SORAD_KEY" --seed 31
sorad_conf
# count_ge PATTERN N: the notify log has at least N lines matching PATTERN.
count_ge() { [ "$(grep -c -- "$1" "$T/notify.log")" -ge "$2" ]; }

"$TEST_BIN_DIR/notify_listen" "$T/notify.sock" >"$T/notify.log" 2>&1 &
_pids+=("$!")
wait_for 10 "the notify socket" test -S "$T/notify.sock"

NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=300000 sorad_start
wait_for 10 "READY=1" grep -q '^READY=1' "$T/notify.log"
wait_for 10 "a STATUS line" grep -q '^STATUS=0 queued, 0 in flight, 0 done, 0 failed' "$T/notify.log"
wait_for 10 "two WATCHDOG=1 pings" count_ge '^WATCHDOG=1' 2

drop one.txt 'A paper lantern rising into the night sky, slow tilt up.'
wait_done one
wait_for 10 "STATUS counting the done job" grep -q 'STATUS=0 queued, 0 in flight, 1 done, 0 failed' "$T/notify.log"

# SIGUSR1: after an external rotation the log file is created anew.
log=$(ls "$T"/logs/sorad-*.log | tail -1)
mv "$log" "$T/rotated.log"
kill -USR1 "$SORAD_PID"
wait_for 10 "a new log file after SIGUSR1" grep -q 'log file reopened' "$log"

# SIGHUP with a broken configuration: logged, the daemon keeps running on the old one.
cp "$T/sorad.conf" "$T/good.conf"
echo 'poll_initial = "soon"' >>"$T/sorad.conf"
kill -HUP "$SORAD_PID"
wait_for 10 "the reload error" grep -q 'reload: the configuration has errors; keeping the running one' "$log"
grep -q 'sorad.conf:[0-9]*:' "$log" || fail "the reload error should name FILE:LINE"
wait_for 10 "READY=1 after the failed reload" count_ge '^READY=1' 2
# SIGHUP with a good configuration: RELOADING=1, then READY=1 again.
cp "$T/good.conf" "$T/sorad.conf"
kill -HUP "$SORAD_PID"
wait_for 10 "READY=1 after the reload" count_ge '^READY=1' 3
count_ge '^RELOADING=1' 2 || fail "no RELOADING=1 for each reload"
wait_for 10 "the reload to be logged" grep -q 'reload: configuration reloaded' "$log"
drop two.txt 'A paper boat drifting down a gutter stream, low angle.'
wait_done two

sorad_stop
grep -q '^STOPPING=1' "$T/notify.log" || fail "no STOPPING=1"
echo ok
