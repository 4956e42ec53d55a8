#!/usr/bin/env bash
# Hostile world: a FIFO planted in the outbox in place of a finished video, then
# requested through the status endpoint. Opening it must not block the daemon's one
# loop: /healthz still answers within 1 s, new prompts are still claimed and made,
# and SIGTERM still stops it cleanly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"

sim_start --gen-ms 200 --api-key "$SORAD_KEY" --seed 41
httpd_start
drop x.txt 'A lantern on a jetty at night.'
wait_done x
rm -f "$T/outbox/x.mp4"
mkfifo "$T/outbox/x.mp4"
# The request itself: answered (404: not a plain file), not left hanging.
code=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 5 "$H/api/v1/videos/x/content") || true
[ "$code" = 404 ] || fail "GET of a FIFO answered '$code' (timeout: 000)"
# The loop is free: /healthz within 1 s (a deadline, not a pause).
curl -fsS --max-time 1 "$H/healthz" >/dev/null || fail "/healthz did not answer within 1 s"
grep -q "not serving .*x.mp4: it is a named pipe" "$T/sorad.out" || fail "no log line for the FIFO"
# Work goes on.
drop y.txt 'A second lantern, further out.'
wait_done y
sorad_stop
echo ok
