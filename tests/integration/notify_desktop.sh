#!/usr/bin/env bash
# Desktop notifications on a real session bus (dbus-run-session) with the mock
# notification daemon of python3-dbusmock: "Video ready: NAME" with model, size and
# seconds and a JPEG still of the video as the image-path hint, "Video failed: NAME" with the
# reason, notify_events honoured; with no bus at all jobs still complete, with one
# log line; and likewise when libnotify.so.4 (loaded at the first notification)
# cannot be loaded.
if [ -z "${SORAD_NOTIFY_IN_BUS:-}" ]; then
	command -v dbus-run-session >/dev/null ||
		{ echo "FAIL: dbus-run-session missing (scripts/install-deps.sh installs dbus)" >&2; exit 1; }
	SORAD_NOTIFY_IN_BUS=1 exec dbus-run-session -- bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"

# ASan builds: full stacks for leaks, so that GIO's own leak (notify_lsan.supp) is
# recognised as GIO's.
export ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$SORAD_SOURCE_DIR/tests/integration/notify_lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
PY=/usr/bin/python3
"$PY" -c 'import dbusmock' 2>/dev/null ||
	fail "python3-dbusmock missing (scripts/install-deps.sh installs it)"
"$PY" -m dbusmock --template notification_daemon -p '{"capabilities": "body actions"}' \
	-l "$T/notify.log" >"$T/mock.out" 2>&1 &
_pids+=("$!")
mock_up() {
	dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
		org.freedesktop.DBus.NameHasOwner string:org.freedesktop.Notifications | grep -q 'boolean true'
}
wait_for 20 "the mock notification daemon (see $T/mock.out)" mock_up

sim_start --gen-ms 400 --api-key "$SORAD_KEY"
sorad_conf 'notify = true'
sorad_start
drop shot.txt $'---\nmodel: sora-2-pro\nsize: 1792x1024\nseconds: 8\n---\nA heron lifts off a misty river at dawn.\n'
drop bad.txt 'A heron [sim:moderation] on a river.'
wait_done shot
wait_failed bad
wait_for 20 "the ready notification in $T/notify.log" grep -q 'Video ready: shot' "$T/notify.log"
wait_for 20 "the failed notification in $T/notify.log" grep -q 'Video failed: bad' "$T/notify.log"
ready=$(grep 'Video ready: shot' "$T/notify.log")
case "$ready" in
*'"sora-2-pro, 1792x1024, 8 s"'*) ;;
*) fail "ready notification body: $ready" ;;
esac
# The image is a JPEG still (any server on a stock desktop loads it; the WebP
# thumbnail needs a loader Debian does not install by default).
still="$T/state/notify/shot.jpg"
case "$ready" in
*"image-path"*"$still"*) ;;
*) fail "ready notification has no image-path hint to the JPEG still: $ready" ;;
esac
[ "$(head -c 3 "$still" | od -An -tx1 | tr -d ' ')" = ffd8ff ] || fail "the still is not a JPEG"
failed=$(grep 'Video failed: bad' "$T/notify.log")
case "$failed" in
*'"Your prompt contains restricted content.'*) ;;
*) fail "failed notification body does not give the reason: $failed" ;;
esac
grep -q '"sorad"' <<<"$ready" || fail "the app name is not sorad: $ready"
# The mock server announces the "actions" capability: the ready one offers "Open".
grep -q '\["default", "Open", "open", "Open"\]' <<<"$ready" || fail "no Open action: $ready"

# notify_events: only failures.
sed -i 's/^notify = true$/notify = true\nnotify_events = {failed}/' "$T/sorad.conf"
kill -HUP "$SORAD_PID"
wait_for 20 "the reload" grep -q 'reload: configuration reloaded' "$T/sorad.out"
drop quiet.txt 'A quiet pond.'
drop loud.txt 'A pond [sim:fail].'
wait_done quiet
wait_failed loud
wait_for 20 "the failed notification for loud" grep -q 'Video failed: loud' "$T/notify.log"
! grep -q 'Video ready: quiet' "$T/notify.log" || fail "notify_events = {failed} still sent ready"
sorad_stop

# No bus at all: jobs complete, one log line, no error.
sed -i '/^notify_events/d' "$T/sorad.conf"
(
	# No address, no X11 display to autolaunch one, no $XDG_RUNTIME_DIR/bus.
	unset DBUS_SESSION_BUS_ADDRESS DISPLAY WAYLAND_DISPLAY
	mkdir -p "$T/xdg"
	export XDG_RUNTIME_DIR=$T/xdg
	sorad_start
	drop nobus1.txt 'A kite, no bus.'
	drop nobus2.txt 'A second kite, no bus.'
	wait_done nobus1
	wait_done nobus2
	sorad_stop
)
n=$(grep -c 'notify: no desktop notifications' "$T/sorad.out" || true)
[ "$n" = 1 ] || fail "expected one 'no desktop notifications' line, got $n: $(grep notify: "$T/sorad.out")"

# libnotify cannot be loaded (an empty file found first by the loader): the bus and
# the mock are there, yet jobs complete without notifications, with one warning.
mkdir -p "$T/nolib"
: >"$T/nolib/libnotify.so.4"
(
	export LD_LIBRARY_PATH=$T/nolib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	sorad_start
	drop nolib1.txt 'A lantern, no libnotify.'
	drop nolib2.txt 'A second lantern, no libnotify.'
	wait_done nolib1
	wait_done nolib2
	sorad_stop
)
n=$(grep -c 'notifications off: cannot load libnotify.so.4: ' "$T/sorad.out" || true)
[ "$n" = 1 ] || fail "expected one 'cannot load libnotify.so.4' line, got $n: $(grep notif "$T/sorad.out")"
! grep -q 'nolib' "$T/notify.log" || fail "a notification was shown without libnotify: $(grep nolib "$T/notify.log")"

# A create in doubt (a gateway's 502 after creating, and no list to check): "Video in
# doubt: NAME" with what came back.
kill "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true
sim_start --gen-ms 400 --api-key "$SORAD_KEY" --p5xx-after-create 1 --after-create-status 502 \
	--list-mode 405
sorad_conf 'notify = true'
sorad_start
drop doubt.txt 'A heron standing in fog.'
wait_for 60 "the in-doubt notification in $T/notify.log" grep -q 'Video in doubt: doubt' "$T/notify.log"
doubt=$(grep 'Video in doubt: doubt' "$T/notify.log")
case "$doubt" in
*'may have made this video'*'HTTP 502'*) ;;
*) fail "in-doubt notification body does not tell what happened: $doubt" ;;
esac
sorad_stop
echo ok
