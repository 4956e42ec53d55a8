#!/usr/bin/env bash
# STATE/history.tsv (history.h): a line per finished job, kept in step by the daemon
# (done, failed, retried, purged), repaired from the records at start (a torn last line
# cut, a line for a job that is not there marked, a missing line added), kept by
# `sorad delete --purge` with no daemon; and `sorad list` shows exactly what it shows
# when it reads every record (the history file moved away: the fallback).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

sim_start --gen-ms 300 --api-key "$SORAD_KEY" --seed 43
sorad_conf 'approve_over_usd = 1.00'
sorad_start
C=(-c "$T/sorad.conf")
H="$T/state/history.tsv"
held() { jq -e '.state == "held"' "$T/state/jobs/$1.json" >/dev/null 2>&1; }

drop fox.txt 'A red fox in the snow.'
drop owl.txt 'A snowy owl on a post.'
drop bad.txt 'This one fails [sim:fail]'
drop big.jsonl $'{"prompt": "One."}\n{"prompt": "Two."}\n{"prompt": "Three."}\n'
wait_done fox
wait_done owl
wait_failed bad
for n in 1 2 3; do wait_for 20 "big-$n held" held "big-$n"; done

# lines FLAG NAME: how many lines of job NAME have that flag.
lines() { awk -F'\t' -v f="$1" -v n="$2" '$1 == f && $2 == n' "$H" | wc -l; }
expect_lines() {
	local what=$1 f n want got
	shift
	while [ "$#" -gt 0 ]; do
		f=$1 n=$2 want=$3
		shift 3
		got=$(lines "$f" "$n")
		[ "$got" = "$want" ] || fail "$what: $want line(s) '$f' for $n expected, $got: $(cat "$H")"
	done
}
expect_lines "after the first jobs" D fox 1 D owl 1 F bad 1 D big-1 0 F big-1 0
head -1 "$H" | grep -q '^# sorad history 2: ' || fail "no format line: $(head -1 "$H")"
[ "$(stat -c %a "$H")" = 600 ] || fail "history.tsv is mode $(stat -c %a "$H")"
awk -F'\t' '$2 == "fox" { exit !($3 ~ /^video_/ && $4 == "sora-2" && $7 == 100) }' "$H" ||
	fail "fox's line: $(grep -P '\tfox\t' "$H")"

# list_same WHEN [ARGS]: sorad list says the same with the history as from every record.
list_same() {
	local when=$1
	shift
	"$SORAD_BIN" list "${C[@]}" "$@" >"$T/with.txt" 2>&1 || fail "$when: list $*"
	mv "$H" "$T/history.away"
	"$SORAD_BIN" list "${C[@]}" "$@" >"$T/without.txt" 2>&1 || fail "$when: list $* (fallback)"
	mv "$T/history.away" "$H"
	diff -u "$T/without.txt" "$T/with.txt" >"$T/diff.txt" ||
		fail "$when: sorad list $* differs with the history: $(cat "$T/diff.txt")"
}
list_same "done, failed and held"
list_same "done, failed and held" --state "done"
list_same "done, failed and held" --state failed
list_same "done, failed and held" --state held
grep -q '^bad  *failed' "$T/with.txt" && fail "--state held shows bad"
"$SORAD_BIN" list "${C[@]}" --state failed | grep -q '^bad  *failed' || fail "bad is not listed as failed"

# A retry: the old line is superseded; the job fails again and gets a new one.
"$SORAD_BIN" retry "${C[@]}" bad >"$T/out" 2>&1 || fail "retry bad: $(cat "$T/out")"
again() { [ "$(lines F bad)" = 1 ] && [ "$(lines x bad)" = 1 ]; }
wait_for 60 "bad to fail again (one F line and one x line)" again
# A purge with the daemon running: its line is superseded at once.
"$SORAD_BIN" delete "${C[@]}" --purge fox >"$T/out" 2>&1 || fail "purge fox: $(cat "$T/out")"
expect_lines "after the purge" D fox 0 x fox 1 D owl 1
list_same "after a retry and a purge"
"$SORAD_BIN" list "${C[@]}" | grep -q '^fox ' && fail "the purged fox is listed"

# Jobs in flight only (--state held): the records the daemon names, nothing else; the
# same as from every record with no daemon to ask.
"$SORAD_BIN" list "${C[@]}" --state held >"$T/held-daemon.txt" 2>&1 || fail "list --state held"
[ "$(grep -c '^big-[123]  *held' "$T/held-daemon.txt")" = 3 ] ||
	fail "list --state held: $(cat "$T/held-daemon.txt")"

# The repair at start: a line removed, a line for a job that is not there, a torn end.
sorad_stop
"$SORAD_BIN" list "${C[@]}" --state held >"$T/held-records.txt" 2>&1 || fail "list --state held"
diff -u "$T/held-records.txt" "$T/held-daemon.txt" >"$T/diff.txt" ||
	fail "list --state held differs when the daemon names the jobs: $(cat "$T/diff.txt")"
grep -v -P '\towl\t' "$H" >"$T/h.tmp" && cat "$T/h.tmp" >"$H"
printf 'D\tghost\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\nD\tto' >>"$H"
sorad_start
# (ghost's line is marked superseded, or dropped with the others when superseded lines
# outnumber live ones and the file is made again: either way no live line is left)
expect_lines "after the repair" D owl 1 D ghost 0 F ghost 0
grep -qE 'history: .*(1 marked superseded|superseded line\(s\) dropped)' "$T/sorad.out" ||
	fail "the repair did not mark ghost's line: $(grep 'history:' "$T/sorad.out")"
[ "$(tail -c 1 "$H" | od -An -c | tr -d ' ')" = '\n' ] || fail "the torn line was not cut"
grep -q 'history: .* ended inside a line' "$T/sorad.out" || fail "the cut was not logged"
list_same "after the repair"

# No daemon: delete --purge marks the line itself.
sorad_stop
OPENAI_API_KEY=$SORAD_KEY "$SORAD_BIN" delete "${C[@]}" --purge owl >"$T/out" 2>&1 || fail "offline purge owl: $(cat "$T/out")"
expect_lines "after an offline purge" D owl 0
list_same "after an offline purge"
# ...and a daemon starting next adds nothing back for it.
sorad_start
expect_lines "after the restart" D owl 0 F bad 1
sorad_stop
echo ok
