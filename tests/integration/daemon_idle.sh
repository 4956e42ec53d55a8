#!/usr/bin/env bash
# No periodic wakeups: once its work is done, an idle daemon sleeps in epoll_wait and is
# not scheduled at all (no timer ticks, no polling loops) while nothing happens.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

sim_start --gen-ms 300 --api-key "$SORAD_KEY" --seed 41
sorad_conf
sorad_start
drop idle.txt 'A still pond at dawn, static shot.'
wait_done idle

switches() { awk '/^voluntary_ctxt_switches/ { v = $2 } /^nonvoluntary_ctxt_switches/ { n = $2 } END { print v + n }' "/proc/$SORAD_PID/status"; }
# The job's last state change is written right after NAME.json; let it land.
wait_for 10 "the done record" grep -q '"state":	"done"' "$T/state/jobs/idle.json"
before=$(switches)
sleep 2 # the measurement window: nothing should run in it
after=$(switches)
[ "$after" = "$before" ] || fail "the idle daemon woke up $((after - before)) times in 2 s"
sorad_stop
echo "ok: 0 wakeups in 2 s idle"
