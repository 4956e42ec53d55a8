/*
 * media.h — what kind of media a file holds, from its bytes, never from its name.
 *
 * A service (or a gateway in front of it) may answer a request for a thumbnail with
 * the MP4 (LiteLLM does), cut a body short, or corrupt a resumed range: an output is
 * renamed into place only after its bytes were found to be a whole file of the kind
 * its name promises. Two levels:
 *
 *   media_sniff   the kind from the first bytes: ISO-BMFF/MP4 ("ftyp" box at offset
 *                 4), WebP ("RIFF" size "WEBP"), JPEG (FF D8 FF). Pure.
 *   media_check_fd / media_check_file
 *                 the kind and the container's own bookkeeping: an MP4's top-level
 *                 boxes cover the file exactly and include "moov"; a WebP's RIFF size
 *                 is the file's size less 8; a JPEG ends with its EOI marker (FF D9).
 *                 A body cut short or grown by a corrupt resume fails these even when
 *                 no length was announced. Reads a few small pieces of the file (no
 *                 decoding: cheap enough for the event loop).
 */
#ifndef SORAD_MEDIA_H
#define SORAD_MEDIA_H

#include <stddef.h>

enum media_kind { MEDIA_UNKNOWN, MEDIA_MP4, MEDIA_WEBP, MEDIA_JPEG };

/* How many first bytes media_sniff needs to tell every kind apart. */
#define MEDIA_SNIFF_BYTES 12

/* The kind that HEAD (its first N bytes) announces; MEDIA_UNKNOWN when none. Pure. */
enum media_kind media_sniff(const void *head, size_t n);

/* "MP4", "WebP", "JPEG", or "unknown data". */
const char *media_kind_name(enum media_kind k);

enum media_verdict {
	MEDIA_OK,         /* a whole file of the kind wanted */
	MEDIA_WRONG_KIND, /* another kind, or no known kind at all (an error page...) */
	MEDIA_DAMAGED,    /* the kind wanted, but cut short, grown or corrupt */
	MEDIA_UNREADABLE, /* the file could not be read (errno in WHY) */
};

/*
 * Checks that the regular file open at FD (read from offset 0 with pread; the file
 * offset is not used) is a whole file of kind WANT. FOUND (may be NULL) gets the kind
 * its first bytes announce. Anything but MEDIA_OK puts a sentence in WHY, e.g.
 * "it holds an MP4, not a WebP" or "the MP4 is cut short: its box \"mdat\" at byte
 * 48 needs 2000000 bytes, the file has 1000000".
 */
enum media_verdict media_check_fd(int fd, enum media_kind want, enum media_kind *found, char *why,
                                  size_t whylen);

/* The same for the file at PATH (opened read-only, closed again). */
enum media_verdict media_check_file(const char *path, enum media_kind want, enum media_kind *found,
                                    char *why, size_t whylen);

#endif
