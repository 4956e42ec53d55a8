#!/usr/bin/env bash
# Hostile world: files that are not what they seem. A hard link dropped into the inbox
# to a private (0600) file elsewhere is refused, and its text never reaches the
# service or the outbox; a hard link planted in the outbox is not served; a failure
# report never writes through a hard link planted at its target in failed/.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"
. "$(dirname "$0")/money_lib.sh"

sim_start --gen-ms 200 --api-key "$SORAD_KEY" --seed 43
httpd_start
mkdir -p "$T/private"
(umask 077 && echo 'SECRET-PLANS-4711 for the heist' >"$T/private/plans.txt")

# 1. A hard link in the inbox (moved in the way a careful writer does).
ln "$T/private/plans.txt" "$T/inbox/.leak.tmp"
mv "$T/inbox/.leak.tmp" "$T/inbox/leak.txt"
wait_failed leak
grep -q "hard link" "$T/outbox/failed/leak.error.txt" || fail "leak.error.txt: $(cat "$T/outbox/failed/leak.error.txt")"
[ "$(sim_total_creates)" = 0 ] || fail "the linked file was sent: $(sim_stats)"
! grep -rq "SECRET-PLANS" "$T/outbox"/*.json "$T/state/jobs" 2>/dev/null || fail "the private text leaked"
[ "$(cat "$T/private/plans.txt")" = 'SECRET-PLANS-4711 for the heist' ] || fail "the private file changed"

# 2. A hard link planted in the outbox in place of a finished video is not served.
drop v.txt 'A paper lantern floating away.'
wait_done v
ln -f "$T/private/plans.txt" "$T/outbox/v.mp4"
code=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 5 "$H/api/v1/videos/v/content")
[ "$code" = 404 ] || fail "a hard link in the outbox was served ($code)"
! grep -q SECRET-PLANS "$T/body" || fail "the private text was served"

# 3. A failure report does not write through a hard link planted at its target: the
# pairing image of a refused prompt is copied to failed/NAME.png.
image 1280x720 "$T/ref.png"
ln "$T/private/plans.txt" "$T/outbox/failed/bad.png"
cp "$T/ref.png" "$T/inbox/.bad.png" && mv "$T/inbox/.bad.png" "$T/inbox/bad.png"
drop bad.txt 'A refused scene [sim:moderation]'
wait_failed bad
[ "$(cat "$T/private/plans.txt")" = 'SECRET-PLANS-4711 for the heist' ] ||
	fail "the failure report wrote through the planted hard link: $(head -c 40 "$T/private/plans.txt" | od -c | head -2)"
cmp -s "$T/ref.png" "$T/outbox/failed/bad.png" || fail "failed/bad.png is not the image"
sorad_stop
echo ok
