#!/usr/bin/env bash
# A prompt file delivered again (a sync tool's second copy) is not paid again: a job
# asking for what a job done or in flight asked for within duplicate_window_days
# fails as "duplicate" with a plain reason and no create; `again: true` makes it
# anyway; a different reference image makes it a new job; the index survives a
# restart; duplicate_policy = "allow" turns it off.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"

sim_start --gen-ms 200 --api-key "$SORAD_KEY" --seed 31
sorad_conf
sorad_start
FOX='A red fox trotting through fresh snow.'
drop fox.txt "$FOX"
wait_done fox
# The same file again: fox-2, refused as a duplicate, nothing sent.
drop fox.txt "$FOX"
wait_failed fox-2
grep -q "^Already made as fox on .*/fox.mp4)" "$T/outbox/failed/fox-2.error.txt" ||
	fail "fox-2.error.txt: $(cat "$T/outbox/failed/fox-2.error.txt")"
grep -q "again: true" "$T/outbox/failed/fox-2.error.txt" || fail "no way out named"
[ "$(job_field fox-2 .error_code)" = duplicate ] || fail "fox-2's code: $(job_field fox-2 .error_code)"
expect_creates "$FOX" 1
# Same prompt under another name, in a batch: the line is a duplicate, the rest runs.
drop batch.jsonl "{\"prompt\": \"$FOX\"}
{\"prompt\": \"A grey wolf howling at the moon.\"}
"
wait_failed batch-1
wait_done batch-2
expect_creates "$FOX" 1
# again: true makes it once more, on purpose.
drop again.txt $'---\nagain: true\n---\n'"$FOX"
wait_done again
expect_creates "$FOX" 2

# A reference image of other bytes is another job; the same bytes again are not.
image 1280x720 "$T/red.png"
ffmpeg -v error -y -f lavfi -i "color=c=blue:s=1280x720" -frames:v 1 "$T/blue.png"
SHOT='A lighthouse, as in the picture.'
cp "$T/red.png" "$T/inbox/.shot.png" && mv "$T/inbox/.shot.png" "$T/inbox/shot.png"
drop shot.txt "$SHOT"
wait_done shot
cp "$T/blue.png" "$T/inbox/.shot.png" && mv "$T/inbox/.shot.png" "$T/inbox/shot.png"
drop shot.txt "$SHOT"
wait_done shot-2
expect_creates "$SHOT" 2

# The index survives a restart (it is rebuilt from the records).
sorad_stop
sorad_start
drop fox.txt "$FOX"
wait_failed fox-3
expect_creates "$FOX" 2

# duplicate_policy = "allow": delivered again means made again.
echo 'duplicate_policy = "allow"' >>"$T/sorad.conf"
kill -HUP "$SORAD_PID"
wait_for 20 "the reload" grep -q 'reload: configuration reloaded' "$T/sorad.out"
drop fox.txt "$FOX"
wait_done fox-4
expect_creates "$FOX" 3
expect_usage_agrees
sorad_stop
echo ok
