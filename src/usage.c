/* usage.c — the usage log and the caps judged from it (see usage.h). */
#include "usage.h"
#include "commit.h"
#include "decimal.h"
#include "log.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOT_FOUND SIZE_MAX

/* A string of a line: its bytes (not NUL-terminated), NULL when absent. */
struct sv {
	const char *p;
	size_t n;
};

static bool sv_eq(struct sv a, const char *b)
{
	return b ? a.p && strlen(b) == a.n && !memcmp(a.p, b, a.n) : !a.p;
}

static bool sv_same(struct sv a, struct sv b)
{
	return a.n == b.n && (!a.n || (a.p && b.p && !memcmp(a.p, b.p, a.n)));
}

static char *sv_dup(struct sv a)
{
	return a.p ? xstrndup(a.p, a.n) : NULL;
}

static struct sv sv_of(const char *s)
{
	return (struct sv){s, s ? strlen(s) : 0};
}

struct usage_cold;
static bool cold_has_video(const struct usage *u, const char *video_id);
static int model_slot(struct usage *u, struct sv model);

static const char *const state_names[] = {"sent", "created", "void"};

const char *usage_state_name(enum usage_state s)
{
	return (unsigned)s < ARRAY_LEN(state_names) ? state_names[s] : "?";
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* The claim directory of J (its source before '/'), into buf; "" when none or too long. */
static void job_claim(const struct job *j, char *buf, size_t size)
{
	const char *slash = j->source ? strchr(j->source, '/') : NULL;
	size_t n = slash ? (size_t)(slash - j->source) : 0;
	if (n >= size)
		n = 0;
	memcpy(buf, j->source ? j->source : "", n);
	buf[n] = '\0';
}

/* ---- the two indexes: video id → counting entry, (name, claim, K) → entry ---------- */

static size_t find_key(const struct usage *u, const char *name, const char *claim, unsigned k)
{
	size_t pos;
	for (const void *v = hmap_get_first(&u->keys, name, &pos); v;
	     v = hmap_get_next(&u->keys, name, &pos)) {
		const struct usage_entry *e = &u->v[hmap_val_index(v)];
		if (e->create == k && str_eq(e->claim, claim))
			return hmap_val_index(v);
	}
	return NOT_FOUND;
}

static size_t find_video(const struct usage *u, const char *video_id)
{
	const void *v = hmap_get(&u->videos, video_id);
	return v ? hmap_val_index(v) : NOT_FOUND;
}

/* Entry IDX's video: counted by IDX unless another entry counts it already. */
static void index_video(struct usage *u, size_t idx)
{
	struct usage_entry *e = &u->v[idx];
	e->dup = false;
	if (!e->video_id || e->state == USAGE_VOID)
		return;
	size_t owner = find_video(u, e->video_id);
	if (owner == NOT_FOUND && u->cold && cold_has_video(u, e->video_id))
		e->dup = true; /* a folded older line counts it */
	else if (owner == NOT_FOUND)
		hmap_put(&u->videos, e->video_id, hmap_index_val(idx));
	else
		e->dup = owner != idx;
}

static void rebuild_videos(struct usage *u)
{
	hmap_clear(&u->videos);
	for (size_t i = 0; i < u->n; i++)
		index_video(u, i);
}

/* The keys borrow entry IDX's strings: out of both indexes before they are freed. */
static void unindex(struct usage *u, size_t idx)
{
	const struct usage_entry *e = &u->v[idx];
	if (e->create && e->name)
		hmap_del_val(&u->keys, e->name, hmap_index_val(idx));
	if (e->video_id)
		hmap_del_val(&u->videos, e->video_id, hmap_index_val(idx));
}

static void index_entry(struct usage *u, size_t idx)
{
	const struct usage_entry *e = &u->v[idx];
	if (e->create && e->name)
		hmap_add(&u->keys, e->name, hmap_index_val(idx));
	index_video(u, idx);
}

/* The first place in by_at whose entry comes at or after (AT, IDX). */
static size_t by_at_pos(const struct usage *u, long long at, size_t idx)
{
	size_t lo = 0, hi = u->n_by_at;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct usage_entry *m = &u->v[u->by_at[mid]];
		if (m->at < at || (m->at == at && u->by_at[mid] < idx))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Entry IDX into by_at at its place (at the end, as a rule: creates come in order). */
static void by_at_insert(struct usage *u, size_t idx)
{
	size_t pos = by_at_pos(u, u->v[idx].at, idx);
	u->by_at = xgrow(u->by_at, &u->cap_by_at, (u->n_by_at + 1) * sizeof(*u->by_at),
	                 64 * sizeof(*u->by_at));
	memmove(&u->by_at[pos + 1], &u->by_at[pos], (u->n_by_at - pos) * sizeof(*u->by_at));
	u->by_at[pos] = idx;
	u->n_by_at++;
}

/* Entry IDX out of by_at (before its "at" changes). */
static void by_at_remove(struct usage *u, size_t idx)
{
	size_t pos = by_at_pos(u, u->v[idx].at, idx);
	if (pos < u->n_by_at && u->by_at[pos] == idx) {
		memmove(&u->by_at[pos], &u->by_at[pos + 1],
		        (u->n_by_at - pos - 1) * sizeof(*u->by_at));
		u->n_by_at--;
	}
}

/* Appends E (taking its strings) and indexes it. */
static size_t add_entry(struct usage *u, const struct usage_entry *e)
{
	if (u->n == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 64;
		u->v = xrealloc(u->v, u->cap * sizeof(*u->v));
	}
	u->v[u->n++] = *e;
	(void)model_slot(u, sv_of(e->model));
	index_entry(u, u->n - 1);
	by_at_insert(u, u->n - 1);
	return u->n - 1;
}

static void entry_release(struct usage_entry *e)
{
	free(e->name);
	free(e->claim);
	free(e->video_id);
	free(e->model);
	free(e->size);
}

/* Entry IDX (same key) becomes E, taking E's strings: the latest line wins. */
static void update_entry(struct usage *u, size_t idx, const struct usage_entry *e)
{
	struct usage_entry *old = &u->v[idx];
	/* The video it counted may now be another entry's to count: index them again. */
	bool lost = old->video_id && old->state != USAGE_VOID && !old->dup &&
	            (e->state == USAGE_VOID || !str_eq(old->video_id, e->video_id));
	unindex(u, idx);
	bool moved = old->at != e->at; /* a later line repeats the first one's "at", as a rule */
	if (moved)
		by_at_remove(u, idx);
	entry_release(old);
	*old = *e;
	if (moved)
		by_at_insert(u, idx);
	if (old->create && old->name)
		hmap_add(&u->keys, old->name, hmap_index_val(idx));
	if (lost)
		rebuild_videos(u);
	else
		index_video(u, idx);
}

bool usage_has(const struct usage *u, const char *video_id)
{
	return video_id &&
	       (find_video(u, video_id) != NOT_FOUND || (u->cold && cold_has_video(u, video_id)));
}

/* ---- reading a line: one parser, a fast path for the shape sorad writes ------------ */

/* One line as read, its strings borrowed from the line (or from a cJSON tree). */
struct line_view {
	long long at;
	unsigned create; /* 0: an older line, keyed by its video id */
	enum usage_state state;
	unsigned seconds;
	double cost_usd;
	bool cost_reported;
	struct sv name, claim, video_id, model, size;
};

/* What a member's value was: the fast path takes strings without escapes, numbers,
 * true, false and null; anything else sends the line to cJSON. */
struct member {
	enum { M_OTHER, M_STR, M_NUM, M_TRUE } kind; /* M_OTHER: absent too */
	struct sv str;
	double num;
};

static const char *skip_ws(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
		s++;
	return s;
}

/* A string at S (after its '"'): its end quote, or NULL (an escape, a control byte or
 * no end: not for the fast path). */
static const char *scan_str(const char *s, const char *end)
{
	for (; s < end; s++) {
		if (*s == '"')
			return s;
		if (*s == '\\' || (unsigned char)*s < 0x20)
			return NULL;
	}
	return NULL;
}

/* A JSON number at S into *OUT: its end, or NULL. */
static const char *scan_num(const char *s, const char *end, double *out)
{
	char buf[64];
	const char *p = s;
	bool neg = p < end && *p == '-';
	if (neg)
		p++;
	const char *digits = p;
	while (p < end && ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E' ||
	                   ((*p == '+' || *p == '-') && (p[-1] == 'e' || p[-1] == 'E'))))
		p++;
	size_t n = (size_t)(p - digits);
	if (!n || n >= sizeof(buf) || *digits == '.')
		return NULL;
	memcpy(buf, digits, n);
	buf[n] = '\0';
	if (decimal_real(buf, DECIMAL_EXPONENT, out) != 0)
		return NULL;
	if (neg)
		*out = -*out;
	return p;
}

enum { F_AT, F_NAME, F_CLAIM, F_CREATE, F_STATE, F_VIDEO, F_MODEL, F_SIZE, F_SECS, F_COST, F_REP };
static const char *const field_names[] = {"at",      "name",     "claim",        "create",
                                          "state",   "video_id", "model",        "size",
                                          "seconds", "cost_usd", "cost_reported"};

/* Whether the bytes from S to END start with WORD. */
static bool literal(const char *s, const char *end, const char *word)
{
	size_t n = strlen(word);
	return (size_t)(end - s) >= n && !memcmp(s, word, n);
}

static const size_t field_lens[] = {2, 4, 5, 6, 5, 8, 5, 4, 7, 8, 13};

/* The members of the one object of LINE into F (the first of a repeated key wins, as
 * cJSON's lookup); 0, -1 when it is not an object, -2 when only cJSON can tell. */
static int scan_object(const char *s, const char *end, struct member *f, bool *seen)
{
	s = skip_ws(s, end);
	if (s == end || *s++ != '{')
		return -1;
	s = skip_ws(s, end);
	if (s < end && *s == '}')
		return skip_ws(s + 1, end) == end ? 0 : -1;
	for (;;) {
		if (s == end || *s != '"')
			return -2;
		const char *k = s + 1, *ke = scan_str(k, end);
		if (!ke)
			return -2;
		s = skip_ws(ke + 1, end);
		if (s == end || *s++ != ':')
			return -2;
		s = skip_ws(s, end);
		struct member m = {.kind = M_OTHER};
		if (s < end && *s == '"') {
			const char *ve = scan_str(s + 1, end);
			if (!ve)
				return -2;
			m = (struct member){.kind = M_STR, .str = {s + 1, (size_t)(ve - s - 1)}};
			s = ve + 1;
		} else if (s < end && (*s == '-' || (*s >= '0' && *s <= '9'))) {
			m.kind = M_NUM;
			if (!(s = scan_num(s, end, &m.num)))
				return -2;
		} else if (literal(s, end, "true")) {
			m.kind = M_TRUE;
			s += 4;
		} else if (literal(s, end, "false")) {
			s += 5;
		} else if (literal(s, end, "null")) {
			s += 4;
		} else {
			return -2; /* an object or array: cJSON */
		}
		for (size_t i = 0; i < ARRAY_LEN(field_names); i++)
			if ((size_t)(ke - k) == field_lens[i] &&
			    !memcmp(k, field_names[i], (size_t)(ke - k)) && !seen[i]) {
				seen[i] = true;
				f[i] = m;
			}
		s = skip_ws(s, end);
		if (s < end && *s == ',') {
			s = skip_ws(s + 1, end);
			continue;
		}
		if (s < end && *s == '}')
			return skip_ws(s + 1, end) == end ? 0 : -1;
		return -2;
	}
}

/* The same members from a cJSON tree (strings borrowed from it). */
static int cjson_members(const cJSON *o, struct member *f, bool *seen)
{
	if (!cJSON_IsObject(o))
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(field_names); i++) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, field_names[i]);
		seen[i] = m != NULL;
		f[i] = (struct member){.kind = M_OTHER};
		if (m && cJSON_IsString(m))
			f[i] = (struct member){.kind = M_STR,
			                       .str = {m->valuestring, strlen(m->valuestring)}};
		else if (m && cJSON_IsNumber(m))
			f[i] = (struct member){.kind = M_NUM, .num = m->valuedouble};
		else if (cJSON_IsTrue(m))
			f[i].kind = M_TRUE;
	}
	return 0;
}

static struct sv str_of(const struct member *m)
{
	return m->kind == M_STR ? m->str : (struct sv){NULL, 0};
}

/* The members into V with the checks of a usage line; 0, or -1 when it is not one. */
static int view_of(const struct member *f, const bool *seen, struct line_view *v)
{
	memset(v, 0, sizeof(*v));
	v->state = USAGE_CREATED;
	v->video_id = str_of(&f[F_VIDEO]);
	v->model = str_of(&f[F_MODEL]);
	v->size = str_of(&f[F_SIZE]);
	v->name = str_of(&f[F_NAME]);
	/* Ranges before the casts below: a double outside the target's range is undefined.
	 * An older line is keyed by its video id: it must have one. */
	if (f[F_AT].kind != M_NUM || f[F_SECS].kind != M_NUM || !v->model.p ||
	    !(f[F_AT].num >= 0 && f[F_AT].num <= 253402300799.0) ||
	    !(f[F_SECS].num >= 0 && f[F_SECS].num <= 1e6))
		return -1;
	if (seen[F_CREATE]) {
		double k = f[F_CREATE].num;
		int state = -1;
		for (size_t i = 0; f[F_STATE].kind == M_STR && i < ARRAY_LEN(state_names); i++)
			if (sv_eq(f[F_STATE].str, state_names[i]))
				state = (int)i;
		if (f[F_CREATE].kind != M_NUM || !(k >= 1) || k > JOB_CREATES_MAX ||
		    !dbl_is_integer(k) || state < 0 || !v->name.p)
			return -1;
		v->create = (unsigned)k;
		v->state = (enum usage_state)state;
		v->claim = str_of(&f[F_CLAIM]);
		if (!v->claim.p)
			v->claim = (struct sv){"", 0};
	} else if (!v->video_id.p) {
		return -1;
	}
	v->at = (long long)f[F_AT].num;
	v->seconds = (unsigned)f[F_SECS].num;
	v->cost_usd = f[F_COST].kind == M_NUM && f[F_COST].num >= 0 ? f[F_COST].num : 0;
	v->cost_reported = f[F_REP].kind == M_TRUE;
	return 0;
}

/*
 * LINE (LEN bytes, its newline included or not) into V; 0, or -1 when it is not a usage
 * line (a torn or edited line). The strings of V are LINE's, or *TREE's when the line
 * needed cJSON (an escape in a string, a nested value): the caller frees *TREE.
 */
static int parse_line(const char *line, size_t len, struct line_view *v, cJSON **tree)
{
	struct member f[ARRAY_LEN(field_names)];
	bool seen[ARRAY_LEN(field_names)] = {false};
	*tree = NULL;
	if (len > USAGE_LINE_MAX)
		return -1;
	memset(f, 0, sizeof(f));
	int rc = scan_object(line, line + len, f, seen);
	if (rc == -2) {
		*tree = cJSON_ParseWithLength(line, len);
		memset(seen, 0, sizeof(seen));
		rc = cjson_members(*tree, f, seen);
	}
	return rc == 0 ? view_of(f, seen, v) : -1;
}

/* V as an entry, its strings copied. */
static struct usage_entry entry_of(const struct line_view *v, long long off)
{
	return (struct usage_entry){.at = v->at,
	                            .name = sv_dup(v->name),
	                            .video_id = sv_dup(v->video_id),
	                            .model = sv_dup(v->model),
	                            .size = sv_dup(v->size),
	                            .claim = sv_dup(v->claim),
	                            .create = v->create,
	                            .state = v->state,
	                            .seconds = v->seconds,
	                            .cost_usd = v->cost_usd,
	                            .cost_reported = v->cost_reported,
	                            .off = off};
}

/* ---- the models named, in the order the log first names them ------------------------ */

/* MODEL's slot in U's list (added when new); -1 when the list is full (USAGE_MODELS_MAX:
 * the file is untrusted, a model is any string). */
static int model_slot(struct usage *u, struct sv model)
{
	for (size_t i = 0; i < u->n_models; i++)
		if (sv_eq(model, u->models[i]))
			return (int)i;
	if (u->n_models == USAGE_MODELS_MAX)
		return -1;
	u->models = xgrow(u->models, &u->cap_models, (u->n_models + 1) * sizeof(*u->models),
	                  8 * sizeof(*u->models));
	u->models[u->n_models] = sv_dup(model);
	return (int)u->n_models++;
}

size_t usage_model_count(const struct usage *u)
{
	return u->n_models;
}

const char *usage_model(const struct usage *u, size_t i)
{
	return i < u->n_models ? u->models[i] : NULL;
}

/* ---- the compact mode: old keys folded into totals per quarter hour ------------------ */

#define COLD_BUCKET_S 900 /* every local midnight, in every time zone, is on one */
#define COLD_OFF_BITS 40
#define COLD_OFF_MASK ((UINT64_C(1) << COLD_OFF_BITS) - 1)
#define COLD_TOMB COLD_OFF_MASK /* tag 0 and the highest offset: a key that left */

/* What the folded keys of one model add up to in one quarter hour (none is "sent":
 * a create whose outcome is not known stays a full entry). */
struct cold_bucket {
	long long start; /* unix seconds, a multiple of COLD_BUCKET_S */
	unsigned long long seconds;
	double usd;
	size_t creates;
	unsigned model; /* slot in usage.models */
};

struct usage_cold {
	long long hot_from;    /* a key sent before this, in its final state, is folded */
	int fd;                /* the log, read back to confirm a key (-1: none) */
	uint64_t *slot;        /* key hash's top 24 bits << 40 | (its latest line's offset + 1) */
	size_t cap, n, used;   /* used: n and the keys that left */
	struct cold_bucket *b; /* sorted by (start, model) */
	size_t nb, capb;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	if (!c)
		return h;
	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * UINT64_C(0x100000001b3);
	return h;
}

/* The hash of a key: (name, claim, K) for a create, its video id for an older line. */
static uint64_t key_hash(struct sv name, struct sv claim, unsigned k, struct sv video)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	if (k) {
		h = fnv(h, "k", 2);
		h = fnv(h, name.p, name.n);
		h = fnv(h, "", 1);
		h = fnv(h, claim.p, claim.n);
		h = fnv(h, &k, sizeof(k));
	} else {
		h = fnv(h, "v", 2);
		h = fnv(h, video.p, video.n);
	}
	h ^= h >> 31; /* splitmix64's finalizer: the top bits depend on every byte */
	h *= UINT64_C(0xbf58476d1ce4e5b9);
	h ^= h >> 27;
	return h;
}

static size_t cold_home(const struct usage_cold *c, uint64_t tag)
{
	return (size_t)((tag * UINT64_C(0x9E3779B97F4A7C15)) >> 20) & (c->cap - 1);
}

static void cold_put(struct usage_cold *c, uint64_t v)
{
	size_t i = cold_home(c, v >> COLD_OFF_BITS);
	while (c->slot[i])
		i = (i + 1) & (c->cap - 1);
	c->slot[i] = v;
}

/* A key whose hash is H, its latest line at OFF, into the table (grown at 3/4 full,
 * from the tags alone: the slots keep no more of the hash). */
static void cold_insert(struct usage_cold *c, uint64_t h, long long off)
{
	if ((c->used + 1) * 4 > c->cap * 3) {
		uint64_t *old = c->slot;
		size_t ocap = c->cap;
		c->cap = c->n * 4 > ocap ? ocap * 2 : ocap < 1024 ? 1024 : ocap;
		c->slot = xcalloc(c->cap, sizeof(*c->slot));
		for (size_t i = 0; i < ocap; i++)
			if (old[i] && old[i] != COLD_TOMB)
				cold_put(c, old[i]);
		free(old);
		c->used = c->n;
	}
	cold_put(c, (h >> COLD_OFF_BITS) << COLD_OFF_BITS | ((uint64_t)off + 1));
	c->n++;
	c->used++;
}

/* The line at OFF into BUF and V (strings in BUF, or *TREE: the caller frees it). */
static int cold_read(const struct usage_cold *c, long long off, char *buf, struct line_view *v,
                     cJSON **tree)
{
	*tree = NULL;
	ssize_t r;
	do
		r = pread(c->fd, buf, USAGE_LINE_MAX, (off_t)off);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return -1;
	const char *nl = memchr(buf, '\n', (size_t)r);
	return parse_line(buf, nl ? (size_t)(nl - buf) + 1 : (size_t)r, v, tree);
}

/*
 * The folded key (NAME, CLAIM, K) (K 0: the older line of VIDEO): its slot, its latest
 * line in V (strings in BUF[USAGE_LINE_MAX] or *TREE, which the caller frees), or
 * NOT_FOUND. A slot whose tag matches is confirmed by reading its line back: a hash
 * collision is never taken for the key.
 */
static size_t cold_find(const struct usage *u, struct sv name, struct sv claim, unsigned k,
                        struct sv video, char *buf, struct line_view *v, cJSON **tree)
{
	const struct usage_cold *c = u->cold;
	*tree = NULL;
	if (!c || !c->n)
		return NOT_FOUND;
	uint64_t tag = key_hash(name, claim, k, video) >> COLD_OFF_BITS;
	for (size_t i = cold_home(c, tag); c->slot[i]; i = (i + 1) & (c->cap - 1)) {
		if (c->slot[i] == COLD_TOMB || c->slot[i] >> COLD_OFF_BITS != tag)
			continue;
		if (cold_read(c, (long long)(c->slot[i] & COLD_OFF_MASK) - 1, buf, v, tree) == 0 &&
		    v->create == k &&
		    (k ? sv_same(v->name, name) && sv_same(v->claim, claim)
		       : sv_same(v->video_id, video)))
			return i;
		cJSON_Delete(*tree);
		*tree = NULL;
	}
	return NOT_FOUND;
}

/* Whether an older line, folded, counts VIDEO_ID. */
static bool cold_has_video(const struct usage *u, const char *video_id)
{
	char buf[USAGE_LINE_MAX];
	struct line_view v;
	cJSON *tree;
	struct sv none = {"", 0};
	size_t i = cold_find(u, none, none, 0, sv_of(video_id), buf, &v, &tree);
	cJSON_Delete(tree);
	return i != NOT_FOUND;
}

/* The first bucket at or after (START, MODEL). */
static size_t bucket_pos(const struct usage_cold *c, long long start, unsigned model)
{
	size_t lo = 0, hi = c->nb;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct cold_bucket *m = &c->b[mid];
		if (m->start < start || (m->start == start && m->model < model))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* What line V counts (nothing when void), added (SIGN 1) or taken away (-1). */
static void cold_count(struct usage *u, const struct line_view *v, int slot, int sign)
{
	struct usage_cold *c = u->cold;
	if (v->state == USAGE_VOID || slot < 0)
		return;
	long long start = v->at - v->at % COLD_BUCKET_S;
	size_t p = bucket_pos(c, start, (unsigned)slot);
	if (p == c->nb || c->b[p].start != start || c->b[p].model != (unsigned)slot) {
		c->b = xgrow(c->b, &c->capb, (c->nb + 1) * sizeof(*c->b), 64 * sizeof(*c->b));
		memmove(&c->b[p + 1], &c->b[p], (c->nb - p) * sizeof(*c->b));
		c->b[p] = (struct cold_bucket){.start = start, .model = (unsigned)slot};
		c->nb++;
	}
	struct cold_bucket *b = &c->b[p];
	if (sign > 0) {
		b->seconds += v->seconds;
		b->usd += v->cost_usd;
		b->creates++;
	} else {
		b->seconds -= v->seconds;
		b->usd -= v->cost_usd;
		b->creates--;
	}
}

/* The folded key of line V leaves the table and the totals (its line is noted again). */
static void cold_unfold(struct usage *u, size_t slot, const struct line_view *v)
{
	cold_count(u, v, model_slot(u, v->model), -1);
	u->cold->slot[slot] = COLD_TOMB;
	u->cold->n--;
}

/* Whether line V at OFF, a key's latest, is folded: its final state, sent before
 * hot_from, its model in the list. */
static bool cold_fits(struct usage *u, const struct line_view *v, long long off)
{
	return v->state != USAGE_SENT && v->at < u->cold->hot_from && off >= 0 &&
	       (uint64_t)off + 1 < COLD_TOMB && model_slot(u, v->model) >= 0;
}

static void cold_fold(struct usage *u, const struct line_view *v, long long off)
{
	cold_count(u, v, model_slot(u, v->model), 1);
	cold_insert(u->cold, key_hash(v->name, v->claim, v->create, v->video_id), off);
}

/* Line V at OFF in compact mode: true when it is taken here (folded, or a repeat). */
static bool cold_apply(struct usage *u, const struct line_view *v, long long off)
{
	char name[USAGE_LINE_MAX];
	if (v->create) {
		char claim[USAGE_LINE_MAX];
		memcpy(name, v->name.p, v->name.n);
		name[v->name.n] = '\0';
		memcpy(claim, v->claim.p, v->claim.n);
		claim[v->claim.n] = '\0';
		if (find_key(u, name, claim, v->create) != NOT_FOUND)
			return false; /* a full entry: the latest line replaces it there */
		struct line_view old;
		cJSON *tree;
		size_t i =
		    cold_find(u, v->name, v->claim, v->create, v->video_id, name, &old, &tree);
		if (i != NOT_FOUND)
			cold_unfold(u, i, &old);
		cJSON_Delete(tree);
		if (v->video_id.p && v->state != USAGE_VOID) {
			memcpy(name, v->video_id.p, v->video_id.n);
			name[v->video_id.n] = '\0';
			if (usage_has(u, name))
				return false; /* counted by another: a full entry, which counts
				                 nothing */
		}
	} else {
		memcpy(name, v->video_id.p, v->video_id.n);
		name[v->video_id.n] = '\0';
		if (usage_has(u, name))
			return true; /* its video is counted already */
	}
	if (!cold_fits(u, v, off))
		return false;
	cold_fold(u, v, off);
	return true;
}

static void cold_start(struct usage *u, time_t now)
{
	u->cold = xcalloc(1, sizeof(*u->cold));
	/* yesterday and today stay full: the jobs still moving are there */
	u->cold->hot_from = usage_day_start(now - 86400);
	u->cold->fd = -1;
}

/* After the load: the full entries that qualify are folded (those sent then settled),
 * except a video two entries name (the one that counts it stays with the other). */
static void cold_sweep(struct usage *u)
{
	bool *keep = xcalloc(u->n ? u->n : 1, sizeof(*keep));
	for (size_t i = 0; i < u->n; i++)
		if (u->v[i].dup) {
			size_t owner = find_video(u, u->v[i].video_id);
			keep[i] = true;
			if (owner != NOT_FOUND)
				keep[owner] = true;
		}
	size_t kept = 0;
	for (size_t i = 0; i < u->n; i++) {
		struct usage_entry *e = &u->v[i];
		struct line_view v = {.at = e->at,
		                      .create = e->create,
		                      .state = e->state,
		                      .seconds = e->seconds,
		                      .cost_usd = e->cost_usd,
		                      .name = sv_of(e->name),
		                      .claim = sv_of(e->claim),
		                      .video_id = sv_of(e->video_id),
		                      .model = sv_of(e->model)};
		if (!keep[i] && cold_fits(u, &v, e->off)) {
			cold_fold(u, &v, e->off);
			entry_release(e);
		} else {
			u->v[kept++] = *e;
		}
	}
	free(keep);
	if (kept == u->n)
		return;
	u->n = kept;
	hmap_clear(&u->keys);
	u->n_by_at = 0;
	for (size_t i = 0; i < u->n; i++) {
		if (u->v[i].create && u->v[i].name)
			hmap_add(&u->keys, u->v[i].name, hmap_index_val(i));
		by_at_insert(u, i);
	}
	rebuild_videos(u);
}

static void cold_free(struct usage_cold *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->slot);
	free(c->b);
	free(c);
}

/* A parsed line into U: the latest line of a create wins; an older line whose video
 * is counted already is a repeat. */
static void apply_line(struct usage *u, const struct line_view *v, long long off)
{
	if (u->cold && cold_apply(u, v, off))
		return;
	if (v->create) {
		char *name = sv_dup(v->name), *claim = sv_dup(v->claim);
		size_t i = find_key(u, name, claim, v->create);
		free(name);
		free(claim);
		struct usage_entry e = entry_of(v, off);
		if (i == NOT_FOUND)
			add_entry(u, &e);
		else
			update_entry(u, i, &e);
	} else {
		char *vid = sv_dup(v->video_id);
		bool has = usage_has(u, vid);
		free(vid);
		if (!has) {
			struct usage_entry e = entry_of(v, off);
			add_entry(u, &e);
		}
	}
}

/* Every line of the log at FD into U, read in large blocks; a line longer than
 * USAGE_LINE_MAX is skipped whole. */
static void read_log(struct usage *u, int fd)
{
	size_t cap = 1 << 20, have = 0;
	char *buf = xmalloc(cap);
	long long off = 0; /* the file offset of buf[0] */
	bool skipping = false;
	for (;;) {
		ssize_t r = read(fd, buf + have, cap - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			log_error("usage: error reading %s: %s", u->path, strerror(errno));
		if (r <= 0)
			break;
		have += (size_t)r;
		size_t pos = 0;
		for (;;) {
			char *nl = memchr(buf + pos, '\n', have - pos);
			if (!nl)
				break;
			size_t len = (size_t)(nl - (buf + pos)) + 1;
			struct line_view v;
			cJSON *tree;
			if (!skipping && parse_line(buf + pos, len, &v, &tree) == 0)
				apply_line(u, &v, off + (long long)pos);
			cJSON_Delete(tree);
			skipping = false;
			pos += len;
		}
		if (pos == 0 && have == cap) {
			skipping = true; /* longer than the buffer: not a usage line */
			pos = have;
		}
		memmove(buf, buf + pos, have - pos);
		have -= pos;
		off += (long long)pos;
	}
	/* a last line without its newline: whole if it parses (a torn one does not) */
	struct line_view v;
	cJSON *tree;
	if (have && !skipping && parse_line(buf, have, &v, &tree) == 0)
		apply_line(u, &v, off);
	else
		tree = NULL;
	cJSON_Delete(tree);
	free(buf);
}

static struct usage *load(const char *state_dir, bool compact, time_t now)
{
	struct usage *u = xcalloc(1, sizeof(*u));
	u->path = xasprintf("%s/%s", state_dir, USAGE_FILE);
	int fd = open(u->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			log_error("usage: cannot read %s: %s", u->path, strerror(errno));
		return u;
	}
	if (compact) {
		cold_start(u, now);
		u->cold->fd = fd; /* kept: a folded key is confirmed by reading its line */
	}
	read_log(u, fd);
	if (u->cold) {
		cold_sweep(u);
		return u;
	}
	if (close(fd) != 0)
		log_error("usage: cannot close %s: %s", u->path, strerror(errno));
	return u;
}

struct usage *usage_load(const char *state_dir)
{
	return load(state_dir, false, 0);
}

struct usage *usage_load_compact(const char *state_dir, time_t now)
{
	return load(state_dir, true, now);
}

void usage_free(struct usage *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n; i++)
		entry_release(&u->v[i]);
	free(u->v);
	free(u->by_at);
	for (size_t i = 0; i < u->n_models; i++)
		free(u->models[i]);
	free(u->models);
	cold_free(u->cold);
	hmap_release(&u->videos);
	hmap_release(&u->keys);
	free(u->path);
	free(u);
}

/*
 * Appends LINE (one JSON object, no newline) to the log with one write(2), made durable
 * through CM. A torn last line (a crash mid-append) would swallow it: it then starts
 * on a line of its own. 0, or -1 (logged for NAME / VIDEO_ID).
 */
static int append_line(struct usage *u, const char *line, const char *name, const char *video_id,
                       struct commit *cm)
{
	int fd = open(u->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_event(LOG_ERROR, name, video_id, "usage: cannot open %s: %s", u->path,
		          strerror(errno));
		return -1;
	}
	struct stat st;
	char last = '\n';
	int rc = -1;
	if (fstat(fd, &st) != 0 || (st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)) {
		log_event(LOG_ERROR, name, video_id, "usage: cannot read the end of %s: %s",
		          u->path, strerror(errno));
	} else {
		char *buf = xasprintf("%s%s\n", last == '\n' ? "" : "\n", line);
		size_t n = strlen(buf);
		ssize_t w = write(fd, buf, n);
		free(buf);
		if (w != (ssize_t)n)
			log_event(LOG_ERROR, name, video_id, "usage: cannot append to %s: %s",
			          u->path, w < 0 ? strerror(errno) : "short write");
		else if (commit_sync(cm, u->path) != 0)
			log_event(LOG_ERROR, name, video_id, "usage: cannot sync %s: %s", u->path,
			          strerror(errno));
		else
			rc = 0;
	}
	if (close(fd) != 0 && rc == 0) {
		log_event(LOG_ERROR, name, video_id, "usage: cannot close %s: %s", u->path,
		          strerror(errno));
		rc = -1;
	}
	return rc;
}

/* E as a log line (a newer one when it has a create key); the caller frees it. */
static char *entry_line(const struct usage_entry *e)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "at", (double)e->at);
	cJSON_AddStringToObject(o, "name", e->name);
	if (e->create) {
		cJSON_AddStringToObject(o, "claim", e->claim);
		cJSON_AddNumberToObject(o, "create", e->create);
		cJSON_AddStringToObject(o, "state", usage_state_name(e->state));
	}
	if (e->video_id)
		cJSON_AddStringToObject(o, "video_id", e->video_id);
	cJSON_AddStringToObject(o, "model", e->model);
	cJSON_AddStringToObject(o, "size", e->size);
	cJSON_AddNumberToObject(o, "seconds", e->seconds);
	cJSON_AddNumberToObject(o, "cost_usd", e->cost_usd);
	if (e->cost_reported)
		cJSON_AddTrueToObject(o, "cost_reported");
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* E into U (a new key, or KEEP the entry it replaces) and its line into the log. */
static int note_entry(struct usage *u, struct usage_entry *e, size_t keep, struct commit *cm)
{
	char *line = entry_line(e);
	char *vid = e->video_id ? xstrdup(e->video_id) : NULL;
	size_t idx = keep;
	if (keep == NOT_FOUND)
		idx = add_entry(u, e);
	else
		update_entry(u, keep, e);
	int rc = -1;
	if (!line)
		log_event(LOG_ERROR, u->v[idx].name, vid, "usage: cannot format a line for %s",
		          u->path);
	else if (strlen(line) >= USAGE_LINE_MAX)
		log_event(LOG_ERROR, u->v[idx].name, vid, "usage: a line for %s is too long",
		          u->path);
	else
		rc = append_line(u, line, u->v[idx].name, vid, cm) == 0 ? 1 : -1;
	free(vid);
	free(line);
	return rc;
}

/* A new entry with J's spec; the caller sets the rest. */
static struct usage_entry job_entry(const struct job *j, long long at, const char *video_id)
{
	return (struct usage_entry){.at = at,
	                            .name = xstrdup(j->name ? j->name : ""),
	                            .video_id = video_id ? xstrdup(video_id) : NULL,
	                            .model = xstrdup(j->model ? j->model : ""),
	                            .size = xstrdup(j->size ? j->size : ""),
	                            .state = USAGE_CREATED,
	                            .seconds = j->seconds,
	                            .cost_usd = j->cost_usd,
	                            .off = -1};
}

int usage_record(struct usage *u, const struct job *j, long long at, struct commit *cm)
{
	if (!j->video_id || usage_has(u, j->video_id))
		return 0;
	struct usage_entry e = job_entry(j, at, j->video_id);
	return note_entry(u, &e, NOT_FOUND, cm);
}

int usage_note_create(struct usage *u, const struct job *j, unsigned k, enum usage_state state,
                      const char *video_id, long long at, struct commit *cm)
{
	if (k < 1 || k > JOB_CREATES_MAX || !j->name || (unsigned)state >= ARRAY_LEN(state_names))
		return 0;
	if (state != USAGE_CREATED)
		video_id = NULL;
	char claim[256] = "";
	job_claim(j, claim, sizeof(claim));
	/* The video the latest create made costs what the service said, once it says. */
	bool reported = state == USAGE_CREATED && k == j->creates && j->reported_cost_usd >= 0;
	double cost = reported ? j->reported_cost_usd : j->cost_usd;
	size_t i = find_key(u, j->name, claim, k);
	char buf[USAGE_LINE_MAX];
	struct line_view v;
	cJSON *tree = NULL;
	size_t cold = i == NOT_FOUND ? cold_find(u, sv_of(j->name), sv_of(claim), k, sv_of(NULL),
	                                         buf, &v, &tree)
	                             : NOT_FOUND;
	if (cold != NOT_FOUND) {
		/* a folded key: noted again only when it changes, then as a full entry */
		bool same = v.state == state && sv_eq(v.video_id, video_id) &&
		            v.cost_reported == reported && (!reported || v.cost_usd == cost);
		at = v.at;
		if (!same)
			cold_unfold(u, cold, &v);
		cJSON_Delete(tree);
		if (same)
			return 0;
	} else if (i != NOT_FOUND) {
		if (u->v[i].state == state && str_eq(u->v[i].video_id, video_id) &&
		    u->v[i].cost_reported == reported && (!reported || u->v[i].cost_usd == cost))
			return 0;
		at = u->v[i].at; /* the create's period never moves */
	} else if (video_id && usage_has(u, video_id)) {
		return 0; /* an older line counts it: the repair at start after an upgrade */
	}
	struct usage_entry e = job_entry(j, at, video_id);
	e.claim = xstrdup(claim);
	e.create = k;
	e.state = state;
	e.cost_usd = cost;
	e.cost_reported = reported;
	return note_entry(u, &e, i, cm);
}

int usage_create_state(const struct usage *u, const struct job *j, unsigned k)
{
	char claim[256] = "", buf[USAGE_LINE_MAX];
	job_claim(j, claim, sizeof(claim));
	if (!j->name)
		return -1;
	size_t i = find_key(u, j->name, claim, k);
	if (i != NOT_FOUND)
		return (int)u->v[i].state;
	struct line_view v;
	cJSON *tree;
	i = cold_find(u, sv_of(j->name), sv_of(claim), k, sv_of(NULL), buf, &v, &tree);
	cJSON_Delete(tree);
	return i == NOT_FOUND ? -1 : (int)v.state;
}

/* ---- totals and caps ------------------------------------------------------------------ */

/* The folded part: every quarter hour that overlaps [FROM, TO) (whole: a bound inside
 * one, which no local midnight is, counts all of it). */
static void cold_totals(const struct usage *u, long long from, long long to, const char *model,
                        struct usage_sum *sum)
{
	const struct usage_cold *c = u->cold;
	long long first = from - COLD_BUCKET_S + 1;
	for (size_t p = bucket_pos(c, first > LLONG_MIN / 2 ? first : LLONG_MIN / 2, 0);
	     p < c->nb && c->b[p].start < to; p++) {
		const struct cold_bucket *b = &c->b[p];
		if (model && strcmp(model, u->models[b->model]) != 0)
			continue;
		sum->seconds += b->seconds;
		sum->usd += b->usd;
		sum->creates += b->creates;
	}
}

void usage_totals(const struct usage *u, long long from, long long to, const char *model,
                  struct usage_sum *sum)
{
	memset(sum, 0, sizeof(*sum));
	/* the period's entries only: from the first at FROM on, in order of "at" */
	for (size_t p = by_at_pos(u, from, 0); p < u->n_by_at; p++) {
		const struct usage_entry *e = &u->v[u->by_at[p]];
		if (e->at >= to)
			break;
		if (e->state == USAGE_VOID || e->dup || (model && strcmp(model, e->model) != 0))
			continue;
		sum->seconds += e->seconds;
		sum->usd += e->cost_usd;
		sum->creates++;
		if (e->state == USAGE_SENT) {
			sum->unconfirmed_seconds += e->seconds;
			sum->unconfirmed_usd += e->cost_usd;
			sum->unconfirmed++;
		}
	}
	if (u->cold)
		cold_totals(u, from, to, model, sum);
}

static long long local_midnight(struct tm tm, int add_days, bool month_start)
{
	if (month_start)
		tm.tm_mday = 1;
	tm.tm_mday += add_days;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1; /* let mktime decide across a DST change */
	return (long long)mktime(&tm);
}

long long usage_day_start(time_t now)
{
	struct tm tm;
	localtime_r(&now, &tm);
	return local_midnight(tm, 0, false);
}

long long usage_month_start(time_t now)
{
	struct tm tm;
	localtime_r(&now, &tm);
	return local_midnight(tm, 0, true);
}

long long usage_next_day(time_t now)
{
	struct tm tm;
	localtime_r(&now, &tm);
	return local_midnight(tm, 1, false);
}

/* ", of which 4 s unconfirmed" (or "$0.40") when part of SUM is, else "". */
static void unconfirmed_note(const struct usage_sum *sum, bool usd, char *buf, size_t n)
{
	buf[0] = '\0';
	if (!sum->unconfirmed)
		return;
	if (usd)
		bfmt(buf, n, ", of which $%.2f unconfirmed (creates whose outcome is not known)",
		     sum->unconfirmed_usd);
	else
		bfmt(buf, n, ", of which %llu s unconfirmed (creates whose outcome is not known)",
		     sum->unconfirmed_seconds);
}

int usage_check(const struct usage *u, const struct conf *c, unsigned seconds, double usd,
                unsigned long long pending_s, double pending_usd, time_t now, char *why,
                size_t whylen)
{
	/* No cap: nothing to sum (the sums walk the period's entries, on every create). */
	if (!c->daily_cap_seconds && !c->monthly_cap_seconds && !(c->daily_cap_usd > 0) &&
	    !(c->monthly_cap_usd > 0))
		return 0;
	struct usage_sum day, month;
	long long far = (long long)now + 366LL * 86400;
	usage_totals(u, usage_day_start(now), far, NULL, &day);
	usage_totals(u, usage_month_start(now), far, NULL, &month);
	unsigned long long ds = day.seconds + pending_s, ms = month.seconds + pending_s;
	double dusd = day.usd + pending_usd, musd = month.usd + pending_usd;
	char note[128];
	/* A tiny epsilon: 0.1 * 3 must not exceed a $0.30 cap. */
	const double eps = 1e-9;
	if (c->daily_cap_seconds && ds + seconds > c->daily_cap_seconds) {
		unconfirmed_note(&day, false, note, sizeof(note));
		bfmt(why, whylen,
		     "the daily cap of %u seconds is reached (%llu s generated or in flight "
		     "today%s; this job needs %u s more)",
		     c->daily_cap_seconds, ds, note, seconds);
		return 1;
	}
	if (c->monthly_cap_seconds && ms + seconds > c->monthly_cap_seconds) {
		unconfirmed_note(&month, false, note, sizeof(note));
		bfmt(why, whylen,
		     "the monthly cap of %u seconds is reached (%llu s generated or in flight "
		     "this month%s; this job needs %u s more)",
		     c->monthly_cap_seconds, ms, note, seconds);
		return 1;
	}
	if (c->daily_cap_usd > 0 && dusd + usd > c->daily_cap_usd + eps) {
		unconfirmed_note(&day, true, note, sizeof(note));
		bfmt(why, whylen,
		     "the daily cap of $%.2f is reached ($%.2f spent or in flight today%s; this "
		     "job costs about $%.2f)",
		     c->daily_cap_usd, dusd, note, usd);
		return 1;
	}
	if (c->monthly_cap_usd > 0 && musd + usd > c->monthly_cap_usd + eps) {
		unconfirmed_note(&month, true, note, sizeof(note));
		bfmt(why, whylen,
		     "the monthly cap of $%.2f is reached ($%.2f spent or in flight this month%s; "
		     "this job costs about $%.2f)",
		     c->monthly_cap_usd, musd, note, usd);
		return 1;
	}
	return 0;
}
