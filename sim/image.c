/* image.c - see image.h. Only headers are parsed; every read is bounds-checked. */
#include "image.h"

#include <string.h>

static unsigned be16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}
static unsigned le16(const unsigned char *p)
{
	return (unsigned)p[1] << 8 | p[0];
}
static unsigned le24(const unsigned char *p)
{
	return (unsigned)p[2] << 16 | (unsigned)p[1] << 8 | p[0];
}
static unsigned long be32(const unsigned char *p)
{
	return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 |
	       p[3];
}
static unsigned long le32(const unsigned char *p)
{
	return (unsigned long)p[3] << 24 | (unsigned long)p[2] << 16 | (unsigned long)p[1] << 8 |
	       p[0];
}

static int png_size(const unsigned char *p, size_t n, unsigned *w, unsigned *h)
{
	/* Signature (8), then the first chunk must be IHDR: length 13, type, width, height. */
	if (n < 24 || be32(p + 8) != 13 || memcmp(p + 12, "IHDR", 4) != 0)
		return -1;
	*w = (unsigned)be32(p + 16);
	*h = (unsigned)be32(p + 20);
	return 0;
}

static int jpeg_size(const unsigned char *p, size_t n, unsigned *w, unsigned *h)
{
	size_t i = 2;

	/* Walk the marker segments until a start-of-frame. SOF markers are C0-CF except
	 * C4 (DHT), C8 (JPG extension) and CC (DAC); the frame header holds precision (1),
	 * height (2) and width (2). */
	while (i + 4 <= n) {
		unsigned marker, len;

		if (p[i] != 0xff)
			return -1;
		marker = p[i + 1];
		if (marker == 0xff) { /* fill byte */
			i++;
			continue;
		}
		if (marker == 0xd8 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
			i += 2; /* markers without a length */
			continue;
		}
		if (marker == 0xd9 || marker == 0xda)
			return -1; /* end of image or scan data before any frame header */
		len = be16(p + i + 2);
		if (len < 2)
			return -1;
		if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 &&
		    marker != 0xcc) {
			if (i + 9 > n || len < 7)
				return -1;
			*h = be16(p + i + 5);
			*w = be16(p + i + 7);
			return 0;
		}
		i += 2 + (size_t)len;
	}
	return -1;
}

static int webp_size(const unsigned char *p, size_t n, unsigned *w, unsigned *h)
{
	const unsigned char *c = p + 12; /* first chunk after "RIFF" size "WEBP" */

	/* Each chunk kind has its own minimum: a tiny lossless file can be 26 bytes. */
	if (n < 16)
		return -1;
	if (memcmp(c, "VP8 ", 4) == 0) {
		/* Lossy: 3-byte frame tag, start code 9d 01 2a, then 14-bit width and height. */
		if (n < 30 || c[11] != 0x9d || c[12] != 0x01 || c[13] != 0x2a)
			return -1;
		*w = le16(c + 14) & 0x3fff;
		*h = le16(c + 16) & 0x3fff;
		return 0;
	}
	if (memcmp(c, "VP8L", 4) == 0) {
		/* Lossless: signature 0x2f, then 14 bits width-1 and 14 bits height-1. */
		unsigned long bits;

		if (n < 25 || c[8] != 0x2f)
			return -1;
		bits = le32(c + 9);
		*w = (unsigned)(bits & 0x3fff) + 1;
		*h = (unsigned)((bits >> 14) & 0x3fff) + 1;
		return 0;
	}
	if (memcmp(c, "VP8X", 4) == 0) {
		/* Extended: flags (4), then 24-bit canvas width-1 and height-1. */
		if (n < 30)
			return -1;
		*w = le24(c + 12) + 1;
		*h = le24(c + 15) + 1;
		return 0;
	}
	return -1;
}

int image_probe(const unsigned char *p, size_t n, enum image_type *type, unsigned *width,
                unsigned *height)
{
	*type = IMAGE_NONE;
	if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) {
		*type = IMAGE_PNG;
		return png_size(p, n, width, height);
	}
	if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) {
		*type = IMAGE_JPEG;
		return jpeg_size(p, n, width, height);
	}
	if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0) {
		*type = IMAGE_WEBP;
		return webp_size(p, n, width, height);
	}
	return -1;
}

const char *image_type_name(enum image_type t)
{
	switch (t) {
	case IMAGE_PNG:
		return "png";
	case IMAGE_JPEG:
		return "jpeg";
	case IMAGE_WEBP:
		return "webp";
	default:
		return "unknown";
	}
}
