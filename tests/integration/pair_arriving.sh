#!/usr/bin/env bash
# Pairing that survives sync tools (issue 19, item 1). A prompt whose image is still
# being written under a sync tool's temp name waits for it (inotify and poll mode),
# at most pair_wait_s; an image that comes after its prompt was taken, or alone, gets
# a log line and a note on the status page (/api/v1/inbox) until it leaves the inbox;
# `sorad submit PROMPT IMAGE` pairs the image whatever its name and checks its size.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"

sim_start --gen-ms 200 --api-key "$SORAD_KEY" --seed 41
httpd_start 'pair_wait_s = 60'
image 1280x720 "$T/shot.png"
logged() { grep -qF -- "$1" "$T/sorad.out"; }

# 1. Syncthing's temp name: the prompt waits until the image is renamed into place.
head -c 5000 "$T/shot.png" >"$T/inbox/.syncthing.shot.png.tmp"
drop shot.txt 'A lighthouse at dusk, as in the picture.'
wait_for 20 "shot.txt to wait for its image" logged "shot.txt waits for its image"
[ -z "$(job_field shot .state)" ] || fail "shot.txt was taken while its image was arriving"
expect_creates 'A lighthouse at dusk, as in the picture.' 0
cat "$T/shot.png" >"$T/inbox/.syncthing.shot.png.tmp"
mv "$T/inbox/.syncthing.shot.png.tmp" "$T/inbox/shot.png"
wait_done shot
expect_eq "shot's reference" shot.png "$(job_field shot .reference)"
expect_creates 'A lighthouse at dusk, as in the picture.' 1

# 2. An image that comes after its prompt was taken: said, and shown on the page.
drop late.txt 'A harbour in the rain.'
wait_done late
[ -z "$(job_field late .reference)" ] || fail "late has a reference"
cp "$T/shot.png" "$T/inbox/.late.png.tmp" && mv "$T/inbox/.late.png.tmp" "$T/inbox/late.png"
wait_for 20 "the late image to be noted" logged "late.png arrived after late.txt was taken"
code=$(hreq GET /api/v1/inbox)
expect_eq "inbox notes" 200 "$code"
jq -e '.data[] | select(.file == "late.png") | .message | test("sent without an image")' \
	"$T/body" >/dev/null || fail "no note for late.png: $(cat "$T/body")"

# 3. An image alone: noted until a prompt of its name takes it.
cp "$T/shot.png" "$T/inbox/.lone.png.tmp" && mv "$T/inbox/.lone.png.tmp" "$T/inbox/lone.png"
wait_for 20 "the lone image to be noted" logged "lone.png has no prompt"
hreq GET /api/v1/inbox >/dev/null
jq -e '.data[] | select(.file == "lone.png")' "$T/body" >/dev/null || fail "no note for lone.png"
drop lone.txt 'A lone tree on a hill.'
wait_done lone
expect_eq "lone's reference" lone.png "$(job_field lone .reference)"
hreq GET /api/v1/inbox >/dev/null
jq -e '[.data[] | select(.file == "lone.png")] | length == 0' "$T/body" >/dev/null ||
	fail "the note on lone.png stayed after it was taken: $(cat "$T/body")"
jq -e '.data[] | select(.file == "late.png")' "$T/body" >/dev/null || fail "late.png's note went"

# 3b. An image alone that a prompt then names with "reference:" (a shared image, kept
# in the inbox for others): its note goes when the job takes it, and a rescan says what
# it is instead of noting it again.
cp "$T/shot.png" "$T/inbox/.style.png.tmp" && mv "$T/inbox/.style.png.tmp" "$T/inbox/style.png"
wait_for 20 "the style image to be noted" logged "style.png has no prompt"
drop styled.txt $'---\nreference: style.png\n---\nA garden in the style of the picture.'
wait_done styled
expect_eq "styled's reference" style.png "$(job_field styled .reference)"
[ -e "$T/inbox/style.png" ] || fail "the shared image left the inbox"
hreq GET /api/v1/inbox >/dev/null
jq -e '[.data[] | select(.file == "style.png")] | length == 0' "$T/body" >/dev/null ||
	fail "the note on style.png stayed after a job named it: $(cat "$T/body")"
noted=$(grep -c "style.png has no prompt" "$T/sorad.out")
kill -HUP "$SORAD_PID"
wait_for 20 "the rescan to look at style.png" logged "style.png is a reference image kept"
[ "$(grep -c "style.png has no prompt" "$T/sorad.out")" = "$noted" ] ||
	fail "the rescan noted the shared image again"

# 4. A temp name that never completes: the prompt waits pair_wait_s, then goes alone.
sed -i 's/^pair_wait_s = .*/pair_wait_s = 1/' "$T/sorad.conf"
kill -HUP "$SORAD_PID"
wait_for 20 "the reload" logged 'reload: configuration reloaded'
head -c 3000 "$T/shot.png" >"$T/inbox/.stale.png.Ab12Cd" # rsync's temp name
drop stale.txt 'A stale sandwich on a plate.'
wait_done stale
logged "stale.txt: its image was still being written under a temp name after 1 s" ||
	fail "no warning for the image that never came"
[ -z "$(job_field stale .reference)" ] || fail "stale has a reference"
rm -f "$T/inbox/.stale.png.Ab12Cd"

# 5. Poll mode holds the prompt the same way.
sed -i 's/^pair_wait_s = .*/pair_wait_s = 60/' "$T/sorad.conf"
echo 'watch_mode = "poll"' >>"$T/sorad.conf"
kill -HUP "$SORAD_PID"
wait_for 20 "polling" logged 'now watching inbox'
head -c 5000 "$T/shot.png" >"$T/inbox/pshot.png.1a2b3c4d.partial" # rclone's temp name
drop pshot.txt 'A poll-mode lighthouse.'
wait_for 20 "pshot.txt to wait for its image" logged "pshot.txt waits for its image"
[ -z "$(job_field pshot .state)" ] || fail "pshot.txt was taken while its image was arriving"
cat "$T/shot.png" >"$T/inbox/pshot.png.1a2b3c4d.partial"
mv "$T/inbox/pshot.png.1a2b3c4d.partial" "$T/inbox/pshot.png"
wait_done pshot
expect_eq "pshot's reference" pshot.png "$(job_field pshot .reference)"

# 6. sorad submit PROMPT IMAGE: the image goes in under the prompt's name.
C=(-c "$T/sorad.conf")
printf 'A garden in spring.' >"$T/garden.txt"
cp "$T/shot.png" "$T/style.png"
image 640x480 "$T/small.png"
rc=0
"$SORAD_BIN" submit "${C[@]}" "$T/garden.txt" "$T/small.png" >"$T/submit.out" 2>&1 || rc=$?
expect_eq "submit with a wrong-size image" 65 "$rc"
grep -qF "small.png is 640x480 pixels but the video of $T/garden.txt is 1280x720" "$T/submit.out" ||
	fail "submit's message: $(cat "$T/submit.out")"
[ ! -e "$T/inbox/garden.txt" ] || fail "a refused submit put the prompt in the inbox"
"$SORAD_BIN" submit "${C[@]}" "$T/garden.txt" "$T/style.png" >"$T/submit.out" 2>&1 ||
	fail "submit: $(cat "$T/submit.out")"
grep -qF "style.png -> $T/inbox/garden.png (the image of $T/garden.txt)" "$T/submit.out" ||
	fail "submit's output: $(cat "$T/submit.out")"
wait_done garden
expect_eq "garden's reference" garden.png "$(job_field garden .reference)"
[ -z "$(ls -A "$T/outbox/failed" 2>/dev/null)" ] || fail "failures: $(ls "$T/outbox/failed")"
echo "PASS pair_arriving"
