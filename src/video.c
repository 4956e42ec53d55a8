/* video.c — defensive parsing of Video, list, delete and error JSON (see video.h). */
#include "video.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "utf8.h"
#include "util.h"

void video_init(struct video *v)
{
	memset(v, 0, sizeof(*v));
	v->status = VIDEO_UNKNOWN;
	v->created_at = v->completed_at = v->expires_at = -1;
	v->progress = -1;
	v->usage_cost = -1;
}

void video_release(struct video *v)
{
	free(v->id);
	free(v->object);
	free(v->model);
	free(v->status_raw);
	free(v->prompt);
	free(v->size);
	free(v->seconds);
	free(v->remixed_from_video_id);
	free(v->error_code);
	free(v->error_message);
	free(v->usage_json);
	video_init(v);
}

void video_move(struct video *dst, struct video *src)
{
	if (dst == src)
		return;
	video_release(dst);
	*dst = *src;
	video_init(src);
}

const char *video_status_name(enum video_status s)
{
	switch (s) {
	case VIDEO_QUEUED:
		return "queued";
	case VIDEO_IN_PROGRESS:
		return "in_progress";
	case VIDEO_COMPLETED:
		return "completed";
	case VIDEO_FAILED:
		return "failed";
	case VIDEO_CANCELLED:
		return "cancelled";
	case VIDEO_EXPIRED:
		return "expired";
	case VIDEO_UNKNOWN:
		break;
	}
	return "unknown";
}

void video_list_init(struct video_list *l)
{
	memset(l, 0, sizeof(*l));
}

void video_list_release(struct video_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		video_release(&l->data[i]);
	free(l->data);
	free(l->first_id);
	free(l->last_id);
	video_list_init(l);
}

void api_error_init(struct api_error *e)
{
	memset(e, 0, sizeof(*e));
	e->kind = API_OK;
}

void api_error_release(struct api_error *e)
{
	free(e->type);
	free(e->code);
	free(e->param);
	free(e->message);
	api_error_init(e);
}

bool video_id_is_safe(const char *id)
{
	size_t n = 0;

	if (!id || !*id)
		return false;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++, n++) {
		if (n >= VIDEO_ID_MAX)
			return false;
		if (*p <= 0x20 || *p >= 0x7f)
			return false; /* controls, space, DEL, non-ASCII */
		if (*p == '\\' || *p == '"' || *p == '\'' || *p == '`')
			return false;
	}
	/* "." and ".." stay out: curl would remove them from a path as dot segments. */
	return strcmp(id, ".") != 0 && strcmp(id, "..") != 0;
}

char *video_id_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = xmalloc(n * 3 + 1), *o = out;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

/* ---- text helpers ---- */

/* Copies S[LEN] as valid UTF-8 of at most MAX bytes (cut at a character boundary),
 * each invalid byte as U+FFFD; control characters become spaces, except newline and
 * tab when KEEP_LINES. *TRUNCATED (may be NULL) tells whether input was dropped. */
static char *text_copy(const char *s, size_t len, size_t max, bool keep_lines, bool *truncated)
{
	static const char repl[] = "\xef\xbf\xbd";
	size_t cap = len < max ? len : max;
	char *out = xmalloc(cap * 3 < max ? cap * 3 + 1 : max + 1);
	size_t o = 0, i = 0;
	bool cut = false;

	while (i < len && !cut) {
		size_t ok = utf8_valid_prefix(s + i, len - i);

		if (ok == 0) { /* one invalid byte (or a NUL) */
			if (o + 3 > max) {
				cut = true;
				break;
			}
			memcpy(out + o, repl, 3);
			o += 3;
			i++;
			continue;
		}
		if (ok > max - o) {
			ok = utf8_valid_prefix(s + i, max - o);
			cut = true;
		}
		for (size_t k = 0; k < ok; k++) {
			unsigned char c = (unsigned char)s[i + k];
			bool ctl = c < 0x20 || c == 0x7f;
			if (ctl && !(keep_lines && (c == '\n' || c == '\t')))
				c = ' ';
			out[o + k] = (char)c;
		}
		o += ok;
		i += ok;
	}
	out[o] = '\0';
	if (truncated)
		*truncated = cut;
	return out;
}

char *video_text_sanitize(const char *s, size_t len, size_t max)
{
	return text_copy(s, len, max, false, NULL);
}

/* ---- field getters: each returns the value or NULL/-1 per the rules in video.h ---- */

static char *get_token(const cJSON *obj, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	const char *s;
	size_t n;

	if (!cJSON_IsString(it) || !it->valuestring)
		return NULL;
	s = it->valuestring;
	n = strlen(s);
	if (n == 0 || n > VIDEO_TOKEN_MAX)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return NULL;
	return xstrdup(s);
}

static char *get_text(const cJSON *obj, const char *key, size_t max, bool keep_lines,
                      bool *truncated)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (truncated)
		*truncated = false;
	if (!cJSON_IsString(it) || !it->valuestring)
		return NULL;
	return text_copy(it->valuestring, strlen(it->valuestring), max, keep_lines, truncated);
}

/* 0: absent, null or "" (*out NULL); 1: a safe id (*out set); -1: present but unsafe. */
static int get_id(const cJSON *obj, const char *key, char **out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (!it || cJSON_IsNull(it) || (cJSON_IsString(it) && it->valuestring && !*it->valuestring))
		return 0;
	if (!cJSON_IsString(it) || !video_id_is_safe(it->valuestring))
		return -1;
	*out = xstrdup(it->valuestring);
	return 1;
}

static long long get_time(const cJSON *obj, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	double d;

	if (!cJSON_IsNumber(it))
		return -1;
	d = it->valuedouble;
	/* 0 too: gateways send created_at 0 when they do not know */
	if (!isfinite(d) || d <= 0 || d > (double)VIDEO_TIME_MAX || !dbl_is_integer(d))
		return -1;
	return (long long)d;
}

static int get_progress(const cJSON *obj)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, "progress");
	double d;

	if (!cJSON_IsNumber(it) || isnan(it->valuedouble))
		return -1; /* the service says nothing: unknown, not 0 % */
	d = it->valuedouble;
	if (d <= 0)
		return 0;
	if (d >= 100)
		return 100;
	return (int)d;
}

/* `seconds` is a string in the protocol; a small integer is accepted and formatted. */
static char *get_seconds(const cJSON *obj)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, "seconds");

	if (cJSON_IsNumber(it)) {
		double d = it->valuedouble;
		if (isfinite(d) && d >= 0 && d <= 100000 && dbl_is_integer(d))
			return xasprintf("%ld", (long)d);
		return NULL;
	}
	return get_token(obj, "seconds");
}

/* The one place where a service's status word gets its meaning (video.h): OpenAI's
 * four, and what gateways and other relays say for the same states. */
static const struct {
	const char *word;
	enum video_status status;
} status_words[] = {
    {"queued", VIDEO_QUEUED},          {"pending", VIDEO_QUEUED},
    {"in_queue", VIDEO_QUEUED},        {"in_progress", VIDEO_IN_PROGRESS},
    {"processing", VIDEO_IN_PROGRESS}, {"running", VIDEO_IN_PROGRESS},
    {"completed", VIDEO_COMPLETED},    {"failed", VIDEO_FAILED},
    {"cancelled", VIDEO_CANCELLED},    {"canceled", VIDEO_CANCELLED},
    {"expired", VIDEO_EXPIRED},
};

bool video_status_is_final(enum video_status s)
{
	return s == VIDEO_COMPLETED || s == VIDEO_FAILED || s == VIDEO_CANCELLED ||
	       s == VIDEO_EXPIRED;
}

enum video_status video_status_from(const char *s)
{
	if (!s)
		return VIDEO_UNKNOWN;
	for (size_t i = 0; i < ARRAY_LEN(status_words); i++)
		if (strcasecmp(s, status_words[i].word) == 0)
			return status_words[i].status;
	return VIDEO_UNKNOWN;
}

/* The "usage" object some gateways add: kept whole (bounded), its cost picked out. */
static void get_usage(struct video *v, const cJSON *o)
{
	static const char *const cost_keys[] = {"cost", "cost_usd", "total_cost"};
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "usage");

	if (!cJSON_IsObject(u))
		return;
	char *text = cJSON_PrintUnformatted(u);
	if (text && strlen(text) <= VIDEO_USAGE_MAX)
		v->usage_json = xstrdup(text);
	cJSON_free(text);
	for (size_t i = 0; i < ARRAY_LEN(cost_keys); i++) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(u, cost_keys[i]);
		if (cJSON_IsNumber(c) && isfinite(c->valuedouble) && c->valuedouble >= 0 &&
		    c->valuedouble < 1e9) {
			v->usage_cost = c->valuedouble;
			break;
		}
	}
}

static void set_err(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		bcopy_str(err, errlen, msg);
}

/* Fills V from a JSON object; -1 with err set when it is not an acceptable Video
 * (NEED_ID: one without an id is not either). */
static int video_from_json(struct video *v, const cJSON *o, bool need_id, char *err, size_t errlen)
{
	int idrc;

	const cJSON *st, *e;

	video_init(v);
	if (!cJSON_IsObject(o)) {
		set_err(err, errlen, "a video is not a JSON object");
		return -1;
	}
	idrc = get_id(o, "id", &v->id);
	if (idrc < 0 || (need_id && idrc == 0)) {
		set_err(err, errlen, "video id missing, not a string, too long or unsafe");
		goto fail;
	}
	st = cJSON_GetObjectItemCaseSensitive(o, "status");
	if (!cJSON_IsString(st)) {
		set_err(err, errlen, "video status missing or not a string");
		goto fail;
	}
	v->status_raw = get_token(o, "status");
	v->status = video_status_from(v->status_raw);
	if (get_id(o, "remixed_from_video_id", &v->remixed_from_video_id) < 0) {
		set_err(err, errlen, "remixed_from_video_id is not a safe id");
		goto fail;
	}
	v->object = get_token(o, "object");
	v->model = get_token(o, "model");
	v->size = get_token(o, "size");
	v->seconds = get_seconds(o);
	v->progress = get_progress(o);
	v->created_at = get_time(o, "created_at");
	v->completed_at = get_time(o, "completed_at");
	v->expires_at = get_time(o, "expires_at");
	v->prompt = get_text(o, "prompt", VIDEO_PROMPT_MAX, true, &v->prompt_truncated);
	get_usage(v, o);
	e = cJSON_GetObjectItemCaseSensitive(o, "error");
	if (cJSON_IsObject(e)) {
		v->has_error = true;
		v->error_code = get_token(e, "code");
		v->error_message = get_text(e, "message", VIDEO_MESSAGE_MAX, false, NULL);
	}
	return 0;
fail:
	video_release(v);
	return -1;
}

/* True when the JSON text escapes a NUL character (\u0000) in a string: cJSON would
 * silently cut the string there, turning "x\u0000y" into the different id "x". */
static bool has_nul_escape(const char *json, size_t len)
{
	for (const char *p = json; (p = memchr(p, '\\', (size_t)(json + len - p)));) {
		size_t run = 0;
		while (p + run < json + len && p[run] == '\\')
			run++;
		p += run;
		if ((run & 1) && json + len - p >= 5 && p[0] == 'u' &&
		    strncmp(p + 1, "0000", 4) == 0)
			return true;
	}
	return false;
}

/* Parses JSON[LEN] into a tree whose root is an object; NULL with err/syntax set. */
static cJSON *parse_root(const char *json, size_t len, bool *syntax, char *err, size_t errlen)
{
	const char *end = NULL;
	cJSON *root;

	if (syntax)
		*syntax = false;
	if (!json) {
		set_err(err, errlen, "no response body");
		if (syntax)
			*syntax = true;
		return NULL;
	}
	if (len > VIDEO_JSON_MAX) {
		set_err(err, errlen, "response body larger than the 1 MiB limit");
		return NULL;
	}
	if (has_nul_escape(json, len)) {
		set_err(err, errlen, "response has a NUL character in a string");
		return NULL;
	}
	root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (!root) {
		set_err(err, errlen, "response body is not valid JSON (truncated or garbled)");
		if (syntax)
			*syntax = true;
		return NULL;
	}
	for (; end && end < json + len; end++) {
		if (*end != ' ' && *end != '\t' && *end != '\r' && *end != '\n' && *end) {
			set_err(err, errlen, "response body has bytes after the JSON value");
			if (syntax)
				*syntax = true;
			cJSON_Delete(root);
			return NULL;
		}
	}
	if (!cJSON_IsObject(root)) {
		set_err(err, errlen, "response body is JSON but not an object");
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

int video_parse(struct video *v, const char *json, size_t len, bool *syntax, char *err,
                size_t errlen)
{
	cJSON *root = parse_root(json, len, syntax, err, errlen);
	int rc;

	video_init(v);
	if (!root)
		return -1;
	rc = video_from_json(v, root, false, err, errlen);
	cJSON_Delete(root);
	return rc;
}

int video_list_parse(struct video_list *l, const char *json, size_t len, bool *syntax, char *err,
                     size_t errlen)
{
	cJSON *root = parse_root(json, len, syntax, err, errlen);
	const cJSON *data, *it;
	size_t cap;

	video_list_init(l);
	if (!root)
		return -1;
	data = cJSON_GetObjectItemCaseSensitive(root, "data");
	if (!cJSON_IsArray(data)) {
		set_err(err, errlen, "list has no data array");
		goto fail;
	}
	if (get_id(root, "first_id", &l->first_id) < 0 ||
	    get_id(root, "last_id", &l->last_id) < 0) {
		set_err(err, errlen, "list first_id or last_id is not a safe id");
		goto fail;
	}
	l->has_more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "has_more"));
	cap = (size_t)cJSON_GetArraySize(data);
	if (cap > VIDEO_LIST_MAX)
		cap = VIDEO_LIST_MAX;
	l->data = xcalloc(cap ? cap : 1, sizeof(*l->data));
	cJSON_ArrayForEach(it, data)
	{
		if (l->n < cap && video_from_json(&l->data[l->n], it, true, NULL, 0) == 0)
			l->n++;
		else
			l->n_skipped++;
	}
	cJSON_Delete(root);
	return 0;
fail:
	cJSON_Delete(root);
	video_list_release(l);
	return -1;
}

int video_deleted_parse(bool *deleted, const char *json, size_t len, bool *syntax, char *err,
                        size_t errlen)
{
	cJSON *root = parse_root(json, len, syntax, err, errlen);
	const cJSON *d;

	*deleted = false;
	if (!root)
		return -1;
	d = cJSON_GetObjectItemCaseSensitive(root, "deleted");
	if (!cJSON_IsBool(d)) {
		set_err(err, errlen, "delete answer has no boolean \"deleted\"");
		cJSON_Delete(root);
		return -1;
	}
	*deleted = cJSON_IsTrue(d);
	cJSON_Delete(root);
	return 0;
}

/* error.code is a string in the protocol; some gateways send a number. */
static char *get_code(const cJSON *obj)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, "code");

	if (cJSON_IsNumber(it)) {
		double d = it->valuedouble;
		if (isfinite(d) && d < 1e15 && d > -1e15 && dbl_is_integer(d))
			return xasprintf("%lld", (long long)d);
		return NULL;
	}
	return get_token(obj, "code");
}

int api_error_parse(struct api_error *e, const char *json, size_t len)
{
	cJSON *root = parse_root(json, len, NULL, NULL, 0);
	const cJSON *eo;
	char *msg = NULL;
	int rc = -1;

	if (!root)
		return -1;
	eo = cJSON_GetObjectItemCaseSensitive(root, "error");
	if (cJSON_IsObject(eo)) {
		free(e->type);
		free(e->code);
		free(e->param);
		e->type = get_token(eo, "type");
		e->code = get_code(eo);
		e->param = get_token(eo, "param");
		msg = get_text(eo, "message", VIDEO_MESSAGE_MAX, false, NULL);
		rc = 0;
	} else if (cJSON_IsString(eo)) {
		msg = get_text(root, "error", VIDEO_MESSAGE_MAX, false, NULL);
	} else if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "message"))) {
		msg = get_text(root, "message", VIDEO_MESSAGE_MAX, false, NULL);
	} else if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "detail"))) {
		msg = get_text(root, "detail", VIDEO_MESSAGE_MAX, false, NULL);
	}
	if (msg) {
		free(e->message);
		e->message = msg;
		rc = 0;
	}
	cJSON_Delete(root);
	return rc;
}
