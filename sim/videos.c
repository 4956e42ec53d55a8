/* videos.c - see videos.h. */
#include "videos.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "util.h"

/* ST_OTHER: generation ended with the prompt's [sim:status=WORD] instead of completed. */
enum status { ST_QUEUED, ST_IN_PROGRESS, ST_COMPLETED, ST_FAILED, ST_OTHER };

static const char *const status_names[] = {
    [ST_QUEUED] = "queued",
    [ST_IN_PROGRESS] = "in_progress",
    [ST_COMPLETED] = "completed",
    [ST_FAILED] = "failed",
    [ST_OTHER] = "",
};

/* Which answer a Video object is for: a gateway shapes each differently. */
enum answer { ANSWER_CREATE, ANSWER_RETRIEVE, ANSWER_LIST };

struct video {
	char *id;  /* owned; ids run to 5,000 characters, so neither is a fixed array */
	char *raw; /* owned; the upstream's id inside a LiteLLM id, else equal to id */
	char model[32];
	char size[16];
	char seconds[8];
	char *remixed_from; /* owned; "" when not a remix */
	char *prompt;
	int64_t created_real_ms; /* on the service's clock (--clock-offset-s applied) */
	int64_t created_mono_ms;
	int64_t gen_ms; /* its generation time: --gen-ms varied by --gen-jitter-pct */
	bool fail;      /* "[sim:fail]": ends failed */
	char status_word[GATEWAY_STATUS_SIZE]; /* "[sim:status=WORD]": ends WORD; "" */
	struct content_hooks hooks;            /* "[sim:content-status=N]", "[sim:trickle=N]" */
	bool deleted;
	struct media *media; /* NULL for a video that will fail */
	/* Detection (issue 21), on the monotonic clock, set once (atomics: readers share
	 * the lock): when it completed, and when an answer first said so (0: not yet). */
	int64_t done_mono_ms, seen_done_mono_ms;
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
/* Open-addressing index from id, and from the raw id when it differs, to table
 * position + 1 (0 = empty slot). */
static uint32_t *index_slots;
static size_t index_cap, index_used;

static uint64_t id_hash(const char *id)
{
	return fnv1a64(id, strlen(id));
}

static void index_put1(const char *id, uint32_t pos)
{
	size_t i = id_hash(id) & (index_cap - 1);

	while (index_slots[i] != 0)
		i = (i + 1) & (index_cap - 1);
	index_slots[i] = pos + 1;
	index_used++;
}

/* Indexes the video at POS under its id and its raw id. */
static void index_put(uint32_t pos)
{
	index_put1(table[pos]->id, pos);
	if (strcmp(table[pos]->raw, table[pos]->id) != 0)
		index_put1(table[pos]->raw, pos);
}

/* Makes room for one more video (two keys), keeping the index under half full so
 * probes stay short. Caller holds the write lock. */
static void index_reserve(void)
{
	size_t i;

	if (index_cap != 0 && (index_used + 2) * 2 < index_cap)
		return;
	index_cap = index_cap ? index_cap * 2 : 1024;
	free(index_slots);
	index_slots = xcalloc(index_cap, sizeof(*index_slots));
	index_used = 0;
	for (i = 0; i < count; i++)
		index_put((uint32_t)i);
}

static long find_key(const char *key)
{
	size_t i;

	if (index_cap == 0)
		return -1;
	for (i = id_hash(key) & (index_cap - 1); index_slots[i] != 0;
	     i = (i + 1) & (index_cap - 1)) {
		const struct video *v = table[index_slots[i] - 1];

		if (strcmp(v->id, key) == 0 || strcmp(v->raw, key) == 0)
			return (long)index_slots[i] - 1;
	}
	return -1;
}

/* Position of id in the table including tombstones, or -1. Like LiteLLM's proxy, any
 * LiteLLM id of a video's upstream id names it, whatever its model_id slot holds (the
 * create's, a retrieve's re-encoding, a list's). Caller holds the lock. */
static long find(const char *id)
{
	char raw[VIDEO_ID_SIZE];
	long pos = find_key(id);

	if (pos < 0 && gateway_litellm_decode(id, raw, sizeof(raw)) == 0)
		pos = find_key(raw);
	return pos;
}

static struct video *find_live(const char *id)
{
	long pos = find(id);

	return pos < 0 || table[pos]->deleted ? NULL : table[pos];
}

static void state_of(const struct video *v, int64_t now, struct state *s)
{
	int64_t gen_ms = v->gen_ms, elapsed = now - v->created_mono_ms;
	int64_t done = v->created_mono_ms + gen_ms;
	int64_t ready_ms = 0;
	bool ready = v->media == NULL || media_ready(v->media, &ready_ms);

	s->completed_real_ms = 0;
	s->expired = false;
	if (v->media && ready && ready_ms > done)
		done = ready_ms;
	if (ready && now >= done) {
		s->status = v->fail ? ST_FAILED : v->status_word[0] ? ST_OTHER : ST_COMPLETED;
		s->progress = s->status == ST_COMPLETED ? 100 : 99;
		s->completed_real_ms = v->created_real_ms + (done - v->created_mono_ms);
		s->expired = s->status == ST_COMPLETED && now >= done + conf.expire_s * 1000;
		return;
	}
	/* The first tenth of the generation time is spent queued, then progress rises
	 * linearly (or, with --progress-curve ease-in, as the square of the fraction
	 * of the generation time past), holding at 99 while the render is late. */
	if (elapsed < gen_ms / 10) {
		s->status = ST_QUEUED;
		s->progress = 0;
		return;
	}
	s->status = ST_IN_PROGRESS;
	if (gen_ms <= 0)
		s->progress = 99;
	else if (conf.progress_ease)
		s->progress = (int)((double)elapsed * (double)elapsed * 100.0 /
		                    ((double)gen_ms * (double)gen_ms));
	else
		s->progress = (int)(elapsed * 100 / gen_ms);
	if (s->progress < 1)
		s->progress = 1;
	if (s->progress > 99)
		s->progress = 99;
}

/* An answer is about to say that V (in state S at NOW) is completed: the first one
 * is when the client could learn it. */
static void note_seen(struct video *v, const struct state *s, int64_t now)
{
	int64_t zero = 0;

	if (s->status != ST_COMPLETED)
		return;
	if (__atomic_compare_exchange_n(&v->seen_done_mono_ms, &zero, now, false, __ATOMIC_RELAXED,
	                                __ATOMIC_RELAXED))
		__atomic_store_n(&v->done_mono_ms,
		                 v->created_mono_ms + (s->completed_real_ms - v->created_real_ms),
		                 __ATOMIC_RELAXED);
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

static const char *status_word(const struct video *v, const struct state *s,
                               const struct gateway_shape *gw)
{
	switch (s->status) {
	case ST_QUEUED:
		return gw->queued_status[0] ? gw->queued_status : status_names[ST_QUEUED];
	case ST_IN_PROGRESS:
		return gw->running_status[0] ? gw->running_status : status_names[ST_IN_PROGRESS];
	case ST_OTHER:
		return v->status_word;
	default:
		return status_names[s->status];
	}
}

/* The "id" of the answer: a retrieve answer's per --retrieve-id, a passed-through list
 * item's as LiteLLM's transform_video_list_response re-encodes it (model_id: the item's
 * model; litellm/llms/openai/videos/transformation.py), else the create's. */
static void add_id(cJSON *o, const struct video *v, enum answer a, const struct gateway_shape *gw)
{
	char id[VIDEO_ID_SIZE];

	if (a == ANSWER_RETRIEVE && gw->retrieve_id == RETRIEVE_ID_EMPTY) {
		cJSON_AddStringToObject(o, "id", "");
	} else if (a == ANSWER_RETRIEVE && gw->retrieve_id == RETRIEVE_ID_RAW) {
		cJSON_AddStringToObject(o, "id", v->raw);
	} else if (a == ANSWER_RETRIEVE && gw->retrieve_id == RETRIEVE_ID_REENCODED) {
		/* transform_video_status_retrieve_response of LiteLLM's OpenAI and Gemini
		 * configs: encode_video_id_with_provider(id, custom_llm_provider, None). */
		gateway_litellm_encode(v->raw, "", id, sizeof(id));
		cJSON_AddStringToObject(o, "id", id);
	} else if (a == ANSWER_LIST && gw->list_passthrough) {
		gateway_litellm_encode(v->raw, gateway_answer_model(v->model), id, sizeof(id));
		cJSON_AddStringToObject(o, "id", id);
	} else {
		cJSON_AddStringToObject(o, "id", v->id);
	}
}

static void add_error(cJSON *o, const struct state *s)
{
	cJSON *e;

	if (s->status != ST_FAILED) {
		cJSON_AddNullToObject(o, "error");
		return;
	}
	e = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(e, "code", "video_generation_failed");
	cJSON_AddStringToObject(
	    e, "message",
	    "Video generation failed (the prompt asked sora-sim to fail with [sim:fail]).");
}

/* LiteLLM's transform_video_create_response and transform_video_remix_response (OpenAI
 * and Veo configs alike) set usage = {"duration_seconds": float(seconds)}; nothing
 * sets it on a retrieve, so that is null. A passed-through list item has none. */
static void add_usage(cJSON *o, const struct video *v, enum answer a,
                      const struct gateway_shape *gw)
{
	if (!gw->usage || (a == ANSWER_LIST && gw->list_passthrough))
		return;
	if (a == ANSWER_CREATE)
		cJSON_AddNumberToObject(cJSON_AddObjectToObject(o, "usage"), "duration_seconds",
		                        strtod(v->seconds, NULL));
	else
		cJSON_AddNullToObject(o, "usage");
}

/*
 * --sparse-videos: only what LiteLLM's Veo transforms fill, every other field of its
 * VideoObject (litellm/types/videos/main.py) null: the create answer has id, status and
 * the backend's model (litellm/llms/gemini/videos/transformation.py,
 * transform_video_create_response), a retrieve answer id and status only
 * (transform_video_status_retrieve_response), plus the error of a failed one (as the
 * Vertex config passes it on).
 */
static void add_sparse(cJSON *o, const struct video *v, const struct state *s, enum answer a,
                       const struct gateway_shape *gw)
{
	if (gw->created_at_zero)
		cJSON_AddNumberToObject(o, "created_at", 0.0);
	else
		cJSON_AddNullToObject(o, "created_at");
	cJSON_AddStringToObject(o, "status", status_word(v, s, gw));
	cJSON_AddNullToObject(o, "completed_at");
	add_error(o, s);
	cJSON_AddNullToObject(o, "expires_at");
	if (a == ANSWER_CREATE)
		cJSON_AddStringToObject(o, "model", gateway_answer_model(v->model));
	else
		cJSON_AddNullToObject(o, "model");
	cJSON_AddNullToObject(o, "progress");
	if (!gw->no_prompt)
		add_string_or_null(o, "prompt", v->prompt);
	cJSON_AddNullToObject(o, "remixed_from_video_id");
	cJSON_AddNullToObject(o, "seconds");
	cJSON_AddNullToObject(o, "size");
}

/* Every field of the Video object, nullable ones present as null, in the order the
 * API documents them, as the gateway shapes the answer A. */
static cJSON *to_json(const struct video *v, const struct state *s, enum answer a)
{
	const struct gateway_shape *gw = gateway_shape();
	bool passthrough = a == ANSWER_LIST && gw->list_passthrough;
	cJSON *o = cJSON_CreateObject();

	add_id(o, v, a, gw);
	cJSON_AddStringToObject(o, "object", "video");
	if (gw->sparse && !passthrough) {
		add_sparse(o, v, s, a, gw);
		add_usage(o, v, a, gw);
		return o;
	}
	cJSON_AddNumberToObject(o, "created_at",
	                        gw->created_at_zero ? 0.0 : unix_seconds(v->created_real_ms));
	cJSON_AddStringToObject(o, "status", status_word(v, s, gw));
	if (s->status == ST_COMPLETED)
		cJSON_AddNumberToObject(o, "completed_at", unix_seconds(s->completed_real_ms));
	else
		cJSON_AddNullToObject(o, "completed_at");
	add_error(o, s);
	if (s->status == ST_COMPLETED)
		cJSON_AddNumberToObject(o, "expires_at",
		                        unix_seconds(s->completed_real_ms) + (double)conf.expire_s);
	else
		cJSON_AddNullToObject(o, "expires_at");
	cJSON_AddStringToObject(o, "model", gateway_answer_model(v->model));
	if (gw->no_progress)
		cJSON_AddNullToObject(o, "progress");
	else
		cJSON_AddNumberToObject(o, "progress", s->progress);
	/* A passed-through list item is the upstream's own JSON, prompt included. */
	if (!gw->no_prompt || passthrough)
		add_string_or_null(o, "prompt", v->prompt);
	add_string_or_null(o, "remixed_from_video_id", v->remixed_from);
	cJSON_AddStringToObject(o, "seconds", v->seconds);
	cJSON_AddStringToObject(o, "size", v->size);
	add_usage(o, v, a, gw);
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
		free(table[i]->raw);
		free(table[i]->remixed_from);
		free(table[i]);
	}
	free(table);
	free(index_slots);
	table = NULL;
	index_slots = NULL;
	count = cap = index_cap = index_used = 0;
	pthread_rwlock_unlock(&lock);
}

/* Copies a bounded field; the callers' fields were validated against short enums. */
static void copy_field(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

/* The unsigned N of "HOOKN]" in PROMPT when it lies in [LO, HI]; 0 otherwise. */
static unsigned hook_number(const char *prompt, const char *hook, unsigned lo, unsigned hi)
{
	const char *p = strstr(prompt, hook);
	unsigned long long n = 0;

	if (p == NULL)
		return 0;
	for (p += strlen(hook); *p >= '0' && *p <= '9' && n <= hi; p++)
		n = n * 10 + (unsigned)(*p - '0');
	return *p == ']' && n >= lo && n <= hi ? (unsigned)n : 0;
}

static void content_hooks_parse(const char *prompt, struct content_hooks *h)
{
	h->status = hook_number(prompt, "[sim:content-status=", 400, 599);
	h->trickle_bps = hook_number(prompt, "[sim:trickle=", 1, 100000000);
	h->fails = hook_number(prompt, "[sim:content-fails=", 1, 1000000);
	h->fail_now = false;
}

/* Whether this content request is one of the first hooks.fails: counted down without
 * the write lock (readers run side by side). */
static bool take_content_fail(struct video *v)
{
	unsigned left = __atomic_load_n(&v->hooks.fails, __ATOMIC_RELAXED);

	while (left > 0)
		if (__atomic_compare_exchange_n(&v->hooks.fails, &left, left - 1, false,
		                                __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return true;
	return false;
}

cJSON *videos_create(const struct video_spec *spec)
{
	struct video *v = xcalloc(1, sizeof(*v));
	char id[VIDEO_ID_SIZE], raw[VIDEO_ID_SIZE];
	struct state s;
	uint64_t st;
	cJSON *j;

	copy_field(v->model, sizeof(v->model), spec->model);
	copy_field(v->size, sizeof(v->size), spec->size);
	copy_field(v->seconds, sizeof(v->seconds), spec->seconds);
	v->remixed_from = xstrdup(spec->remixed_from);
	v->prompt = xstrdup(spec->prompt);
	v->fail = strstr(spec->prompt, "[sim:fail]") != NULL;
	copy_field(v->status_word, sizeof(v->status_word), spec->status_word);
	content_hooks_parse(spec->prompt, &v->hooks);
	/* Rendering starts now, so that it overlaps the simulated generation time; a video
	 * that will not complete has no media. */
	if (!v->fail && v->status_word[0] == '\0')
		v->media = media_request(spec->width, spec->height, spec->secs, spec->prompt);
	v->created_real_ms = now_service_ms();
	v->created_mono_ms = now_mono_ms();

	pthread_rwlock_wrlock(&lock);
	/* The id depends only on the seed and the creation order. */
	st = conf.seed ^ ((uint64_t)count * 0xd1b54a32d192ed03ULL);
	{
		uint64_t a = splitmix64(&st), b = splitmix64(&st), c = splitmix64(&st);
		int64_t span = 2 * (int64_t)conf.gen_jitter_pct + 1;
		int64_t pct = 100 + (int64_t)(c % (uint64_t)span) - (int64_t)conf.gen_jitter_pct;

		gateway_video_id(id, sizeof(id), raw, sizeof(raw), a, b, v->model);
		/* Its generation time, like its id, depends only on the seed and order. */
		v->gen_ms = conf.gen_ms * pct / 100;
	}
	v->id = xstrdup(id);
	v->raw = xstrdup(raw);
	if (count == cap) {
		cap = cap ? cap * 2 : 256;
		table = xrealloc(table, cap * sizeof(*table));
	}
	table[count] = v;
	index_reserve();
	index_put((uint32_t)count);
	count++;
	state_of(v, v->created_mono_ms, &s);
	j = to_json(v, &s, ANSWER_CREATE);
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
		int64_t now = now_mono_ms();

		state_of(v, now, &s);
		note_seen(v, &s, now);
		*pending = s.status == ST_QUEUED || s.status == ST_IN_PROGRESS;
		j = to_json(v, &s, ANSWER_RETRIEVE);
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

enum video_lookup videos_content(const char *id, struct media **m, struct content_hooks *h)
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
			*h = v->hooks;
			h->fail_now = take_content_fail(v);
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

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The PCT-th percentile of the N sorted values D, by nearest rank. */
static int64_t nearest_rank(const int64_t *d, size_t n, size_t pct)
{
	size_t rank = (n * pct + 99) / 100;

	return d[rank > 0 ? rank - 1 : 0];
}

void videos_detection_json(cJSON *root)
{
	cJSON *o = cJSON_AddObjectToObject(root, "detection");
	int64_t *d, sum = 0;
	size_t i, n = 0;

	pthread_rwlock_rdlock(&lock);
	d = xcalloc(count ? count : 1, sizeof(*d));
	for (i = 0; i < count; i++) {
		int64_t seen = __atomic_load_n(&table[i]->seen_done_mono_ms, __ATOMIC_RELAXED);
		int64_t done = __atomic_load_n(&table[i]->done_mono_ms, __ATOMIC_RELAXED);

		if (seen > 0 && done > 0)
			d[n++] = seen > done ? seen - done : 0;
	}
	pthread_rwlock_unlock(&lock);
	qsort(d, n, sizeof(*d), cmp_i64);
	for (i = 0; i < n; i++)
		sum += d[i];
	cJSON_AddNumberToObject(o, "videos", (double)n);
	if (n > 0) {
		cJSON_AddNumberToObject(o, "p50_ms", (double)nearest_rank(d, n, 50));
		cJSON_AddNumberToObject(o, "p90_ms", (double)nearest_rank(d, n, 90));
		cJSON_AddNumberToObject(o, "p99_ms", (double)nearest_rank(d, n, 99));
		cJSON_AddNumberToObject(o, "max_ms", (double)d[n - 1]);
		cJSON_AddNumberToObject(o, "mean_ms", (double)sum / (double)n);
	}
	free(d);
}

int videos_info(const char *id, struct video_info *out)
{
	static const enum video_phase phases[] = {
	    [ST_QUEUED] = VIDEO_QUEUED,       [ST_IN_PROGRESS] = VIDEO_RUNNING,
	    [ST_COMPLETED] = VIDEO_COMPLETED, [ST_FAILED] = VIDEO_FAILED,
	    [ST_OTHER] = VIDEO_OTHER,
	};
	struct video *v;
	struct state s;

	pthread_rwlock_rdlock(&lock);
	v = find_live(id);
	if (v) {
		state_of(v, now_mono_ms(), &s);
		memset(out, 0, sizeof(*out));
		out->phase = phases[s.status];
		if (s.status == ST_OTHER)
			copy_field(out->word, sizeof(out->word), v->status_word);
		out->expired = s.expired;
		copy_field(out->model, sizeof(out->model), v->model);
		out->secs = (unsigned)strtoul(v->seconds, NULL, 10);
		out->created_real_ms = v->created_real_ms;
	}
	pthread_rwlock_unlock(&lock);
	return v ? 0 : -1;
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
		note_seen(v, &s, now);
		cJSON_AddItemToArray(data, to_json(v, &s, ANSWER_LIST));
		/* A passed-through list keeps the upstream's cursors: its raw ids. */
		if (first == NULL)
			first = gateway_shape()->list_passthrough ? v->raw : v->id;
		last = gateway_shape()->list_passthrough ? v->raw : v->id;
		n++;
	}
	add_string_or_null(page, "first_id", first);
	add_string_or_null(page, "last_id", last);
	cJSON_AddBoolToObject(page, "has_more", more);
	pthread_rwlock_unlock(&lock);
	return page;
}
