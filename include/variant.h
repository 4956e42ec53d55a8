/*
 * variant.h — the three files a finished video comes as (the Videos API's
 * `variant` of GET /videos/{id}/content): the video, its thumbnail and its
 * spritesheet. Apart from api.h so that the outbox, the status endpoint and the CLI
 * name a variant without libcurl's headers. Names and types are string constants.
 */
#ifndef SORAD_VARIANT_H
#define SORAD_VARIANT_H

enum api_variant { API_VARIANT_VIDEO, API_VARIANT_THUMBNAIL, API_VARIANT_SPRITESHEET };
#define API_VARIANT_N 3

/* "video", "thumbnail", "spritesheet" (the API's word; "video" out of range). */
const char *api_variant_name(enum api_variant v);

/* The variant whose api_variant_name is S, exactly: 0, or -1 (V untouched). */
int api_variant_parse(const char *s, enum api_variant *v);

/* The media type its file is served as: "video/mp4", "image/webp", "image/jpeg". */
const char *api_variant_mime(enum api_variant v);

#endif
