/*
 * proto_openai.c — the OpenAI Videos API (/v1/videos), as sorad has always spoken it:
 * a create is multipart/form-data (prompt, model, seconds, size, input_reference
 * streamed from its file), every other request names the video in its path, and the
 * answers are Video objects (video.h). Nothing here may change on the wire: OpenAI's
 * endpoint and every gateway that copies it (LiteLLM, Azure, Portkey) take it as is.
 */
#include "proto.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static void add_part(struct proto_request *out, const char *name, const char *value)
{
	if (!value || out->n_parts >= PROTO_PARTS_MAX)
		return;
	out->parts[out->n_parts].name = name;
	out->parts[out->n_parts++].value = xstrdup(value);
}

/* The first extra set in P that the Videos API has no field for, or 0. */
static unsigned extra_asked(const struct api_create_params *p)
{
	if (p->last_frame)
		return PROTO_EXTRA_LAST_FRAME;
	if (p->has_seed)
		return PROTO_EXTRA_SEED;
	if (p->audio != API_AUDIO_UNSET)
		return PROTO_EXTRA_AUDIO;
	if (p->options_json)
		return PROTO_EXTRA_OPTIONS;
	if (p->previous_job_id)
		return PROTO_EXTRA_EXTEND;
	return 0;
}

static int openai_create(const struct api_create_params *p, struct proto_request *out,
                         enum api_kind *kind, char *err, size_t errlen)
{
	unsigned extra = extra_asked(p);
	if (extra) {
		*kind = API_VALIDATION;
		(void)bfmt(err, errlen,
		           "'%s' is not part of the OpenAI Videos API (api_protocol "
		           "openai)",
		           proto_extra_name((enum proto_extra)extra));
		return -1;
	}
	out->method = "POST";
	out->path = xstrdup("/videos");
	add_part(out, "prompt", p->prompt ? p->prompt : "");
	add_part(out, "model", p->model);
	add_part(out, "seconds", p->seconds);
	add_part(out, "size", p->size);
	if (p->input_reference) {
		const char *mime = proto_image_mime(p->input_reference, kind, err, errlen);
		if (!mime)
			return -1;
		struct proto_part *part = &out->parts[out->n_parts++];
		part->name = "input_reference";
		part->file = xstrdup(p->input_reference);
		part->mime = mime;
	}
	return 0;
}

static char *openai_video_path(enum api_op op, const char *esc_id, enum api_variant variant)
{
	switch (op) {
	case API_OP_RETRIEVE:
	case API_OP_DELETE:
		return xasprintf("/videos/%s", esc_id);
	case API_OP_REMIX:
		return xasprintf("/videos/%s/remix", esc_id);
	case API_OP_CONTENT:
		return xasprintf("/videos/%s/content?variant=%s", esc_id,
		                 api_variant_name(variant));
	case API_OP_CREATE:
	case API_OP_LIST:
		break;
	}
	return NULL;
}

static int openai_parse_video(struct video *v, char **poll_url, const char *json, size_t len,
                              bool *syntax, char *err, size_t errlen)
{
	if (poll_url)
		*poll_url = NULL;
	return video_parse(v, json, len, syntax, err, errlen);
}

const struct proto proto_openai = {
    .name = "openai",
    .caps = {CAPS_UNKNOWN}, /* every operation exists; whether a gateway has it is caps.h's */
    .extras = 0,
    .create = openai_create,
    .video_path = openai_video_path,
    .parse_video = openai_parse_video,
};
