/* variant.c — the variants of a finished video, named (see variant.h). */
#include "variant.h"

#include <string.h>

static const struct {
	const char *name, *mime;
} variants[API_VARIANT_N] = {
    [API_VARIANT_VIDEO] = {"video", "video/mp4"},
    [API_VARIANT_THUMBNAIL] = {"thumbnail", "image/webp"},
    [API_VARIANT_SPRITESHEET] = {"spritesheet", "image/jpeg"},
};

/* V, or the video when V is out of range. */
static unsigned index_of(enum api_variant v)
{
	return (unsigned)v < API_VARIANT_N ? (unsigned)v : API_VARIANT_VIDEO;
}

const char *api_variant_name(enum api_variant v)
{
	return variants[index_of(v)].name;
}

int api_variant_parse(const char *s, enum api_variant *v)
{
	for (unsigned i = 0; i < API_VARIANT_N; i++)
		if (!strcmp(s, variants[i].name)) {
			*v = (enum api_variant)i;
			return 0;
		}
	return -1;
}

const char *api_variant_mime(enum api_variant v)
{
	return variants[index_of(v)].mime;
}
