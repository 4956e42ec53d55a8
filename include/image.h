/*
 * image.h — reads the pixel size of a reference image from its header (PNG, JPEG,
 * WebP) without decoding it, so that a wrong-size image is rejected before any
 * money is spent. Input is untrusted: every offset is bounds-checked and at most a
 * bounded number of JPEG segments is walked.
 */
#ifndef SORAD_IMAGE_H
#define SORAD_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

enum image_type { IMAGE_UNKNOWN = 0, IMAGE_PNG, IMAGE_JPEG, IMAGE_WEBP };

struct image_info {
	enum image_type type;
	unsigned width, height;
};

/*
 * The file name extensions of a reference image, without the dot and in lower case,
 * in the order an inbox pair is looked for: "png", "jpg", "jpeg", "webp". The one
 * list: the watcher, the claim, prompt references, the CLI and the failed folder's
 * cleanup all ask here.
 */
#define IMAGE_EXT_N 4
/* The Ith of them (I < IMAGE_EXT_N), or NULL. */
const char *image_ext(size_t i);
/* True when EXT (without the dot; NULL is fine) is one of them, in any case. */
bool image_ext_ok(const char *ext);

/* The MIME type of T ("image/png", ...), or NULL for IMAGE_UNKNOWN. */
const char *image_mime(enum image_type t);

/* Recognizes the type from the first bytes (at least 12 needed); IMAGE_UNKNOWN if not. */
enum image_type image_sniff(const unsigned char *buf, size_t len);

/*
 * Probes the image open on FD (read with pread, the file offset is not moved).
 * Returns 0 and fills *out, or -1 with a plain-words reason in why[whylen]
 * ("not a PNG, JPEG or WebP image", "truncated JPEG header", ...).
 */
int image_probe_fd(int fd, struct image_info *out, char *why, size_t whylen);

/* The same for a file path. */
int image_probe_path(const char *path, struct image_info *out, char *why, size_t whylen);

#endif
