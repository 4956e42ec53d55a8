#!/usr/bin/env bash
# Safe permissions whatever the umask sorad is started with (here 022, a shell's):
#  - the state directory is private: STATE 0700, records and claimed inputs 0600/0700,
#    the lock and control socket 0600, the usage log 0600; logs 0600 (umask 077);
#  - the outbox follows outbox_mode: 0644 files and 0755 directories by default
#    (also failed/ and its files), 0640/0750 when configured so;
#  - an api_key_file readable by group or world is warned about in the log, once, at
#    start; a 0600 one is not;
#  - temp files of writes cut short by a crash are swept from the outbox at start.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

umask 022
sim_start --gen-ms 300 --api-key "$SORAD_KEY" --seed 5
printf '%s\n' "$SORAD_KEY" >"$T/key"
chmod 644 "$T/key"

# mode_is EXPECTED PATH...: every PATH has exactly that mode (octal, e.g. 600).
mode_is() {
	local want=$1 p got
	shift
	for p in "$@"; do
		[ -e "$p" ] || fail "$p does not exist"
		got=$(stat -c %a "$p")
		[ "$got" = "$want" ] || fail "$p has mode $got, expected $want"
	done
}

sorad_conf "api_key_file = \"$T/key\"" "notify = false"
sorad_start
drop good.txt 'A kite over dunes at dusk, wide shot.'
drop bad.txt "$(printf -- '---\nmodel: no-such-model\n---\nA kite.')"
wait_done good 30
wait_failed bad 30
# A job in flight leaves a claimed input behind: a held one stays there.
sorad_stop

mode_is 700 "$T/state" "$T/state/jobs" "$T/logs"
mode_is 600 "$T/state/sorad.lock" "$T/state/jobs/good.json" "$T/state/jobs/bad.json"
[ -f "$T/state/usage.jsonl" ] && mode_is 600 "$T/state/usage.jsonl"
mode_is 600 "$T"/logs/*.log
mode_is 755 "$T/outbox" "$T/outbox/failed"
mode_is 644 "$T/outbox/good.mp4" "$T/outbox/good.thumbnail.webp" \
	"$T/outbox/good.spritesheet.jpg" "$T/outbox/good.json" "$T/outbox/failed/bad.error.txt"
# Nothing in the state is readable by anyone else.
leaks=$(find "$T/state" -perm /077 -printf '%m %p\n')
[ -z "$leaks" ] || fail "state readable by group or others: $leaks"

# The key file warning: once, at start, naming the file and the fix.
n=$(grep -c "api_key_file $T/key is readable by everyone; chmod 600 it" "$T/sorad.out" || true)
[ "$n" = 1 ] || fail "expected one warning about the world-readable key file, got $n"

# The control socket, while the daemon runs (with a 0640 outbox this time).
rm -rf "$T/outbox" "$T/logs"
chmod 640 "$T/key"
sorad_conf "api_key_file = \"$T/key\"" "outbox_mode = 0640"
sorad_start
mode_is 600 "$T/state/control.sock"
grep -q "api_key_file $T/key is readable by its group" "$T/sorad.out" ||
	fail "no warning about the group-readable key file"
drop again.txt 'A kite over dunes at dawn, wide shot.'
wait_done again 30
mode_is 750 "$T/outbox"
mode_is 640 "$T/outbox/again.mp4" "$T/outbox/again.json"
sorad_stop

# A private key file: no warning. And temp files that a SIGKILL in the middle of an
# atomic write left in the outbox and failed/ (found by bench/soak.sh: they piled up,
# one per crash) are removed at start; a live writer's stay.
chmod 600 "$T/key"
: >"$T/sorad.out"
echo '{' >"$T/outbox/.again.json.tmp.999999999"
echo x >"$T/outbox/failed/.bad.error.txt.tmp.999999998"
echo '{' >"$T/outbox/.other.json.tmp.$$"
sorad_start
sorad_stop
[ ! -e "$T/outbox/.again.json.tmp.999999999" ] && [ ! -e "$T/outbox/failed/.bad.error.txt.tmp.999999998" ] ||
	fail "temp files of a dead writer were left: $(ls -A "$T/outbox" "$T/outbox/failed")"
[ -e "$T/outbox/.other.json.tmp.$$" ] ||
	fail "a live writer's temp file was removed: $(ls -A "$T/outbox")"
rm -f "$T/outbox/.other.json.tmp.$$"
if grep -q 'api_key_file.*readable' "$T/sorad.out"; then
	fail "a 0600 key file was warned about: $(grep readable "$T/sorad.out")"
fi
echo ok
