# shellcheck shell=bash
# daemon_lib.sh — helpers for tests that run the sorad daemon against sora-sim
# (sourced after lib.sh, not run by ctest on its own).

SORAD_KEY=${SORAD_KEY:-sk-test-never-logged-9f8e7d6c5b4a}
export SORAD_KEY

# sorad_conf [LINES...]: writes $T/sorad.conf for a daemon in $T that talks to $SIM_URL,
# with fast polling; each extra argument is one more configuration line.
sorad_conf() {
	mkdir -p "$T/inbox"
	{
		echo "api_base = \"$SIM_URL/v1\""
		echo "inbox = \"$T/inbox\""
		echo "outbox = \"$T/outbox\""
		echo "state_dir = \"$T/state\""
		echo "log_dir = \"$T/logs\""
		echo "settle_ms = 100"
		echo "poll_initial = 1"
		echo "poll_max = 2"
		echo "retry_base_ms = 50"
		echo "retry_max_ms = 400"
		echo "listen = \"\""
		echo "notify = false"
		echo "log_level = \"debug\""
		local line
		for line in "$@"; do
			echo "$line"
		done
	} >"$T/sorad.conf"
}

# sorad_start: starts the daemon in the foreground (its stderr in $T/sorad.out) and
# waits until it logged that it is ready. Sets SORAD_PID. $SORAD_WRAP, when set, is a
# command line the daemon runs under (e.g. valgrind, see .ci/run): its pid is sorad's.
sorad_start() {
	local before=0
	[ -f "$T/sorad.out" ] && before=$(grep -c ' ready: ' "$T/sorad.out" || true)
	# shellcheck disable=SC2086 # the wrapper is a command line, split into words
	OPENAI_API_KEY=$SORAD_KEY ${SORAD_WRAP:-} "$SORAD_BIN" -c "$T/sorad.conf" -f \
		>>"$T/sorad.out" 2>&1 &
	SORAD_PID=$!
	_pids+=("$SORAD_PID")
	wait_for "${SORAD_READY_S:-20}" "sorad to be ready (see $T/sorad.out)" \
		_sorad_ready_after "$before"
}

_sorad_ready_after() {
	kill -0 "$SORAD_PID" 2>/dev/null || fail "sorad exited: $(tail -5 "$T/sorad.out")"
	[ "$(grep -c ' ready: ' "$T/sorad.out" || true)" -gt "$1" ]
}

# sorad_stop: SIGTERM, and waits for a clean exit (status 0).
sorad_stop() {
	kill -TERM "$SORAD_PID"
	local rc=0
	wait "$SORAD_PID" || rc=$?
	[ "$rc" = 0 ] || fail "sorad exited with $rc after SIGTERM"
}

# drop NAME CONTENT: writes a prompt file the way a careful writer does (temp name,
# then rename into the inbox).
drop() {
	printf '%s' "$2" >"$T/inbox/.$1.tmp"
	mv "$T/inbox/.$1.tmp" "$T/inbox/$1"
}

# image WxH PATH: a reference image of that pixel size (format from the extension).
image() {
	ffmpeg -v error -y -f lavfi -i "testsrc2=s=$1" -frames:v 1 "$2"
}

# wait_done NAME [SECONDS]: waits until outbox/NAME.json exists (the set is complete).
wait_done() {
	wait_for "${2:-60}" "outbox/$1.json (see $T/sorad.out)" test -f "$T/outbox/$1.json"
}

# wait_failed NAME [SECONDS]: waits until outbox/failed/NAME.error.txt exists.
wait_failed() {
	wait_for "${2:-60}" "outbox/failed/$1.error.txt (see $T/sorad.out)" \
		test -f "$T/outbox/failed/$1.error.txt"
}

# check_set NAME WxH SECONDS: the output set is complete and valid: an H.264 MP4 of
# that size and duration, a WebP thumbnail, a JPEG spritesheet, and metadata naming them.
check_set() {
	local n=$1 size=$2 secs=$3 o="$T/outbox"
	local got
	got=$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height \
		-of csv=p=0 "$o/$n.mp4") || fail "$n.mp4 is not a readable video"
	[ "$got" = "h264,${size%x*},${size#*x}" ] || fail "$n.mp4: expected h264,$size, got $got"
	got=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$o/$n.mp4")
	awk -v d="$got" -v s="$secs" 'BEGIN { exit !(d > s - 0.5 && d < s + 0.5) }' ||
		fail "$n.mp4: expected about $secs s, got $got"
	[ "$(head -c 4 "$o/$n.thumbnail.webp")" = RIFF ] &&
		[ "$(dd if="$o/$n.thumbnail.webp" bs=1 skip=8 count=4 2>/dev/null)" = WEBP ] ||
		fail "$n.thumbnail.webp is not a WebP file"
	[ "$(head -c 3 "$o/$n.spritesheet.jpg" | od -An -tx1 | tr -d ' ')" = ffd8ff ] ||
		fail "$n.spritesheet.jpg is not a JPEG file"
	[ "$(jq -r .name "$o/$n.json")" = "$n" ] || fail "$n.json does not name the job"
	[ "$(jq -r .video.status "$o/$n.json")" = completed ] || fail "$n.json: status is not completed"
	[ "$(jq -r .files.video.bytes "$o/$n.json")" = "$(stat -c %s "$o/$n.mp4")" ] ||
		fail "$n.json: video bytes differ from the file"
}

# check_outbox_sets: what the outbox shows at this instant is consistent: every
# NAME.json names a video, thumbnail and spritesheet present with the sizes it claims
# (a thumbnail or spritesheet may be null when "missing" says why, and then has no
# file), and nothing half-written is visible under a final name (no_partials). Meant
# to be called at any instant, e.g. right after a SIGKILL.
check_outbox_sets() {
	local sets
	sets=$(cd "$T/outbox" 2>/dev/null && ls -- *.json 2>/dev/null) || true
	if [ -n "$sets" ]; then
		# shellcheck disable=SC2086 # the list of sets is split into file names
		(cd "$T/outbox" && jq -r '. as $s | .files | to_entries[] |
			select(.value == null and .key != "video") |
			[input_filename, .key, ($s.missing[.key] // ""), ($s.name + {"thumbnail":
			".thumbnail.webp", "spritesheet": ".spritesheet.jpg"}[.key])] | @tsv' $sets) |
			while IFS=$'\t' read -r f key why file; do
				[ -n "$why" ] || fail "$f: the $key is null without a reason in \"missing\""
				[ ! -e "$T/outbox/$file" ] || fail "$f says the $key is missing, but $file is there"
			done
		# One jq and one stat for all sets (not a process per file: this runs after every
		# kill of a crash test, on a machine that may be loaded): each claimed size next
		# to the file's size.
		local -A claimed=() named_in=()
		local f file bytes size
		# shellcheck disable=SC2086 # the list of sets is split into file names
		while IFS=$'\t' read -r f file bytes; do
			[ "$file" != null ] && [ "$bytes" != null ] || fail "incomplete metadata visible: $f"
			claimed[$file]=$bytes
			named_in[$file]=$f
		done < <(cd "$T/outbox" && jq -r '.files[] | select(. != null) | [input_filename, .file, .bytes] | @tsv' $sets)
		if [ "${#claimed[@]}" -gt 0 ]; then
			while IFS=$'\t' read -r file size; do
				[ "$size" = "${claimed[$file]}" ] ||
					fail "$file is visible with $size bytes, ${named_in[$file]} says ${claimed[$file]}"
				unset 'claimed[$file]'
			done < <(cd "$T/outbox" && stat --printf '%n\t%s\n' -- "${!claimed[@]}" 2>/dev/null)
			for file in "${!claimed[@]}"; do
				fail "${named_in[$file]} is visible but $file is missing"
			done
		fi
		[ "$(cd "$T/outbox" && jq -r '.files | length' $sets | sort -u)" = 3 ] ||
			fail "a visible set does not name its three files"
	fi
	no_partials
}

# no_partials: nothing half-written is visible in the outbox under a final name.
no_partials() {
	local f
	for f in "$T"/outbox/*; do
		[ -f "$f" ] || continue
		case "$f" in
		*.mp4 | *.webp | *.jpg | *.json) ;;
		*) fail "unexpected file in the outbox: $f" ;;
		esac
	done
}
