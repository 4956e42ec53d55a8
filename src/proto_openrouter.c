/*
 * proto_openrouter.c — OpenRouter's video API (providers.md, "OpenRouter video API"):
 *
 *   POST /videos            JSON {model, prompt, duration, resolution, aspect_ratio
 *                           (or size, where the catalog lists it for the model),
 *                           frame_images, seed, generate_audio, previous_job_id,
 *                           callback_url, ...}; 202 {id, polling_url, status: "pending"}
 *   GET  /videos/{id}       {id, polling_url, status, unsigned_urls, usage {cost},
 *                           error: "text"}; pending, in_progress, completed, failed,
 *                           cancelled, expired
 *   GET  /videos/{id}/content?index=0   the MP4
 *
 * There is no list, delete, remix, progress or poll hint, and no thumbnail or
 * spritesheet: the protocol's caps say so, so that a create in doubt is in doubt at
 * once (nothing can prove it absent) and the variants are made from the MP4.
 */
#include "proto.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decimal.h"
#include "util.h"

#define OPTIONS_MAX (16 * 1024) /* bytes of a prompt file's options object */
#define POLL_URL_MAX 2048

static unsigned long gcd(unsigned long a, unsigned long b)
{
	while (b) {
		unsigned long t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* A positive decimal of 1..5 digits at *S, which is moved past it; 0 when none. */
static unsigned long dim(const char **s)
{
	size_t n = strspn(*s, "0123456789");
	unsigned long long v;
	if (n > 5 || decimal_uint_n(*s, n, 99999, &v) != 0)
		return 0;
	*s += n;
	return (unsigned long)v;
}

int proto_openrouter_shape(const char *size, char *res, size_t reslen, char *aspect,
                           size_t aspectlen)
{
	const char *s = size;
	unsigned long w, h, g;

	if (!s)
		return -1;
	w = dim(&s);
	if (!w || *s++ != 'x')
		return -1;
	h = dim(&s);
	if (!h || *s)
		return -1;
	g = gcd(w, h);
	if (bfmt(res, reslen, "%lup", w < h ? w : h) != 0 ||
	    bfmt(aspect, aspectlen, "%lu:%lu", w / g, h / g) != 0)
		return -1;
	return 0;
}

enum video_status proto_openrouter_status(const char *word)
{
	static const struct {
		const char *word;
		enum video_status st;
	} map[] = {
	    {"pending", VIDEO_QUEUED},      {"in_progress", VIDEO_IN_PROGRESS},
	    {"completed", VIDEO_COMPLETED}, {"failed", VIDEO_FAILED},
	    {"cancelled", VIDEO_CANCELLED}, {"expired", VIDEO_EXPIRED},
	};
	for (size_t i = 0; word && i < ARRAY_LEN(map); i++)
		if (!strcasecmp(word, map[i].word))
			return map[i].st;
	return VIDEO_UNKNOWN;
}

/* Adds {type: image_url, image_url: {url: DATA_URL}, frame_type: TYPE} for the image at
 * PATH to FRAMES. */
static int add_frame(cJSON *frames, const char *path, const char *type, enum api_kind *kind,
                     char *err, size_t errlen)
{
	char *url = proto_image_data_url(path, kind, err, errlen);
	cJSON *f, *iu = NULL;

	if (!url)
		return -1;
	f = cJSON_CreateObject();
	bool ok = f && cJSON_AddStringToObject(f, "type", "image_url") &&
	          (iu = cJSON_AddObjectToObject(f, "image_url")) &&
	          cJSON_AddStringToObject(iu, "url", url) &&
	          cJSON_AddStringToObject(f, "frame_type", type);
	free(url);
	if (!ok || !cJSON_AddItemToArray(frames, f)) {
		cJSON_Delete(f);
		*kind = API_FATAL;
		(void)bcopy_str(err, errlen, "out of memory building the frame images");
		return -1;
	}
	return 0;
}

/* The members of the options object OPTIONS_JSON joined to BODY; a member sorad sets
 * itself is refused, so that a file cannot say two things at once. */
static int add_options(cJSON *body, const char *options_json, enum api_kind *kind, char *err,
                       size_t errlen)
{
	size_t len = strlen(options_json);
	cJSON *o = len <= OPTIONS_MAX ? cJSON_ParseWithLength(options_json, len) : NULL;

	*kind = API_VALIDATION;
	if (!o || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		(void)bfmt(err, errlen, "'options' must be a JSON object of at most %d bytes",
		           OPTIONS_MAX);
		return -1;
	}
	while (o->child) {
		cJSON *m = cJSON_DetachItemViaPointer(o, o->child);
		if (!m->string || cJSON_GetObjectItemCaseSensitive(body, m->string)) {
			(void)bfmt(err, errlen,
			           "'options' sets '%.40s', which sorad sets from the "
			           "prompt file's own keys",
			           m->string ? m->string : "");
			cJSON_Delete(m);
			cJSON_Delete(o);
			return -1;
		}
		cJSON_AddItemToObject(body, m->string, m);
	}
	cJSON_Delete(o);
	return 0;
}

static int openrouter_create(const struct api_create_params *p, struct proto_request *out,
                             enum api_kind *kind, char *err, size_t errlen)
{
	cJSON *body = cJSON_CreateObject();
	int rc = -1;

	*kind = API_VALIDATION;
	if (!body) {
		*kind = API_FATAL;
		(void)bcopy_str(err, errlen, "out of memory building the create body");
		return -1;
	}
	if (p->model)
		cJSON_AddStringToObject(body, "model", p->model);
	cJSON_AddStringToObject(body, "prompt", p->prompt ? p->prompt : "");
	if (p->seconds) {
		char *end;
		errno = 0;
		long secs = strtol(p->seconds, &end, 10);
		if (errno || end == p->seconds || *end || secs <= 0 || secs > 3600) {
			(void)bfmt(err, errlen, "seconds '%.20s' is not a whole number of seconds",
			           p->seconds);
			goto done;
		}
		cJSON_AddNumberToObject(body, "duration", (double)secs);
	}
	if (p->size && p->size_as_is) {
		cJSON_AddStringToObject(body, "size", p->size);
	} else if (p->size) {
		char res[16], aspect[32];
		if (proto_openrouter_shape(p->size, res, sizeof(res), aspect, sizeof(aspect)) < 0) {
			(void)bfmt(err, errlen, "size '%.40s' is not WIDTHxHEIGHT", p->size);
			goto done;
		}
		cJSON_AddStringToObject(body, "resolution", res);
		cJSON_AddStringToObject(body, "aspect_ratio", aspect);
	}
	if (p->input_reference || p->last_frame) {
		cJSON *frames = cJSON_AddArrayToObject(body, "frame_images");
		if (!frames ||
		    (p->input_reference &&
		     add_frame(frames, p->input_reference, "first_frame", kind, err, errlen) < 0) ||
		    (p->last_frame &&
		     add_frame(frames, p->last_frame, "last_frame", kind, err, errlen) < 0))
			goto done;
	}
	if (p->has_seed)
		cJSON_AddNumberToObject(body, "seed", (double)p->seed);
	if (p->audio != API_AUDIO_UNSET)
		cJSON_AddBoolToObject(body, "generate_audio", p->audio == API_AUDIO_ON);
	if (p->callback_url && !cJSON_AddStringToObject(body, "callback_url", p->callback_url)) {
		*kind = API_FATAL;
		(void)bcopy_str(err, errlen, "out of memory building the create body");
		goto done;
	}
	if (p->previous_job_id &&
	    !cJSON_AddStringToObject(body, "previous_job_id", p->previous_job_id)) {
		*kind = API_FATAL;
		(void)bcopy_str(err, errlen, "out of memory building the create body");
		goto done;
	}
	if (p->options_json && add_options(body, p->options_json, kind, err, errlen) < 0)
		goto done;
	char *json = cJSON_PrintUnformatted(body);
	if (!json) {
		*kind = API_FATAL;
		(void)bcopy_str(err, errlen, "out of memory building the create body");
		goto done;
	}
	out->json = xstrdup(json); /* ours, so that free() is always right */
	cJSON_free(json);
	out->method = "POST";
	out->path = xstrdup("/videos");
	rc = 0;
done:
	cJSON_Delete(body);
	return rc;
}

static char *openrouter_video_path(enum api_op op, const char *esc_id, enum api_variant variant)
{
	if (op == API_OP_RETRIEVE)
		return xasprintf("/videos/%s", esc_id);
	if (op == API_OP_CONTENT && variant == API_VARIANT_VIDEO)
		return xasprintf("/videos/%s/content?index=0", esc_id);
	return NULL; /* no delete, no remix, no thumbnail or spritesheet */
}

/* The polling_url of an answer that video_parse accepted (so: one JSON object within
 * VIDEO_JSON_MAX), if it is printable ASCII of a sane length; else NULL. */
static char *poll_url_of(const char *json, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(root, "polling_url");
	char *url = NULL;

	if (cJSON_IsString(u) && u->valuestring[0] && strlen(u->valuestring) <= POLL_URL_MAX) {
		bool ok = true;
		for (const char *c = u->valuestring; *c && ok; c++)
			ok = *c > 0x20 && *c < 0x7f && *c != '"' && *c != '\\';
		if (ok)
			url = xstrdup(u->valuestring);
	}
	cJSON_Delete(root);
	return url;
}

static int openrouter_parse_video(struct video *v, char **poll_url, const char *json, size_t len,
                                  bool *syntax, char *err, size_t errlen)
{
	if (poll_url)
		*poll_url = NULL;
	if (video_parse(v, json, len, syntax, err, errlen) < 0)
		return -1;
	v->status = proto_openrouter_status(v->status_raw);
	if (!v->has_error && (v->status == VIDEO_FAILED || v->status == VIDEO_CANCELLED ||
	                      v->status == VIDEO_EXPIRED)) {
		/* "error" is a string here, not the Videos API's object: the lenient error
		 * parser takes it, bounded and sanitized like every error message. */
		struct api_error e;
		api_error_init(&e);
		if (api_error_parse(&e, json, len) == 0 && e.message) {
			v->has_error = true;
			v->error_message = e.message;
			e.message = NULL;
		}
		api_error_release(&e);
	}
	if (poll_url)
		*poll_url = poll_url_of(json, len);
	return 0;
}

/* A moderation refusal is a 403 whose error.metadata holds the reasons (the Videos API
 * says 400 with a content-policy code): a verdict on the prompt, not on sorad's key. */
static enum api_kind openrouter_error_kind(long status, struct api_error *e, const char *body,
                                           size_t len)
{
	if (status != 403 || !body || len > VIDEO_JSON_MAX)
		return API_OK;
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(err, "metadata");
	bool moderation = cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(md, "reasons"));
	cJSON_Delete(root);
	if (!moderation)
		return API_OK;
	if (!e->code)
		e->code = xstrdup("moderation_blocked");
	return API_CONTENT_POLICY;
}

const struct proto proto_openrouter = {
    .name = "openrouter",
    .caps =
        {
            [CAPS_LIST] = CAPS_NO,
            [CAPS_LIST_PROMPTS] = CAPS_NO,
            [CAPS_DELETE] = CAPS_NO,
            [CAPS_REMIX] = CAPS_NO,
            [CAPS_THUMBNAIL] = CAPS_NO,
            [CAPS_SPRITESHEET] = CAPS_NO,
            [CAPS_PROGRESS] = CAPS_NO,
            [CAPS_POLL_HINTS] = CAPS_NO,
        },
    .extras = PROTO_EXTRA_LAST_FRAME | PROTO_EXTRA_SEED | PROTO_EXTRA_AUDIO | PROTO_EXTRA_OPTIONS |
              PROTO_EXTRA_EXTEND,
    .create = openrouter_create,
    .video_path = openrouter_video_path,
    .parse_video = openrouter_parse_video,
    .error_kind = openrouter_error_kind,
};
