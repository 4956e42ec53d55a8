#!/usr/bin/env bash
# keep_records_days: finished jobs older than that leave STATE/jobs for
# STATE/archive/YYYY-MM.jsonl (one line of JSON per record, the month each finished
# in), their outputs stay, they leave the daemon's memory (sorad list, /metrics) and
# the history; younger ones and jobs in flight stay; a restart archives nothing twice;
# with the default (0) nothing moves.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"

N=40
sim_start --gen-ms 300 --api-key "$SORAD_KEY" --seed 53
# 40 finished jobs 6 h apart, the newest an hour ago: hist-0000000..27 finished more
# than 3 days ago (by 1 h at least), hist-0000028..39 less (by 5 h at least).
SPACING_S=21600 python3 "$SORAD_SOURCE_DIR/bench/tools/make_history.py" "$T/state" "$N" \
	>/dev/null || fail "make_history.py"
mkdir -p "$T/outbox"
echo 'an output of an old job' >"$T/outbox/hist-0000003.mp4"
C=(-c "$T/sorad.conf")
records() { find "$T/state/jobs" -name 'hist-*.json' | wc -l; }

# The default keeps everything.
sorad_conf 'listen = "127.0.0.1:0"'
sorad_start
drop fox.txt 'A red fox in the snow.'
wait_done fox
[ "$(records)" = "$N" ] || fail "with keep_records_days = 0, $(records) of $N records are left"
[ ! -e "$T/state/archive" ] || fail "an archive with keep_records_days = 0"
sorad_stop

# A retention shorter than the duplicate window is refused: an archived job is not
# recognised as a duplicate, and a prompt delivered again would be paid again.
echo 'keep_records_days = 3' >>"$T/sorad.conf"
rc=0
"$SORAD_BIN" check-config -c "$T/sorad.conf" >"$T/check.txt" 2>&1 || rc=$?
[ "$rc" != 0 ] && grep -q 'keep_records_days (3) must be at least duplicate_window_days (7)' "$T/check.txt" ||
	fail "check-config took keep_records_days < duplicate_window_days (rc $rc): $(cat "$T/check.txt")"
# Three days (and duplicates looked for three days back): 28 move, at the start.
echo 'duplicate_window_days = 3' >>"$T/sorad.conf"
sorad_start
moved() { [ "$(records)" = 12 ]; }
wait_for 30 "28 records to move to the archive (left: $(records))" moved
for i in 00 01 27; do
	[ ! -e "$T/state/jobs/hist-00000$i.json" ] || fail "hist-00000$i is still in STATE/jobs"
done
for i in 28 39; do
	[ -e "$T/state/jobs/hist-00000$i.json" ] || fail "hist-00000$i was archived too early"
done
[ -e "$T/state/jobs/fox.json" ] || fail "fox (just done) was archived"
cat "$T"/state/archive/*.jsonl >"$T/archived.jsonl"
[ "$(wc -l <"$T/archived.jsonl")" = 28 ] || fail "$(wc -l <"$T/archived.jsonl") lines archived, not 28"
[ "$(jq -r .name "$T/archived.jsonl" | sort -u | wc -l)" = 28 ] || fail "archived names: $(jq -r .name "$T/archived.jsonl")"
jq -e -s 'all(.state == "done" and .video_id != null and .prompt != null)' "$T/archived.jsonl" >/dev/null ||
	fail "an archived line is not a whole record"
for f in "$T"/state/archive/*.jsonl; do
	m=$(basename "$f" .jsonl)
	jq -e --arg m "$m" '(.finished_at | strftime("%Y-%m")) == $m' "$f" >/dev/null ||
		fail "$f holds a record of another month"
	[ "$(stat -c %a "$f")" = 600 ] || fail "$f is mode $(stat -c %a "$f")"
done
[ -f "$T/outbox/hist-0000003.mp4" ] || fail "an archived job's output was removed"
grep -q 'retention: 28 finished job(s) older than 3 day(s) moved' "$T/sorad.out" ||
	fail "the move was not logged: $(grep retention "$T/sorad.out")"

# Gone from memory, the list and the history; the others are still there.
"$SORAD_BIN" list "${C[@]}" >"$T/list.txt" || fail "sorad list"
grep -q '^hist-0000000 ' "$T/list.txt" && fail "an archived job is listed"
grep -q '^hist-0000039 ' "$T/list.txt" || fail "a kept job is not listed"
awk -F'\t' '$1 != "x" && $2 == "hist-0000000"' "$T/state/history.tsv" | grep -q . &&
	fail "an archived job still has a history line"
httpd_url
expect_eq "GET /metrics" 200 "$(hget /metrics)"
expect_eq "done jobs in memory" 13 "$(sed -n 's/^sorad_jobs{state="done"} //p' "$T/body")"

# A restart archives nothing again; a new job is not archived.
sorad_stop
sorad_start
drop owl.txt 'A snowy owl on a post.'
wait_done owl
sorad_stop
[ "$(cat "$T"/state/archive/*.jsonl | wc -l)" = 28 ] || fail "a restart archived again"
[ "$(records)" = 12 ] && [ -e "$T/state/jobs/owl.json" ] || fail "the restart moved more records"
# The history lines of the 28 archived jobs (superseded, more than the 13 live ones) were
# dropped at that start: the file holds the live jobs' lines only.
grep -q 'history: 28 superseded line(s) dropped, 13 kept' "$T/sorad.out" ||
	fail "the history was not compacted: $(grep 'history:' "$T/sorad.out")"
[ "$(awk -F'\t' '$1 == "x"' "$T/state/history.tsv" | wc -l)" = 0 ] ||
	fail "superseded lines are left: $(cat "$T/state/history.tsv")"
[ "$(awk -F'\t' '$1 == "D"' "$T/state/history.tsv" | wc -l)" = 14 ] ||
	fail "history.tsv does not hold the 14 done jobs: $(cat "$T/state/history.tsv")"
echo ok
