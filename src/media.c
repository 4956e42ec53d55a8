/* media.c — what kind of media a file holds (see media.h). */
#include "media.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Top-level boxes walked at most: a fragmented MP4 has two per fragment; beyond this
 * the rest is taken on trust rather than read box by box. */
#define MP4_MAX_BOXES 20000
/* Trailing zero bytes after a JPEG's EOI marker that some encoders pad with. */
#define JPEG_MAX_PAD 4096

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

enum media_kind media_sniff(const void *head, size_t n)
{
	const unsigned char *p = head;
	if (!p)
		return MEDIA_UNKNOWN;
	if (n >= 8 && !memcmp(p + 4, "ftyp", 4))
		return MEDIA_MP4;
	if (n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4))
		return MEDIA_WEBP;
	if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
		return MEDIA_JPEG;
	return MEDIA_UNKNOWN;
}

const char *media_kind_name(enum media_kind k)
{
	switch (k) {
	case MEDIA_MP4:
		return "MP4";
	case MEDIA_WEBP:
		return "WebP";
	case MEDIA_JPEG:
		return "JPEG";
	case MEDIA_UNKNOWN:
		break;
	}
	return "unknown data";
}

/* Reads exactly N bytes at OFF; 0, or -1 (errno set; EIO for a short read). */
static int read_at(int fd, void *buf, size_t n, long long off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = pread(fd, (char *)buf + got, n - got, (off_t)(off + (long long)got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k == 0)
				errno = EIO;
			return -1;
		}
		got += (size_t)k;
	}
	return 0;
}

static bool box_type_ok(const unsigned char *t)
{
	for (int i = 0; i < 4; i++)
		if ((t[i] < 0x20 || t[i] > 0x7e) && t[i] != 0xa9) /* "©xyz" boxes exist */
			return false;
	return true;
}

/* An MP4's top-level boxes cover the file exactly, and one of them is "moov". */
static enum media_verdict check_mp4(int fd, long long size, char *why, size_t whylen)
{
	long long off = 0;
	bool moov = false;
	for (unsigned n = 0; off < size; n++) {
		if (n == MP4_MAX_BOXES)
			return MEDIA_OK;
		unsigned char h[16];
		if (size - off < 8) {
			bfmt(why, whylen, "the MP4 ends with %lld stray bytes after its last box",
			     size - off);
			return MEDIA_DAMAGED;
		}
		if (read_at(fd, h, 8, off) != 0)
			goto unreadable;
		long long box = be32(h), hdr = 8;
		if (box == 1) {
			if (size - off < 16 || read_at(fd, h + 8, 8, off + 8) != 0) {
				bfmt(why, whylen,
				     "the MP4 is cut short in a box header at byte %lld", off);
				return MEDIA_DAMAGED;
			}
			uint64_t big = (uint64_t)be32(h + 8) << 32 | be32(h + 12);
			box = big > (uint64_t)INT64_MAX ? -1 : (long long)big;
			hdr = 16;
		} else if (box == 0) {
			box = size - off; /* the last box runs to the end of the file */
		}
		if (!box_type_ok(h + 4) || box < hdr) {
			bfmt(why, whylen, "the MP4 is corrupt: no valid box at byte %lld", off);
			return MEDIA_DAMAGED;
		}
		if (box > size - off) {
			bfmt(
			    why, whylen,
			    "the MP4 is cut short: its box \"%.4s\" at byte %lld needs %lld bytes, "
			    "the file has %lld",
			    (const char *)h + 4, off, box, size - off);
			return MEDIA_DAMAGED;
		}
		moov |= !memcmp(h + 4, "moov", 4);
		off += box;
	}
	if (!moov) {
		bfmt(why, whylen, "the MP4 has no \"moov\" box (cut short before its index)");
		return MEDIA_DAMAGED;
	}
	return MEDIA_OK;
unreadable:
	bfmt(why, whylen, "cannot read the file: %s", strerror(errno));
	return MEDIA_UNREADABLE;
}

/* A WebP's RIFF size is the file's size less the 8 bytes of "RIFF" and the size. */
static enum media_verdict check_webp(int fd, long long size, char *why, size_t whylen)
{
	unsigned char h[16];
	if (size < 20) {
		bfmt(why, whylen, "the WebP is cut short (%lld bytes)", size);
		return MEDIA_DAMAGED;
	}
	if (read_at(fd, h, sizeof(h), 0) != 0) {
		bfmt(why, whylen, "cannot read the file: %s", strerror(errno));
		return MEDIA_UNREADABLE;
	}
	long long riff = le32(h + 4);
	if (riff + 8 != size) {
		bfmt(why, whylen, "the WebP says it has %lld bytes, the file has %lld", riff + 8,
		     size);
		return MEDIA_DAMAGED;
	}
	if (memcmp(h + 12, "VP8 ", 4) != 0 && memcmp(h + 12, "VP8L", 4) != 0 &&
	    memcmp(h + 12, "VP8X", 4) != 0) {
		bfmt(why, whylen, "the WebP is corrupt: its first chunk is not VP8, VP8L or VP8X");
		return MEDIA_DAMAGED;
	}
	return MEDIA_OK;
}

/* A JPEG ends with its EOI marker (FF D9), perhaps followed by zero padding. */
static enum media_verdict check_jpeg(int fd, long long size, char *why, size_t whylen)
{
	unsigned char tail[512];
	long long end = size, scanned = 0;
	while (end > 3 && scanned <= JPEG_MAX_PAD) {
		size_t n = end - 3 < (long long)sizeof(tail) ? (size_t)(end - 3) : sizeof(tail);
		if (read_at(fd, tail, n, end - (long long)n) != 0) {
			bfmt(why, whylen, "cannot read the file: %s", strerror(errno));
			return MEDIA_UNREADABLE;
		}
		size_t i = n;
		while (i > 0 && tail[i - 1] == 0)
			i--;
		if (i >= 2 && tail[i - 2] == 0xFF && tail[i - 1] == 0xD9)
			return MEDIA_OK;
		if (i > 0)
			break; /* the last non-zero bytes are not EOI */
		end -= (long long)n;
		scanned += (long long)n;
	}
	bfmt(why, whylen, "the JPEG is cut short (it does not end with its EOI marker)");
	return MEDIA_DAMAGED;
}

enum media_verdict media_check_fd(int fd, enum media_kind want, enum media_kind *found, char *why,
                                  size_t whylen)
{
	struct stat st;
	unsigned char head[MEDIA_SNIFF_BYTES];
	if (found)
		*found = MEDIA_UNKNOWN;
	if (fstat(fd, &st) != 0) {
		bfmt(why, whylen, "cannot read the file: %s", strerror(errno));
		return MEDIA_UNREADABLE;
	}
	if (!S_ISREG(st.st_mode)) {
		bfmt(why, whylen, "not a regular file");
		return MEDIA_UNREADABLE;
	}
	long long size = (long long)st.st_size;
	size_t n = size < (long long)sizeof(head) ? (size_t)size : sizeof(head);
	if (n && read_at(fd, head, n, 0) != 0) {
		bfmt(why, whylen, "cannot read the file: %s", strerror(errno));
		return MEDIA_UNREADABLE;
	}
	enum media_kind k = media_sniff(head, n);
	if (found)
		*found = k;
	if (k != want) {
		if (size == 0)
			bfmt(why, whylen, "it is empty, not a %s", media_kind_name(want));
		else
			bfmt(why, whylen, "it holds %s%s, not a %s",
			     k == MEDIA_UNKNOWN ? ""
			     : k == MEDIA_MP4   ? "an "
			                        : "a ",
			     media_kind_name(k), media_kind_name(want));
		return MEDIA_WRONG_KIND;
	}
	switch (k) {
	case MEDIA_MP4:
		return check_mp4(fd, size, why, whylen);
	case MEDIA_WEBP:
		return check_webp(fd, size, why, whylen);
	case MEDIA_JPEG:
		return check_jpeg(fd, size, why, whylen);
	case MEDIA_UNKNOWN:
		break;
	}
	bfmt(why, whylen, "no kind of media was asked for");
	return MEDIA_WRONG_KIND;
}

enum media_verdict media_check_file(const char *path, enum media_kind want, enum media_kind *found,
                                    char *why, size_t whylen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (found)
			*found = MEDIA_UNKNOWN;
		bfmt(why, whylen, "cannot open %s: %s", path, strerror(errno));
		return MEDIA_UNREADABLE;
	}
	enum media_verdict v = media_check_fd(fd, want, found, why, whylen);
	close(fd);
	return v;
}
