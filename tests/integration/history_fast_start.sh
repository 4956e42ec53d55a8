#!/usr/bin/env bash
# A start that does not read every record (issue 20): after a clean stop, or a crash on
# this boot, the daemon reads the records marked in STATE/live and takes the finished
# jobs from STATE/history.tsv. What it shows must be exactly what a start reading every
# record shows (the status list, one job, /metrics, sorad list, sorad usage); a finished
# job's record is read when something needs it whole (a retry); a history file changed
# by hand since the daemon stopped is not trusted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"

sim_start --gen-ms 300 --api-key "$SORAD_KEY" --seed 45
httpd_start 'approve_over_usd = 1.00'
C=(-c "$T/sorad.conf")
TRUST="$T/state/history.trust"

drop fox.txt 'A red fox in the snow.'
drop owl.txt 'A snowy owl on a post.'
drop bad.txt 'This one fails [sim:fail]'
drop big.jsonl $'{"prompt": "One."}\n{"prompt": "Two."}\n{"prompt": "Three."}\n'
wait_done fox
wait_done owl
wait_failed bad
held() { jq -e '.state == "held"' "$T/state/jobs/$1.json" >/dev/null 2>&1; }
for n in 1 2 3; do wait_for 20 "big-$n held" held "big-$n"; done

# snapshot NAME: what the daemon shows, into $T/NAME.*
snapshot() {
	hget '/api/v1/videos?limit=100' >/dev/null
	jq -S . "$T/body" >"$T/$1.list"
	hget /api/v1/videos/fox >/dev/null
	jq -S . "$T/body" >"$T/$1.fox"
	hget /metrics >/dev/null
	grep -E '^sorad_(jobs|seconds_generated|inputs_rejected|estimated_cost)' "$T/body" |
		sort >"$T/$1.metrics"
	"$SORAD_BIN" list "${C[@]}" >"$T/$1.cli" 2>&1 || fail "sorad list ($1)"
	OPENAI_API_KEY=$SORAD_KEY "$SORAD_BIN" usage "${C[@]}" >"$T/$1.usage" 2>&1 || fail "sorad usage ($1)"
}
same() { # A B: the two snapshots are equal
	local k
	for k in list fox metrics cli usage; do
		diff -u "$T/$1.$k" "$T/$2.$k" >"$T/diff" || fail "$k differs ($1 / $2): $(cat "$T/diff")"
	done
}
# restart: sorad started again, its log from there on in since_start.
restart() {
	FROM=$(grep -c '' "$T/sorad.out")
	sorad_start
	httpd_url
}
since_start() { tail -n +"$((FROM + 1))" "$T/sorad.out"; }
# fast_start_took N: the last start took N finished jobs from the history, reading only
# the marked records.
fast_start_took() {
	since_start | grep -q "state: .* $1 finished job(s) from history.tsv" ||
		fail "no fast start with $1 finished jobs: $(since_start | grep 'state:')"
}
full_start() {
	! since_start | grep -q 'finished job(s) from history.tsv' ||
		fail "$1: the start took the history: $(since_start | grep 'state:')"
}

snapshot before
sorad_stop
grep -q '^clean [0-9]* [0-9]* [0-9]*$' "$TRUST" || fail "no clean mark after the stop: $(cat "$TRUST")"

# A finished record made unreadable while sorad is down: a fast start does not read it
# (nothing is moved to corrupt/ at start).
cp "$T/state/jobs/owl.json" "$T/owl.json.good"
printf '{"broken":' >"$T/state/jobs/owl.json"
restart
fast_start_took 3
[ -z "$(ls "$T/state/corrupt" 2>/dev/null)" ] || fail "a fast start read the finished records"
grep -q '^boot [0-9a-f-]* [0-9]*$' "$TRUST" || fail "no boot mark while running: $(cat "$TRUST")"
cp "$T/owl.json.good" "$T/state/jobs/owl.json"
snapshot fast
same before fast

# A crash on this boot: the next start is fast too, and the jobs finished before it
# are all there.
drop cat.txt 'A black cat on a wall.'
wait_done cat
# its final record durable (its mark goes only then), so that it is finished at the crash
cat_final() { [ ! -e "$T/state/live/cat" ] && jq -e '.state == "done"' "$T/state/jobs/cat.json" >/dev/null; }
wait_for 20 "cat's final record durable" cat_final
kill -KILL "$SORAD_PID"
wait "$SORAD_PID" 2>/dev/null || true
restart
fast_start_took 4
hget /api/v1/videos/cat >/dev/null
jq -e '.status == "completed" and (.prompt | startswith("A black cat"))' "$T/body" >/dev/null ||
	fail "cat after the crash: $(cat "$T/body")"

# A retry of a failed job known by its history line: its record is read, it runs again.
"$SORAD_BIN" retry "${C[@]}" bad >"$T/out" 2>&1 || fail "retry bad: $(cat "$T/out")"
again() { jq -e '.state == "failed" and (.history // "" | length) > 0' "$T/state/jobs/bad.json" >/dev/null 2>&1; }
wait_for 60 "bad to fail again" again
jq -e '.prompt | startswith("This one fails")' "$T/state/jobs/bad.json" >/dev/null ||
	fail "the retried record lost its prompt: $(cat "$T/state/jobs/bad.json")"
sorad_stop
restart
fast_start_took 4
snapshot fast2
sorad_stop

# The same with every record read (no trust): identical.
rm -f "$TRUST"
restart
full_start "no history.trust"
snapshot full
same fast2 full
sorad_stop

# A history file changed by hand while sorad is down is not trusted: the start reads
# every record and repairs it (owl's line removed, added back).
grep -v -P '\towl\t' "$T/state/history.tsv" >"$T/h.tmp" && cat "$T/h.tmp" >"$T/state/history.tsv"
restart
full_start "history.tsv changed by hand"
grep -qP '^D\towl\t' "$T/state/history.tsv" || fail "owl's line was not added back"
snapshot repaired
same full repaired
sorad_stop
echo ok
