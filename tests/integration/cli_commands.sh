#!/usr/bin/env bash
# Every command against a running daemon and with no daemon: submit (atomic copy,
# refusals), list (table, --json, --state), show, usage, remix, delete (remote, then
# --purge), approve (approve_over_usd), unknown ids and bad arguments with their
# sysexits codes, and --help / --version on every command.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

sim_start --gen-ms 600 --api-key "$SORAD_KEY"
sorad_conf 'approve_over_usd = 1.00'
export OPENAI_API_KEY=$SORAD_KEY

# run EXPECTED_EXIT ARGS...: runs `sorad ARGS -c conf`, output in $T/out and $T/err.
run() {
	local want=$1 rc=0
	shift
	"$SORAD_BIN" "$@" >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" -ne "$want" ]; then
		cat "$T/out" "$T/err" >&2
		fail "sorad $* exited $rc, expected $want"
	fi
}
expect_in() { # FILE TEXT
	grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "expected '$2' in $(basename "$1")"; }
}
C=(-c "$T/sorad.conf")

# --help and --version everywhere; bad arguments are usage errors (64).
for cmd in submit list show delete remix approve usage check-config; do
	run 0 "$cmd" --help
	expect_in "$T/out" "usage: sorad $cmd"
	run 0 "$cmd" --version
	expect_in "$T/out" "sorad "
done
run 0 --help
expect_in "$T/out" "sorad remix ID|NAME PROMPT"
run 64 show "${C[@]}"
expect_in "$T/err" "expects one argument"
run 64 list "${C[@]}" --bogus
expect_in "$T/err" "unknown option"
run 64 list "${C[@]}" --state nonsense
expect_in "$T/err" "unknown state 'nonsense'"
run 64 list "${C[@]}" --purge
run 64 remix "${C[@]}" onlyone
run 78 list -c "$T/missing.conf"
expect_in "$T/err" "cannot open"

# ---- no daemon -------------------------------------------------------------------
run 0 list "${C[@]}"
expect_in "$T/out" "(no jobs)"
run 66 show "${C[@]}" nothing-here
expect_in "$T/err" "no job or video named 'nothing-here'"
run 66 delete "${C[@]}" nothing-here
run 66 remix "${C[@]}" nothing-here "a new prompt"
run 66 approve "${C[@]}" nothing-here
expect_in "$T/err" "no job named 'nothing-here' is waiting for approval"

# submit refuses what the daemon would refuse, and copies nothing then.
printf 'hello' >"$T/notes.md"
run 65 submit "${C[@]}" "$T/notes.md"
expect_in "$T/err" "is not a prompt file"
printf -- '---\nseconds: 10\n---\nA cat.\n' >"$T/bad.txt"
printf 'A good one.\n' >"$T/good.txt"
run 65 submit "${C[@]}" "$T/good.txt" "$T/bad.txt"
expect_in "$T/err" "10 seconds is not available for sora-2"
expect_in "$T/err" "nothing was submitted"
[ -z "$(ls -A "$T/inbox")" ] || fail "a refused submit left files in the inbox: $(ls -A "$T/inbox")"
run 66 submit "${C[@]}" "$T/absent.txt"

# submit copies under a free name, prints the guidelines, and notes the daemon is down.
printf 'A red kite over green hills, wide shot.\n' >"$T/kite.txt"
run 0 submit "${C[@]}" "$T/kite.txt"
expect_in "$T/out" "-> $T/inbox/kite.txt"
expect_in "$T/out" "no real people or public figures"
expect_in "$T/out" "no sorad daemon is running"
run 0 submit "${C[@]}" "$T/kite.txt"
expect_in "$T/out" "-> $T/inbox/kite-2.txt"
cmp -s "$T/kite.txt" "$T/inbox/kite-2.txt" || fail "the submitted copy differs"
rm "$T/inbox/kite-2.txt"

# ---- with the daemon ---------------------------------------------------------------
sorad_start
wait_done kite
run 0 list "${C[@]}"
expect_in "$T/out" "kite"
expect_in "$T/out" "done"
run 0 list "${C[@]}" --json
[ "$(jq -r '.[0].name + " " + .[0].state' "$T/out")" = "kite done" ] || fail "list --json: $(cat "$T/out")"
run 0 list "${C[@]}" --state failed
expect_in "$T/out" "(no jobs in state failed)"
VID=$(jq -r .video.id "$T/outbox/kite.json")
run 0 show "${C[@]}" kite
expect_in "$T/out" "video id     $VID"
expect_in "$T/out" "cost         \$0.40"
expect_in "$T/out" "$T/outbox/kite.mp4"
run 0 show "${C[@]}" --json "$VID"
[ "$(jq -r .name "$T/out")" = kite ] || fail "show by video id: $(cat "$T/out")"
[ "$(jq '.files | length' "$T/out")" = 4 ] || fail "show --json files: $(cat "$T/out")"
run 66 show "${C[@]}" video_doesnotexist

run 0 usage "${C[@]}"
expect_in "$T/out" "sora-2"
grep -E '^total .* 4 s  \$0\.40' "$T/out" >/dev/null || fail "usage total: $(cat "$T/out")"
run 0 usage "${C[@]}" --json
[ "$(jq .total.all.seconds "$T/out")" = 4 ] || fail "usage --json: $(cat "$T/out")"

# remix by NAME goes through the inbox and finishes as its own job.
run 0 remix "${C[@]}" kite "The kite turns into a paper crane."
expect_in "$T/out" "remix of kite submitted as $T/inbox/kite-remix.json"
wait_done kite-remix
[ "$(jq -r .video.remixed_from_video_id "$T/outbox/kite-remix.json")" = "$VID" ] ||
	fail "the remix does not name its source"

# approve_over_usd: a batch over $1.00 is held, visible, and released by approve.
drop big.jsonl $'{"prompt": "One."}\n{"prompt": "Two."}\n{"prompt": "Three."}\n'
wait_for 20 "big-1 held" jq -e '.state == "held"' "$T/state/jobs/big-1.json"
run 0 list "${C[@]}" --state held
expect_in "$T/out" "approval_required: sorad approve big-1"
# The API's status words work too, as on the status page: a held job is queued there.
run 0 list "${C[@]}" --state queued
expect_in "$T/out" "big-1"
run 64 list "${C[@]}" --state bogus
expect_in "$T/err" "or the API's statuses: queued, in_progress, completed, failed"
run 0 show "${C[@]}" big-2
expect_in "$T/out" 'sorad approve big'
run 66 approve "${C[@]}" kite
run 0 approve "${C[@]}" big
expect_in "$T/out" "approved 3 job(s) of big"
wait_done big-1
wait_done big-3

# delete: remote only, then --purge through the daemon.
run 0 delete "${C[@]}" kite
expect_in "$T/out" "deleted video $VID"
[ -f "$T/outbox/kite.mp4" ] || fail "delete without --purge removed the local video"
run 0 delete "${C[@]}" --purge kite
expect_in "$T/out" "no longer has video $VID" # already gone: said so, not an error
run 0 delete "${C[@]}" --purge kite-remix
expect_in "$T/out" "purged kite-remix: 4 local file(s) removed"
[ ! -e "$T/outbox/kite-remix.mp4" ] && [ ! -e "$T/outbox/kite-remix.json" ] ||
	fail "--purge left outputs"
[ ! -e "$T/state/jobs/kite-remix.json" ] || fail "--purge left the record"
run 66 show "${C[@]}" kite-remix
run 0 usage "${C[@]}" --json
[ "$(jq .total.all.seconds "$T/out")" = 20 ] || fail "usage must survive a purge: $(cat "$T/out")"
run 66 delete "${C[@]}" no-such-job
sorad_stop

# ---- no daemon again: approve and purge act directly under the lock -----------------
drop big2.jsonl $'{"prompt": "Four."}\n{"prompt": "Five."}\n{"prompt": "Six."}\n'
sorad_start
wait_for 20 "big2-3 held" jq -e '.state == "held"' "$T/state/jobs/big2-3.json"
sorad_stop
run 0 approve "${C[@]}" big2
expect_in "$T/out" "approved 3 job(s) of big2; no daemon is running"
run 0 delete "${C[@]}" --purge big-1
expect_in "$T/out" "purged big-1"
[ ! -e "$T/state/jobs/big-1.json" ] || fail "offline --purge left the record"
sorad_start
wait_done big2-3
run 0 list "${C[@]}" --state held
expect_in "$T/out" "(no jobs in state held)"
sorad_stop
echo "ok"
