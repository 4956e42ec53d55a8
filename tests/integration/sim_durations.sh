#!/usr/bin/env bash
# sora-sim's --gen-jitter-pct varies each video's generation time (seeded), and
# --progress-curve picks the progress curve (linear or ease-in; anything else is a
# usage error).
. "$(dirname "$0")/lib.sh"

if "$SIM_BIN" --progress-curve sideways >"$T/bad.out" 2>&1; then
	fail "--progress-curve sideways was accepted"
fi
grep -q "progress-curve" "$T/bad.out" || fail "no word about --progress-curve: $(cat "$T/bad.out")"

sim_start --gen-ms 2000 --gen-jitter-pct 90 --progress-curve ease-in --seed 7
ids=()
for i in $(seq 1 12); do
	ids+=("$(sim_create "jitter $i")")
done
sim_wait_completed "${ids[@]}"
# Generation times run from 0.2 s to 3.8 s: in whole seconds they cannot all agree.
for id in "${ids[@]}"; do
	sim_req GET "/v1/videos/$id" >/dev/null
	echo $(($(body_get .completed_at) - $(body_get .created_at)))
done | sort -u >"$T/durations"
[ "$(wc -l <"$T/durations")" -ge 2 ] ||
	fail "every video took the same time: $(tr '\n' ' ' <"$T/durations")"
echo "PASS"
