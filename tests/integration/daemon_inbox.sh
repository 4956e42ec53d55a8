#!/usr/bin/env bash
# The inbox rules, end to end: files that arrived while sorad was down are picked up at
# start; temp names of editors and sync tools are never picked up, and become jobs once
# renamed; a file still being written is not claimed until it is closed; a file that
# inotify cannot see is found by the SIGHUP rescan; watch_mode = poll works too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

sim_start --gen-ms 500 --api-key "$SORAD_KEY" --seed 21
sorad_conf
mkdir -p "$T/inbox"

# 1. Dropped while sorad is down.
drop early.txt 'A hot-air balloon at dawn, wide shot.'
sorad_start
wait_done early

# 2. Temp names are ignored (each gets a prompt that would succeed), then renamed in.
temps=('.hidden.txt' 'x.txt.tmp' 'x.txt.part' '.x.txt.swp' 'x.txt~' '~syncthing~x.txt.tmp'
	'.syncthing.x.txt.tmp' 'x.txt.crdownload' '#x.txt#' '.x.txt.AbC123')
i=0
for t in "${temps[@]}"; do
	i=$((i + 1))
	printf 'Temp name prompt %d: a slow pan over a desert.' "$i" >"$T/inbox/$t"
done
# A file being written: open, partly written, not closed yet.
exec {w}>"$T/inbox/slow.txt"
printf 'A lighthouse beam sweeping' >&$w
drop marker.txt 'A marker prompt: a bicycle leaning on a wall.'
wait_done marker
# marker.txt was claimed after its settle time; by then the temps and slow.txt had
# settled as long: none of them may have been claimed.
for t in "${temps[@]}"; do
	[ -e "$T/inbox/$t" ] || fail "the temp name $t was claimed"
done
[ -e "$T/inbox/slow.txt" ] || fail "slow.txt was claimed while still open for writing"
printf ' across a stormy sea at night.' >&$w
exec {w}>&-
wait_done slow
[ "$(jq -r .prompt "$T/outbox/slow.json")" = 'A lighthouse beam sweeping across a stormy sea at night.' ] ||
	fail "slow.txt was read before it was complete: $(jq -r .prompt "$T/outbox/slow.json")"
mv "$T/inbox/x.txt.part" "$T/inbox/renamed.txt"
wait_done renamed

# 3. A hard link makes no close-after-write or move event: found by the SIGHUP rescan.
# (Its other name is removed first: a file with two names is refused, untrusted.h.)
printf 'A linked prompt: rain on a tin roof, close-up.' >"$T/outside.txt"
ln "$T/outside.txt" "$T/inbox/linked.txt"
rm "$T/outside.txt"
kill -HUP "$SORAD_PID"
wait_done linked
sorad_stop

for n in early marker slow renamed linked; do
	check_set "$n" 1280x720 4
done
for i in $(seq 1 ${#temps[@]}); do
	p="Temp name prompt $i: a slow pan over a desert."
	n=$(sim_created_count "$p")
	if [ "$i" = 3 ]; then # x.txt.part became renamed.txt
		[ "$n" = 1 ] || fail "renamed prompt created $n times"
	else
		[ "$n" = 0 ] || fail "a temp-name prompt was submitted: $p"
	fi
done

# 4. Polling instead of inotify (as on NFS, CIFS, FUSE or 9p).
sorad_conf 'watch_mode = "poll"'
sorad_start
grep -q 'ready: watching .* (polling)' "$T/sorad.out" || fail "watch_mode = poll was not used"
drop polled.txt 'A polled prompt: fireflies in a forest at dusk.'
wait_done polled
check_set polled 1280x720 4
sorad_stop
echo ok
