#!/usr/bin/env bash
# The "Video ready" notification shows its image on a real notification server of a
# stock Debian desktop: dunst 1.9 on a virtual X display (Xvfb), without
# webp-pixbuf-loader. A screenshot of the display must hold the picture (thousands of
# colours), not a text-only box. The control: the outbox's WebP thumbnail, sent the
# same way, shows as text only there, which is why sorad sends a JPEG still.
if [ -z "${SORAD_DUNST_IN_BUS:-}" ]; then
	command -v dbus-run-session >/dev/null ||
		{ echo "FAIL: dbus-run-session missing (scripts/install-deps.sh installs dbus)" >&2; exit 1; }
	SORAD_DUNST_IN_BUS=1 exec dbus-run-session -- bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
export ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$SORAD_SOURCE_DIR/tests/integration/notify_lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
for tool in Xvfb dunst dunstctl xdpyinfo python3; do
	command -v "$tool" >/dev/null || fail "$tool is missing: run scripts/install-deps.sh (dunst, xvfb, x11-utils)"
done

# A virtual display (Xvfb picks a free number and tells it through fd 3).
Xvfb -displayfd 3 -screen 0 800x600x24 -nolisten tcp 3>"$T/display" >"$T/xvfb.log" 2>&1 &
_pids+=("$!")
wait_for 20 "Xvfb to start (see $T/xvfb.log)" test -s "$T/display"
DISPLAY=":$(tr -d "\n" <"$T/display")"
export DISPLAY
wait_for 20 "the X display $DISPLAY" xdpyinfo
# Notifications stay until closed: the default (10 s) could take the picture away
# before a slow machine has grabbed the display.
# (Debian's dunstrc with every timeout 0: a user file replaces the system one whole.)
mkdir -p "$T/.config/dunst"
sed -E 's/^([[:space:]]*timeout[[:space:]]*=).*/\1 0/' /etc/xdg/dunst/dunstrc >"$T/.config/dunst/dunstrc"
HOME=$T dunst >"$T/dunst.log" 2>&1 &
_pids+=("$!")
dunst_up() {
	dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
		org.freedesktop.DBus.NameHasOwner string:org.freedesktop.Notifications | grep -q 'boolean true'
}
wait_for 20 "dunst on the session bus (see $T/dunst.log)" dunst_up

# colours: how many distinct colours the display shows now.
colours() {
	ffmpeg -v error -y -f x11grab -video_size 800x600 -i "$DISPLAY" -frames:v 1 \
		-f rawvideo -pix_fmt rgb24 "$T/shot.rgb" &&
		python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); print(len({d[i:i+3] for i in range(0, len(d), 3)}))' "$T/shot.rgb" |
		tee "$T/colours"
}
displayed() { [ "$(dunstctl count displayed)" -ge "$1" ]; }
picture() { [ "$(colours)" -gt 1000 ]; }

sim_start --gen-ms 300 --api-key "$SORAD_KEY" --seed 4
sorad_conf 'notify = true'
sorad_start
drop shot.txt 'A heron lifts off a misty river at dawn.'
wait_done shot
wait_for 30 "dunst to display 'Video ready: shot'" displayed 1
wait_for 20 "the notification's picture on the display (colours last seen: $T/colours)" picture
sorad_stop
ffmpeg -v error -y -f x11grab -video_size 800x600 -i "$DISPLAY" -frames:v 1 "$T/ready.png" || true

# The control: the WebP thumbnail itself, as sorad used to send it, is not drawn.
dunstctl close-all
wait_for 20 "dunst to close everything" test "$(dunstctl count displayed)" = 0
gdbus call --session --dest org.freedesktop.Notifications --object-path /org/freedesktop/Notifications \
	--method org.freedesktop.Notifications.Notify sorad 0 "" "Video ready: webp" "the thumbnail" \
	"[]" "{'image-path': <'$T/outbox/shot.thumbnail.webp'>}" 0 >/dev/null
wait_for 20 "dunst to display the WebP one" displayed 1
n=$(colours)
[ "$n" -lt 1000 ] || echo "note: this desktop draws WebP too ($n colours): webp-pixbuf-loader is installed"
echo "ok: the still shows on dunst; the WebP thumbnail gives $n colours"
