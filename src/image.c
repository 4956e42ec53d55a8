/* image.c — pixel size from PNG, JPEG and WebP headers (see image.h). */
#include "image.h"
#include "untrusted.h"
#include "util.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* JPEG files may carry large metadata segments before the frame header. */
#define JPEG_MAX_SEGMENTS 4096

static const char *const exts[IMAGE_EXT_N] = {"png", "jpg", "jpeg", "webp"};

const char *image_ext(size_t i)
{
	return i < IMAGE_EXT_N ? exts[i] : NULL;
}

bool image_ext_ok(const char *ext)
{
	for (size_t i = 0; ext && i < IMAGE_EXT_N; i++)
		if (!strcasecmp(ext, exts[i]))
			return true;
	return false;
}

const char *image_mime(enum image_type t)
{
	switch (t) {
	case IMAGE_PNG:
		return "image/png";
	case IMAGE_JPEG:
		return "image/jpeg";
	case IMAGE_WEBP:
		return "image/webp";
	default:
		return NULL;
	}
}

enum image_type image_sniff(const unsigned char *b, size_t len)
{
	static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	if (len >= 8 && !memcmp(b, png_sig, 8))
		return IMAGE_PNG;
	if (len >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
		return IMAGE_JPEG;
	if (len >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4))
		return IMAGE_WEBP;
	return IMAGE_UNKNOWN;
}

static unsigned be16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static unsigned be32(const unsigned char *p)
{
	return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

static unsigned le16(const unsigned char *p)
{
	return (unsigned)p[1] << 8 | p[0];
}

static unsigned le24(const unsigned char *p)
{
	return (unsigned)p[2] << 16 | (unsigned)p[1] << 8 | p[0];
}

/* Reads exactly N bytes at OFF; 0, or -1 on error or end of file. */
static int read_at(int fd, off_t off, unsigned char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, buf + got, n - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int fail(char *why, size_t whylen, const char *msg)
{
	bcopy_str(why, whylen, msg);
	return -1;
}

static int probe_png(int fd, struct image_info *out, char *why, size_t whylen)
{
	unsigned char h[24];
	if (read_at(fd, 0, h, sizeof(h)) != 0)
		return fail(why, whylen, "truncated PNG header");
	if (memcmp(h + 12, "IHDR", 4) != 0 || be32(h + 8) != 13)
		return fail(why, whylen, "PNG without an IHDR header");
	out->width = be32(h + 16);
	out->height = be32(h + 20);
	return 0;
}

static bool is_sof(unsigned m)
{
	/* SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) do not. */
	return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

static int probe_jpeg(int fd, struct image_info *out, char *why, size_t whylen)
{
	off_t off = 2;
	for (int seg = 0; seg < JPEG_MAX_SEGMENTS; seg++) {
		unsigned char m[2];
		if (read_at(fd, off, m, 2) != 0)
			return fail(why, whylen, "truncated JPEG header");
		if (m[0] != 0xFF)
			return fail(why, whylen, "corrupt JPEG header");
		if (m[1] == 0xFF) { /* fill byte */
			off += 1;
			continue;
		}
		off += 2;
		unsigned marker = m[1];
		if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7))
			continue; /* markers without a length */
		if (marker == 0xD9 || marker == 0xDA)
			return fail(why, whylen,
			            "JPEG without a frame header before its image data");
		unsigned char len[2];
		if (read_at(fd, off, len, 2) != 0)
			return fail(why, whylen, "truncated JPEG header");
		unsigned seglen = be16(len);
		if (seglen < 2)
			return fail(why, whylen, "corrupt JPEG header");
		if (is_sof(marker)) {
			unsigned char f[7];
			if (seglen < 8 || read_at(fd, off, f, sizeof(f)) != 0)
				return fail(why, whylen, "truncated JPEG frame header");
			out->height = be16(f + 3);
			out->width = be16(f + 5);
			return 0;
		}
		off += seglen;
	}
	return fail(why, whylen, "JPEG header too long");
}

static int probe_webp(int fd, struct image_info *out, char *why, size_t whylen)
{
	unsigned char h[30];
	if (read_at(fd, 0, h, sizeof(h)) != 0)
		return fail(why, whylen, "truncated WebP header");
	const unsigned char *d = h + 20; /* the first chunk's data */
	if (!memcmp(h + 12, "VP8 ", 4)) {
		if (d[3] != 0x9d || d[4] != 0x01 || d[5] != 0x2a)
			return fail(why, whylen, "corrupt WebP (VP8) header");
		out->width = le16(d + 6) & 0x3fff;
		out->height = le16(d + 8) & 0x3fff;
		return 0;
	}
	if (!memcmp(h + 12, "VP8L", 4)) {
		if (d[0] != 0x2f)
			return fail(why, whylen, "corrupt WebP (VP8L) header");
		unsigned bits = (unsigned)d[1] | (unsigned)d[2] << 8 | (unsigned)d[3] << 16 |
		                (unsigned)d[4] << 24;
		out->width = (bits & 0x3fff) + 1;
		out->height = ((bits >> 14) & 0x3fff) + 1;
		return 0;
	}
	if (!memcmp(h + 12, "VP8X", 4)) {
		out->width = le24(d + 4) + 1;
		out->height = le24(d + 7) + 1;
		return 0;
	}
	return fail(why, whylen, "WebP with an unknown first chunk");
}

int image_probe_fd(int fd, struct image_info *out, char *why, size_t whylen)
{
	unsigned char head[12];
	memset(out, 0, sizeof(*out));
	ssize_t got;
	do
		got = pread(fd, head, sizeof(head), 0);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		bfmt(why, whylen, "cannot read: %s", strerror(errno));
		return -1;
	}
	if (got < 3)
		return fail(why, whylen, "too short to be an image");
	out->type = image_sniff(head, (size_t)got);
	int rc;
	switch (out->type) {
	case IMAGE_PNG:
		rc = probe_png(fd, out, why, whylen);
		break;
	case IMAGE_JPEG:
		rc = probe_jpeg(fd, out, why, whylen);
		break;
	case IMAGE_WEBP:
		rc = probe_webp(fd, out, why, whylen);
		break;
	default:
		return fail(why, whylen, "not a PNG, JPEG or WebP image");
	}
	if (rc == 0 && (out->width == 0 || out->height == 0))
		return fail(why, whylen, "image header gives a zero width or height");
	return rc;
}

int image_probe_path(const char *path, struct image_info *out, char *why, size_t whylen)
{
	/* Claimed images may be sorad's own hard links to the inbox's (take_image). */
	int fd = untrusted_open(path, 0, UNTRUSTED_LINKS_OK, NULL, why, whylen);
	if (fd < 0)
		return -1;
	int rc = image_probe_fd(fd, out, why, whylen);
	close(fd);
	return rc;
}
