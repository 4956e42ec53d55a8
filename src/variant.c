/* variant.c — the variants of a finished video, named (see variant.h). */
#include "variant.h"

#include <string.h>

const char *api_variant_name(enum api_variant v)
{
	switch (v) {
	case API_VARIANT_THUMBNAIL:
		return "thumbnail";
	case API_VARIANT_SPRITESHEET:
		return "spritesheet";
	case API_VARIANT_VIDEO:
		break;
	}
	return "video";
}

int api_variant_parse(const char *s, enum api_variant *v)
{
	for (int i = 0; i < API_VARIANT_N; i++)
		if (!strcmp(s, api_variant_name((enum api_variant)i))) {
			*v = (enum api_variant)i;
			return 0;
		}
	return -1;
}

const char *api_variant_mime(enum api_variant v)
{
	switch (v) {
	case API_VARIANT_THUMBNAIL:
		return "image/webp";
	case API_VARIANT_SPRITESHEET:
		return "image/jpeg";
	case API_VARIANT_VIDEO:
		break;
	}
	return "video/mp4";
}
