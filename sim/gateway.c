/* gateway.c - see gateway.h. */
#include "gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

enum id_style { IDS_OPENAI, IDS_LITELLM, IDS_LITELLM_VEO, IDS_B64, IDS_HUGE, IDS_OPENROUTER };

struct answer_model {
	char *requested, *answered; /* owned */
};

static char prefix[128] = "/v1";
static bool api_key_header; /* api-key: KEY instead of Authorization: Bearer KEY */
static enum id_style id_style = IDS_OPENAI;
static struct gateway_model *models;
static size_t n_models;
static enum gateway_list_mode list_mode = LIST_OK;
static struct gateway_shape shape;
static struct gateway_content content;
static enum gateway_delete_mode delete_mode = DELETE_OK;
static enum gateway_remix_mode remix_mode = REMIX_OK;
static struct answer_model *answer_models;
static size_t n_answer_models;

struct choice {
	const char *name;
	int value;
};

/* Sets *out to the value of the choice named S, or writes what was expected to WHY. */
static int choose(const char *s, const struct choice *v, size_t nv, int *out, char *why, size_t n)
{
	size_t used = 0;

	for (size_t i = 0; i < nv; i++) {
		if (strcmp(s, v[i].name) == 0) {
			*out = v[i].value;
			return 0;
		}
	}
	for (size_t i = 0; i < nv && used < n; i++) {
		int k = snprintf(why + used, n - used, "%s'%s'", i == 0 ? "expected " : ", ",
		                 v[i].name);

		if (k < 0)
			break;
		used += (size_t)k;
	}
	if (used < n)
		snprintf(why + used, n - used, ", got '%s'", s);
	return -1;
}

int gateway_set_prefix(const char *p, char *why, size_t n)
{
	size_t len = strlen(p);

	while (len > 1 && p[len - 1] == '/')
		len--; /* "/openai/v1/" is "/openai/v1" */
	if (p[0] != '/' || len >= sizeof(prefix) || strpbrk(p, "?#% ") != NULL) {
		snprintf(why, n, "expected a path such as /openai/v1, got '%s'", p);
		return -1;
	}
	/* "/" serves the API at the root: /videos. */
	snprintf(prefix, sizeof(prefix), "%.*s", len == 1 ? 0 : (int)len, p);
	return 0;
}

int gateway_set_auth(const char *header, char *why, size_t n)
{
	if (strcasecmp(header, "authorization") == 0 || strcasecmp(header, "bearer") == 0)
		api_key_header = false;
	else if (strcasecmp(header, "api-key") == 0)
		api_key_header = true;
	else {
		snprintf(why, n, "expected 'authorization' or 'api-key', got '%s'", header);
		return -1;
	}
	return 0;
}

int gateway_set_ids(const char *style, char *why, size_t n)
{
	static const struct choice styles[] = {
	    {"openai", IDS_OPENAI}, {"litellm", IDS_LITELLM}, {"litellm-veo", IDS_LITELLM_VEO},
	    {"b64", IDS_B64},       {"huge", IDS_HUGE},       {"openrouter", IDS_OPENROUTER},
	};
	int v;

	if (choose(style, styles, sizeof(styles) / sizeof(styles[0]), &v, why, n) < 0)
		return -1;
	id_style = (enum id_style)v;
	return 0;
}

#define NCHOICES(a) (sizeof(a) / sizeof((a)[0]))

int gateway_set_list_mode(const char *mode, char *why, size_t n)
{
	static const struct choice modes[] = {
	    {"ok", LIST_OK},
	    {"404", LIST_404},
	    {"405", LIST_405},
	    {"501", LIST_501},
	    {"litellm-500", LIST_LITELLM_500},
	};
	int v;

	if (choose(mode, modes, NCHOICES(modes), &v, why, n) < 0)
		return -1;
	list_mode = (enum gateway_list_mode)v;
	return 0;
}

int gateway_set_delete_mode(const char *mode, char *why, size_t n)
{
	static const struct choice modes[] = {
	    {"ok", DELETE_OK},
	    {"fastapi-405", DELETE_FASTAPI_405},
	    {"litellm-500", DELETE_LITELLM_500},
	};
	int v;

	if (choose(mode, modes, NCHOICES(modes), &v, why, n) < 0)
		return -1;
	delete_mode = (enum gateway_delete_mode)v;
	return 0;
}

int gateway_set_remix_mode(const char *mode, char *why, size_t n)
{
	static const struct choice modes[] = {
	    {"ok", REMIX_OK},
	    {"litellm-500", REMIX_LITELLM_500},
	};
	int v;

	if (choose(mode, modes, NCHOICES(modes), &v, why, n) < 0)
		return -1;
	remix_mode = (enum gateway_remix_mode)v;
	return 0;
}

int gateway_parse_retrieve_id(const char *s, enum gateway_retrieve_id *out, char *why, size_t n)
{
	static const struct choice ids[] = {
	    {"same", RETRIEVE_ID_SAME},
	    {"empty", RETRIEVE_ID_EMPTY},
	    {"raw", RETRIEVE_ID_RAW},
	    {"reencoded", RETRIEVE_ID_REENCODED},
	};
	int v;

	if (choose(s, ids, NCHOICES(ids), &v, why, n) < 0)
		return -1;
	*out = (enum gateway_retrieve_id)v;
	return 0;
}

int gateway_parse_chunked(const char *s, enum gateway_chunked *out, char *why, size_t n)
{
	static const struct choice v[] = {
	    {"none", CHUNKED_NONE},
	    {"content", CHUNKED_CONTENT},
	    {"all", CHUNKED_ALL},
	};
	int c;

	if (choose(s, v, NCHOICES(v), &c, why, n) < 0)
		return -1;
	*out = (enum gateway_chunked)c;
	return 0;
}

bool gateway_status_word_ok(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len < GATEWAY_STATUS_SIZE &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == len;
}

int gateway_add_answer_model(const char *spec, char *why, size_t n)
{
	const char *eq = strchr(spec, '=');
	size_t req_len = eq ? (size_t)(eq - spec) : 0;

	if (eq == NULL || req_len == 0 || req_len >= 32 || eq[1] == '\0' || strlen(eq + 1) >= 64) {
		snprintf(why, n,
		         "expected REQUESTED=ANSWERED such as veo-3=veo-3.0-generate-preview, "
		         "got '%s'",
		         spec);
		return -1;
	}
	answer_models = xrealloc(answer_models, (n_answer_models + 1) * sizeof(*answer_models));
	answer_models[n_answer_models].requested = xstrndup(spec, req_len);
	answer_models[n_answer_models].answered = xstrdup(eq + 1);
	n_answer_models++;
	return 0;
}

void gateway_set_shape(const struct gateway_shape *s)
{
	shape = *s;
}

void gateway_set_content(const struct gateway_content *c)
{
	content = *c;
}

enum gateway_list_mode gateway_list_mode(void)
{
	return list_mode;
}

enum gateway_delete_mode gateway_delete_mode(void)
{
	return delete_mode;
}

enum gateway_remix_mode gateway_remix_mode(void)
{
	return remix_mode;
}

const struct gateway_shape *gateway_shape(void)
{
	return &shape;
}

const struct gateway_content *gateway_content(void)
{
	return &content;
}

const char *gateway_answer_model(const char *model)
{
	/* The last --answer-model for a name wins, as a later option overrides a profile. */
	for (size_t i = n_answer_models; i-- > 0;)
		if (strcmp(answer_models[i].requested, model) == 0)
			return answer_models[i].answered;
	/* The snapshots OpenAI and Azure name (providers.md: "sora-2 2025-10-06"). */
	if (shape.dated_models && strcmp(model, "sora-2") == 0)
		return "sora-2-2025-10-06";
	if (shape.dated_models && strcmp(model, "sora-2-pro") == 0)
		return "sora-2-pro-2025-10-06";
	return model;
}

static void free_list(const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)v[i]);
	free((void *)v);
}

/* Splits S at commas into a new array of new strings; 0 on an empty item. */
static size_t split_list(const char *s, size_t len, const char ***out)
{
	const char **v = NULL;
	size_t count = 0;
	const char *p = s, *end = s + len;

	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;

		if (stop == p) {
			free_list(v, count);
			*out = NULL;
			return 0;
		}
		v = xrealloc(v, (count + 1) * sizeof(*v));
		v[count++] = xstrndup(p, (size_t)(stop - p));
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	*out = v;
	return count;
}

static bool valid_size(const char *s)
{
	unsigned w, h;
	char extra;

	/* NOLINTNEXTLINE(cert-err34-c): the trailing %c rejects anything after WxH */
	return sscanf(s, "%ux%u%c", &w, &h, &extra) == 2 && w > 0 && h > 0 && w <= 8192 &&
	       h <= 8192;
}

static bool valid_seconds(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	return *s >= '0' && *s <= '9' && *end == '\0' && v > 0 && v <= 600;
}

int gateway_add_model(const char *spec, char *why, size_t n)
{
	const char *c1 = strchr(spec, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	struct gateway_model m;
	const char **sizes = NULL, **secs = NULL;
	size_t name_len = c1 ? (size_t)(c1 - spec) : 0;

	memset(&m, 0, sizeof(m));
	if (c1 == NULL || name_len == 0 || name_len >= 32)
		goto bad;
	m.n_sizes = split_list(c1 + 1, c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1), &sizes);
	if (c2)
		m.n_seconds = split_list(c2 + 1, strlen(c2 + 1), &secs);
	else
		m.n_seconds = split_list("4,8,12", 6, &secs);
	m.sizes = sizes;
	m.seconds = secs;
	if (m.n_sizes == 0 || m.n_seconds == 0)
		goto bad_lists;
	for (size_t i = 0; i < m.n_sizes; i++)
		if (!valid_size(sizes[i]))
			goto bad_lists;
	for (size_t i = 0; i < m.n_seconds; i++)
		if (!valid_seconds(secs[i]))
			goto bad_lists;
	m.name = xstrndup(spec, name_len);
	models = xrealloc(models, (n_models + 1) * sizeof(*models));
	models[n_models++] = m;
	return 0;
bad_lists:
	free_list(sizes, m.n_sizes);
	free_list(secs, m.n_seconds);
bad:
	snprintf(why, n,
	         "expected NAME:SIZE,SIZE...:SECONDS,SECONDS... such as "
	         "my-sora:1280x720,720x1280:4,8,12, got '%s'",
	         spec);
	return -1;
}

void gateway_shutdown(void)
{
	for (size_t i = 0; i < n_models; i++) {
		free((char *)models[i].name);
		free_list(models[i].sizes, models[i].n_sizes);
		free_list(models[i].seconds, models[i].n_seconds);
	}
	free(models);
	models = NULL;
	n_models = 0;
	for (size_t i = 0; i < n_answer_models; i++) {
		free(answer_models[i].requested);
		free(answer_models[i].answered);
	}
	free(answer_models);
	answer_models = NULL;
	n_answer_models = 0;
}

const char *gateway_api_path(const char *url)
{
	size_t len = strlen(prefix);

	if (strncmp(url, prefix, len) != 0 || url[len] != '/')
		return NULL;
	return url + len;
}

const char *gateway_prefix(void)
{
	return prefix;
}

const char *gateway_request_key(struct MHD_Connection *c)
{
	const char *h;

	if (api_key_header)
		return MHD_lookup_connection_value(c, MHD_HEADER_KIND, "api-key");
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return h;
}

const char *gateway_auth_hint(void)
{
	return api_key_header ? "api-key: YOUR_KEY" : "Authorization: Bearer YOUR_KEY";
}

/* The provider LiteLLM names in its ids: the Veo backend is Gemini's. */
static const char *litellm_provider(void)
{
	return id_style == IDS_LITELLM_VEO ? "gemini" : "openai";
}

/*
 * LiteLLM's proxy answers with "video_" + base64("litellm:custom_llm_provider:P;
 * model_id:M;video_id:ORIGINAL") (litellm/types/videos/utils.py,
 * encode_video_id_with_provider; a missing M is written empty), standard alphabet and
 * padding, so ids are about 200 characters and may hold '+', '/' and '='.
 */
void gateway_litellm_encode(const char *raw, const char *model_id, char *out, size_t size)
{
	char plain[GATEWAY_ID_SIZE], enc[GATEWAY_ID_SIZE];
	int k =
	    snprintf(plain, sizeof(plain), "litellm:custom_llm_provider:%s;model_id:%s;video_id:%s",
	             litellm_provider(), model_id, raw);

	if (k < 0 || (size_t)k >= sizeof(plain) || (size_t)k / 3 * 4 + 12 >= sizeof(enc)) {
		snprintf(out, size, "%s", raw); /* no such long raw ids are made here */
		return;
	}
	base64_encode((const unsigned char *)plain, (size_t)k, enc, sizeof(enc));
	snprintf(out, size, "video_%s", enc);
}

/* As decode_video_id_with_provider in litellm/types/videos/utils.py: strip "video_",
 * restore the padding, decode, and take what follows "video_id:" in the third ';' part. */
int gateway_litellm_decode(const char *id, char *raw, size_t size)
{
	struct buf plain = BUF_INIT;
	const char *v;
	int rc = -1;

	if (strncmp(id, "video_", 6) != 0 || base64_decode(id + 6, &plain) < 0 || plain.len == 0)
		goto out;
	if (strncmp(plain.data, "litellm:custom_llm_provider:", 28) != 0 ||
	    strlen(plain.data) != plain.len)
		goto out;
	v = strstr(plain.data, ";video_id:");
	if (v == NULL || strchr(plain.data, ';') == v)
		goto out; /* no model_id part */
	if (bsnprintf(raw, size, "%s", v + 10) == 0)
		rc = 0;
out:
	buf_release(&plain);
	return rc;
}

/*
 * LiteLLM in front of OpenAI: M is the deployment's id, fixed here. An id holding '/'
 * could not be fetched through the proxy's own /videos/{video_id} routes, so the
 * simulator draws again until there is none (the Veo style does not: see
 * sim/README.md).
 */
static void litellm_id(char *buf, size_t size, char *raw, size_t raw_size, uint64_t a, uint64_t b)
{
	for (;;) {
		snprintf(raw, raw_size, "video_%016llx%016llx", (unsigned long long)a,
		         (unsigned long long)b);
		gateway_litellm_encode(
		    raw, "5f2b8c1e9a7d4e3f8b6c2a1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f", buf,
		    size);
		if (strchr(buf, '/') == NULL)
			break;
		b = splitmix64(&b);
	}
}

/*
 * LiteLLM in front of Gemini's Veo: the upstream id is the long-running operation's
 * name, "models/MODEL/operations/ID", and the create encodes it with the backend's
 * model name in the model_id slot (litellm/llms/gemini/videos/transformation.py,
 * transform_video_create_response: encode_video_id_with_provider(operation_name,
 * custom_llm_provider, model)).
 */
static void litellm_veo_id(char *buf, size_t size, char *raw, size_t raw_size, uint64_t a,
                           uint64_t b, const char *model)
{
	const char *backend = gateway_answer_model(model);

	snprintf(raw, raw_size, "models/%s/operations/%016llx%04llx", backend,
	         (unsigned long long)a, (unsigned long long)(b & 0xffff));
	gateway_litellm_encode(raw, backend, buf, size);
}

/*
 * The id a client percent-encodes wrong, if it can: standard base64 of three marker
 * bytes, which encode as "+/+/", then the 16 bytes of A and B, 19 bytes in all, so the
 * last group is padded with "==". Distinct (A, B) give distinct ids; 34 characters.
 */
static void b64_id(char *buf, size_t size, uint64_t a, uint64_t b)
{
	unsigned char raw[19] = {0xfb, 0xff, 0xbf};
	char enc[32];

	for (int i = 0; i < 8; i++) {
		raw[3 + i] = (unsigned char)(a >> (56 - 8 * i));
		raw[11 + i] = (unsigned char)(b >> (56 - 8 * i));
	}
	base64_encode(raw, sizeof(raw), enc, sizeof(enc));
	snprintf(buf, size, "video_%s", enc);
}

/* GATEWAY_HUGE_ID_LEN characters: "video_", the 32 hex digits of the openai style
 * (which keep ids distinct), then letters and digits drawn from A and B. */
static void huge_id(char *buf, size_t size, uint64_t a, uint64_t b)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	uint64_t st = a ^ (b * 0x9e3779b97f4a7c15ULL);
	int k = snprintf(buf, size, "video_%016llx%016llx", (unsigned long long)a,
	                 (unsigned long long)b);
	size_t i;

	if (k < 0 || (size_t)k >= size)
		return; /* cut short by a small buffer, still terminated */
	for (i = (size_t)k; i + 1 < size && i < GATEWAY_HUGE_ID_LEN; i++)
		buf[i] = tab[splitmix64(&st) % (sizeof(tab) - 1)];
	buf[i] = '\0';
}

/* OpenRouter's job ids, as @openrouter/sdk describes them (VideoGenerationResponse.id):
 * "gen-vid-<unix seconds>-<20 alphanumerics>"; the seconds from the service's clock,
 * the letters from the seed. */
static void openrouter_id(char *buf, size_t size, uint64_t a, uint64_t b)
{
	static const char alnum[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	char tail[21];
	uint64_t st = a ^ (b * 0x9e3779b97f4a7c15ULL);

	for (size_t i = 0; i < sizeof(tail) - 1; i++)
		tail[i] = alnum[splitmix64(&st) % (sizeof(alnum) - 1)];
	tail[sizeof(tail) - 1] = '\0';
	snprintf(buf, size, "gen-vid-%lld-%s", (long long)(now_service_ms() / 1000), tail);
}

void gateway_video_id(char *buf, size_t size, char *raw, size_t raw_size, uint64_t a, uint64_t b,
                      const char *model)
{
	switch (id_style) {
	case IDS_LITELLM:
		litellm_id(buf, size, raw, raw_size, a, b);
		return;
	case IDS_LITELLM_VEO:
		litellm_veo_id(buf, size, raw, raw_size, a, b, model);
		return;
	case IDS_B64:
		b64_id(buf, size, a, b);
		break;
	case IDS_HUGE:
		huge_id(buf, size, a, b);
		break;
	case IDS_OPENROUTER:
		openrouter_id(buf, size, a, b);
		break;
	default:
		snprintf(buf, size, "video_%016llx%016llx", (unsigned long long)a,
		         (unsigned long long)b);
	}
	snprintf(raw, raw_size, "%s", buf);
}

size_t gateway_models(const struct gateway_model **out)
{
	*out = models;
	return n_models;
}

const struct gateway_model *gateway_model_find(const char *name)
{
	for (size_t i = 0; i < n_models; i++)
		if (strcmp(models[i].name, name) == 0)
			return &models[i];
	return NULL;
}
