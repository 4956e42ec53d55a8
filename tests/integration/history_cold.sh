#!/usr/bin/env bash
# Finished jobs kept as their STATE/history.tsv line only after a fast start (issue 20,
# src/jobs_cold.c): one is found by its video id, a filtered list does not need the
# others, the counts hold, a reference image named only by such a job is still known as
# one, and `delete --purge` forgets one for good while the others keep their places.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"

sim_start --gen-ms 300 --api-key "$SORAD_KEY" --seed 46
httpd_start
C=(-c "$T/sorad.conf")

image 1280x720 "$T/inbox/style.png"
drop styled.txt $'---\nreference: style.png\n---\nA garden in the style of the picture.'
wait_done styled
drop fox.txt 'A red fox in the snow.'
wait_done fox
drop owl.txt 'A snowy owl on a post.'
wait_done owl
drop bad.txt 'This one fails [sim:fail]'
wait_failed bad
FOX=$(jq -r ".video_id // empty" "$T/state/jobs/fox.json")
[ -n "$FOX" ] || fail "fox has no video id"
names() { hget "/api/v1/videos?order=asc&limit=100" >/dev/null && jq -r '[.data[].name] | join(",")' "$T/body"; }
before=$(names)

restart() {
	FROM=$(grep -c '' "$T/sorad.out")
	sorad_start
	httpd_url
}
since_start() { tail -n +"$((FROM + 1))" "$T/sorad.out"; }
logged() { since_start | grep -qF "$1"; }

sorad_stop
restart
logged "state: 4 finished job(s) kept as their history.tsv line only" ||
	fail "the start did not keep the finished jobs cold: $(since_start | grep 'state:')"
# the reference image stays known for the prompt that named it (its job is cold)
wait_for 20 "the start's look at style.png" logged "style.png is a reference image kept"
! logged "style.png has no prompt" || fail "style.png taken for a stray: $(since_start | grep style.png)"

# found by video id
expect_eq "GET by video id" 200 "$(hget "/api/v1/videos/$FOX")"
jq -e '.status == "completed" and (.prompt | startswith("A red fox"))' "$T/body" >/dev/null ||
	fail "fox by its video id: $(cat "$T/body")"
# a filtered list, its total from the counters
expect_eq "failed list" 200 "$(hget '/api/v1/videos?status=failed&limit=100')"
jq -e '.total == 1 and (.data | length) == 1 and (.data[0].prompt | startswith("This one fails"))' \
	"$T/body" >/dev/null || fail "the failed list: $(cat "$T/body")"
expect_eq "healthz" 200 "$(hget /healthz)"
expect_eq "jobs in healthz" 4 "$(body_get .jobs)"
# the same jobs in the same (claim) order as before the stop
expect_eq "the list after the fast start" "$before" "$(names)"

# delete --purge of a cold job: gone at once and after a restart; the others stay
OPENAI_API_KEY=$SORAD_KEY "$SORAD_BIN" delete "${C[@]}" --purge owl >"$T/out" 2>&1 ||
	fail "delete --purge owl: $(cat "$T/out")"
grep -qF "purged owl" "$T/out" || fail "delete --purge owl said: $(cat "$T/out")"
expect_eq "GET owl after the purge" 404 "$(hget /api/v1/videos/owl)"
expect_eq "the list after the purge" "styled,fox,bad" "$(names)"
expect_eq "jobs in healthz after the purge" 200 "$(hget /healthz)"
expect_eq "jobs after the purge" 3 "$(body_get .jobs)"
sorad_stop
restart
logged "state: 3 finished job(s) kept as their history.tsv line only" ||
	fail "after the purge: $(since_start | grep 'state:')"
expect_eq "GET owl after the restart" 404 "$(hget /api/v1/videos/owl)"
expect_eq "the list after the restart" "styled,fox,bad" "$(names)"
expect_eq "GET fox by name" 200 "$(hget /api/v1/videos/fox)"
sorad_stop
echo ok
