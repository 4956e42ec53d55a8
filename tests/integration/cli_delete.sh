#!/usr/bin/env bash
# `sorad delete` through the daemon, which holds the API key (issue 19, item 5): a
# user who cannot read the key (the system unit's is root's; here a key file that is
# not there and no OPENAI_API_KEY) deletes a finished video at the service, and with
# --purge its outputs and the job, which leaves the running daemon's memory and the
# status endpoint at once. Refusals keep their words and exit codes; with no daemon
# and no key, the command says why and fails. The key appears in no output or log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"

export SIM_KEY=$SORAD_KEY # sim_req asks sora-sim with the daemon's key
sim_start --gen-ms 200 --api-key "$SORAD_KEY" --seed 29
httpd_start 'approve_over_usd = 1.00'
# The command's own configuration: the daemon's folders, a key file it cannot read.
cp "$T/sorad.conf" "$T/cli.conf"
echo "api_key_file = \"$T/root-only/api-key\"" >>"$T/cli.conf"
C=(-c "$T/cli.conf")
# run EXPECTED ARGS...: the command as that user, without the key in its environment.
run() {
	local want=$1 rc=0
	shift
	env -u OPENAI_API_KEY "$SORAD_BIN" "$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" = "$want" ] || fail "sorad $* exited $rc, expected $want: $(cat "$T/out" "$T/err")"
}
expect_in() { grep -qF -- "$2" "$1" || fail "$1 lacks '$2': $(cat "$1")"; }
deletes() { sim_stats | jq '[.requests["DELETE /v1/videos/{id}"][]?] | add // 0'; }
listed() { env -u OPENAI_API_KEY "$SORAD_BIN" list "${C[@]}" --json | jq -r '.[].name' | sort | tr '\n' ' '; }
api_names() { curl -fsS "$H/api/v1/videos" | jq -r '.data[].name' | sort | tr '\n' ' '; }

drop kite.txt 'A red kite over a hill.'
drop fox.txt 'A fox asleep in the snow.'
drop owl.txt 'An owl on a fence post.'
wait_done kite
wait_done fox
wait_done owl
KITE=$(job_field kite .video_id)
FOX=$(job_field fox .video_id)
OWL=$(job_field owl .video_id)
[ -n "$KITE" ] && [ -n "$FOX" ] && [ -n "$OWL" ] || fail "a done job has no video id"
expect_eq "the sim has kite" 200 "$(sim_req GET "/v1/videos/$KITE")"

# Remote only: the video leaves the service, the outputs and the job stay.
run 0 delete "${C[@]}" kite
expect_in "$T/out" "deleted video $KITE from the service"
expect_eq "GET kite's video after the delete" 404 "$(sim_req GET "/v1/videos/$KITE")"
[ "$(deletes)" = 1 ] || fail "the sim saw $(deletes) DELETEs, expected 1"
[ -f "$T/outbox/kite.mp4" ] || fail "delete without --purge removed the local video"
[ "$(job_field kite .state)" = "done" ] || fail "delete without --purge changed the record"
run 0 delete "${C[@]}" "$KITE" # by video id: already gone, said so, not an error
expect_in "$T/out" "the service no longer has video $KITE"

# --purge: remote, then the outputs and the job, in the daemon's memory at once.
[ "$(listed)" = "fox kite owl " ] || fail "sorad list before the purge: $(listed)"
[ "$(api_names)" = "fox kite owl " ] || fail "/api/v1/videos before the purge: $(api_names)"
run 0 delete "${C[@]}" --purge fox
expect_in "$T/out" "deleted video $FOX from the service"
expect_in "$T/out" "purged fox: 4 local file(s) removed, job forgotten"
expect_eq "GET fox's video after the delete" 404 "$(sim_req GET "/v1/videos/$FOX")"
for f in fox.mp4 fox.json fox.thumbnail.webp fox.spritesheet.jpg; do
	[ ! -e "$T/outbox/$f" ] || fail "--purge left $f"
done
[ ! -e "$T/state/jobs/fox.json" ] || fail "--purge left the record"
[ "$(listed)" = "kite owl " ] || fail "sorad list after the purge: $(listed)"
[ "$(api_names)" = "kite owl " ] || fail "/api/v1/videos after the purge: $(api_names)"
expect_eq "GET /api/v1/videos/fox after the purge" 404 "$(hget /api/v1/videos/fox)"
kill -0 "$SORAD_PID" || fail "the daemon died"

# Refusals, as before: a job not final (75), an unknown one (66).
drop big.txt $'---\nseconds: 12\n---\nA costly panorama of the Alps.'
wait_state big held 30
run 75 delete "${C[@]}" big
expect_in "$T/err" "sorad delete: big is still held; wait until it is done or failed, then delete it"
run 66 delete "${C[@]}" no-such-job
expect_in "$T/err" "no job or video named 'no-such-job'"
[ "$(deletes)" = 3 ] || fail "the sim saw $(deletes) DELETEs, expected 3"

# No daemon and no key: said plainly, nothing sent, nothing purged.
sorad_stop
run 78 delete "${C[@]}" --purge owl
expect_in "$T/err" "no daemon is running and this user cannot read the API key: start sorad, or run as a user who can read api_key_file"
expect_eq "GET owl's video after the refusal" 200 "$(sim_req GET "/v1/videos/$OWL")"
[ -f "$T/outbox/owl.mp4" ] && [ -f "$T/state/jobs/owl.json" ] || fail "the refused delete purged owl"
# With the key (the daemon's configuration), the offline delete works as it did.
OPENAI_API_KEY=$SORAD_KEY "$SORAD_BIN" delete -c "$T/sorad.conf" --purge owl >"$T/out" 2>&1 ||
	fail "offline delete with the key: $(cat "$T/out")"
expect_in "$T/out" "deleted video $OWL from the service"
expect_in "$T/out" "purged owl"
expect_eq "GET owl's video after the offline delete" 404 "$(sim_req GET "/v1/videos/$OWL")"

# The key is in no output and no log.
if grep -rqF -- "$SORAD_KEY" "$T/out" "$T/err" "$T/sorad.out" "$T/logs" "$T/state" 2>/dev/null; then
	fail "the API key appears in an output or a log"
fi
echo ok
