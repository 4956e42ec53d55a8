#!/usr/bin/env bash
# The fault soak, short: 40 jobs with every fault kind injected at once (429 with
# retry-after, 5xx, resets, truncated bodies, slow answers, and creates that make the
# video but are answered 500/502/504: sora-sim --p5xx-after-create) and 10 SIGKILLs at
# random (seeded) instants. Every job completes, valid, created exactly once (a create
# answered 5xx is reconciled from the list, never repeated on a guess), none is left
# in doubt, and no partial file is visible in the outbox at any kill. Same
# implementation as bench/soak.sh (bench/soak_lib.sh), with small numbers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
# shellcheck source=bench/soak_lib.sh
. "$SORAD_SOURCE_DIR/bench/soak_lib.sh"

SOAK_JOBS=${JOBS:-40}
SOAK_KILLS=${KILLS:-10}
SOAK_SEED=${SEED:-17}
SOAK_GAP_MS=900
SOAK_P=0.05
SOAK_SLOW_MS=700
SOAK_GEN_MS=1000
SOAK_DEADLINE_S=120
SOAK_AFTER_CREATE=${AFTER_CREATE:-0.15}
soak_run
# Every fault kind must actually have been injected, or this proves less than it says.
for k in 429 5xx reset truncated slow 5xx_after_create; do
	v=SOAK_FAULTS_$k
	[ "${!v}" -gt 0 ] || fail "no '$k' fault was injected: raise SOAK_P or the job count"
done
# A create answered 5xx after it made the video must have been settled by adopting it.
[ "$SOAK_ADOPTED" -gt 0 ] || fail "no lost create was adopted: the 5xx-after-create path went untested"
[ "$SOAK_INFLIGHT_KILLS" -ge 5 ] || fail "only $SOAK_INFLIGHT_KILLS of $SOAK_KILLS restarts found jobs in flight"
echo "ok: daemon_soak_short"
