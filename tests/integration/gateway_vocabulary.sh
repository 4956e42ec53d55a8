#!/usr/bin/env bash
# What gateways really answer (issue 16, items 2 and 4; ../shared/spec/providers.md):
#  1. ids holding '+', '/' and '=' (sora-sim --id-style b64) are ids like any other:
#     every job completes with one create, through per-video retrieves and through
#     list polling (cursor after=), and the status endpoint finds a job by its id sent
#     percent-encoded (%2F), for the video and its content; retrieve answers with
#     "id": "" (--retrieve-id empty) never re-key a job.
#  2. a running status other than OpenAI's and no progress at all (--running-status
#     processing --no-progress): jobs complete; while they run the record says progress
#     -1, `sorad list`/`show` and the status endpoint show the time since submission
#     (and, once a job of the model finished, how long it usually takes), never 0 %.
#     Retrieve answers naming the upstream's raw id (--retrieve-id raw) keep the job's
#     id, logged once per job; the create's usage object lands in NAME.json.
#  3. cancelled / expired (prompt hook [sim:status=WORD]) fail at once with their
#     reason in NAME.error.txt; an unknown word is treated as running until job_timeout
#     and logged once however many polls and jobs see it.
# Parts 2 and 3 need sora-sim options that are being added (--running-status,
# --no-progress, [sim:status=WORD]): each part is skipped, saying so, while its
# sora-sim does not have them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"

sim_has() {
	grep -qF -- "$1" <<<"$("$SIM_BIN" --help 2>&1)"
}

urlenc() {
	jq -rn --arg s "$1" '$s | @uri'
}

stop_all() {
	sorad_stop
	kill "$SIM_PID"
	wait "$SIM_PID" 2>/dev/null || true
	rm -rf "$T/state" "$T/outbox" "$T/logs" "$T/inbox" "$T/sorad.out"
}

# ---- 1. base64 ids with + / = ------------------------------------------------------
empty_id=()
sim_has --retrieve-id && empty_id=(--retrieve-id empty)
sim_start --gen-ms 1500 --api-key "$SORAD_KEY" --seed 11 --id-style b64 "${empty_id[@]}"
httpd_start "max_in_flight = 8"
# six jobs in flight: batch polling by list calls (refresh.h) as well as retrieves
for n in 1 2 3 4 5 6; do
	drop "b64-$n.txt" "A paper boat on a rain gutter, take $n (b64 ids)."
done
wait_field b64-1 .video_id "?" 30
id=$(job_field b64-1 .video_id)
case "$id" in *[/+=]*) ;; *) fail "the simulator's id $id holds none of + / =" ;; esac
enc=$(urlenc "$id")
[[ $enc == *%2F* || $enc == *%2B* || $enc == *%3D* ]] || fail "urlenc did not encode $id"
code=$(hget "/api/v1/videos/$enc")
expect_eq "status endpoint, job by its encoded id" 200 "$code"
expect_eq "video_id of the job found by id" "$id" "$(body_get .video_id)"
expect_eq "name of the job found by id" b64-1 "$(body_get .name)"
for n in 1 2 3 4 5 6; do
	wait_done "b64-$n" 60
	expect_creates "A paper boat on a rain gutter, take $n (b64 ids)." 1
	[ "$(job_field "b64-$n" .creates)" = 1 ] || fail "b64-$n sent more than one create"
	[ "$(jq -r .video.id "$T/outbox/b64-$n.json")" = "$(job_field "b64-$n" .video_id)" ] ||
		fail "b64-$n.json names another video than the record"
done
code=$(hget "/api/v1/videos/$enc/content" -o "$T/got.mp4")
expect_eq "content by encoded id" 200 "$code"
cmp -s "$T/got.mp4" "$T/outbox/b64-1.mp4" || fail "content by encoded id differs from b64-1.mp4"
code=$(hget "/api/v1/videos/$enc/poll")
expect_eq "poll of a finished job by encoded id" 200 "$code"
! grep -E 'not a (safe|usable) id|unsafe' "$T/sorad.out" ||
	fail "sorad refused a b64 id somewhere (see above)"
[ "$(sim_total_creates)" = 6 ] || fail "the simulator made $(sim_total_creates) videos for 6 prompts"
expect_usage_agrees
stop_all
echo "ok: b64 ids: 6 jobs done, one create each, found by encoded id"

# ---- 2. another running word, and no progress -------------------------------------
if sim_has --running-status && sim_has --no-progress; then
	sim_start --gen-ms 3000 --api-key "$SORAD_KEY" --seed 12 --id-style litellm \
		--running-status processing --no-progress --retrieve-id raw --usage
	httpd_start
	drop first.txt "A lighthouse in fog, slow pan (no progress)."
	wait_state first running 30
	wait_field first .status "?" 30
	wait_field first .progress -1 30
	code=$(hget /api/v1/videos/first)
	expect_eq "status endpoint, running job" 200 "$code"
	expect_eq "progress_known while the service sends none" false "$(body_get .progress_known)"
	[ -n "$(body_get .elapsed_seconds)" ] || fail "no elapsed_seconds for a job without progress"
	"$SORAD_BIN" list -c "$T/sorad.conf" | grep -E '^first .* running' | grep -q 'running [0-9]' ||
		fail "sorad list does not show the elapsed time: $("$SORAD_BIN" list -c "$T/sorad.conf")"
	"$SORAD_BIN" list -c "$T/sorad.conf" | grep -E '^first ' | grep -q ' 0%' &&
		fail "sorad list shows a frozen 0 % for a job without progress"
	"$SORAD_BIN" show -c "$T/sorad.conf" first | grep -q 'no progress reported; running' ||
		fail "sorad show does not say that no progress is reported"
	wait_done first 60
	# the model's first job finished: the next one shows how long it usually takes
	drop second.txt "A lighthouse in fog, slow pan, take two (no progress)."
	wait_state second running 30
	wait_field second .progress -1 30
	code=$(hget /api/v1/videos/second)
	[ -n "$(body_get .typical_seconds)" ] ||
		fail "no typical_seconds after a job of the same model finished: $(cat "$T/body")"
	"$SORAD_BIN" list -c "$T/sorad.conf" | grep -E '^second ' | grep -q 'usually' ||
		fail "sorad list gives no estimate: $("$SORAD_BIN" list -c "$T/sorad.conf")"
	wait_done second 60
	# finished, it shows none (as after a restart: the estimate is not stored)
	hget /api/v1/videos/second >/dev/null
	[ "$(jq -c .typical_seconds "$T/body")" = null ] ||
		fail "a finished job keeps an estimate: $(cat "$T/body")"
	expect_creates "A lighthouse in fog, slow pan (no progress)." 1
	for n in first second; do
		[ "$(jq -r .video.id "$T/outbox/$n.json")" = "$(job_field "$n" .video_id)" ] ||
			fail "$n.json names another video than the record"
		[[ $(jq -r .video.id "$T/outbox/$n.json") == video_* ]] ||
			fail "$n was re-keyed to the raw id $(jq -r .video.id "$T/outbox/$n.json")"
		[ "$(jq -c '.video.usage | type' "$T/outbox/$n.json")" = '"object"' ] ||
			fail "$n.json has no usage object: $(jq -c .video "$T/outbox/$n.json")"
		c=$(grep -c "job=$n .*sorad keeps the id its create returned" "$T/sorad.out" || true)
		[ "$c" = 1 ] || fail "the other id of $n was logged $c times, expected once"
	done
	stop_all
	echo "ok: status processing without progress: elapsed and estimate shown, jobs done"
else
	echo "skip: part 2 (sora-sim has no --running-status / --no-progress yet)"
fi

# ---- 3. cancelled, expired, and a word nobody knows -------------------------------
if sim_has 'sim:status'; then
	sim_start --gen-ms 2000 --api-key "$SORAD_KEY" --seed 13
	sorad_conf "job_timeout = 8"
	sorad_start
	start=$(date +%s)
	drop cancelled.txt "A fox in the snow [sim:status=cancelled]"
	drop expired.txt "A fox in the rain [sim:status=expired]"
	drop odd1.txt "A fox in the wind [sim:status=frobnicating]"
	drop odd2.txt "A fox in the sun [sim:status=frobnicating]"
	wait_failed cancelled 20
	wait_failed expired 20
	grep -q 'The service cancelled the job' "$T/outbox/failed/cancelled.error.txt" ||
		fail "cancelled.error.txt: $(cat "$T/outbox/failed/cancelled.error.txt")"
	grep -q 'drop the prompt' "$T/outbox/failed/cancelled.error.txt" ||
		fail "cancelled.error.txt does not say what to do"
	grep -q 'expired before it was downloaded' "$T/outbox/failed/expired.error.txt" ||
		fail "expired.error.txt: $(cat "$T/outbox/failed/expired.error.txt")"
	[ $(($(date +%s) - start)) -lt 8 ] || fail "cancelled/expired waited for job_timeout"
	# the unknown word: running until job_timeout, logged once for both jobs
	wait_failed odd1 30
	wait_failed odd2 30
	grep -q 'job_timeout' "$T/outbox/failed/odd1.error.txt" ||
		fail "odd1 did not end by job_timeout: $(cat "$T/outbox/failed/odd1.error.txt")"
	n=$(grep -c 'status "frobnicating"' "$T/sorad.out" || true)
	[ "$n" = 1 ] || fail "the unknown status was logged $n times, expected once"
	for p in "A fox in the snow" "A fox in the rain" "A fox in the wind" "A fox in the sun"; do
		[ "$(sim_stats | jq --arg p "$p" '[.creates_by_prompt | to_entries[] | select(.key | startswith($p)) | .value] | add')" = 1 ] ||
			fail "'$p' was not created exactly once: $(sim_stats | jq -c .creates_by_prompt)"
	done
	stop_all
	echo "ok: cancelled and expired failed at once; an unknown word logged once"
else
	echo "skip: part 3 (sora-sim has no [sim:status=WORD] prompt hook yet)"
fi
echo "gateway_vocabulary: ok"
