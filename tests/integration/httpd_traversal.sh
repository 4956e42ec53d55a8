#!/usr/bin/env bash
# No file outside the outbox can be served, whatever the encoding: a corpus of
# traversal attempts (.., %2e%2e, %2f, double encoding, NUL, overlong UTF-8,
# backslashes, absolute paths, long and hidden names, raw bytes on the wire) against
# every route that takes an id; none answers 200/206, none leaks a byte of the files
# planted outside the outbox, and the daemon keeps serving.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"

sim_start --gen-ms 300 --api-key "$SORAD_KEY" --seed 9
httpd_start
drop clip.txt 'A paper boat in a gutter stream.'
wait_done clip
# Secrets beside and above the outbox, and in the state directory.
echo 'TOPSECRET-beside' >"$T/secret.txt"
echo 'TOPSECRET-state' >"$T/state/secret.mp4"
cp "$T/secret.txt" "$T/outbox/failed/secret.mp4"
port=${H##*:}
long=$(printf 'a%.0s' $(seq 1 300))

corpus=(
	'/api/v1/videos/../../../etc/passwd'
	'/api/v1/videos/../../secret.txt/content'
	'/api/v1/videos/..%2f..%2f..%2fetc%2fpasswd'
	'/api/v1/videos/..%2f..%2fsecret.txt/content'
	'/api/v1/videos/%2e%2e/%2e%2e/etc/passwd'
	'/api/v1/videos/%2e%2e%2f%2e%2e%2fsecret/content'
	'/api/v1/videos/%2E%2E%2Fstate%2Fsecret/content'
	'/api/v1/videos/%252e%252e%252fsecret/content'
	'/api/v1/videos/..%255c..%255csecret/content'
	'/api/v1/videos/clip%00../../etc/passwd/content'
	'/api/v1/videos/clip%00/content'
	'/api/v1/videos/..%00/content'
	'/api/v1/videos/%c0%ae%c0%ae%c0%afsecret/content'
	'/api/v1/videos/..%c0%af..%c0%afetc%c0%afpasswd/content'
	'/api/v1/videos/%e0%80%ae%e0%80%ae/content'
	'/api/v1/videos/..%5c..%5csecret/content'
	'/api/v1/videos/..\..\secret/content'
	'/api/v1/videos//etc/passwd/content'
	'/api/v1/videos/%2fetc%2fpasswd/content'
	'/api/v1/videos/%2Fetc%2Fpasswd'
	'/api/v1/videos/clip/content?variant=../../../etc/passwd'
	'/api/v1/videos/clip/content?variant=video%00.txt'
	'/api/v1/videos/clip/content?variant=%2e%2e%2fsecret'
	'/api/v1/videos/clip/../../../../etc/passwd'
	'/api/v1/videos/clip/content/..%2f..%2f..%2fsecret.txt'
	'/api/v1/videos/failed%2fsecret/content'
	'/api/v1/videos/.clip/content'
	'/api/v1/videos/-clip/content'
	"/api/v1/videos/$long/content"
	'/api/v1/videos/clip.mp4/content'
	'/api/v1/videos/%u002e%u002e/content'
	'/api/v1/videos/~root/content'
	'/api/v1/videos/%0a/content'
	'/..%2f..%2fetc/passwd'
	'/%2e%2e/%2e%2e/etc/passwd'
	'/../../etc/passwd'
	'/etc/passwd'
	'/outbox/clip.mp4'
	'/clip.mp4'
)
[ "${#corpus[@]}" -ge 15 ] || fail "the corpus is too small"

leaked() { grep -q -e 'root:' -e TOPSECRET "$@"; }

for p in "${corpus[@]}"; do
	for m in GET HEAD; do
		code=$(hreq "$m" "$p" -o "$T/got")
		case "$code" in
		200 | 206) fail "$m $p answered $code" ;;
		400 | 404 | 414 | 431) ;;
		*) fail "$m $p: unexpected status $code" ;;
		esac
		! leaked "$T/got" "$T/headers" || fail "$m $p leaked a file from outside the outbox"
	done
done

# Raw bytes curl would not send: NUL, overlong UTF-8, a backslash path, an absolute
# URI, a request line of control characters.
raw() { # REQUEST-LINE (printf format)
	exec 3<>"/dev/tcp/127.0.0.1/$port"
	# shellcheck disable=SC2059
	printf "$1"' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
	timeout 5 cat <&3 >"$T/got" || true
	exec 3<&-
	local status
	status=$(head -1 "$T/got" | awk '{ print $2 }')
	# A raw NUL ends the request target for libmicrohttpd (C strings): what is left
	# may name a real job (clip), whose own JSON is fine; a file never is.
	case "$status" in
	200) grep -q '"name":"clip"' "$T/got" || fail "raw '$1' answered 200: $(head -c 300 "$T/got")" ;;
	206) fail "raw '$1' answered $status" ;;
	esac
	! grep -q -a 'ftypisom\|ftypmp4' "$T/got" || fail "raw '$1' served a file"
	! leaked "$T/got" || fail "raw '$1' leaked a file from outside the outbox"
}
raw 'GET /api/v1/videos/..\x00/../../etc/passwd'
raw 'GET /api/v1/videos/clip\x00/content'
raw 'GET /api/v1/videos/\xc0\xae\xc0\xae\xc0\xafsecret/content'
raw 'GET /api/v1/videos/..\\..\\..\\etc\\passwd/content'
raw 'GET http://127.0.0.1/../../etc/passwd'
raw 'GET /api/v1/videos/\x01\x02/content'

# Still serving, and the legitimate file still comes.
code=$(hget /api/v1/videos/clip/content -o "$T/got")
expect_eq "the real content" 200 "$code"
cmp -s "$T/got" "$T/outbox/clip.mp4" || fail "the real content differs"
kill -0 "$SORAD_PID" || fail "sorad died"
sorad_stop
echo "ok: ${#corpus[@]} encodings x GET/HEAD and 6 raw requests, nothing outside the outbox"
