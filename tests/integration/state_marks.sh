#!/usr/bin/env bash
# STATE/live (livemark.h): a mark for every job whose record a start must read (not
# finished, or carrying a decision taken while no daemon ran), made with the record's
# change that needs it, removed once the job's final record is durable; made whole at a
# start without it; made by a command that writes such a record while no daemon runs.
# A start that finds a record needing a mark without one says so ("had no mark"; a
# debug build stops there): that message must never appear.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

sim_start --gen-ms 300 --api-key "$SORAD_KEY" --seed 44
sorad_conf 'approve_over_usd = 1.00'
sorad_start
C=(-c "$T/sorad.conf")
L="$T/state/live"
[ -d "$L" ] || fail "no $L after the first start"
[ "$(stat -c %a "$L")" = 700 ] || fail "$L is mode $(stat -c %a "$L")"

# A job's mark is a name in STATE/live; .mark is the inode they all link to.
marks() { find "$L" -mindepth 1 -maxdepth 1 ! -name '.*' -printf '%f\n' | sort | tr '\n' ' '; }
marks_are() { [ "$(marks)" = "$1" ]; }
held() { jq -e '.state == "held"' "$T/state/jobs/$1.json" >/dev/null 2>&1; }
no_missing_marks() {
	! grep -h 'had no mark' "$T"/logs/*.log "$T/sorad.out" 2>/dev/null ||
		fail "a start found a record without its mark"
}

drop fox.txt 'A red fox in the snow.'
drop bad.txt 'This one fails [sim:fail]'
drop big.jsonl $'{"prompt": "One."}\n{"prompt": "Two."}\n{"prompt": "Three."}\n'
wait_done fox
wait_failed bad
for n in 1 2 3; do wait_for 20 "big-$n held" held "big-$n"; done
# Finished jobs lose their marks once their final records are durable; held ones keep
# theirs.
wait_for 20 "the held jobs' marks, and only theirs (now: $(marks))" marks_are "big-1 big-2 big-3 "
# links to one inode: a mark costs no inode of its own (commit.h)
[ "$(stat -c %i "$L/big-1")" = "$(stat -c %i "$L/.mark")" ] || fail "big-1's mark is not a link to .mark"
[ "$(stat -c %h "$L/.mark")" = 4 ] || fail ".mark has $(stat -c %h "$L/.mark") links, not 4"

# A crash keeps them; the start after it finds every record that needs one marked.
kill -KILL "$SORAD_PID"
wait "$SORAD_PID" 2>/dev/null || true
marks_are "big-1 big-2 big-3 " || fail "marks after the crash: $(marks)"
sorad_start
no_missing_marks

# A command writing a record while no daemon runs: `sorad retry` of a failed job
# records the decision in it, and marks it first.
sorad_stop
"$SORAD_BIN" retry "${C[@]}" bad >"$T/out" 2>&1 || fail "retry bad offline: $(cat "$T/out")"
[ -e "$L/bad" ] || fail "the offline retry left no mark for bad: $(marks)"

# A state directory from before the marks (or one whose marks could not be kept): the
# start reads every record and makes them; the retried job runs, fails again, and loses
# its mark.
rm -rf "$L"
sorad_start
[ -d "$L" ] || fail "$L was not made again"
retried() { jq -e '.state == "failed" and (.history // "" | length) > 0 and .resolution == null' \
	"$T/state/jobs/bad.json" >/dev/null 2>&1; }
wait_for 60 "bad to fail again" retried
wait_for 20 "the held jobs' marks again (now: $(marks))" marks_are "big-1 big-2 big-3 "

# An approved job runs to the end and loses its mark; a rejected one too.
"$SORAD_BIN" approve "${C[@]}" big-1 >"$T/out" 2>&1 || fail "approve big-1: $(cat "$T/out")"
wait_done big-1
"$SORAD_BIN" reject "${C[@]}" big-2 >"$T/out" 2>&1 || fail "reject big-2: $(cat "$T/out")"
wait_for 20 "big-3's mark only (now: $(marks))" marks_are "big-3 "
sorad_stop
no_missing_marks
echo ok
