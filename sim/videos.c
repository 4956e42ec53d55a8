/* videos.c - see videos.h. */
#include "videos.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "util.h"

enum status { ST_QUEUED, ST_IN_PROGRESS, ST_COMPLETED, ST_FAILED };

static const char *const status_names[] = {
    [ST_QUEUED] = "queued",
    [ST_IN_PROGRESS] = "in_progress",
    [ST_COMPLETED] = "completed",
    [ST_FAILED] = "failed",
};

struct video {
	char *id; /* owned; ids run to 5,000 characters, so neither is a fixed array */
	char model[32];
	char size[16];
	char seconds[8];
	char *remixed_from; /* owned; "" when not a remix */
	char *prompt;
	int64_t created_real_ms; /* on the service's clock (--clock-offset-s applied) */
	int64_t created_mono_ms;
	bool fail; /* "[sim:fail]": ends failed */
	bool deleted;
	struct media *media; /* NULL for a video that will fail */
};

/* The state at one instant, derived from the clock. */
struct state {
	enum status status;
	int progress;
	int64_t completed_real_ms; /* completed or failed */
	bool expired;
};

static struct videos_conf conf;
static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct video **table; /* by creation order; index = sequence number */
static size_t count, cap;
/* Open-addressing index from id to table position + 1 (0 = empty slot). */
static uint32_t *index_slots;
static size_t index_cap;

static uint64_t id_hash(const char *id)
{
	return fnv1a64(id, strlen(id));
}

static void index_put(const char *id, uint32_t pos)
{
	size_t i = id_hash(id) & (index_cap - 1);

	while (index_slots[i] != 0)
		i = (i + 1) & (index_cap - 1);
	index_slots[i] = pos + 1;
}

/* Makes room for one more id, keeping the index under half full so probes stay
 * short. Caller holds the write lock. */
static void index_reserve(void)
{
	size_t i;

	if (index_cap != 0 && (count + 1) * 2 < index_cap)
		return;
	index_cap = index_cap ? index_cap * 2 : 1024;
	free(index_slots);
	index_slots = xcalloc(index_cap, sizeof(*index_slots));
	for (i = 0; i < count; i++)
		index_put(table[i]->id, (uint32_t)i);
}

/* Position of id in the table including tombstones, or -1. Caller holds the lock. */
static long find(const char *id)
{
	size_t i;

	if (index_cap == 0)
		return -1;
	for (i = id_hash(id) & (index_cap - 1); index_slots[i] != 0; i = (i + 1) & (index_cap - 1))
		if (strcmp(table[index_slots[i] - 1]->id, id) == 0)
			return (long)index_slots[i] - 1;
	return -1;
}

static struct video *find_live(const char *id)
{
	long pos = find(id);

	return pos < 0 || table[pos]->deleted ? NULL : table[pos];
}

static void state_of(const struct video *v, int64_t now, struct state *s)
{
	int64_t elapsed = now - v->created_mono_ms, done = v->created_mono_ms + conf.gen_ms;
	int64_t ready_ms = 0;
	bool ready = v->fail || media_ready(v->media, &ready_ms);

	s->completed_real_ms = 0;
	s->expired = false;
	if (!v->fail && ready && ready_ms > done)
		done = ready_ms;
	if (ready && now >= done) {
		s->status = v->fail ? ST_FAILED : ST_COMPLETED;
		s->progress = v->fail ? 99 : 100;
		s->completed_real_ms = v->created_real_ms + (done - v->created_mono_ms);
		s->expired = !v->fail && now >= done + conf.expire_s * 1000;
		return;
	}
	/* The first tenth of the generation time is spent queued, then progress rises
	 * linearly, holding at 99 while the render is late. */
	if (elapsed < conf.gen_ms / 10) {
		s->status = ST_QUEUED;
		s->progress = 0;
		return;
	}
	s->status = ST_IN_PROGRESS;
	s->progress = conf.gen_ms > 0 ? (int)(elapsed * 100 / conf.gen_ms) : 99;
	if (s->progress < 1)
		s->progress = 1;
	if (s->progress > 99)
		s->progress = 99;
}

static void add_string_or_null(cJSON *o, const char *key, const char *value)
{
	if (value && *value)
		cJSON_AddStringToObject(o, key, value);
	else
		cJSON_AddNullToObject(o, key);
}

/* Whole unix seconds, as the API sends them (the fraction is dropped on purpose). */
static double unix_seconds(long long ms)
{
	long long s = ms / 1000;

	return (double)s;
}

/* Every field of the Video object, nullable ones present as null, in the order the
 * API documents them. */
static cJSON *to_json(const struct video *v, const struct state *s)
{
	const struct gateway_shape *gw = gateway_shape();
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "id", v->id);
	cJSON_AddStringToObject(o, "object", "video");
	cJSON_AddNumberToObject(o, "created_at",
	                        gw->created_at_zero ? 0.0 : unix_seconds(v->created_real_ms));
	cJSON_AddStringToObject(o, "status", status_names[s->status]);
	if (s->status == ST_COMPLETED)
		cJSON_AddNumberToObject(o, "completed_at", unix_seconds(s->completed_real_ms));
	else
		cJSON_AddNullToObject(o, "completed_at");
	if (s->status == ST_FAILED) {
		cJSON *e = cJSON_AddObjectToObject(o, "error");

		cJSON_AddStringToObject(e, "code", "video_generation_failed");
		cJSON_AddStringToObject(
		    e, "message",
		    "Video generation failed (the prompt asked sora-sim to fail with [sim:fail]).");
	} else {
		cJSON_AddNullToObject(o, "error");
	}
	if (s->status == ST_COMPLETED)
		cJSON_AddNumberToObject(o, "expires_at",
		                        unix_seconds(s->completed_real_ms) + (double)conf.expire_s);
	else
		cJSON_AddNullToObject(o, "expires_at");
	cJSON_AddStringToObject(o, "model", gateway_answer_model(v->model));
	cJSON_AddNumberToObject(o, "progress", s->progress);
	if (!gw->no_prompt)
		add_string_or_null(o, "prompt", v->prompt);
	add_string_or_null(o, "remixed_from_video_id", v->remixed_from);
	cJSON_AddStringToObject(o, "seconds", v->seconds);
	cJSON_AddStringToObject(o, "size", v->size);
	return o;
}

void videos_init(const struct videos_conf *c)
{
	conf = *c;
}

void videos_shutdown(void)
{
	size_t i;

	pthread_rwlock_wrlock(&lock);
	for (i = 0; i < count; i++) {
		free(table[i]->prompt);
		free(table[i]->id);
		free(table[i]->remixed_from);
		free(table[i]);
	}
	free(table);
	free(index_slots);
	table = NULL;
	index_slots = NULL;
	count = cap = index_cap = 0;
	pthread_rwlock_unlock(&lock);
}

/* Copies a bounded field; the callers' fields were validated against short enums. */
static void copy_field(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

cJSON *videos_create(const struct video_spec *spec)
{
	struct video *v = xcalloc(1, sizeof(*v));
	char id[VIDEO_ID_SIZE];
	struct state s;
	uint64_t st;
	cJSON *j;

	copy_field(v->model, sizeof(v->model), spec->model);
	copy_field(v->size, sizeof(v->size), spec->size);
	copy_field(v->seconds, sizeof(v->seconds), spec->seconds);
	v->remixed_from = xstrdup(spec->remixed_from);
	v->prompt = xstrdup(spec->prompt);
	v->fail = strstr(spec->prompt, "[sim:fail]") != NULL;
	/* Rendering starts now, so that it overlaps the simulated generation time. */
	if (!v->fail)
		v->media = media_request(spec->width, spec->height, spec->secs, spec->prompt);
	v->created_real_ms = now_service_ms();
	v->created_mono_ms = now_mono_ms();

	pthread_rwlock_wrlock(&lock);
	/* The id depends only on the seed and the creation order. */
	st = conf.seed ^ ((uint64_t)count * 0xd1b54a32d192ed03ULL);
	{
		uint64_t a = splitmix64(&st), b = splitmix64(&st);

		gateway_video_id(id, sizeof(id), a, b);
	}
	v->id = xstrdup(id);
	if (count == cap) {
		cap = cap ? cap * 2 : 256;
		table = xrealloc(table, cap * sizeof(*table));
	}
	index_reserve();
	index_put(v->id, (uint32_t)count);
	table[count++] = v;
	state_of(v, v->created_mono_ms, &s);
	j = to_json(v, &s);
	pthread_rwlock_unlock(&lock);
	return j;
}

cJSON *videos_retrieve(const char *id, bool *pending)
{
	struct video *v;
	struct state s;
	cJSON *j = NULL;

	pthread_rwlock_rdlock(&lock);
	v = find_live(id);
	if (v) {
		state_of(v, now_mono_ms(), &s);
		*pending = s.status == ST_QUEUED || s.status == ST_IN_PROGRESS;
		j = to_json(v, &s);
	}
	pthread_rwlock_unlock(&lock);
	return j;
}

int videos_delete(const char *id)
{
	struct video *v;

	pthread_rwlock_wrlock(&lock);
	v = find_live(id);
	if (v) {
		v->deleted = true;
		free(v->prompt);
		v->prompt = NULL;
	}
	pthread_rwlock_unlock(&lock);
	return v ? 0 : -1;
}

enum video_lookup videos_content(const char *id, struct media **m)
{
	enum video_lookup r = VIDEO_NOT_FOUND;
	struct video *v;
	struct state s;

	pthread_rwlock_rdlock(&lock);
	v = find_live(id);
	if (v) {
		state_of(v, now_mono_ms(), &s);
		if (s.status != ST_COMPLETED)
			r = VIDEO_NOT_READY;
		else if (s.expired)
			r = VIDEO_EXPIRED;
		else {
			r = VIDEO_OK;
			*m = v->media;
		}
	}
	pthread_rwlock_unlock(&lock);
	return r;
}

enum video_lookup videos_remix_source(const char *id, struct video_spec *spec)
{
	enum video_lookup r = VIDEO_NOT_FOUND;
	struct video *v;
	struct state s;

	pthread_rwlock_rdlock(&lock);
	v = find_live(id);
	if (v) {
		state_of(v, now_mono_ms(), &s);
		if (s.status != ST_COMPLETED) {
			r = VIDEO_NOT_READY;
		} else {
			r = VIDEO_OK;
			copy_field(spec->model, sizeof(spec->model), v->model);
			copy_field(spec->size, sizeof(spec->size), v->size);
			copy_field(spec->seconds, sizeof(spec->seconds), v->seconds);
			copy_field(spec->remixed_from, sizeof(spec->remixed_from), v->id);
			/* NOLINTNEXTLINE(cert-err34-c): checked against the tables at create */
			if (sscanf(v->size, "%ux%u", &spec->width, &spec->height) != 2 ||
			    sscanf(v->seconds, "%u", &spec->secs) != 1) /* NOLINT(cert-err34-c) */
				r = VIDEO_NOT_FOUND; /* cannot happen: validated at create */
		}
	}
	pthread_rwlock_unlock(&lock);
	return r;
}

cJSON *videos_list(unsigned limit, const char *after, bool asc)
{
	cJSON *page, *data;
	long pos, step = asc ? 1 : -1, start;
	int64_t now = now_mono_ms();
	const char *first = NULL, *last = NULL;
	unsigned n = 0;
	bool more = false;

	pthread_rwlock_rdlock(&lock);
	if (after && *after) {
		long at = find(after);

		if (at < 0) {
			pthread_rwlock_unlock(&lock);
			return NULL;
		}
		start = at + step;
	} else {
		start = asc ? 0 : (long)count - 1;
	}
	page = cJSON_CreateObject();
	cJSON_AddStringToObject(page, "object", "list");
	data = cJSON_AddArrayToObject(page, "data");
	for (pos = start; pos >= 0 && pos < (long)count; pos += step) {
		struct video *v = table[pos];
		struct state s;

		if (v->deleted)
			continue;
		if (n == limit) {
			more = true;
			break;
		}
		state_of(v, now, &s);
		cJSON_AddItemToArray(data, to_json(v, &s));
		if (first == NULL)
			first = v->id;
		last = v->id;
		n++;
	}
	add_string_or_null(page, "first_id", first);
	add_string_or_null(page, "last_id", last);
	cJSON_AddBoolToObject(page, "has_more", more);
	pthread_rwlock_unlock(&lock);
	return page;
}
