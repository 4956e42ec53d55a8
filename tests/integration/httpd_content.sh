#!/usr/bin/env bash
# Content from the outbox: each variant with its Content-Type, Content-Length, ETag and
# Last-Modified, byte-identical to the outbox file; single Range requests (first
# bytes, suffix, open-ended, clamped end, unsatisfiable → 416, malformed or several
# ranges → the whole file), If-Range, conditional GETs (304), HEAD, a bad variant.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"

sim_start --gen-ms 300 --api-key "$SORAD_KEY" --seed 8
httpd_start
drop clip.txt 'A lighthouse at night, beam sweeping.'
wait_done clip
o=$T/outbox

check_variant() { # VARIANT FILE TYPE
	local code
	code=$(hget "/api/v1/videos/clip/content?variant=$1" -o "$T/got")
	expect_eq "$1: status" 200 "$code"
	expect_eq "$1: content-type" "$3" "$(header_get content-type)"
	expect_eq "$1: content-length" "$(stat -c %s "$2")" "$(header_get content-length)"
	expect_eq "$1: accept-ranges" bytes "$(header_get accept-ranges)"
	[ -n "$(header_get etag)" ] || fail "$1: no ETag"
	[ -n "$(header_get last-modified)" ] || fail "$1: no Last-Modified"
	cmp -s "$T/got" "$2" || fail "$1: the bytes differ from $2"
}
check_variant video "$o/clip.mp4" video/mp4
check_variant thumbnail "$o/clip.thumbnail.webp" image/webp
check_variant spritesheet "$o/clip.spritesheet.jpg" image/jpeg
code=$(hget /api/v1/videos/clip/content -o "$T/got")
expect_eq "the default variant" 200 "$code"
cmp -s "$T/got" "$o/clip.mp4" || fail "the default variant is not the video"
code=$(hget "/api/v1/videos/$(jq -r .video.id "$o/clip.json")/content?variant=thumbnail" -o "$T/got")
expect_eq "content by video id" 200 "$code"
cmp -s "$T/got" "$o/clip.thumbnail.webp" || fail "by video id: wrong bytes"
code=$(hget "/api/v1/videos/clip/content?variant=../../etc/passwd")
expect_json_error 400 "$code" invalid_request_error

size=$(stat -c %s "$o/clip.mp4")
url=/api/v1/videos/clip/content
range() { # RANGE EXPECTED_STATUS FROM TO
	local code
	code=$(hget "$url" -H "Range: $1" -o "$T/got")
	expect_eq "Range $1: status" "$2" "$code"
	if [ "$2" = 206 ]; then
		expect_eq "Range $1: content-range" "bytes $3-$4/$size" "$(header_get content-range)"
		expect_eq "Range $1: length" $(($4 - $3 + 1)) "$(header_get content-length)"
		cmp -s "$T/got" <(tail -c +$(($3 + 1)) "$o/clip.mp4" | head -c $(($4 - $3 + 1))) ||
			fail "Range $1: wrong bytes"
	fi
}
range bytes=0-99 206 0 99
range bytes=100-100 206 100 100
range bytes=-500 206 $((size - 500)) $((size - 1))
range "bytes=$((size - 10))-" 206 $((size - 10)) $((size - 1))
range "bytes=10-$((size + 1000))" 206 10 $((size - 1))
range "bytes=-$((size + 5))" 206 0 $((size - 1))
range "bytes=$size-" 416
expect_eq "416 content-range" "bytes */$size" "$(header_get content-range)"
expect_eq "416 body" invalid_request_error "$(jq -r .error.type "$T/got")"
range "bytes=$((size + 7))-$((size + 9))" 416
range bytes=-0 416
# Ignored (RFC 9110): malformed, other units, several ranges → the whole file.
for r in bytes=5-2 bytes=abc items=0-1 bytes=0-1,5-6 bytes=; do
	code=$(hget "$url" -H "Range: $r" -o "$T/got")
	expect_eq "Range $r: the whole file" 200 "$code"
	cmp -s "$T/got" "$o/clip.mp4" || fail "Range $r: wrong bytes"
done

# Conditional requests.
hget "$url" -o /dev/null >/dev/null
etag=$(header_get etag)
lastmod=$(header_get last-modified)
code=$(hget "$url" -H "If-None-Match: $etag" -o "$T/got")
expect_eq "If-None-Match" 304 "$code"
code=$(hget "$url" -H "If-Modified-Since: $lastmod" -o "$T/got")
expect_eq "If-Modified-Since" 304 "$code"
code=$(hget "$url" -H 'If-None-Match: "other"' -o "$T/got")
expect_eq "If-None-Match, another tag" 200 "$code"
code=$(hget "$url" -H "If-Range: $etag" -H 'Range: bytes=0-9' -o "$T/got")
expect_eq "If-Range matching" 206 "$code"
code=$(hget "$url" -H 'If-Range: "stale"' -H 'Range: bytes=0-9' -o "$T/got")
expect_eq "If-Range stale: the whole file" 200 "$code"

# HEAD: the headers of a GET, no body.
code=$(curl -sS -I -o /dev/null -D "$T/headers" -w '%{http_code}' "$H$url")
expect_eq "HEAD" 200 "$code"
expect_eq "HEAD content-length" "$size" "$(header_get content-length)"

# A file gone from the outbox: 404, not a crash.
mv "$o/clip.spritesheet.jpg" "$T/moved.jpg"
code=$(hget "$url?variant=spritesheet")
expect_json_error 404 "$code" invalid_request_error
# A symlink put in its place is not followed.
ln -s /etc/passwd "$o/clip.spritesheet.jpg"
code=$(hget "$url?variant=spritesheet" -o "$T/got")
expect_eq "a symlink in the outbox" 404 "$code"
! grep -q root: "$T/got" || fail "a symlink was followed out of the outbox"

sorad_stop
echo "ok: variants, Range (first bytes, suffix, open-ended, 416), conditionals, HEAD"
