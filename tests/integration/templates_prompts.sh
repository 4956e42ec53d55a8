#!/usr/bin/env bash
# Prompt templates end to end: a built-in starter and a sorad.conf template expand into
# the prompt that is submitted; an unknown template and a missing variable fail the job
# with a written reason naming them; `sorad submit` refuses them up front.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

sim_start --gen-ms 400 --api-key "$SORAD_KEY"
sorad_conf 'template "unboxing" { text = "Top-down shot of hands unboxing {product}, soft daylight" }'
"$SORAD_BIN" check-config -c "$T/sorad.conf" >"$T/out"
grep -q 'templates      cinematic, product, text, nature (built in), unboxing' "$T/out" ||
	fail "check-config does not list the template: $(cat "$T/out")"
sorad_start

drop light.txt $'---\ntemplate: cinematic\nsubject: a lighthouse\nsetting: a winter storm\nlighting: golden hour\ncamera: slow dolly in\n---\n'
drop box.json '{"template": "unboxing", "product": "a red sneaker", "prompt": "Music swells."}'
drop nope.txt $'---\ntemplate: western\nsubject: a horse\n---\n'
drop half.txt $'---\ntemplate: nature\nshot: Aerial shot\nsubject: a waterfall\n---\n'
wait_done light
wait_done box
wait_failed nope
wait_failed half
want='Wide shot of a lighthouse in a winter storm, golden hour, slow dolly in'
[ "$(jq -r .prompt "$T/outbox/light.json")" = "$want" ] ||
	fail "light: expected the prompt '$want', got '$(jq -r .prompt "$T/outbox/light.json")'"
[ "$(sim_stats | jq --arg p "$want" '.creates_by_prompt[$p]')" = 1 ] ||
	fail "the expanded prompt was not what the API received"
want='Top-down shot of hands unboxing a red sneaker, soft daylight. Music swells.'
[ "$(jq -r .prompt "$T/outbox/box.json")" = "$want" ] ||
	fail "box: got '$(jq -r .prompt "$T/outbox/box.json")'"
grep -qi "unknown template 'western' (available: cinematic, product, text, nature, unboxing)" \
	"$T/outbox/failed/nope.error.txt" || fail "nope.error.txt: $(cat "$T/outbox/failed/nope.error.txt")"
grep -qi "template 'nature' needs the variable 'environment'" "$T/outbox/failed/half.error.txt" ||
	fail "half.error.txt: $(cat "$T/outbox/failed/half.error.txt")"

# submit checks the same way and copies nothing.
printf -- '---\ntemplate: product\nproduct: a watch\n---\n' >"$T/watch.txt"
rc=0
"$SORAD_BIN" submit -c "$T/sorad.conf" "$T/watch.txt" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 65 ] || fail "submit of a template missing a variable exited $rc"
grep -q "template 'product' needs the variable 'surface'" "$T/err" || fail "submit: $(cat "$T/err")"
[ ! -e "$T/inbox/watch.txt" ] || fail "a refused file was copied"
sorad_stop
echo ok
