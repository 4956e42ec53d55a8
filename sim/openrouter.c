/*
 * openrouter.c - see openrouter.h. Where a behaviour is documented, the source is named
 * beside it (sim/README.md lists them); what the documentation leaves open (the words of
 * an error, the status of a download before completion) is the simulator's own choice,
 * said so where it is made.
 */
#include "openrouter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gateway.h"
#include "hmac.h"
#include "image.h"
#include "media.h"
#include "stats.h"
#include "util.h"
#include "videos.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define PROMPT_MAX_BYTES 32000
#define CALLBACK_URL_MAX 1024
#define BASE_URL_MAX 300
#define CALLBACK_ATTEMPTS 3      /* a refused or failed delivery is tried again... */
#define CALLBACK_RETRY_MS 1000   /* ...this long after */
#define CALLBACK_TICK_MS 20      /* how often ended jobs are looked for */
#define CALLBACK_TIMEOUT_MS 5000 /* connect, send and the status line, each */

/* ------------------------------------------------------------------ catalog */

/* A price of the catalog: USD per second of video, for a tier of resolution (the
 * shorter side: 720 or 1080; 0 any) and with or without audio (-1 either). The first
 * that matches a job is its price. */
struct sku {
	const char *name;
	const char *usd_per_second; /* as the catalog spells it: a string */
	unsigned tier;
	int audio;
};

struct catalog_model {
	const char *id, *name, *description;
	long long created;
	const int *durations;
	size_t n_durations;
	const char *const *resolutions; /* NULL: null in the catalog, nothing accepted */
	size_t n_resolutions;
	const char *const *aspects;
	size_t n_aspects;
	const char *const *sizes; /* NULL: sizes are accepted as resolution + aspect ratio */
	size_t n_sizes;
	const char *const *frames;
	size_t n_frames;
	bool audio;        /* generate_audio: the model can make sound (default on) */
	bool continuation; /* previous_job_id accepted */
	const struct sku *skus;
	size_t n_skus;
	const char *const *passthrough;
	size_t n_passthrough;
};

static const int veo_durations[] = {4, 6, 8};
static const int sora_durations[] = {4, 8, 12};
static const int wan_durations[] = {5, 10};
static const char *const res_720_1080[] = {"720p", "1080p"};
static const char *const wide_tall[] = {"16:9", "9:16"};
static const char *const wide_tall_square[] = {"16:9", "9:16", "1:1"};
static const char *const sora_sizes[] = {"720x1280", "1280x720", "1080x1920", "1920x1080"};
static const char *const first_last[] = {"first_frame", "last_frame"};
static const char *const first_only[] = {"first_frame"};
static const char *const veo_passthrough[] = {"personGeneration", "negativePrompt"};
static const char *const wan_passthrough[] = {"negative_prompt", "prompt_extend"};

static const struct sku veo_skus[] = {
    {"duration_seconds_with_audio", "0.40", 0, 1},
    {"duration_seconds_without_audio", "0.20", 0, 0},
};
static const struct sku sora_skus[] = {
    {"duration_seconds_720p", "0.30", 720, -1},
    {"duration_seconds_1080p", "0.50", 1080, -1},
};
static const struct sku wan_skus[] = {
    {"duration_seconds_720p", "0.10", 720, -1},
    {"duration_seconds_1080p", "0.15", 1080, -1},
};

/* The models and what each accepts. Values are in the shape of the catalog's own
 * examples (OpenRouterTeam/docs: cookbook/video-generation/text-to-video.mdx shows
 * google/veo-3.1-lite with [8, 4, 6], 720p and 1080p, 16:9 and 9:16); the prices are
 * the simulator's, per second. */
static const struct catalog_model catalog[] = {
    {"google/veo-3.1",
     "Google: Veo 3.1",
     "Google's video model with sound; first and last frames; continues a previous job.",
     1760400000,
     veo_durations,
     NELEM(veo_durations),
     res_720_1080,
     NELEM(res_720_1080),
     wide_tall,
     NELEM(wide_tall),
     NULL,
     0,
     first_last,
     NELEM(first_last),
     true,
     true,
     veo_skus,
     NELEM(veo_skus),
     veo_passthrough,
     NELEM(veo_passthrough)},
    {"openai/sora-2-pro",
     "OpenAI: Sora 2 Pro",
     "OpenAI's video model, sized in pixels; a first frame; edits a previous job.",
     1759708800,
     sora_durations,
     NELEM(sora_durations),
     res_720_1080,
     NELEM(res_720_1080),
     wide_tall,
     NELEM(wide_tall),
     sora_sizes,
     NELEM(sora_sizes),
     first_only,
     NELEM(first_only),
     true,
     true,
     sora_skus,
     NELEM(sora_skus),
     NULL,
     0},
    {"alibaba/wan-2.6",
     "Alibaba: Wan 2.6",
     "Alibaba's video model: 5 or 10 seconds, square too; a first frame; no continuation.",
     1765152000,
     wan_durations,
     NELEM(wan_durations),
     res_720_1080,
     NELEM(res_720_1080),
     wide_tall_square,
     NELEM(wide_tall_square),
     NULL,
     0,
     first_only,
     NELEM(first_only),
     true,
     false,
     wan_skus,
     NELEM(wan_skus),
     wan_passthrough,
     NELEM(wan_passthrough)},
};

static const struct catalog_model *model_find(const char *id)
{
	for (size_t i = 0; i < NELEM(catalog); i++)
		if (strcmp(catalog[i].id, id) == 0)
			return &catalog[i];
	return NULL;
}

static cJSON *string_array_or_null(const char *const *v, size_t n)
{
	return v ? cJSON_CreateStringArray(v, (int)n) : cJSON_CreateNull();
}

/* One model of GET /videos/models, every field of @openrouter/sdk's VideoModel. */
static cJSON *model_json(const struct catalog_model *m)
{
	cJSON *o = cJSON_CreateObject(), *skus;

	/* Always an array, [] for none (cJSON_CreateStringArray makes nothing of 0). */
	cJSON_AddItemToObject(o, "allowed_passthrough_parameters",
	                      m->n_passthrough
	                          ? cJSON_CreateStringArray(m->passthrough, (int)m->n_passthrough)
	                          : cJSON_CreateArray());
	cJSON_AddStringToObject(o, "canonical_slug", m->id);
	cJSON_AddNumberToObject(o, "created", (double)m->created);
	cJSON_AddNullToObject(o, "creativity");
	cJSON_AddStringToObject(o, "description", m->description);
	cJSON_AddBoolToObject(o, "generate_audio", m->audio);
	cJSON_AddNullToObject(o, "hugging_face_id");
	cJSON_AddStringToObject(o, "id", m->id);
	cJSON_AddStringToObject(o, "name", m->name);
	skus = cJSON_AddObjectToObject(o, "pricing_skus");
	for (size_t i = 0; i < m->n_skus; i++)
		cJSON_AddStringToObject(skus, m->skus[i].name, m->skus[i].usd_per_second);
	cJSON_AddBoolToObject(o, "seed", 1);
	cJSON_AddItemToObject(o, "supported_aspect_ratios",
	                      string_array_or_null(m->aspects, m->n_aspects));
	cJSON_AddItemToObject(o, "supported_durations",
	                      cJSON_CreateIntArray(m->durations, (int)m->n_durations));
	cJSON_AddItemToObject(o, "supported_frame_images",
	                      string_array_or_null(m->frames, m->n_frames));
	cJSON_AddItemToObject(o, "supported_resolutions",
	                      string_array_or_null(m->resolutions, m->n_resolutions));
	cJSON_AddItemToObject(o, "supported_sizes", string_array_or_null(m->sizes, m->n_sizes));
	cJSON_AddNullToObject(o, "upscale_factor");
	return o;
}

/* The price of a job: USD per second of the first SKU that matches it. */
static double price_per_second(const struct catalog_model *m, unsigned w, unsigned h, bool audio)
{
	unsigned tier = (w < h ? w : h) >= 1080 ? 1080 : 720;

	for (size_t i = 0; i < m->n_skus; i++) {
		const struct sku *s = &m->skus[i];

		if ((s->tier == 0 || s->tier == tier) && (s->audio < 0 || s->audio == (int)audio))
			return strtod(s->usd_per_second, NULL);
	}
	return 0.0;
}

/* --------------------------------------------------------------------- jobs */

/* What OpenRouter keeps of a job beyond the video itself (videos.c): whose it is, what
 * it costs, where to announce its end. Guarded by jobs_lock. */
struct job {
	struct job *next;         /* in its bucket */
	struct job *next_pending; /* in the list of callbacks to send, when callback[0] */
	char *id;                 /* owned */
	uint64_t owner;           /* hash of the API key that created it */
	double cost;
	char base[BASE_URL_MAX]; /* "http://HOST" of the create, for polling and unsigned URLs */
	char callback[CALLBACK_URL_MAX]; /* "" without */
	unsigned sent;                   /* deliveries that reached the receiver */
	unsigned attempts;               /* failed deliveries since the last success */
	int64_t next_try_ms;             /* monotonic */
};

#define JOB_BUCKETS 1024

static bool enabled;
static struct openrouter_conf conf;
static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jobs_cond;
static struct job *buckets[JOB_BUCKETS];
static struct job *pending; /* jobs whose callback is still to be sent */
static pthread_t callback_thread;
static bool thread_running, stopping;

void openrouter_enable(void)
{
	enabled = true;
}

bool openrouter_enabled(void)
{
	return enabled;
}

static struct job *job_find(const char *id)
{
	struct job *j;

	for (j = buckets[fnv1a64(id, strlen(id)) % JOB_BUCKETS]; j; j = j->next)
		if (strcmp(j->id, id) == 0)
			return j;
	return NULL;
}

static uint64_t key_owner(const char *key)
{
	return key ? fnv1a64(key, strlen(key)) : 0;
}

/* -------------------------------------------------------------------- replies */

/* OpenRouter's error body (@openrouter/sdk's *ResponseErrorData: code, message, metadata),
 * with a metadata object when given (taken over). */
static void or_error(struct reply *r, unsigned status, cJSON *metadata, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void or_error(struct reply *r, unsigned status, cJSON *metadata, const char *fmt, ...)
{
	char msg[1024];
	cJSON *root = cJSON_CreateObject(), *e;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e = cJSON_AddObjectToObject(root, "error");
	cJSON_AddNumberToObject(e, "code", status);
	cJSON_AddStringToObject(e, "message", msg);
	if (metadata)
		cJSON_AddItemToObject(e, "metadata", metadata);
	reply_json(r, status, root);
}

int openrouter_auth(struct MHD_Connection *c, const char *api_key, struct reply *r)
{
	const char *key = gateway_request_key(c);

	if (key == NULL || *key == '\0') {
		or_error(r, 401, NULL, "Missing Authentication header");
		return -1;
	}
	if (api_key && strcmp(key, api_key) != 0) {
		or_error(r, 401, NULL, "User not found."); /* the key itself is never echoed */
		return -1;
	}
	return 0;
}

void openrouter_fault_reply(const struct fault *f, struct reply *r)
{
	if (f->kind == FAULT_429) {
		or_error(r, 429, NULL, "Rate limit exceeded (injected by sora-sim --p429)");
		reply_header(r, "retry-after", "%u",
		             f->retry_after_s ? f->retry_after_s
		                              : (f->retry_after_ms + 999) / 1000);
	} else if (f->status == 503) {
		or_error(r, 503, NULL, "Service Unavailable (injected by sora-sim --p5xx)");
	} else {
		or_error(r, 500, NULL, "Internal Server Error (injected by sora-sim --p5xx)");
	}
}

void openrouter_too_large(struct reply *r, unsigned long long limit)
{
	or_error(r, 413, NULL, "Request body too large: the limit is %llu bytes.", limit);
}

void openrouter_after_create_reply(struct reply *r)
{
	or_error(r, 500, NULL, "Internal Server Error");
}

static void not_found_job(struct reply *r, const char *id)
{
	or_error(r, 404, NULL, "Video generation job '%.128s' not found", id);
}

/* A 400 for a value MODEL does not take, with the values it does in the message and in
 * metadata.supported (the simulator's words: the documentation only says "an
 * out-of-set value returns a 400"). SUPPORTED is taken over. */
static void unsupported(struct reply *r, const struct catalog_model *m, const char *param,
                        const char *value, cJSON *supported)
{
	char list[256];
	size_t used = 0;
	cJSON *md = cJSON_CreateObject(), *it;

	list[0] = '\0';
	cJSON_ArrayForEach(it, supported)
	{
		int k = cJSON_IsNumber(it) ? snprintf(list + used, sizeof(list) - used, "%s%d",
		                                      used ? ", " : "", it->valueint)
		                           : snprintf(list + used, sizeof(list) - used, "%s%s",
		                                      used ? ", " : "", it->valuestring);

		if (k < 0 || (size_t)k >= sizeof(list) - used)
			break;
		used += (size_t)k;
	}
	cJSON_AddStringToObject(md, "param", param);
	cJSON_AddStringToObject(md, "value", value);
	cJSON_AddItemToObject(md, "supported", supported);
	if (used == 0)
		or_error(r, 400, md, "Model %s does not support %s.", m->id, param);
	else
		or_error(r, 400, md, "Model %s does not support %s %.64s. Supported: %s.", m->id,
		         param, value, list);
}

/* ---------------------------------------------------------------- routing */

void openrouter_route_match(const char *method, const char *path, struct route *rt)
{
	bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
	const char *rest, *slash;
	size_t idlen;

	rt->kind = RT_NOT_FOUND;
	rt->ep = EP_OTHER;
	if (strcmp(path, "/videos") == 0) {
		if (post) {
			rt->kind = RT_CREATE;
			rt->ep = EP_CREATE;
			rt->has_body = true;
		} else {
			rt->kind = RT_BAD_METHOD;
			rt->allow = "POST";
		}
		return;
	}
	if (strcmp(path, "/videos/models") == 0) {
		/* Public: the documentation fetches it without a key. */
		if (get) {
			rt->kind = RT_MODELS;
			rt->ep = EP_MODELS;
			rt->no_auth = true;
		} else {
			rt->kind = RT_BAD_METHOD;
			rt->allow = "GET";
		}
		return;
	}
	if (strncmp(path, "/videos/", 8) != 0)
		return;
	rest = path + 8;
	slash = strchr(rest, '/');
	idlen = slash ? (size_t)(slash - rest) : strlen(rest);
	if (idlen == 0)
		return;
	if (idlen < sizeof(rt->id)) {
		memcpy(rt->id, rest, idlen);
		rt->id[idlen] = '\0';
		url_unescape_rest(rt->id);
	}
	if (slash != NULL && strcmp(slash, "/content") != 0)
		return;
	if (!get) {
		rt->kind = RT_BAD_METHOD;
		rt->allow = "GET";
	} else if (slash == NULL) {
		rt->kind = RT_RETRIEVE;
		rt->ep = EP_RETRIEVE;
	} else {
		rt->kind = RT_CONTENT;
		rt->ep = EP_CONTENT;
	}
}

/* "http://HOST" of this request, for the absolute URLs OpenRouter answers with
 * ("polling_url": "https://openrouter.ai/api/v1/videos/<id>"); "" without a Host. */
static void base_url(struct MHD_Connection *c, char *out, size_t size)
{
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);

	out[0] = '\0';
	if (host && *host && strpbrk(host, " \t\r\n/\\\"") == NULL &&
	    bsnprintf(out, size, "http://%s", host) < 0)
		out[0] = '\0';
}

/* BASE + prefix + "/videos/" + the percent-encoded ID + TAIL. */
static void job_url(char *out, size_t size, const char *base, const char *id, const char *tail)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t used;
	int k = snprintf(out, size, "%s%s/videos/", base, gateway_prefix());

	if (k < 0 || (size_t)k >= size)
		return;
	used = (size_t)k;
	for (const unsigned char *p = (const unsigned char *)id; *p && used + 4 < size; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			out[used++] = (char)*p;
		} else {
			out[used++] = '%';
			out[used++] = hex[*p >> 4];
			out[used++] = hex[*p & 15];
		}
	}
	out[used] = '\0';
	if (used < size)
		snprintf(out + used, size - used, "%s", tail);
}

/* ------------------------------------------------------------------ answers */

static const char *status_word(const struct video_info *vi)
{
	switch (vi->phase) {
	case VIDEO_QUEUED:
		return "pending";
	case VIDEO_RUNNING:
		return "in_progress";
	case VIDEO_COMPLETED:
		return "completed";
	case VIDEO_FAILED:
		return "failed";
	default:
		return vi->word;
	}
}

/* The error text of a job that did not complete; the words of cancelled and expired are
 * the documentation's webhook examples (guides/overview/multimodal/video-generation). */
static const char *error_text(const struct video_info *vi)
{
	if (vi->phase == VIDEO_FAILED)
		return "Video generation failed (the prompt asked sora-sim to fail with "
		       "[sim:fail]).";
	if (strcmp(vi->word, "cancelled") == 0 || strcmp(vi->word, "canceled") == 0)
		return "Job was cancelled";
	if (strcmp(vi->word, "expired") == 0)
		return "Job exceeded maximum time to live";
	return "Video generation ended without a video";
}

/* "gen-<seconds>-<letters>" from a job id "gen-vid-<seconds>-<letters>" (the
 * documentation's generation ids look like "gen-1234567890-abcdef"). */
static void generation_id(const char *id, char *out, size_t size)
{
	if (strncmp(id, "gen-vid-", 8) == 0)
		snprintf(out, size, "gen-%s", id + 8);
	else
		snprintf(out, size, "gen-%s", id);
}

/* The job object of a poll (VideoGenerationResponse): generation_id once processing
 * has started, unsigned_urls and usage once completed, error once it did not. */
static cJSON *job_json(const char *id, const struct job *j, const struct video_info *vi)
{
	char url[GATEWAY_ID_SIZE + BASE_URL_MAX + 64];
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "id", id);
	if (vi->phase != VIDEO_QUEUED) {
		char gen[GATEWAY_ID_SIZE + 8];

		generation_id(id, gen, sizeof(gen));
		cJSON_AddStringToObject(o, "generation_id", gen);
	}
	job_url(url, sizeof(url), j->base, id, "");
	cJSON_AddStringToObject(o, "polling_url", url);
	cJSON_AddStringToObject(o, "status", status_word(vi));
	if (vi->phase == VIDEO_COMPLETED) {
		cJSON *u = cJSON_AddArrayToObject(o, "unsigned_urls"), *usage;

		job_url(url, sizeof(url), j->base, id, "/content?index=0");
		cJSON_AddItemToArray(u, cJSON_CreateString(url));
		usage = cJSON_AddObjectToObject(o, "usage");
		cJSON_AddNumberToObject(usage, "cost", j->cost);
		cJSON_AddBoolToObject(usage, "is_byok", 0);
	} else if (vi->phase == VIDEO_FAILED || vi->phase == VIDEO_OTHER) {
		cJSON_AddStringToObject(o, "error", error_text(vi));
	}
	return o;
}

static void models(struct reply *r)
{
	cJSON *root = cJSON_CreateObject(), *data = cJSON_AddArrayToObject(root, "data");

	for (size_t i = 0; i < NELEM(catalog); i++)
		cJSON_AddItemToArray(data, model_json(&catalog[i]));
	reply_json(r, 200, root);
}

/* The job ID if it exists and belongs to the key of this request, else NULL and a 404:
 * another key's job is not told apart from none. Caller holds jobs_lock. */
static struct job *own_job(struct MHD_Connection *c, const char *id, struct reply *r)
{
	struct job *j = job_find(id);

	if (j == NULL || j->owner != key_owner(gateway_request_key(c))) {
		not_found_job(r, id);
		return NULL;
	}
	return j;
}

static void retrieve(const char *id, struct MHD_Connection *c, struct reply *r)
{
	struct video_info vi;
	struct job *j;

	pthread_mutex_lock(&jobs_lock);
	j = own_job(c, id, r);
	if (j && videos_info(id, &vi) < 0) {
		not_found_job(r, id);
		j = NULL;
	}
	if (j)
		reply_json(r, 200, job_json(id, j, &vi));
	pthread_mutex_unlock(&jobs_lock);
}

/* The MP4 at index 0 (the only output of every model here). Not completed: 409; its
 * content expired: 410 (the SDK's getVideoContent knows both statuses; which one the
 * service sends when is the simulator's reading). */
static void content(const char *id, struct MHD_Connection *c, struct reply *r)
{
	const char *index = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "index");
	struct media *m = NULL;
	struct content_hooks hooks = {0};
	bool mine;

	if (index && *index && strcmp(index, "0") != 0) {
		char *end;
		long n;

		errno = 0;
		n = strtol(index, &end, 10);
		if (*end != '\0' || errno != 0 || n < 0)
			or_error(r, 400, NULL, "Invalid index '%.32s': expected an integer >= 0.",
			         index);
		else
			or_error(r, 404, NULL,
			         "Video generation job '%.128s' has no output at index %ld.", id,
			         n);
		return;
	}
	pthread_mutex_lock(&jobs_lock);
	mine = own_job(c, id, r) != NULL;
	pthread_mutex_unlock(&jobs_lock);
	if (!mine)
		return;
	switch (videos_content(id, &m, &hooks)) {
	case VIDEO_OK:
		if (hooks.fail_now) /* [sim:content-fails=N] */
			or_error(r, 500, NULL,
			         "Internal error while reading the output of video "
			         "generation job '%.128s' (asked for by the prompt's "
			         "[sim:content-fails]).",
			         id);
		else if (hooks.status) /* [sim:content-status=N] */
			or_error(r, hooks.status, NULL,
			         "The output of video generation job "
			         "'%.128s' is not available (HTTP %u, asked for by the prompt's "
			         "[sim:content-status]).",
			         id, hooks.status);
		else
			routes_serve_video(id, m, hooks.trickle_bps, c, r);
		return;
	case VIDEO_NOT_READY:
		or_error(
		    r, 409, NULL,
		    "Video generation job '%.128s' is not completed; download it once its status "
		    "is 'completed'.",
		    id);
		return;
	case VIDEO_EXPIRED:
		or_error(r, 410, NULL, "The content of video generation job '%.128s' has expired.",
		         id);
		return;
	default:
		not_found_job(r, id);
	}
}

/* ------------------------------------------------------------------- create */

/* What a create asks for, once read and checked against the model. */
struct ask {
	const struct catalog_model *m;
	const char *prompt;
	unsigned secs, width, height;
	bool audio;
	const char *callback, *previous;
	char word[GATEWAY_STATUS_SIZE];
};

static const char *type_name(const cJSON *j)
{
	if (cJSON_IsString(j))
		return "a string";
	if (cJSON_IsNumber(j))
		return "a number";
	if (cJSON_IsBool(j))
		return "a boolean";
	if (cJSON_IsArray(j))
		return "an array";
	if (cJSON_IsObject(j))
		return "an object";
	return "null";
}

/* Member NAME of ROOT if present and not null; with a type check by IS (a cJSON_Is*
 * predicate), else -1 and a 400. */
static int member(const cJSON *root, const char *name, cJSON_bool (*is)(const cJSON *),
                  const char *want, const cJSON **out, struct reply *r)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, name);

	*out = NULL;
	if (j == NULL || cJSON_IsNull(j))
		return 0;
	if (!is(j)) {
		or_error(r, 400, NULL, "Invalid '%s': expected %s, got %s.", name, want,
		         type_name(j));
		return -1;
	}
	*out = j;
	return 0;
}

static bool in_list(const char *v, const char *const *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++)
		if (strcmp(v, list[i]) == 0)
			return true;
	return false;
}

/* The pixel size of a resolution ("720p": the shorter side) at an aspect ratio ("16:9"),
 * each side even: 720p at 16:9 is 1280x720, at 9:16 720x1280, 480p at 16:9 854x480. */
static int dimensions(const char *res, const char *aspect, unsigned *w, unsigned *h)
{
	unsigned short_side, aw, ah, long_side;

	/* NOLINTNEXTLINE(cert-err34-c): both come from the catalog's lists */
	if (sscanf(res, "%up", &short_side) != 1 || sscanf(aspect, "%u:%u", &aw, &ah) != 2 ||
	    aw == 0 || ah == 0) /* NOLINT(cert-err34-c) */
		return -1;
	long_side =
	    (unsigned)lround((double)short_side * (aw > ah ? aw : ah) / (aw > ah ? ah : aw));
	long_side += long_side & 1;
	*w = aw >= ah ? long_side : short_side;
	*h = aw >= ah ? short_side : long_side;
	return 0;
}

/* Every size that some resolution and aspect ratio of M make, for a model that lists
 * none of its own (size is "interchangeable with resolution + aspect_ratio"). */
static cJSON *derived_sizes(const struct catalog_model *m)
{
	cJSON *a = cJSON_CreateArray();
	char s[32];
	unsigned w, h;

	for (size_t i = 0; i < m->n_resolutions; i++)
		for (size_t k = 0; k < m->n_aspects; k++)
			if (dimensions(m->resolutions[i], m->aspects[k], &w, &h) == 0) {
				snprintf(s, sizeof(s), "%ux%u", w, h);
				cJSON_AddItemToArray(a, cJSON_CreateString(s));
			}
	return a;
}

static int check_size(const struct catalog_model *m, const char *size, struct ask *a,
                      struct reply *r)
{
	cJSON *all =
	    m->sizes ? cJSON_CreateStringArray(m->sizes, (int)m->n_sizes) : derived_sizes(m);
	const cJSON *it;

	cJSON_ArrayForEach(it, all)
	{
		if (strcmp(it->valuestring, size) == 0) {
			/* NOLINTNEXTLINE(cert-err34-c): one of the model's own sizes */
			if (sscanf(size, "%ux%u", &a->width, &a->height) == 2) { /* NOLINT */
				cJSON_Delete(all);
				return 0;
			}
		}
	}
	unsupported(r, m, "size", size, all);
	return -1;
}

static int check_enum(const struct catalog_model *m, const char *param, const char *value,
                      const char *const *list, size_t n, struct reply *r)
{
	if (in_list(value, list, n))
		return 0;
	unsupported(r, m, param, value,
	            list ? cJSON_CreateStringArray(list, (int)n) : cJSON_CreateArray());
	return -1;
}

/* A frame image's URL: a data URL must hold a PNG, JPEG or WebP image; an http(s) URL
 * cannot be fetched here and is accepted unverified. */
static int check_image_url(const char *url, const char *param, struct reply *r)
{
	const char *comma;
	struct buf img = BUF_INIT;
	enum image_type t;
	unsigned w, h;
	int rc = -1;

	if (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0)
		return 0;
	comma = strchr(url, ',');
	if (strncmp(url, "data:image/", 11) == 0 && comma && strstr(url, ";base64,") &&
	    base64_decode(comma + 1, &img) == 0 &&
	    image_probe((const unsigned char *)img.data, img.len, &t, &w, &h) == 0)
		rc = 0;
	buf_release(&img);
	if (rc < 0)
		or_error(
		    r, 400, NULL,
		    "Invalid '%s': expected an http(s) URL or a base64 data URL of a PNG, JPEG "
		    "or WebP image.",
		    param);
	return rc;
}

static int check_frames(const struct catalog_model *m, const cJSON *frames, struct reply *r)
{
	const cJSON *f;
	bool seen_first = false, seen_last = false;
	int i = 0;

	cJSON_ArrayForEach(f, frames)
	{
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(f, "type");
		const cJSON *iu = cJSON_GetObjectItemCaseSensitive(f, "image_url");
		const cJSON *url = cJSON_GetObjectItemCaseSensitive(iu, "url");
		const cJSON *ft = cJSON_GetObjectItemCaseSensitive(f, "frame_type");
		char param[64], url_param[80];
		bool *seen;

		snprintf(param, sizeof(param), "frame_images[%d]", i++);
		if (!cJSON_IsObject(f) || !cJSON_IsString(type) ||
		    strcmp(type->valuestring, "image_url") != 0 || !cJSON_IsString(url) ||
		    !cJSON_IsString(ft)) {
			or_error(r, 400, NULL,
			         "Invalid '%s': expected {\"type\": \"image_url\", \"image_url\": "
			         "{\"url\": "
			         "...}, \"frame_type\": \"first_frame\" | \"last_frame\"}.",
			         param);
			return -1;
		}
		if (check_enum(m, "frame_type", ft->valuestring, m->frames, m->n_frames, r) < 0)
			return -1;
		seen = strcmp(ft->valuestring, "first_frame") == 0 ? &seen_first : &seen_last;
		if (*seen) {
			or_error(r, 400, NULL, "Invalid 'frame_images': more than one %s.",
			         ft->valuestring);
			return -1;
		}
		*seen = true;
		snprintf(url_param, sizeof(url_param), "%s.image_url.url", param);
		if (check_image_url(url->valuestring, url_param, r) < 0)
			return -1;
	}
	return 0;
}

/* callback_url: OpenRouter requires HTTPS; the simulator delivers over plain HTTP, and
 * only to this machine (127.0.0.0/8, ::1, localhost), so that a test can never make it
 * post anywhere else. */
static int check_callback(const char *url, struct reply *r)
{
	const char *host = url + 7, *end;
	char name[64];
	struct in_addr a4;
	size_t n;

	if (strlen(url) >= CALLBACK_URL_MAX || strncmp(url, "http://", 7) != 0)
		goto refuse;
	if (*host == '[') {
		end = strchr(host, ']');
		if (end == NULL || (size_t)(end - host - 1) != 3 ||
		    strncmp(host + 1, "::1", 3) != 0)
			goto refuse;
		end++;
	} else {
		end = host + strcspn(host, ":/?#");
		n = (size_t)(end - host);
		if (n == 0 || n >= sizeof(name))
			goto refuse;
		memcpy(name, host, n);
		name[n] = '\0';
		if (strcasecmp(name, "localhost") != 0 &&
		    (inet_pton(AF_INET, name, &a4) != 1 || (ntohl(a4.s_addr) >> 24) != 127))
			goto refuse;
	}
	if (*end != '\0' && *end != ':' && *end != '/' && *end != '?')
		goto refuse;
	return 0;
refuse:
	or_error(r, 400, NULL,
	         "Invalid 'callback_url': sora-sim delivers callbacks only over http:// to "
	         "loopback (127.0.0.0/8, [::1], localhost), got '%.200s'.",
	         url);
	return -1;
}

/* previous_job_id: an existing job of this key (404 otherwise, as for a poll), completed
 * (400), of the same model ("the new job runs on the same model and endpoint that
 * produced the previous one", @openrouter/sdk's VideoGenerationRequest), which must be
 * one that continues jobs (400). */
static int check_previous(const struct catalog_model *m, const char *prev, uint64_t owner,
                          struct reply *r)
{
	struct video_info vi;
	struct job *j;
	int found;

	if (!m->continuation) {
		or_error(r, 400, NULL,
		         "Model %s does not support continuing a previous job "
		         "(previous_job_id).",
		         m->id);
		return -1;
	}
	pthread_mutex_lock(&jobs_lock);
	j = job_find(prev);
	found = j && j->owner == owner && videos_info(prev, &vi) == 0;
	pthread_mutex_unlock(&jobs_lock);
	if (!found) {
		not_found_job(r, prev);
		return -1;
	}
	if (vi.phase != VIDEO_COMPLETED) {
		or_error(
		    r, 400, NULL,
		    "previous_job_id '%.128s' is not completed (status %s); only a completed job "
		    "can be continued.",
		    prev, status_word(&vi));
		return -1;
	}
	if (strcmp(vi.model, m->id) != 0) {
		or_error(r, 400, NULL,
		         "previous_job_id '%.128s' was made by %s; a continuation runs on the same "
		         "model, not %s.",
		         prev, vi.model, m->id);
		return -1;
	}
	return 0;
}

/* Shape: size, or resolution + aspect ratio (defaults: the model's first of each). */
static int check_shape(const cJSON *root, struct ask *a, struct reply *r)
{
	const struct catalog_model *m = a->m;
	const cJSON *res, *aspect, *size;
	const char *rv, *av;
	unsigned w, h;

	if (member(root, "resolution", cJSON_IsString, "a string", &res, r) < 0 ||
	    member(root, "aspect_ratio", cJSON_IsString, "a string", &aspect, r) < 0 ||
	    member(root, "size", cJSON_IsString, "a string", &size, r) < 0)
		return -1;
	rv = res ? res->valuestring : m->resolutions[0];
	av = aspect ? aspect->valuestring : m->aspects[0];
	if (check_enum(m, "resolution", rv, m->resolutions, m->n_resolutions, r) < 0 ||
	    check_enum(m, "aspect_ratio", av, m->aspects, m->n_aspects, r) < 0)
		return -1;
	if (dimensions(rv, av, &w, &h) < 0) {
		or_error(r, 500, NULL, "Internal Server Error");
		return -1;
	}
	if (size == NULL) {
		a->width = w;
		a->height = h;
		return 0;
	}
	if (check_size(m, size->valuestring, a, r) < 0)
		return -1;
	if ((res || aspect) && (a->width != w || a->height != h)) {
		or_error(
		    r, 400, NULL,
		    "Invalid 'size' %.32s: it is not resolution %s at aspect ratio %s (%ux%u); "
		    "send one or the other.",
		    size->valuestring, rv, av, w, h);
		return -1;
	}
	return 0;
}

static int check_duration(const cJSON *root, struct ask *a, struct reply *r)
{
	const struct catalog_model *m = a->m;
	const cJSON *d;
	char value[32];

	if (member(root, "duration", cJSON_IsNumber, "an integer", &d, r) < 0)
		return -1;
	if (d == NULL) {
		a->secs = (unsigned)m->durations[m->n_durations - 1];
		return 0;
	}
	if (d->valuedouble != floor(d->valuedouble) || d->valuedouble < 1 ||
	    d->valuedouble > 3600) {
		or_error(r, 400, NULL, "Invalid 'duration': expected an integer >= 1, got %g.",
		         d->valuedouble);
		return -1;
	}
	for (size_t i = 0; i < m->n_durations; i++)
		if (m->durations[i] == (int)d->valuedouble) {
			a->secs = (unsigned)m->durations[i];
			return 0;
		}
	snprintf(value, sizeof(value), "%d", (int)d->valuedouble);
	unsupported(r, m, "duration", value,
	            cJSON_CreateIntArray(m->durations, (int)m->n_durations));
	return -1;
}

/* The whole request, in the order: body, model, prompt, duration, shape, frames, audio,
 * the other members' types, previous job, callback, then the prompt's hooks. */
static int read_ask(const cJSON *root, uint64_t owner, struct ask *a, struct reply *r)
{
	const cJSON *model, *prompt, *frames, *refs, *audio, *seed, *cb, *prev, *provider;

	if (member(root, "model", cJSON_IsString, "a string", &model, r) < 0)
		return -1;
	if (model == NULL) {
		or_error(r, 400, NULL, "Missing required parameter: 'model'.");
		return -1;
	}
	a->m = model_find(model->valuestring);
	if (a->m == NULL) {
		or_error(r, 400, NULL, "%.128s is not a valid video model ID", model->valuestring);
		return -1;
	}
	if (member(root, "prompt", cJSON_IsString, "a string", &prompt, r) < 0)
		return -1;
	if (prompt == NULL || prompt->valuestring[0] == '\0') {
		or_error(r, 400, NULL, "Model %s requires a 'prompt'.", a->m->id);
		return -1;
	}
	if (strlen(prompt->valuestring) > PROMPT_MAX_BYTES) {
		or_error(r, 400, NULL, "Invalid 'prompt': longer than %d bytes.", PROMPT_MAX_BYTES);
		return -1;
	}
	a->prompt = prompt->valuestring;
	if (check_duration(root, a, r) < 0 || check_shape(root, a, r) < 0)
		return -1;
	if (member(root, "frame_images", cJSON_IsArray, "an array", &frames, r) < 0 ||
	    (frames && check_frames(a->m, frames, r) < 0))
		return -1;
	if (member(root, "generate_audio", cJSON_IsBool, "a boolean", &audio, r) < 0)
		return -1;
	a->audio = audio ? cJSON_IsTrue(audio) : a->m->audio;
	if (a->audio && !a->m->audio) {
		or_error(r, 400, NULL, "Model %s does not support generate_audio.", a->m->id);
		return -1;
	}
	if (member(root, "input_references", cJSON_IsArray, "an array", &refs, r) < 0 ||
	    member(root, "seed", cJSON_IsNumber, "an integer", &seed, r) < 0 ||
	    member(root, "provider", cJSON_IsObject, "an object", &provider, r) < 0 ||
	    member(root, "callback_url", cJSON_IsString, "a string", &cb, r) < 0 ||
	    member(root, "previous_job_id", cJSON_IsString, "a string", &prev, r) < 0)
		return -1;
	if (seed && seed->valuedouble != floor(seed->valuedouble)) {
		or_error(r, 400, NULL, "Invalid 'seed': expected an integer, got %g.",
		         seed->valuedouble);
		return -1;
	}
	a->previous = prev ? prev->valuestring : NULL;
	if (a->previous && check_previous(a->m, a->previous, owner, r) < 0)
		return -1;
	a->callback = cb ? cb->valuestring : NULL;
	if (a->callback && check_callback(a->callback, r) < 0)
		return -1;
	/* Moderation as OpenRouter reports it: 403 with the reasons in metadata. */
	if (strstr(a->prompt, "[sim:moderation]")) {
		cJSON *md = cJSON_CreateObject();

		cJSON_AddItemToObject(
		    md, "reasons", cJSON_CreateStringArray((const char *const[]){"violence"}, 1));
		cJSON_AddStringToObject(md, "flagged_input", "[sim:moderation]");
		cJSON_AddStringToObject(md, "provider_name", "sora-sim");
		cJSON_AddStringToObject(md, "model_slug", a->m->id);
		or_error(r, 403, md,
		         "%s requires moderation on sora-sim. Your input was flagged "
		         "for \"violence\".",
		         a->m->id);
		return -1;
	}
	if (routes_status_hook(a->prompt, a->word) < 0) {
		or_error(r, 400, NULL,
		         "sora-sim: [sim:status=WORD] needs a WORD of 1 to %d letters, "
		         "digits, '_' or '-'.",
		         GATEWAY_STATUS_SIZE - 1);
		return -1;
	}
	return 0;
}

static void create(struct MHD_Connection *c, struct form *f, struct reply *r)
{
	const struct buf *raw = form_raw(f);
	uint64_t owner = key_owner(gateway_request_key(c));
	struct video_spec spec;
	struct ask a;
	struct job *j;
	cJSON *root, *v, *out;
	const cJSON *id;
	char url[GATEWAY_ID_SIZE + BASE_URL_MAX + 64];

	memset(&a, 0, sizeof(a));
	root = raw ? cJSON_ParseWithLength(raw->data ? raw->data : "", raw->len) : NULL;
	if (root == NULL || !cJSON_IsObject(root)) {
		or_error(r, 400, NULL,
		         "Invalid JSON body: expected an object (Content-Type: "
		         "application/json).");
		cJSON_Delete(root);
		return;
	}
	{
		char *compact = cJSON_PrintUnformatted(root);

		stats_log_body(compact);
		cJSON_free(compact);
	}
	if (read_ask(root, owner, &a, r) < 0) {
		cJSON_Delete(root);
		return;
	}
	memset(&spec, 0, sizeof(spec));
	snprintf(spec.model, sizeof(spec.model), "%s", a.m->id);
	snprintf(spec.size, sizeof(spec.size), "%ux%u", a.width, a.height);
	snprintf(spec.seconds, sizeof(spec.seconds), "%u", a.secs);
	spec.width = a.width;
	spec.height = a.height;
	spec.secs = a.secs;
	spec.prompt = a.prompt;
	snprintf(spec.status_word, sizeof(spec.status_word), "%s", a.word);
	if (a.previous)
		snprintf(spec.remixed_from, sizeof(spec.remixed_from), "%s", a.previous);

	j = xcalloc(1, sizeof(*j));
	j->owner = owner;
	j->cost = round(price_per_second(a.m, a.width, a.height, a.audio) * a.secs * 1e6) / 1e6;
	base_url(c, j->base, sizeof(j->base));
	if (a.callback)
		snprintf(j->callback, sizeof(j->callback), "%s", a.callback);

	/* The job is registered before the video exists to a poll: no poll can find a
	 * video without its job. */
	pthread_mutex_lock(&jobs_lock);
	v = videos_create(&spec);
	id = cJSON_GetObjectItemCaseSensitive(v, "id");
	j->id = xstrdup(cJSON_IsString(id) ? id->valuestring : "");
	{
		struct job **b = &buckets[fnv1a64(j->id, strlen(j->id)) % JOB_BUCKETS];

		j->next = *b;
		*b = j;
	}
	if (j->callback[0]) {
		j->next_pending = pending;
		pending = j;
		pthread_cond_signal(&jobs_cond);
	}
	pthread_mutex_unlock(&jobs_lock);
	cJSON_Delete(v);
	stats_count_create(a.prompt);

	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "id", j->id);
	job_url(url, sizeof(url), j->base, j->id, "");
	cJSON_AddStringToObject(out, "polling_url", url);
	cJSON_AddStringToObject(out, "status", "pending");
	reply_json(r, 202, out);
	cJSON_Delete(root);
}

void openrouter_handle(const struct route *rt, struct MHD_Connection *c, struct form *form,
                       struct reply *r)
{
	switch (rt->kind) {
	case RT_CREATE:
		create(c, form, r);
		break;
	case RT_RETRIEVE:
		retrieve(rt->id, c, r);
		break;
	case RT_CONTENT:
		content(rt->id, c, r);
		break;
	case RT_MODELS:
		models(r);
		break;
	case RT_BAD_METHOD:
		or_error(r, 405, NULL, "Method not allowed (%s %.200s). Allowed: %s.", rt->method,
		         rt->path, rt->allow);
		reply_header(r, "Allow", "%s", rt->allow);
		break;
	default:
		or_error(r, 404, NULL, "Not Found (%s %.200s)", rt->method, rt->path);
	}
}

/* ---------------------------------------------------------------- callbacks */

/* The event of a job that ended, as the documentation's examples give it
 * (guides/overview/multimodal/video-generation.mdx, "Webhook Payload"): type, created_at,
 * data {id, status, generation_id, model, unsigned_urls + usage | error}. */
static char *event_json(const struct job *j, const struct video_info *vi)
{
	char type[64], when[40], gen[GATEWAY_ID_SIZE + 8];
	int64_t ms = now_service_ms();
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	cJSON *root = cJSON_CreateObject(), *data;
	char *out;

	snprintf(type, sizeof(type), "video.generation.%s", status_word(vi));
	cJSON_AddStringToObject(root, "type", type);
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		when[0] = '\0';
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03dZ", (int)(ms % 1000));
	cJSON_AddStringToObject(root, "created_at", when);
	data = cJSON_AddObjectToObject(root, "data");
	cJSON_AddStringToObject(data, "id", j->id);
	cJSON_AddStringToObject(data, "status", status_word(vi));
	generation_id(j->id, gen, sizeof(gen));
	cJSON_AddStringToObject(data, "generation_id", gen);
	cJSON_AddStringToObject(data, "model", vi->model);
	if (vi->phase == VIDEO_COMPLETED) {
		cJSON *u = cJSON_AddArrayToObject(data, "unsigned_urls"), *usage;
		char url[GATEWAY_ID_SIZE + BASE_URL_MAX + 64];

		job_url(url, sizeof(url), j->base, j->id, "/content?index=0");
		cJSON_AddItemToArray(u, cJSON_CreateString(url));
		usage = cJSON_AddObjectToObject(data, "usage");
		cJSON_AddNumberToObject(usage, "cost", j->cost);
		cJSON_AddBoolToObject(usage, "is_byok", 0);
	} else {
		cJSON_AddStringToObject(data, "error", error_text(vi));
	}
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}

/* Waits until FD is ready for EVENTS or the deadline (monotonic ms) passes. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = events};

	for (;;) {
		int64_t left = deadline - now_mono_ms();
		int rc;

		if (left <= 0)
			return -1;
		rc = poll(&p, 1, (int)left);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

/* Connects to the host and port of URL (already checked: loopback) and sets *path. */
static int connect_url(const char *url, const char **path, int64_t deadline)
{
	char host[64], port[8] = "80";
	const char *h = url + 7, *end;
	struct addrinfo hints, *res = NULL;
	int fd = -1, rc, err = 0;
	socklen_t len = sizeof(err);

	if (*h == '[') {
		end = strchr(h, ']');
		snprintf(host, sizeof(host), "%.*s", (int)(end - h - 1), h + 1);
		end++;
	} else {
		end = h + strcspn(h, ":/?#");
		snprintf(host, sizeof(host), "%.*s", (int)(end - h), h);
	}
	if (*end == ':') {
		size_t n = strspn(end + 1, "0123456789");

		if (n > 0 && n < sizeof(port))
			snprintf(port, sizeof(port), "%.*s", (int)n, end + 1);
		end += 1 + n;
	}
	*path = *end == '/' ? end : "/";
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		log_warn("callback to %s: %s", url, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("callback to %s: socket: %s", url, strerror(errno));
	} else if (connect(fd, res->ai_addr, res->ai_addrlen) < 0 &&
	           (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) < 0 ||
	            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0)) {
		log_info("callback to %s: cannot connect: %s", url,
		         strerror(err     ? err
		                  : errno ? errno
		                          : ETIMEDOUT));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int send_all(int fd, const char *p, size_t n, int64_t deadline)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

		if (k > 0) {
			p += k;
			n -= (size_t)k;
			continue;
		}
		/* A hard error, or the receiver not reading before the deadline. */
		if ((k < 0 && errno != EAGAIN && errno != EINTR) ||
		    wait_fd(fd, POLLOUT, deadline) < 0)
			return -1;
	}
	return 0;
}

/* POSTs BODY to URL with OpenRouter's headers; the receiver's status, or -1 when it
 * could not be reached or answered no status line in time. Blocking, on the callback
 * thread only. */
static int deliver(const char *url, const char *id, const struct video_info *vi, const char *body)
{
	int64_t deadline = now_mono_ms() + CALLBACK_TIMEOUT_MS;
	char head[2048 + GATEWAY_ID_SIZE], sig[160] = "", line[64];
	const char *path;
	size_t got = 0;
	int fd, status = -1, k;

	if (conf.secret) {
		/* "{timestamp},{raw body}" under HMAC-SHA256, hex (the documentation's
		 * "Verifying Signatures"); the timestamp from the service's clock. */
		long long t = (long long)(now_service_ms() / 1000);
		char prefix[24], hex[2 * SHA256_LEN + 1];
		unsigned char mac[SHA256_LEN];
		const void *parts[2] = {prefix, body};
		size_t lens[2];

		snprintf(prefix, sizeof(prefix), "%lld,", t);
		lens[0] = strlen(prefix);
		lens[1] = strlen(body);
		hmac_sha256(conf.secret, conf.secret_len, parts, lens, 2, mac);
		hex_encode(mac, sizeof(mac), hex);
		snprintf(sig, sizeof(sig), "X-OpenRouter-Signature: t=%lld,v1=%s\r\n", t, hex);
	}
	fd = connect_url(url, &path, deadline);
	if (fd < 0)
		return -1;
	k = snprintf(head, sizeof(head),
	             "POST %s HTTP/1.1\r\nHost: %.*s\r\nUser-Agent: sora-sim\r\n"
	             "Content-Type: application/json\r\nContent-Length: %zu\r\n%s"
	             "X-OpenRouter-Idempotency-Key: %s-%s\r\nConnection: close\r\n\r\n",
	             path, (int)strcspn(url + 7, "/?#"), url + 7, strlen(body), sig, id,
	             status_word(vi));
	if (k < 0 || (size_t)k >= sizeof(head) || send_all(fd, head, (size_t)k, deadline) < 0 ||
	    send_all(fd, body, strlen(body), deadline) < 0) {
		log_info("callback to %s: cannot send: %s", url, strerror(errno));
		close(fd);
		return -1;
	}
	/* Only the status line matters: "HTTP/1.1 204 No Content". */
	while (got < sizeof(line) - 1 && memchr(line, '\n', got) == NULL) {
		ssize_t n = recv(fd, line + got, sizeof(line) - 1 - got, 0);

		if (n > 0)
			got += (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EINTR) ||
		         wait_fd(fd, POLLIN, deadline) < 0)
			break;
	}
	line[got] = '\0';
	close(fd);
	/* NOLINTNEXTLINE(cert-err34-c): a malformed line leaves status -1 */
	if (sscanf(line, "HTTP/%*d.%*d %d", &status) != 1) /* NOLINT(cert-err34-c) */
		status = -1;
	return status;
}

/* Sends the callbacks of the jobs that ended, each conf.callback_repeat times; a
 * delivery that fails (no answer, or not 2xx) is tried again CALLBACK_RETRY_MS later, at
 * most CALLBACK_ATTEMPTS times in a row. */
static void *callback_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&jobs_lock);
	while (!stopping) {
		struct job **pp = &pending;
		struct timespec ts;

		while (*pp && !stopping) {
			struct job *j = *pp;
			struct video_info vi;
			char *body, outcome[16];
			int status;

			if (j->next_try_ms > now_mono_ms() || videos_info(j->id, &vi) < 0 ||
			    vi.phase == VIDEO_QUEUED || vi.phase == VIDEO_RUNNING) {
				pp = &j->next_pending;
				continue;
			}
			body = event_json(j, &vi);
			/* Jobs are never freed before shutdown, and this thread alone unlinks
			 * pending ones: J stays valid without the lock. */
			pthread_mutex_unlock(&jobs_lock);
			status = deliver(j->callback, j->id, &vi, body);
			free(body);
			if (status < 0)
				snprintf(outcome, sizeof(outcome), "unreachable");
			else
				snprintf(outcome, sizeof(outcome), "%d", status);
			stats_count_callback(outcome);
			log_info("callback %s %s -> %s", j->id, status_word(&vi), outcome);
			pthread_mutex_lock(&jobs_lock);
			if (status >= 200 && status < 300) {
				j->attempts = 0;
				j->sent++;
			} else {
				j->attempts++;
				j->next_try_ms = now_mono_ms() + CALLBACK_RETRY_MS;
			}
			/* Jobs pushed (at the head) while the lock was released may stand
			 * before J now: find the link to J again. */
			for (pp = &pending; *pp && *pp != j; pp = &(*pp)->next_pending)
				;
			if (j->sent >= conf.callback_repeat || j->attempts >= CALLBACK_ATTEMPTS) {
				if (j->attempts >= CALLBACK_ATTEMPTS)
					log_warn("callback %s to %s: given up after %d attempts",
					         j->id, j->callback, CALLBACK_ATTEMPTS);
				*pp = j->next_pending;
				j->next_pending = NULL;
			} else {
				pp = &j->next_pending;
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += CALLBACK_TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!stopping)
			pthread_cond_timedwait(&jobs_cond, &jobs_lock, &ts);
	}
	pthread_mutex_unlock(&jobs_lock);
	return NULL;
}

int openrouter_start(const struct openrouter_conf *c)
{
	pthread_condattr_t ca;
	int rc;

	conf = *c;
	if (conf.callback_repeat == 0)
		conf.callback_repeat = 1;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&jobs_cond, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&callback_thread, NULL, callback_main, NULL);
	if (rc != 0) {
		log_err("pthread_create: %s", strerror(rc));
		return -1;
	}
	thread_running = true;
	return 0;
}

void openrouter_stop(void)
{
	if (thread_running) {
		pthread_mutex_lock(&jobs_lock);
		stopping = true;
		pthread_cond_signal(&jobs_cond);
		pthread_mutex_unlock(&jobs_lock);
		pthread_join(callback_thread, NULL);
		thread_running = false;
	}
	pthread_mutex_lock(&jobs_lock);
	for (size_t i = 0; i < JOB_BUCKETS; i++) {
		while (buckets[i]) {
			struct job *j = buckets[i];

			buckets[i] = j->next;
			free(j->id);
			free(j);
		}
	}
	pending = NULL;
	pthread_mutex_unlock(&jobs_lock);
}
