#!/usr/bin/env bash
# Every mistake of a prompt file at once: a misspelt key (with "did you mean"), a size
# and a duration the model does not take are all in NAME.error.txt, and `sorad submit`
# lists them all before copying anything; nothing is sent to the service.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/money_lib.sh"

sim_start --gen-ms 200 --api-key "$SORAD_KEY"
sorad_conf
BAD=$'---\nmodle: sora-2\nseconds: 5\nsize: 1920x1080\n---\nA lighthouse at dusk.\n'
printf '%s' "$BAD" >"$T/three.txt"
rc=0
"$SORAD_BIN" submit -c "$T/sorad.conf" "$T/three.txt" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 65 ] || fail "submit exited $rc: $(cat "$T/err")"
for want in "unknown key 'modle' (did you mean 'model'?" \
	"size 1920x1080 is not available for sora-2 (allowed:" \
	"5 seconds is not available for sora-2 (allowed: 4, 8, 12"; do
	grep -qF "$want" "$T/err" || fail "submit does not say '$want': $(cat "$T/err")"
done
[ ! -e "$T/inbox/three.txt" ] || fail "submit copied a bad file"

sorad_start
drop three.txt "$BAD"
wait_failed three
for want in "unknown key 'modle' (did you mean 'model'?" \
	"size 1920x1080 is not available for sora-2" \
	"5 seconds is not available for sora-2 (allowed: 4, 8, 12"; do
	grep -qF "$want" "$T/outbox/failed/three.error.txt" ||
		fail "three.error.txt does not say '$want': $(cat "$T/outbox/failed/three.error.txt")"
done
# A key nothing resembles gets no guess.
drop odd.txt $'---\nflavour: vanilla\n---\nA cone of ice cream.\n'
wait_failed odd
grep -q "unknown key 'flavour'" "$T/outbox/failed/odd.error.txt" || fail "odd: $(cat "$T/outbox/failed/odd.error.txt")"
! grep -q "did you mean" "$T/outbox/failed/odd.error.txt" || fail "a guess for 'flavour'"
[ "$(sim_total_creates)" = 0 ] || fail "a create was sent for a bad file: $(sim_stats)"
sorad_stop
echo ok
