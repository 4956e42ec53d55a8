/* gateway.c - see gateway.h. */
#include "gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

enum id_style { IDS_OPENAI, IDS_LITELLM, IDS_B64, IDS_HUGE };

static char prefix[128] = "/v1";
static bool api_key_header; /* api-key: KEY instead of Authorization: Bearer KEY */
static enum id_style id_style = IDS_OPENAI;
static struct gateway_model *models;
static size_t n_models;
static enum gateway_list_mode list_mode = LIST_OK;
static struct gateway_shape shape;

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
	if (strcmp(style, "openai") == 0)
		id_style = IDS_OPENAI;
	else if (strcmp(style, "litellm") == 0)
		id_style = IDS_LITELLM;
	else if (strcmp(style, "b64") == 0)
		id_style = IDS_B64;
	else if (strcmp(style, "huge") == 0)
		id_style = IDS_HUGE;
	else {
		snprintf(why, n, "expected 'openai', 'litellm', 'b64' or 'huge', got '%s'", style);
		return -1;
	}
	return 0;
}

int gateway_set_list_mode(const char *mode, char *why, size_t n)
{
	static const struct {
		const char *name;
		enum gateway_list_mode mode;
	} modes[] = {
	    {"ok", LIST_OK},
	    {"404", LIST_404},
	    {"405", LIST_405},
	    {"501", LIST_501},
	    {"litellm-500", LIST_LITELLM_500},
	};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(mode, modes[i].name) == 0) {
			list_mode = modes[i].mode;
			return 0;
		}
	}
	snprintf(why, n, "expected 'ok', '404', '405', '501' or 'litellm-500', got '%s'", mode);
	return -1;
}

void gateway_set_shape(const struct gateway_shape *s)
{
	shape = *s;
}

enum gateway_list_mode gateway_list_mode(void)
{
	return list_mode;
}

const struct gateway_shape *gateway_shape(void)
{
	return &shape;
}

const char *gateway_answer_model(const char *model)
{
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

/* Standard base64 with padding, as Python's base64.b64encode writes it. */
static void base64(const unsigned char *in, size_t len, char *out, size_t size)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 <= size; i += 3) {
		unsigned v = (unsigned)in[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? tab[v & 63] : '=';
	}
	out[o] = '\0';
}

/*
 * LiteLLM's proxy answers with "video_" + base64("litellm:custom_llm_provider:P;
 * model_id:M;video_id:ORIGINAL") (litellm/types/videos/utils.py), standard alphabet and
 * padding, so ids are about 200 characters and may hold '+' and '='. An id holding '/'
 * could not be fetched through the proxy's own /videos/{video_id} routes, so the
 * simulator draws again until there is none. M is the deployment's id, fixed here.
 */
static void litellm_id(char *buf, size_t size, uint64_t a, uint64_t b)
{
	char plain[256], enc[400];

	for (;;) {
		int k = snprintf(plain, sizeof(plain),
		                 "litellm:custom_llm_provider:openai;model_id:"
		                 "5f2b8c1e9a7d4e3f8b6c2a1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f;"
		                 "video_id:video_%016llx%016llx",
		                 (unsigned long long)a, (unsigned long long)b);

		base64((const unsigned char *)plain, (size_t)k, enc, sizeof(enc));
		if (strchr(enc, '/') == NULL)
			break;
		b = splitmix64(&b);
	}
	snprintf(buf, size, "video_%s", enc);
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
	base64(raw, sizeof(raw), enc, sizeof(enc));
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

void gateway_video_id(char *buf, size_t size, uint64_t a, uint64_t b)
{
	switch (id_style) {
	case IDS_LITELLM:
		litellm_id(buf, size, a, b);
		break;
	case IDS_B64:
		b64_id(buf, size, a, b);
		break;
	case IDS_HUGE:
		huge_id(buf, size, a, b);
		break;
	default:
		snprintf(buf, size, "video_%016llx%016llx", (unsigned long long)a,
		         (unsigned long long)b);
	}
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
