#!/usr/bin/env bash
# The demo: sorad against sora-sim (the bundled simulator of the Videos API) on the
# example prompts of examples/. Installs what is missing, builds, runs both programs in
# a fresh temp folder (kept afterwards, so you can look at the videos), drops every
# example into the inbox the way a careful writer does, waits until every job has
# ended, and prints what came out and where. Exit 0 when every example ended the way
# examples/README.md says (refused.txt is refused on purpose, the rest complete).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)

./scripts/install-deps.sh
build=${BUILD_DIR:-build}
echo "demo: building into $build/"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
sim_bin="$repo/$build/sora-sim"
sorad_bin="$repo/$build/sorad"

# The jobs the examples make: NAME MODEL SIZE SECONDS OUTCOME ("done" or "failed").
# Kept in sync with examples/ by tests/integration/demo_examples.sh.
# BEGIN EXPECTED
expected_jobs='
lighthouse          sora-2      1280x720   4  done
aerial-canyon       sora-2-pro  1792x1024  8  done
sunset              sora-2      1280x720   4  done
origami-crane       sora-2      1280x720   8  done
starters-1          sora-2      1280x720   4  done
starters-2          sora-2      1280x720   4  done
starters-3          sora-2      1280x720   4  done
meadow              sora-2      1280x720   4  done
waterfall-portrait  sora-2      720x1280   4  done
lighthouse-storm    sora-2      1280x720   4  done
refused             -           -          -  failed
'
# END EXPECTED

deadline_s=${DEMO_DEADLINE:-240}

D=$(mktemp -d "${TMPDIR:-/tmp}/sorad-demo.XXXXXX")
echo "demo: working in $D (kept afterwards)"

sim_pid="" sorad_pid="" sorad_rc=""
# stop_all: SIGTERM to sorad and sora-sim, and waits for both; sorad's exit status
# lands in sorad_rc (0 for a clean stop).
stop_all() {
	local p
	for p in "$sorad_pid" "$sim_pid"; do
		if [ -n "$p" ]; then kill -TERM "$p" 2>/dev/null || true; fi
	done
	if [ -n "$sorad_pid" ]; then
		sorad_rc=0
		wait "$sorad_pid" 2>/dev/null || sorad_rc=$?
	fi
	if [ -n "$sim_pid" ]; then wait "$sim_pid" 2>/dev/null || true; fi
	sorad_pid="" sim_pid=""
}
on_exit() {
	local rc=$?
	stop_all
	if [ "$rc" = 130 ]; then
		echo "demo: stopped sorad and sora-sim; what was made so far is in $D" >&2
	elif [ "$rc" != 0 ]; then
		echo "demo: FAILED (exit $rc); everything is in $D" >&2
	fi
}
trap on_exit EXIT
trap 'echo "demo: interrupted" >&2; exit 130' INT TERM

die() {
	echo "demo: $*" >&2
	exit 1
}

# wait_until SECONDS COMMAND...: polls COMMAND every 0.2 s until it succeeds; returns 1
# after the deadline; dies when sora-sim or sorad has exited meanwhile.
wait_until() {
	local end=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ -z "$sim_pid" ] || kill -0 "$sim_pid" 2>/dev/null ||
			die "sora-sim exited; see $D/sora-sim.log"
		[ -z "$sorad_pid" ] || kill -0 "$sorad_pid" 2>/dev/null ||
			die "sorad exited; see $D/sorad.out: $(tail -3 "$D/sorad.out")"
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# A throwaway key: sora-sim accepts only this one, sorad sends it.
demo_key="sk-demo-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

"$sim_bin" --listen 127.0.0.1:0 --port-file "$D/sim.port" --draw-prompt --gen-ms 4000 \
	--seed 7 --api-key "$demo_key" >"$D/sora-sim.log" 2>&1 &
sim_pid=$!
wait_until 20 test -s "$D/sim.port" ||
	die "sora-sim did not start listening within 20 s; see $D/sora-sim.log"
sim_url="http://127.0.0.1:$(cat "$D/sim.port")"
echo "demo: sora-sim listening on $sim_url"

cat >"$D/sorad.conf" <<EOF
# sorad.conf of the demo (see the repository's sorad.conf for every key).
api_base = "$sim_url/v1"
inbox = "$D/inbox"
outbox = "$D/outbox"
state_dir = "$D/state"
log_dir = "$D/logs"
listen = ""
notify = false
settle_ms = 200
poll_initial = 1
poll_max = 2
EOF
mkdir -p "$D/inbox"
OPENAI_API_KEY=$demo_key "$sorad_bin" -c "$D/sorad.conf" -f >"$D/sorad.out" 2>&1 &
sorad_pid=$!
wait_until 20 grep -q ' ready: ' "$D/sorad.out" ||
	die "sorad did not log 'ready:' within 20 s; see $D/sorad.out"
echo "demo: sorad ready, inbox $D/inbox"

# put FILE: copies an example into the inbox under a hidden temp name, then renames it
# in, so that sorad never sees half a file.
put() {
	local b
	b=$(basename "$1")
	cp "$1" "$D/inbox/.$b.tmp"
	mv "$D/inbox/.$b.tmp" "$D/inbox/$b"
}
is_remix() {
	grep -Eq '^remix_of:|"remix_of"' "$1"
}
inbox_empty() {
	[ -z "$(find "$D/inbox" -mindepth 1 -maxdepth 1 ! -name '.*' -print -quit)" ]
}

# Images first (so each pairs with its prompt), then the prompts, and the remixes once
# every other file has been claimed (a remix names an earlier job; sorad then waits
# for that job's video).
shopt -s nullglob
for f in examples/*.png examples/*.jpg examples/*.jpeg examples/*.webp; do
	put "$f"
done
remixes=()
for f in examples/*.txt examples/*.json examples/*.jsonl; do
	if is_remix "$f"; then
		remixes+=("$f")
	else
		put "$f"
	fi
done
if [ "${#remixes[@]}" -gt 0 ]; then
	wait_until 30 inbox_empty ||
		die "sorad did not take the examples from $D/inbox within 30 s; see $D/sorad.out"
	for f in "${remixes[@]}"; do
		put "$f"
	done
fi
dropped=0
for f in examples/*; do
	[ "$f" = examples/README.md ] || dropped=$((dropped + 1))
done
echo "demo: dropped $dropped example files; waiting for the videos..."

names=$(awk 'NF == 5 { print $1 }' <<<"$expected_jobs")
pending() {
	local n
	for n in $names; do
		[ -f "$D/outbox/$n.json" ] || [ -f "$D/outbox/failed/$n.error.txt" ] || echo "$n"
	done
}
all_ended() { [ -z "$(pending)" ]; }
started=$(date +%s)
wait_until "$deadline_s" all_ended ||
	die "after $deadline_s s these jobs have not ended: $(pending | tr '\n' ' ')(see $D/sorad.out)"
took=$(($(date +%s) - started))
stop_all

# ---- what came out ------------------------------------------------------------------
human() { numfmt --to=iec --suffix=B "$1"; }
fsize() { if [ -f "$1" ]; then human "$(stat -c %s "$1")"; else echo -; fi; }

echo
echo "Every job ended in $took s. Output sets:"
printf '  %-20s %-11s %-10s %4s  %8s  %9s  %11s\n' NAME MODEL SIZE SECS MP4 THUMBNAIL SPRITESHEET
# The expected jobs in the table's order, then anything else that came out.
listed=$( (awk 'NF == 5 { print $1 }' <<<"$expected_jobs"
	for j in "$D"/outbox/*.json; do basename "$j" .json; done) | awk '!seen[$0]++')
for n in $listed; do
	j="$D/outbox/$n.json"
	[ -f "$j" ] || continue
	read -r model size secs < <(jq -r '[.model // .video.model, .size // .video.size,
		(.seconds // .video.seconds | tostring)] | join(" ")' "$j")
	printf '  %-20s %-11s %-10s %4s  %8s  %9s  %11s\n' "$n" "$model" "$size" "$secs" \
		"$(fsize "$D/outbox/$n.mp4")" "$(fsize "$D/outbox/$n.thumbnail.webp")" \
		"$(fsize "$D/outbox/$n.spritesheet.jpg")"
done

errs=("$D"/outbox/failed/*.error.txt)
if [ "${#errs[@]}" -gt 0 ]; then
	echo
	echo "Failed jobs (the first lines of NAME.error.txt):"
	for e in "${errs[@]}"; do
		echo "  $(basename "$e" .error.txt):"
		grep -m3 . "$e" | fold -s -w 84 | sed 's/ *$//; s/^/    /'
	done
fi

echo
echo "  outbox:  $D/outbox"
echo "  failed:  $D/outbox/failed"
for l in "$D"/logs/*.log; do
	echo "  log:     $l"
done
echo "  config:  $D/sorad.conf"

# ---- did every example end the expected way? ------------------------------------
bad=0
while read -r n model size secs outcome; do
	[ -n "$n" ] || continue
	if [ "$outcome" = "done" ]; then
		if [ ! -f "$D/outbox/$n.json" ]; then
			echo "demo: $n should have completed but failed: $(grep -m1 . "$D/outbox/failed/$n.error.txt")" >&2
			bad=1
		elif [ "$(jq -r '"\(.model) \(.size) \(.seconds)"' "$D/outbox/$n.json")" != "$model $size $secs" ]; then
			echo "demo: $n should be $model $size ${secs}s, got $(jq -c '[.model, .size, .seconds]' "$D/outbox/$n.json")" >&2
			bad=1
		fi
	elif [ ! -f "$D/outbox/failed/$n.error.txt" ]; then
		echo "demo: $n should have failed (on purpose) but completed" >&2
		bad=1
	fi
done <<<"$expected_jobs"
if [ "$sorad_rc" != 0 ]; then
	echo "demo: sorad exited with status $sorad_rc after SIGTERM; see $D/sorad.out" >&2
	bad=1
fi
echo
if [ "$bad" != 0 ]; then
	die "some examples did not end as examples/README.md says"
fi
echo "demo: OK — every example ended as expected (refused.txt was refused on purpose)."
