#!/usr/bin/env bash
# Fault soak (on demand): JOBS (300) jobs against sora-sim with every fault kind on at
# once (429 with retry-after, 500/503, resets, truncated bodies, slow answers), while
# the daemon is SIGKILLed KILLS (60) times at random instants (seeded: SEED) and
# restarted. Afterwards every job is complete and valid, none was submitted twice, and
# no partial file was visible in the outbox at any kill. The implementation is
# bench/soak_lib.sh, shared with the regular suite's short version
# (tests/integration/daemon_soak_short.sh). Prints the figures and records them in
# bench/RESULTS.md (section "soak"); docs/RELIABILITY.md quotes them.
#
# With AFTER_CREATE=P, sora-sim also answers a create with probability P with a
# gateway's 500, 502 or 504 after it made the video (--p5xx-after-create): sorad must
# adopt each such video from the list, never create it again, and leave no job in
# doubt. Its figures go to their own section, "soak_after_create".
#
# Usage: bench/soak.sh   (env: BUILD_DIR=build, JOBS=300, KILLS=60, SEED=6,
#        GAP_MS=1500 (kills 0..GAP_MS apart), P=0.04 (each fault kind's probability
#        per request), SLOW_MS=1000, GEN_MS=1500, IN_FLIGHT=16, AFTER_CREATE=0 (e.g.
#        0.3), KEEP_TMP=1)
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=bench/soak_lib.sh
. "$BENCH_DIR/soak_lib.sh"
SOAK_JOBS=${JOBS:-300}
SOAK_KILLS=${KILLS:-60}
SOAK_SEED=${SEED:-6}
SOAK_GAP_MS=${GAP_MS:-1500}
SOAK_P=${P:-0.04}
SOAK_SLOW_MS=${SLOW_MS:-1000}
SOAK_GEN_MS=${GEN_MS:-1500}
SOAK_IN_FLIGHT=${IN_FLIGHT:-16}
SOAK_AFTER_CREATE=${AFTER_CREATE:-0}

soak_run

cmd=$(bench_cmd JOBS KILLS SEED GAP_MS P SLOW_MS GEN_MS IN_FLIGHT AFTER_CREATE)
if awk -v p="$SOAK_AFTER_CREATE" 'BEGIN { exit !(p > 0) }'; then
	# shellcheck disable=SC2154 # SOAK_FAULTS_* are set by soak_figures (printf -v)
	results_section soak_after_create "$(cat <<MD
$(results_header "sorad: fault soak with 5xx after create" "$cmd")

As the fault soak above, plus: sora-sim answers a create, with probability
$SOAK_AFTER_CREATE, with a gateway's error after it made the video (\`--p5xx-after-create
$SOAK_AFTER_CREATE\`: Portkey's 500, an nginx 502 or 504, a seeded choice). Every other
fault kind at probability $SOAK_P per API request (429 with retry-after, 500/503,
reset after processing, body cut short, answer delayed $SOAK_SLOW_MS ms), generation
$SOAK_GEN_MS ms, \`max_in_flight = $SOAK_IN_FLIGHT\`; jobs in .txt, .txt with front
matter, .json and .jsonl (3 per batch) dropped in batches while the daemon is
SIGKILLed at random instants 0–$SOAK_GAP_MS ms apart (seed $SOAK_SEED) and restarted.
The list works, so every create in doubt must be settled from it.

| figure | value |
| --- | ---: |
| jobs | $SOAK_JOBS |
| SIGKILLs (restarts that found jobs in flight) | $SOAK_KILLS ($SOAK_INFLIGHT_KILLS) |
| API requests (of them list calls) | $SOAK_REQUESTS ($SOAK_LIST_CALLS) |
| injected 5xx after the video was created | $SOAK_FAULTS_5xx_after_create |
| injected 429 (with retry-after) | $SOAK_FAULTS_429 |
| injected 500/503 (nothing created) | $SOAK_FAULTS_5xx |
| injected connection resets (answer lost) | $SOAK_FAULTS_reset |
| injected truncated bodies | $SOAK_FAULTS_truncated |
| injected slow answers | $SOAK_FAULTS_slow |
| create answers by status | \`$SOAK_CREATE_ANSWERS\` |
| creates answered without certainty, reconciled ('the create may have made a video') | $SOAK_MAY_HAVE_MADE |
| reconciliations: lost creates adopted | $SOAK_ADOPTED |
| reconciliations: not created (proven by the list), resubmitted | $SOAK_RESUBMITTED |
| jobs left in doubt ('in doubt:' log lines) | $SOAK_IN_DOUBT ($SOAK_DOUBT_EVENTS) |
| videos created (creates_by_prompt: each prompt once) | $SOAK_CREATES |
| videos probed with ffprobe | $SOAK_PROBED |
| partial files seen in the outbox at the kills | 0 |
| failed jobs | 0 |
| wall time | $SOAK_WALL_S s |
MD
)"
	exit 0
fi

head=$(results_header "sorad: fault soak" "$cmd")
results_section soak "$(cat <<MD
$head

sora-sim with every fault kind at probability $SOAK_P per API request (429 with
retry-after, 500/503, reset after processing, body cut short, answer delayed
$SOAK_SLOW_MS ms), generation $SOAK_GEN_MS ms, \`max_in_flight = $SOAK_IN_FLIGHT\`;
jobs in .txt, .txt with front matter, .json and .jsonl (3 per batch) dropped in batches
while the daemon is SIGKILLed at random instants 0–$SOAK_GAP_MS ms apart (seed
$SOAK_SEED) and restarted.

| figure | value |
| --- | ---: |
| jobs | $SOAK_JOBS |
| SIGKILLs (restarts that found jobs in flight) | $SOAK_KILLS ($SOAK_INFLIGHT_KILLS) |
| API requests | $SOAK_REQUESTS |
| injected 429 (with retry-after) | $SOAK_FAULTS_429 |
| injected 500/503 | $SOAK_FAULTS_5xx |
| injected connection resets (answer lost) | $SOAK_FAULTS_reset |
| injected truncated bodies | $SOAK_FAULTS_truncated |
| injected slow answers | $SOAK_FAULTS_slow |
| reconciliations: lost creates adopted | $SOAK_ADOPTED |
| reconciliations: not created, resubmitted | $SOAK_RESUBMITTED |
| videos created (creates_by_prompt: each prompt once) | $SOAK_CREATES |
| videos probed with ffprobe | $SOAK_PROBED |
| partial files seen in the outbox at the kills | 0 |
| failed jobs | 0 |
| wall time | $SOAK_WALL_S s |
MD
)"
