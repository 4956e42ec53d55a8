#!/usr/bin/env bash
# Hostile input: every bad file gets a written reason in failed/, the daemon stays up
# and keeps working, and nothing outside the inbox is ever read or submitted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

sim_start --gen-ms 800 --api-key "$SORAD_KEY" --seed 5
sorad_conf "max_file_size = 100000"
sorad_start

expect_failure() { # NAME WORDS: NAME failed and its error.txt contains WORDS
	wait_failed "$1" 30
	grep -qiF -- "$2" "$T/outbox/failed/$1.error.txt" ||
		fail "$1.error.txt should say '$2', says: $(cat "$T/outbox/failed/$1.error.txt")"
}

secret="SECRET-OUTSIDE-THE-INBOX-$RANDOM"
echo "$secret" >"$T/outside.txt"

drop empty.txt ''
drop blank.txt $'  \n\t\n  \n'
head -c 3000 /dev/urandom >"$T/inbox/.bin.tmp" && printf '\0' >>"$T/inbox/.bin.tmp" && mv "$T/inbox/.bin.tmp" "$T/inbox/binary.txt"
head -c 120000 /dev/zero | tr '\0' 'a' >"$T/inbox/.big.tmp" && mv "$T/inbox/.big.tmp" "$T/inbox/big.txt"
drop unterminated.txt $'---\nmodel: sora-2\nA prompt without the closing line.\n'
drop unknown-model.txt $'---\nmodel: sora-9\n---\nA cat.\n'
drop bad-size.txt $'---\nsize: 1920x1080\n---\nA cat.\n'
drop bad-seconds.txt $'---\nseconds: 7\n---\nA cat.\n'
drop missing-ref.txt $'---\nreference: nowhere.png\n---\nA cat.\n'
image 640x480 "$T/inbox/wrong-size.png"
drop wrong-size.txt 'A cat on a wrong-size reference image.'
drop malformed.json '{"prompt": "A cat", '
drop wrong-types.json '{"prompt": ["A", "cat"], "seconds": true}'
drop not-object.json '["A cat"]'
drop moderated.txt 'A cat [sim:moderation]'
drop gen-fails.txt 'A cat that cannot be made [sim:fail]'
# Special files arrive the way writers deliver files: moved in.
mkdir "$T/staging"
ln -s "$T/outside.txt" "$T/staging/escape.txt"
mkfifo "$T/staging/pipe.txt"
mkdir "$T/staging/folder.txt"
device=0
if mknod "$T/staging/device.txt" c 1 3 2>/dev/null; then device=1; fi
mv "$T"/staging/* "$T/inbox/"

expect_failure empty "the prompt is empty"
expect_failure blank "the prompt is empty"
expect_failure binary "binary data"
expect_failure big "over the limit of 100000 bytes"
expect_failure unterminated "never closed"
expect_failure unknown-model "model 'sora-9' is not configured"
expect_failure bad-size "size 1920x1080 is not available for sora-2"
expect_failure bad-seconds "7 seconds is not available"
expect_failure missing-ref "reference image 'nowhere.png' is not in the inbox"
expect_failure wrong-size "is 640x480 pixels but the video is 1280x720"
expect_failure malformed "not valid JSON"
expect_failure wrong-types '"prompt" must be a string'
expect_failure not-object "expected a JSON object"
expect_failure moderated "Your prompt contains restricted content"
expect_failure gen-fails "Video generation failed"
expect_failure escape "outside the inbox"
expect_failure pipe "not a regular file"
expect_failure folder "not a regular file"
[ "$device" = 0 ] || expect_failure device "not a regular file"

# Names with spaces, Unicode and a newline are fine: those jobs complete.
drop 'with spaces.txt' 'A paper boat on a rainy street, close-up.'
drop 'ünïcødé 🎬.txt' 'A neon sign flickering at night, static shot.'
drop $'new\nline.txt' 'A kite over a beach, aerial shot.'
wait_done 'with spaces'
wait_done 'ünïcødé 🎬'
wait_done 'new_line'
check_set 'with spaces' 1280x720 4
check_set 'new_line' 1280x720 4

kill -0 "$SORAD_PID" || fail "sorad died"
# Nothing outside the inbox was read into a request, and no bad file was submitted.
sim_stats | grep -qF "$secret" && fail "a file outside the inbox was submitted"
total=$(sim_stats | jq '[.creates_by_prompt[]] | add')
[ "$total" = 4 ] || fail "expected only the 3 good prompts and the [sim:fail] one to be created, got $total: $(sim_stats | jq -c .creates_by_prompt)"
grep -rqF "$secret" "$T/state" "$T/outbox" "$T/logs" && fail "the outside file's content was read"
# Every file was claimed: the inbox is empty.
[ -z "$(ls -A "$T/inbox")" ] || fail "inbox: $(ls -A "$T/inbox")"
sorad_stop
echo ok
