#!/usr/bin/env bash
# The example gallery stays honest: every file of examples/ is dropped into a daemon
# against sora-sim, and each job ends as examples/README.md says (complete, valid output
# sets; refused.txt refused with the content-policy message), each prompt created once.
# The table of expected jobs in scripts/demo.sh must match what the examples actually
# ask for. GALLERY_PROFILE=P runs the gallery through sora-sim --profile P (a gateway's
# picture: gallery_*.sh); REMIX_OUTCOME says how the remix ends there (done, or in_doubt
# where the service cannot remix and answers 500).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

ex="$SORAD_SOURCE_DIR/examples"
demo="$SORAD_SOURCE_DIR/scripts/demo.sh"

bash -n "$demo" || fail "scripts/demo.sh has a syntax error"
[ -x "$demo" ] || fail "scripts/demo.sh is not executable"

# ---- the expected jobs: demo.sh's table against what the examples say ----------------

# The table in demo.sh: NAME MODEL SIZE SECONDS OUTCOME, one job a line.
sed -n '/^# BEGIN EXPECTED/,/^# END EXPECTED/p' "$demo" | awk 'NF == 5 { print $1, $2, $3, $4, $5 }' | sort >"$T/table"
[ -s "$T/table" ] || fail "no table of expected jobs found in scripts/demo.sh"

# derive_row NAME MODEL SIZE SECONDS PROMPT: one table row from a job's own keys.
derive_row() {
	case "$5" in
	*'[sim:moderation]'* | *'[sim:fail]'*) echo "$1 - - - failed" ;;
	*) echo "$1 ${2:-sora-2} ${3:-1280x720} ${4:-4} done" ;;
	esac
}

derive() {
	local f stem i line
	for f in "$ex"/*.txt; do
		stem=$(basename "$f" .txt)
		if [ "$(head -n1 "$f" | tr -d '\r')" = --- ]; then
			# front matter: key: value lines between the first two --- lines
			local fm
			fm=$(awk 'NR > 1 && /^---\r?$/ { exit } NR > 1 { sub(/\r$/, ""); print }' "$f")
			key() { sed -n "s/^$1:[[:space:]]*//p" <<<"$fm" | head -n1; }
			local name
			name=$(key name)
			derive_row "${name:-$stem}" "$(key model)" "$(key size)" "$(key seconds)" "$(cat "$f")"
		else
			derive_row "$stem" "" "" "" "$(cat "$f")"
		fi
	done
	for f in "$ex"/*.json; do
		stem=$(basename "$f" .json)
		jq -r --arg s "$stem" '[.name // $s, .model // "", .size // "", (.seconds // "" | tostring), (.prompt // "" | gsub("[\r\n]"; " "))] | join("\u001f")' "$f" |
			while IFS=$'\x1f' read -r a b c d e; do derive_row "$a" "$b" "$c" "$d" "$e"; done
	done
	for f in "$ex"/*.jsonl; do
		stem=$(basename "$f" .jsonl)
		i=0
		while IFS= read -r line || [ -n "$line" ]; do
			i=$((i + 1))
			[ -n "${line//[[:space:]]/}" ] || continue
			jq -r --arg s "$stem-$i" '[.name // $s, .model // "", .size // "", (.seconds // "" | tostring), (.prompt // "" | gsub("[\r\n]"; " "))] | join("\u001f")' <<<"$line" |
				while IFS=$'\x1f' read -r a b c d e; do derive_row "$a" "$b" "$c" "$d" "$e"; done
		done <"$f"
	done
}
shopt -s nullglob
derive | sort >"$T/derived"
diff -u "$T/table" "$T/derived" >"$T/table.diff" ||
	fail "the expected jobs in scripts/demo.sh (-) differ from what examples/ asks for (+):
$(cat "$T/table.diff")"

# The gallery README lists every file and every job, and says which one fails.
for f in "$ex"/*; do
	b=$(basename "$f")
	[ "$b" = README.md ] && continue
	[ -d "$f" ] && b="$b/" # a folder of its own (gateways/) is listed with its slash
	grep -qF "\`$b\`" "$ex/README.md" || fail "examples/README.md does not list $b"
done
while read -r n _ _ _ outcome; do
	grep -qF "\`$n\`" "$ex/README.md" || fail "examples/README.md does not name the job $n"
	if [ "$outcome" = failed ]; then
		grep -F "\`$n\`" "$ex/README.md" | grep -qi 'fails on purpose' ||
			fail "examples/README.md does not say that $n fails on purpose"
	fi
done <"$T/table"
[ "$(awk '$5 == "failed"' "$T/table" | wc -l)" -ge 1 ] || fail "no example fails on purpose"

# Reference images paired by name have exactly the size of their job.
for img in "$ex"/*.png "$ex"/*.jpg "$ex"/*.jpeg "$ex"/*.webp; do
	stem=${img##*/}
	stem=${stem%.*}
	size=$(awk -v n="$stem" '$1 == n { print $3 }' "$T/table")
	[ -n "$size" ] || fail "$img pairs with no example job"
	got=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=s=x:p=0 "$img")
	[ "$got" = "$size" ] || fail "$img is $got, its job $stem is $size"
	[ "$(stat -c %s "$img")" -lt 204800 ] || fail "$img is over 200 KB"
done

# ---- every example through the daemon ---------------------------------------------

profile_args=()
if [ -n "${GALLERY_PROFILE:-}" ]; then
	profile_args=(--profile "$GALLERY_PROFILE")
	# The gallery asks for OpenAI's models: a gateway profile with its own serves them too.
	if [ "$GALLERY_PROFILE" = litellm-veo ]; then
		# shellcheck disable=SC2054 # the commas are in the --model values
		profile_args+=(--model sora-2:1280x720,720x1280:4,8,12
			--model sora-2-pro:1280x720,720x1280,1792x1024,1024x1792:4,8,12)
	fi
fi
sim_start --gen-ms 1500 --api-key "$SORAD_KEY" --seed 5 "${profile_args[@]}"
sorad_conf
sorad_start

# put FILE: the careful writer's way: a hidden temp name, then a rename into the inbox.
put() {
	local b=${1##*/}
	cp "$1" "$T/inbox/.$b.tmp"
	mv "$T/inbox/.$b.tmp" "$T/inbox/$b"
}
inbox_empty() {
	[ -z "$(find "$T/inbox" -mindepth 1 -maxdepth 1 ! -name '.*' -print -quit)" ]
}
for f in "$ex"/*.png "$ex"/*.jpg "$ex"/*.jpeg "$ex"/*.webp; do
	put "$f"
done
remixes=()
for f in "$ex"/*.txt "$ex"/*.json "$ex"/*.jsonl; do
	if grep -Eq '^remix_of:|"remix_of"' "$f"; then
		remixes+=("$f")
	else
		put "$f"
	fi
done
# Remixes name an earlier job: drop them once the others are claimed.
wait_for 30 "sorad to claim every example (inbox: $T/inbox)" inbox_empty
for f in "${remixes[@]}"; do
	put "$f"
done

ended() {
	[ -f "$T/outbox/$1.json" ] || [ -f "$T/outbox/failed/$1.error.txt" ] ||
		[ "$(jq -r .state "$T/state/jobs/$1.json" 2>/dev/null)" = in_doubt ]
}
remix_outcome=${REMIX_OUTCOME:-done}
while read -r n model size secs outcome; do
	if [ "$n" = lighthouse-storm ] && [ "$remix_outcome" = in_doubt ]; then
		wait_for 90 "the remix to end in doubt (see $T/sorad.out)" ended "$n"
		[ "$(jq -r .state "$T/state/jobs/$n.json")" = in_doubt ] ||
			fail "$n: expected in doubt where the service cannot remix"
		[ "$(jq -r .creates "$T/state/jobs/$n.json")" = 1 ] || fail "$n sent more than one remix"
		continue
	fi
	wait_for 90 "job $n to end (see $T/sorad.out)" ended "$n"
	if [ "$outcome" = "done" ]; then
		[ -f "$T/outbox/$n.json" ] ||
			fail "$n failed, examples/README.md says it completes: $(cat "$T/outbox/failed/$n.error.txt")"
		check_set "$n" "$size" "$secs"
		[ "$(jq -r .model "$T/outbox/$n.json")" = "$model" ] || fail "$n.json: model is not $model"
	else
		[ -f "$T/outbox/failed/$n.error.txt" ] || fail "$n completed, it should fail on purpose"
		{ grep -q "restricted content" "$T/outbox/failed/$n.error.txt" &&
			grep -q "no real people" "$T/outbox/failed/$n.error.txt"; } ||
			fail "$n.error.txt does not give the content-policy reason: $(cat "$T/outbox/failed/$n.error.txt")"
	fi
done <"$T/table"

# The failed input is kept beside its reason; the paired image went with its prompt;
# the remix is a remix of its source's video.
[ -f "$T/outbox/failed/refused.txt" ] || fail "refused.txt was not kept in failed/"
[ "$(jq -r .reference "$T/outbox/sunset.json")" = sunset.png ] || fail "sunset.png was not used"
if [ "$remix_outcome" = "done" ]; then
	[ "$(jq -r .video.remixed_from_video_id "$T/outbox/lighthouse-storm.json")" = \
		"$(jq -r .video.id "$T/outbox/lighthouse.json")" ] ||
		fail "lighthouse-storm is not a remix of lighthouse"
fi
# Each prompt created once: the simulator made one video per job that got one.
made=$(sim_stats | jq '[.creates_by_prompt[]] | add // 0')
[ "$(sim_stats | jq '[.creates_by_prompt[] | select(. != 1)] | length')" = 0 ] ||
	fail "a prompt was created more than once: $(sim_stats | jq -c .creates_by_prompt)"
want=$(awk '$5 == "done"' "$T/table" | wc -l)
[ "$remix_outcome" = "done" ] || want=$((want - 1)) # a remix the service refused made nothing
[ "$made" = "$want" ] || fail "the simulator made $made videos for $want jobs"
no_partials
inbox_empty || fail "files left in the inbox: $(ls -A "$T/inbox")"
sorad_stop
echo "ok"
