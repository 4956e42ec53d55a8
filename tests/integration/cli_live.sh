#!/usr/bin/env bash
# Live progress in the terminal: `sorad list` and `show` ask the running daemon for the
# progress of jobs in flight (the records hold it only as last saved) and say so when
# no daemon answers; `sorad watch NAME` follows a job until it is done (a line per
# change when not on a terminal), `sorad watch` every job in flight; exit codes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"

sim_start --gen-ms 8000 --api-key "$SORAD_KEY" --seed 21
httpd_start
C=(-c "$T/sorad.conf")
drop fox.txt 'A red fox trotting through fresh snow.'
api_progress() { curl -fsS "$H/api/v1/videos/fox" | jq -r .progress; }
at_least() { [ "$(api_progress)" -ge "$1" ]; }
wait_for 30 "fox at 20 % on the status endpoint" at_least 20

# The record says less (progress is not written at every poll)...
[ "$(jq -r .progress "$T/state/jobs/fox.json")" -lt 20 ] ||
	echo "note: the record already holds $(jq -r .progress "$T/state/jobs/fox.json") %"
# ...but the commands show what the daemon knows (progress only grows).
"$SORAD_BIN" list "${C[@]}" >"$T/list.txt" 2>"$T/list.err" || fail "list"
p=$(awk '$1 == "fox" { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+%$/) { sub("%", "", $i); print $i } }' "$T/list.txt")
[ -n "$p" ] && [ "$p" -ge 20 ] || fail "sorad list shows fox at '$p' %: $(cat "$T/list.txt")"
[ ! -s "$T/list.err" ] || fail "sorad list complained with a daemon running: $(cat "$T/list.err")"
"$SORAD_BIN" list "${C[@]}" --json | jq -e '.[] | select(.name == "fox") | .progress >= 20' >/dev/null ||
	fail "sorad list --json has stale progress"
"$SORAD_BIN" show "${C[@]}" fox >"$T/show.txt" || fail "show"
p=$(sed -n 's/^state .*, \([0-9]*\)%).*/\1/p' "$T/show.txt")
[ -n "$p" ] && [ "$p" -ge 20 ] || fail "sorad show: $(head -2 "$T/show.txt")"

# watch follows it to the end: a line per change, progress rising, exit 0.
rc=0
timeout 60 "$SORAD_BIN" watch "${C[@]}" fox >"$T/watch.txt" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "sorad watch fox exited $rc: $(cat "$T/watch.txt")"
tail -1 "$T/watch.txt" | grep -q "^fox  done" || fail "watch did not end with done: $(cat "$T/watch.txt")"
[ "$(grep -c '%' "$T/watch.txt")" -ge 2 ] || fail "watch showed no progress: $(cat "$T/watch.txt")"
grep -o ' [0-9]*%' "$T/watch.txt" | tr -d ' %' | sort -n -c || fail "progress went back: $(cat "$T/watch.txt")"
[ -f "$T/outbox/fox.mp4" ] || fail "watch ended before the set was in the outbox"
"$SORAD_BIN" watch "${C[@]}" >"$T/all.txt" || fail "watch with nothing in flight"
grep -q "nothing in flight" "$T/all.txt" || fail "watch (all): $(cat "$T/all.txt")"
rc=0
"$SORAD_BIN" watch "${C[@]}" doomed-not-here >/dev/null 2>&1 || rc=$?
[ "$rc" = 66 ] || fail "watch of an unknown job exited $rc"

# A failure ends watch with 65.
drop doomed.txt 'This one fails [sim:fail]'
rc=0
timeout 60 "$SORAD_BIN" watch "${C[@]}" doomed >"$T/watch2.txt" 2>&1 || rc=$?
[ "$rc" = 65 ] || fail "watch of a failing job exited $rc: $(cat "$T/watch2.txt")"

# No daemon: the records, said so; watch cannot follow anything.
drop slow.txt 'A snail crossing a garden path.'
wait_for 30 "slow running" jq -e '.state == "running"' "$T/state/jobs/slow.json"
sorad_stop
"$SORAD_BIN" list "${C[@]}" >/dev/null 2>"$T/list.err" || fail "list without a daemon"
grep -q "no daemon answered" "$T/list.err" || fail "list without a daemon does not say so: $(cat "$T/list.err")"
rc=0
"$SORAD_BIN" watch "${C[@]}" slow >/dev/null 2>"$T/watch.err" || rc=$?
[ "$rc" = 69 ] || fail "watch without a daemon exited $rc"
grep -q "no sorad daemon is running" "$T/watch.err" || fail "watch's message: $(cat "$T/watch.err")"
echo ok
