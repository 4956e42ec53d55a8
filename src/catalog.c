/* catalog.c — the service's model catalog: parsing, validation, cache (see catalog.h).
 * The fetch itself is in catalog_fetch.c. */
#include "catalog.h"
#include "clock.h"
#include "decimal.h"
#include "fsutil.h"
#include "log.h"
#include "utf8.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- parsing ------------------------------------------------------------------------ */

/* Entries of one array looked at, at most: repeats and values skipped cost a scan of
 * what was kept, so a hostile array of a million repeats must not be read whole. */
#define SCAN_VALUES (4 * (size_t)CATALOG_MAX_VALUES)
#define SCAN_MODELS (4 * (size_t)CATALOG_MAX_MODELS)

/* A string the catalog may hold: bounded, valid UTF-8, no control characters (it is
 * printed to terminals and written into error files). */
static bool good_string(const cJSON *j)
{
	if (!cJSON_IsString(j) || !j->valuestring)
		return false;
	size_t len = strlen(j->valuestring);
	if (len == 0 || len > CATALOG_MAX_STRING || !utf8_check(j->valuestring, len, NULL))
		return false;
	for (const unsigned char *p = (const unsigned char *)j->valuestring; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static char *string_field(const cJSON *o, const char *key)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
	return good_string(j) ? xstrdup(j->valuestring) : NULL;
}

static enum catalog_tri tri_field(const cJSON *o, const char *key)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsBool(j) ? (cJSON_IsTrue(j) ? CATALOG_YES : CATALOG_NO) : CATALOG_UNKNOWN;
}

static bool list_has(const struct catalog_list *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

/* KEY's array of strings; elements of another type, too long or repeated are skipped.
 * NULL_IS_EMPTY: a null states "none" (frame images) rather than nothing. */
static void list_field(const cJSON *o, const char *key, bool null_is_empty, struct catalog_list *l)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key), *e;
	memset(l, 0, sizeof(*l));
	if (cJSON_IsNull(a) && null_is_empty) {
		l->stated = true;
		return;
	}
	if (!cJSON_IsArray(a))
		return;
	l->stated = true;
	int n = cJSON_GetArraySize(a);
	l->v = xcalloc(n > 0 && (unsigned)n < CATALOG_MAX_VALUES ? (size_t)n : CATALOG_MAX_VALUES,
	               sizeof(*l->v));
	size_t seen = 0;
	cJSON_ArrayForEach(e, a)
	{
		if (l->n >= CATALOG_MAX_VALUES || seen == SCAN_VALUES)
			break;
		seen++;
		if (good_string(e) && !list_has(l, e->valuestring))
			l->v[l->n++] = xstrdup(e->valuestring);
	}
}

static void durations_field(const cJSON *o, struct catalog_model *m)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "supported_durations"), *e;
	if (!cJSON_IsArray(a))
		return;
	m->durations_stated = true;
	m->durations = xcalloc(CATALOG_MAX_VALUES, sizeof(*m->durations));
	size_t scanned = 0;
	cJSON_ArrayForEach(e, a)
	{
		if (m->n_durations >= CATALOG_MAX_VALUES || scanned == SCAN_VALUES)
			break;
		scanned++;
		/* Whole seconds, 1 to a day: anything else is skipped. */
		if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble) ||
		    !dbl_is_integer(e->valuedouble) || e->valuedouble < 1 || e->valuedouble > 86400)
			continue;
		unsigned d = (unsigned)e->valuedouble;
		bool seen = false;
		for (size_t i = 0; i < m->n_durations && !seen; i++)
			seen = m->durations[i] == d;
		if (!seen)
			m->durations[m->n_durations++] = d;
	}
}

/* A price as the service spells it: a string of a non-negative decimal number
 * ("0.40", "1.25e-6"). */
static bool good_price(const char *s)
{
	double v;
	return decimal_real(s, DECIMAL_EXPONENT, &v) == 0;
}

static void prices_field(const cJSON *o, struct catalog_model *m)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "pricing_skus"), *e;
	if (!cJSON_IsObject(p))
		return;
	m->prices = xcalloc(CATALOG_MAX_VALUES, sizeof(*m->prices));
	size_t seen = 0;
	cJSON_ArrayForEach(e, p)
	{
		if (m->n_prices >= CATALOG_MAX_VALUES || seen == SCAN_VALUES)
			break;
		seen++;
		if (!e->string || strlen(e->string) > CATALOG_MAX_STRING || !good_string(e) ||
		    !good_price(e->valuestring))
			continue;
		cJSON key = {.type = cJSON_String, .valuestring = e->string};
		if (!good_string(&key))
			continue;
		m->prices[m->n_prices].sku = xstrdup(e->string);
		m->prices[m->n_prices].usd = xstrdup(e->valuestring);
		m->n_prices++;
	}
}

static void model_release(struct catalog_model *m)
{
	struct catalog_list *lists[] = {&m->resolutions, &m->aspect_ratios, &m->sizes, &m->frames};
	free(m->id);
	free(m->name);
	free(m->durations);
	for (size_t k = 0; k < ARRAY_LEN(lists); k++) {
		for (size_t i = 0; i < lists[k]->n; i++)
			free(lists[k]->v[i]);
		free(lists[k]->v);
	}
	for (size_t i = 0; i < m->n_prices; i++) {
		free(m->prices[i].sku);
		free(m->prices[i].usd);
	}
	free(m->prices);
	memset(m, 0, sizeof(*m));
}

/* One VideoModel into M; -1 (M left empty) when it has no usable id. */
static int model_parse(const cJSON *o, struct catalog_model *m)
{
	memset(m, 0, sizeof(*m));
	if (!cJSON_IsObject(o) || !(m->id = string_field(o, "id")))
		return -1;
	m->name = string_field(o, "name");
	durations_field(o, m);
	list_field(o, "supported_resolutions", false, &m->resolutions);
	list_field(o, "supported_aspect_ratios", false, &m->aspect_ratios);
	list_field(o, "supported_sizes", false, &m->sizes);
	list_field(o, "supported_frame_images", true, &m->frames);
	m->audio = tri_field(o, "generate_audio");
	m->seed = tri_field(o, "seed");
	prices_field(o, m);
	return 0;
}

struct catalog *catalog_parse(const char *data, size_t len, char *why, size_t whylen)
{
	bfmt(why, whylen, "%s", "");
	if (len > CATALOG_MAX_BYTES) {
		bfmt(why, whylen, "the catalog is %zu bytes, more than the %u allowed", len,
		     CATALOG_MAX_BYTES);
		return NULL;
	}
	cJSON *root = cJSON_ParseWithLength(data, len);
	const cJSON *a = root ? cJSON_GetObjectItemCaseSensitive(root, "data") : NULL, *e;
	if (!root || !cJSON_IsArray(a)) {
		bfmt(why, whylen, "%s",
		     root ? "the catalog has no \"data\" array" : "the catalog is not JSON");
		cJSON_Delete(root);
		return NULL;
	}
	struct catalog *cat = xcalloc(1, sizeof(*cat));
	int n = cJSON_GetArraySize(a);
	cat->models =
	    xcalloc(n > 0 && (unsigned)n < CATALOG_MAX_MODELS ? (size_t)n : CATALOG_MAX_MODELS,
	            sizeof(*cat->models));
	size_t seen = 0;
	cJSON_ArrayForEach(e, a)
	{
		if (cat->n >= CATALOG_MAX_MODELS || seen == SCAN_MODELS)
			break;
		seen++;
		struct catalog_model *m = &cat->models[cat->n];
		if (model_parse(e, m) != 0)
			continue;
		if (catalog_find(cat, m->id)) { /* the first of a repeated id counts */
			model_release(m);
			continue;
		}
		cat->n++;
	}
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "fetched_at");
	if (cJSON_IsNumber(t) && t->valuedouble > 0 && t->valuedouble < 1e15)
		cat->fetched_at = (time_t)t->valuedouble;
	cat->api_base = string_field(root, "api_base");
	cJSON_Delete(root);
	return cat;
}

void catalog_free(struct catalog *cat)
{
	if (!cat)
		return;
	for (size_t i = 0; i < cat->n; i++)
		model_release(&cat->models[i]);
	free(cat->models);
	free(cat->api_base);
	free(cat);
}

const struct catalog_model *catalog_find(const struct catalog *cat, const char *id)
{
	if (!cat || !id)
		return NULL;
	for (size_t i = 0; i < cat->n; i++)
		if (strcmp(cat->models[i].id, id) == 0)
			return &cat->models[i];
	return NULL;
}

bool catalog_takes_size(const struct catalog *cat, const char *id, const char *size)
{
	const struct catalog_model *m = catalog_find(cat, id);
	return m && size && m->sizes.stated && list_has(&m->sizes, size);
}

/* ---- validation --------------------------------------------------------------------- */

/* Appends ", ITEM" (or ITEM first) to the list being built in BUF[SIZE]. */
static void join(char *buf, size_t size, const char *item)
{
	size_t used = strlen(buf);
	if (used < size)
		bfmt(buf + used, size - used, "%s%s", used ? ", " : "", item);
}

static void join_list(char *buf, size_t size, const struct catalog_list *l)
{
	buf[0] = '\0';
	for (size_t i = 0; i < l->n; i++)
		join(buf, size, l->v[i]);
	if (!buf[0])
		bfmt(buf, size, "%s", "none");
}

/* The shorter side of a resolution name ("720p": 720, "2K": 1440, "4K": 2160); 0 for
 * a name that does not say it ("1K" is not the same size everywhere). */
static unsigned resolution_side(const char *r)
{
	if (!strcmp(r, "2K"))
		return 1440;
	if (!strcmp(r, "4K"))
		return 2160;
	char *end;
	errno = 0;
	unsigned long v = strtoul(r, &end, 10);
	if (end == r || strcmp(end, "p") != 0 || errno != 0 || v == 0 || v > 10000)
		return 0;
	return (unsigned)v;
}

/* "16:9" into 16 and 9; -1 when it is not two small positive numbers. */
static int aspect_parse(const char *a, unsigned *x, unsigned *y)
{
	char *end;
	errno = 0;
	unsigned long p = strtoul(a, &end, 10);
	if (end == a || *end != ':' || errno != 0 || p == 0 || p > 100)
		return -1;
	const char *b = end + 1;
	unsigned long q = strtoul(b, &end, 10);
	if (end == b || *end != '\0' || errno != 0 || q == 0 || q > 100)
		return -1;
	*x = (unsigned)p;
	*y = (unsigned)q;
	return 0;
}

/* The pixel size of resolution R at aspect A ("720p", "16:9": "1280x720"); -1 when
 * they do not make whole pixels. The resolution names the shorter side. */
static int derive_size(const char *r, const char *a, char *buf, size_t size)
{
	unsigned side = resolution_side(r), x, y;
	if (side == 0 || aspect_parse(a, &x, &y) != 0)
		return -1;
	unsigned lo = x < y ? x : y, hi = x < y ? y : x;
	if ((side * hi) % lo != 0)
		return -1;
	unsigned longer = side * hi / lo;
	return bfmt(buf, size, "%ux%u", x >= y ? longer : side, x >= y ? side : longer);
}

/* A pixel size, "1920x1080": short enough for a buffer of SIZE_LEN. */
#define SIZE_LEN 24
struct sizes {
	char (*v)[SIZE_LEN];
	size_t n;
};

static bool sizes_has(const struct sizes *s, const char *size)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], size) == 0)
			return true;
	return false;
}

static void sizes_add(struct sizes *s, const char *size)
{
	if (s->n < CATALOG_MAX_VALUES && strlen(size) < SIZE_LEN && !sizes_has(s, size))
		bcopy_str(s->v[s->n++], SIZE_LEN, size);
}

/* The pixel sizes M accepts: its sizes, then each resolution at each aspect ratio that
 * makes whole pixels. The caller frees S->v. */
static void allowed_sizes(const struct catalog_model *m, struct sizes *s)
{
	char derived[SIZE_LEN];
	s->v = xcalloc(CATALOG_MAX_VALUES, sizeof(*s->v));
	s->n = 0;
	for (size_t i = 0; i < m->sizes.n; i++)
		sizes_add(s, m->sizes.v[i]);
	for (size_t r = 0; r < m->resolutions.n && s->n < CATALOG_MAX_VALUES; r++)
		for (size_t a = 0; a < m->aspect_ratios.n && s->n < CATALOG_MAX_VALUES; a++)
			if (derive_size(m->resolutions.v[r], m->aspect_ratios.v[a], derived,
			                sizeof(derived)) == 0)
				sizes_add(s, derived);
}

void catalog_model_sizes(const struct catalog_model *m, char *buf, size_t size)
{
	struct sizes s;
	allowed_sizes(m, &s);
	buf[0] = '\0';
	for (size_t i = 0; i < s.n; i++)
		join(buf, size, s.v[i]);
	free(s.v);
}

/* Appends one problem, on a line of its own, to why[whylen]. */
static void problem(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(char *why, size_t whylen, const char *fmt, ...)
{
	size_t used = strlen(why);
	if (used + 1 >= whylen)
		return;
	if (used)
		why[used++] = '\n';
	va_list ap;
	va_start(ap, fmt);
	vbfmt(why + used, whylen - used, fmt, ap);
	va_end(ap);
}

static bool duration_ok(const struct catalog_model *m, unsigned seconds)
{
	for (size_t i = 0; i < m->n_durations; i++)
		if (m->durations[i] == seconds)
			return true;
	return false;
}

static void check_size(const struct catalog_model *m, const char *size, char *why, size_t whylen)
{
	struct sizes s;
	allowed_sizes(m, &s);
	/* Nothing the catalog states makes a pixel size: the service decides. */
	if (s.n && !sizes_has(&s, size)) {
		char allowed[1024] = "";
		for (size_t i = 0; i < s.n; i++)
			join(allowed, sizeof(allowed), s.v[i]);
		problem(why, whylen, "size %s is not available for %s (allowed: %s)", size, m->id,
		        allowed);
	}
	free(s.v);
}

static void check_frame(const struct catalog_model *m, const char *frame, const char *what,
                        char *why, size_t whylen)
{
	char allowed[256];
	if (!m->frames.stated || list_has(&m->frames, frame))
		return;
	join_list(allowed, sizeof(allowed), &m->frames);
	problem(why, whylen, "%s is not available for %s (frame images: %s)", what, m->id, allowed);
}

int catalog_validate(const struct catalog *cat, const struct catalog_request *req, char *why,
                     size_t whylen)
{
	why[0] = '\0';
	const struct catalog_model *m = catalog_find(cat, req->model);
	if (!m) {
		char avail[1024] = "";
		for (size_t i = 0; cat && i < cat->n; i++)
			join(avail, sizeof(avail), cat->models[i].id);
		problem(why, whylen, "model '%s' is not in the service's catalog (available: %s)",
		        req->model ? req->model : "", avail[0] ? avail : "none");
		return -1;
	}
	/* Every problem at once, in the static table's order: size, then seconds. */
	if (req->size)
		check_size(m, req->size, why, whylen);
	if (req->seconds && m->durations_stated && !duration_ok(m, req->seconds)) {
		char allowed[1024] = "";
		for (size_t i = 0; i < m->n_durations; i++) {
			char num[16];
			bfmt(num, sizeof(num), "%u", m->durations[i]);
			join(allowed, sizeof(allowed), num);
		}
		problem(why, whylen, "%u seconds is not available for %s (allowed: %s)",
		        req->seconds, m->id, allowed[0] ? allowed : "none");
	}
	if (req->first_frame)
		check_frame(m, "first_frame", "a reference image (first frame)", why, whylen);
	if (req->last_frame)
		check_frame(m, "last_frame", "a last frame", why, whylen);
	if (req->audio == CATALOG_YES && m->audio == CATALOG_NO)
		problem(why, whylen, "audio is not available for %s (it makes silent videos)",
		        m->id);
	if (req->seed && m->seed == CATALOG_NO)
		problem(why, whylen, "a seed is not available for %s", m->id);
	return why[0] ? -1 : 0;
}

int catalog_validate_spec(const struct catalog *cat, const struct job_spec *s, char *why,
                          size_t whylen)
{
	struct catalog_request req = {
	    .model = s->model,
	    .seconds = s->seconds,
	    .size = s->size,
	    .first_frame = s->reference != NULL,
	    .last_frame = s->last_frame != NULL,
	    /* prompt.h: 1 true, 2 false, 0 unset */
	    .audio = s->audio == 1   ? CATALOG_YES
	             : s->audio == 2 ? CATALOG_NO
	                             : CATALOG_UNKNOWN,
	    .seed = s->has_seed,
	};
	return catalog_validate(cat, &req, why, whylen);
}

bool catalog_due(time_t fetched_at, time_t now, long max_age_s)
{
	if (fetched_at <= 0 || fetched_at > now)
		return true;
	return (long long)now - (long long)fetched_at >= (long long)max_age_s;
}

/* ---- prices ------------------------------------------------------------------------- */

/* The "<N>p" a SKU's name mentions as a word ("duration_seconds_720p": 720); 0 none. */
static unsigned sku_resolution(const char *sku)
{
	for (const char *p = sku; *p; p++) {
		if (!isdigit((unsigned char)*p) || (p > sku && isalnum((unsigned char)p[-1])))
			continue;
		char *end;
		unsigned long v = strtoul(p, &end, 10);
		if (*end == 'p' && !isalnum((unsigned char)end[1]) && v > 0 && v <= 10000)
			return (unsigned)v;
	}
	return 0;
}

/* The shorter side of a pixel size "WxH"; 0 when SIZE is not one. */
static unsigned size_side(const char *size)
{
	char *end;
	if (!size)
		return 0;
	errno = 0;
	unsigned long w = strtoul(size, &end, 10);
	if (end == size || *end != 'x' || errno)
		return 0;
	const char *hs = end + 1;
	unsigned long h = strtoul(hs, &end, 10);
	if (end == hs || *end || errno || w > 100000 || h > 100000)
		return 0;
	return (unsigned)(w < h ? w : h);
}

/* Whether SKU prices a job of shorter side SIDE with sound or not (AUDIO). */
static bool sku_fits(const char *sku, unsigned side, bool audio)
{
	if (!strstr(sku, "second"))
		return false;
	if (strstr(sku, "without_audio"))
		return !audio;
	if (strstr(sku, "with_audio") && !audio)
		return false;
	unsigned r = sku_resolution(sku);
	return r == 0 || r == side;
}

double catalog_price_per_second(const struct catalog_model *m, const char *size,
                                enum catalog_tri audio)
{
	unsigned side = size_side(size);
	/* Sound is on by default where the model makes it (OpenRouter's generate_audio). */
	bool sound = audio == CATALOG_UNKNOWN ? m->audio != CATALOG_NO : audio == CATALOG_YES;
	double best = -1;
	for (size_t i = 0; i < m->n_prices; i++) {
		double usd = 0; /* a stored price is good_price */
		(void)decimal_real(m->prices[i].usd, DECIMAL_EXPONENT, &usd);
		if (sku_fits(m->prices[i].sku, side, sound))
			return usd;
		if (strstr(m->prices[i].sku, "second") && usd > best)
			best = usd;
	}
	return best;
}

double catalog_estimate_cost(const struct catalog *cat, const char *model, const char *size,
                             unsigned seconds)
{
	const struct catalog_model *m = catalog_find(cat, model);
	double per_second = m ? catalog_price_per_second(m, size, CATALOG_UNKNOWN) : -1;
	return per_second < 0 ? -1 : per_second * seconds;
}

/* ---- the cache ---------------------------------------------------------------------- */

static cJSON *list_json(const struct catalog_list *l)
{
	if (!l->stated)
		return cJSON_CreateNull();
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < l->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(l->v[i]));
	return a;
}

static void add_tri(cJSON *o, const char *key, enum catalog_tri t)
{
	if (t == CATALOG_UNKNOWN)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddBoolToObject(o, key, t == CATALOG_YES);
}

/* One model in the schema of the answer (@openrouter/sdk's VideoModel, the fields
 * sorad reads). */
static cJSON *model_json(const struct catalog_model *m)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", m->id);
	if (m->name)
		cJSON_AddStringToObject(o, "name", m->name);
	if (m->durations_stated) {
		cJSON *d = cJSON_AddArrayToObject(o, "supported_durations");
		for (size_t i = 0; i < m->n_durations; i++)
			cJSON_AddItemToArray(d, cJSON_CreateNumber(m->durations[i]));
	} else {
		cJSON_AddNullToObject(o, "supported_durations");
	}
	cJSON_AddItemToObject(o, "supported_resolutions", list_json(&m->resolutions));
	cJSON_AddItemToObject(o, "supported_aspect_ratios", list_json(&m->aspect_ratios));
	cJSON_AddItemToObject(o, "supported_sizes", list_json(&m->sizes));
	/* Frame images: null states "none"; not stated is left out. */
	if (m->frames.stated)
		cJSON_AddItemToObject(o, "supported_frame_images",
		                      m->frames.n ? list_json(&m->frames) : cJSON_CreateNull());
	add_tri(o, "generate_audio", m->audio);
	add_tri(o, "seed", m->seed);
	if (m->prices) {
		cJSON *p = cJSON_AddObjectToObject(o, "pricing_skus");
		for (size_t i = 0; i < m->n_prices; i++)
			cJSON_AddStringToObject(p, m->prices[i].sku, m->prices[i].usd);
	}
	return o;
}

char *catalog_to_json(const struct catalog *cat)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddNumberToObject(root, "fetched_at", (double)cat->fetched_at);
	if (cat->api_base)
		cJSON_AddStringToObject(root, "api_base", cat->api_base);
	cJSON *data = cJSON_AddArrayToObject(root, "data");
	for (size_t i = 0; i < cat->n; i++)
		cJSON_AddItemToArray(data, model_json(&cat->models[i]));
	char *s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!s)
		abort(); /* cJSON fails only for want of memory: as xmalloc */
	char *out = xstrdup(s);
	cJSON_free(s);
	return out;
}

int catalog_save(const char *state_dir, const struct catalog *cat)
{
	char *json = catalog_to_json(cat);
	int rc = atomic_write_file(state_dir, CATALOG_FILE, json, strlen(json), 0600);
	if (rc != 0)
		log_error("catalog: cannot write %s/%s: %s", state_dir, CATALOG_FILE,
		          strerror(errno));
	free(json);
	return rc;
}

/* Reads all of FD (at most CATALOG_MAX_BYTES); the bytes (caller frees) or NULL. */
static char *read_bounded(int fd, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		if (n == cap) {
			if (cap > CATALOG_MAX_BYTES) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return buf;
}

struct catalog *catalog_load(const char *state_dir, const char *api_base, char *why, size_t whylen)
{
	char path[PATH_MAX];
	bfmt(why, whylen, "%s", "");
	if (bfmt(path, sizeof(path), "%s/%s", state_dir, CATALOG_FILE) != 0) {
		bfmt(why, whylen, "the path %s/%s is too long", state_dir, CATALOG_FILE);
		return NULL;
	}
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			bfmt(why, whylen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	size_t len = 0;
	char *data = NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)CATALOG_MAX_BYTES)
		bfmt(why, whylen, "%s is not a regular file of at most %u bytes", path,
		     CATALOG_MAX_BYTES);
	else if (!(data = read_bounded(fd, &len)))
		bfmt(why, whylen, "cannot read %s: %s", path, strerror(errno));
	close(fd);
	if (!data)
		return NULL;
	char perr[128];
	struct catalog *cat = catalog_parse(data, len, perr, sizeof(perr));
	free(data);
	if (!cat) {
		bfmt(why, whylen, "%s: %s", path, perr);
		return NULL;
	}
	if (!cat->api_base || !api_base || strcmp(cat->api_base, api_base) != 0) {
		bfmt(why, whylen, "%s is the catalog of %s, not of %s", path,
		     cat->api_base ? cat->api_base : "an unknown service",
		     api_base ? api_base : "?");
		catalog_free(cat);
		return NULL;
	}
	return cat;
}

/* ---- for people --------------------------------------------------------------------- */

static void print_list(FILE *out, const char *label, const struct catalog_list *l)
{
	char buf[2048];
	if (l->stated)
		join_list(buf, sizeof(buf), l);
	fprintf(out, "  %-14s %s\n", label, l->stated ? buf : "not stated");
}

static const char *tri_word(enum catalog_tri t)
{
	return t == CATALOG_YES ? "yes" : t == CATALOG_NO ? "no" : "not stated";
}

static void print_model(const struct catalog_model *m, FILE *out)
{
	char buf[4096] = "";
	fprintf(out, "%s%s%s%s\n", m->id, m->name ? " (" : "", m->name ? m->name : "",
	        m->name ? ")" : "");
	for (size_t i = 0; i < m->n_durations; i++) {
		char num[16];
		bfmt(num, sizeof(num), "%u", m->durations[i]);
		join(buf, sizeof(buf), num);
	}
	fprintf(out, "  %-14s %s%s\n", "durations",
	        m->durations_stated ? (buf[0] ? buf : "none") : "not stated",
	        m->durations_stated && buf[0] ? " seconds" : "");
	print_list(out, "resolutions", &m->resolutions);
	print_list(out, "aspect ratios", &m->aspect_ratios);
	catalog_model_sizes(m, buf, sizeof(buf));
	fprintf(out, "  %-14s %s\n", "sizes", buf[0] ? buf : "not stated");
	print_list(out, "frame images", &m->frames);
	fprintf(out, "  %-14s %s\n", "audio", tri_word(m->audio));
	fprintf(out, "  %-14s %s\n", "seed", tri_word(m->seed));
	buf[0] = '\0';
	for (size_t i = 0; i < m->n_prices; i++) {
		char item[CATALOG_MAX_STRING * 2 + 8];
		bfmt(item, sizeof(item), "%s %s", m->prices[i].usd, m->prices[i].sku);
		join(buf, sizeof(buf), item);
	}
	fprintf(out, "  %-14s %s\n", "USD/second", buf[0] ? buf : "not stated");
}

void catalog_print(const struct catalog *cat, FILE *out)
{
	for (size_t i = 0; i < cat->n; i++) {
		if (i)
			fputc('\n', out);
		print_model(&cat->models[i], out);
	}
	if (cat->n == 0)
		fprintf(out, "the catalog lists no models\n");
}

/* ---- the daemon's catalog ----------------------------------------------------------- */

static struct catalog *current;
static struct mono_ms failed_at = {-1}; /* the last failed fetch; -1: none */

const struct catalog *catalog_current(void)
{
	return current;
}

void catalog_install(struct catalog *cat)
{
	if (cat != current)
		catalog_free(current);
	current = cat;
}

bool catalog_wanted(const struct conf *c)
{
	/* auto: where the protocol has a catalog, OpenRouter's GET /videos/models */
	if (c->model_catalog == CONF_CATALOG_AUTO)
		return c->api_protocol && strcmp(c->api_protocol, "openrouter") == 0;
	return c->model_catalog == CONF_CATALOG_YES;
}

/* The cache, once per api_base (the first call, a new api_base after a reload). */
static void load_cache(const struct conf *c)
{
	static char *loaded_for; /* the api_base whose cache was read; never freed */
	char why[PATH_MAX + 128];
	if (loaded_for && !strcmp(loaded_for, c->api_base))
		return;
	free(loaded_for);
	loaded_for = xstrdup(c->api_base);
	failed_at.ms = -1;
	struct catalog *cat = catalog_load(c->state_dir, c->api_base, why, sizeof(why));
	if (!cat && why[0])
		log_warn("catalog: %s; fetching it again", why);
	catalog_install(cat);
}

void catalog_refresh(const struct conf *c, bool forced)
{
	if (!catalog_wanted(c)) {
		catalog_install(NULL);
		return;
	}
	load_cache(c);
	time_t now = time(NULL);
	long max_age = forced ? CATALOG_MIN_REFETCH_S : CATALOG_MAX_AGE_S;
	if (current && !catalog_due(current->fetched_at, now, max_age))
		return;
	/* A service that failed is asked again CATALOG_RETRY_S later at the soonest (a
	 * SIGHUP: a minute), so that a service down does not stall every claim. */
	long long retry_ms = (forced ? CATALOG_MIN_REFETCH_S : CATALOG_RETRY_S) * 1000LL;
	if (failed_at.ms >= 0 && mono_ms_diff(clock_mono_ms(), failed_at) < retry_ms)
		return;
	char why[512];
	struct catalog *cat = catalog_fetch(c, why, sizeof(why));
	if (!cat) {
		failed_at = clock_mono_ms();
		log_warn("catalog: cannot fetch %s/videos/models: %s; %s", c->api_base, why,
		         current ? "keeping the cached catalog"
		                 : "models are checked against the model table only");
		return;
	}
	failed_at.ms = -1;
	log_info("catalog: %zu models from %s/videos/models", cat->n, c->api_base);
	if (catalog_save(c->state_dir, cat) != 0)
		log_warn("catalog: not cached; it is fetched again at the next start");
	catalog_install(cat);
}
