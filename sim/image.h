/*
 * image.h - reads the pixel size of a reference image from its header, without
 * decoding it: PNG (IHDR), JPEG (the SOFn frame header) and WebP (VP8, VP8L, VP8X).
 * The Videos API requires input_reference to be one of these formats with exactly
 * the requested size.
 */
#ifndef SIM_IMAGE_H
#define SIM_IMAGE_H

#include <stddef.h>

enum image_type { IMAGE_NONE, IMAGE_PNG, IMAGE_JPEG, IMAGE_WEBP };

/* Fills *type, *width and *height and returns 0; returns -1 when the bytes are not a
 * PNG/JPEG/WebP image or the header is truncated or malformed. */
int image_probe(const unsigned char *p, size_t n, enum image_type *type, unsigned *width,
                unsigned *height);

const char *image_type_name(enum image_type t);

#endif
