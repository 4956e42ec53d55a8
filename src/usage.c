/* usage.c — the usage log and the caps judged from it (see usage.h). */
#include "usage.h"
#include "coldidx.h"
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
static uint32_t video_hash(struct sv video);

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
 * no end: not for the fast path). Eight bytes at a time while none of them is one of
 * those (a word's bytes tested at once: a zero byte after XOR, a byte below 0x20). */
static const char *scan_str(const char *s, const char *end)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), highs = ones << 7;
	for (; end - s >= 8; s += 8) {
		uint64_t w, q, b;
		memcpy(&w, s, 8);
		q = w ^ (ones * '"');
		b = w ^ (ones * '\\');
		if ((((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w)) & highs)
			break;
	}
	for (; s < end; s++) {
		if (*s == '"')
			return s;
		if (*s == '\\' || (unsigned char)*s < 0x20)
			return NULL;
	}
	return NULL;
}

/* The usual numbers, at most 15 digits with a fraction or not, into *OUT: the value
 * decimal_real gives (an integer below 2^53 divided by an exact power of ten, rounded
 * once), without its copy; false for any other shape. */
static bool simple_num(const char *s, const char *end, double *out)
{
	static const double p10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
	                             1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
	unsigned long long m = 0;
	int frac = -1;
	size_t digits = 0;
	for (; s < end; s++) {
		if (*s == '.' && frac < 0) {
			frac = 0;
			continue;
		}
		if (*s < '0' || *s > '9' || ++digits > 15)
			return false;
		m = m * 10 + (unsigned long long)(*s - '0');
		frac += frac >= 0;
	}
	if (!digits)
		return false;
	*out = frac > 0 ? (double)m / p10[frac] : (double)m;
	return true;
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
	if (!simple_num(digits, p, out)) {
		memcpy(buf, digits, n);
		buf[n] = '\0';
		if (decimal_real(buf, DECIMAL_EXPONENT, out) != 0)
			return NULL;
	}
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

/* The field a member's name K[N] is, or -1. */
static int field_of(const char *k, size_t n)
{
#define IS(lit) (!memcmp(k, lit, sizeof(lit) - 1))
	switch (n) {
	case 2:
		return IS("at") ? F_AT : -1;
	case 4:
		return IS("name") ? F_NAME : IS("size") ? F_SIZE : -1;
	case 5:
		return IS("claim") ? F_CLAIM : IS("state") ? F_STATE : IS("model") ? F_MODEL : -1;
	case 6:
		return IS("create") ? F_CREATE : -1;
	case 7:
		return IS("seconds") ? F_SECS : -1;
	case 8:
		return IS("video_id") ? F_VIDEO : IS("cost_usd") ? F_COST : -1;
	case 13:
		return IS("cost_reported") ? F_REP : -1;
	default:
		return -1;
	}
#undef IS
}

static const size_t field_lens[] = {2, 4, 5, 6, 5, 8, 5, 4, 7, 8, 13};

/* The member name at S (its '"'), expected to be field WANT or the one after (sorad
 * writes them in the order of the fields; the video is not always there): the field,
 * with *KE at its end quote; else any name (-1: not a field), or -2 with *KE NULL when
 * only cJSON can read it. */
static int member_name(const char *s, const char *end, int want, const char **ke)
{
	for (int w = want; w < (int)ARRAY_LEN(field_lens) && w <= want + 1; w++) {
		size_t n = field_lens[w];
		if ((size_t)(end - s) > n + 1 && s[n + 1] == '"' && field_of(s + 1, n) == w) {
			*ke = s + 1 + n;
			return w;
		}
	}
	*ke = scan_str(s + 1, end);
	return *ke ? field_of(s + 1, (size_t)(*ke - s - 1)) : -2;
}

/* The members of the one object of LINE into F (the first of a repeated key wins, as
 * cJSON's lookup); 0, -1 when it is not an object, -2 when only cJSON can tell. */
static int scan_object(const char *s, const char *end, struct member *f, bool *seen)
{
	int want = 0;
	s = skip_ws(s, end);
	if (s == end || *s++ != '{')
		return -1;
	s = skip_ws(s, end);
	if (s < end && *s == '}')
		return skip_ws(s + 1, end) == end ? 0 : -1;
	for (;;) {
		if (s == end || *s != '"')
			return -2;
		const char *ke;
		int fi = member_name(s, end, want, &ke);
		if (fi == -2)
			return -2;
		s = skip_ws(ke + 1, end);
		if (s == end || *s++ != ':')
			return -2;
		s = skip_ws(s, end);
		/* the value straight into its field (a field seen already: into a scratch) */
		struct member scratch, *m = &scratch;
		if (fi >= 0 && !seen[fi]) {
			seen[fi] = true;
			m = &f[fi];
			want = fi + 1;
		}
		m->kind = M_OTHER;
		if (s < end && *s == '"') {
			const char *ve = scan_str(s + 1, end);
			if (!ve)
				return -2;
			m->kind = M_STR;
			m->str = (struct sv){s + 1, (size_t)(ve - s - 1)};
			s = ve + 1;
		} else if (s < end && (*s == '-' || (*s >= '0' && *s <= '9'))) {
			m->kind = M_NUM;
			if (!(s = scan_num(s, end, &m->num)))
				return -2;
		} else if (literal(s, end, "true")) {
			m->kind = M_TRUE;
			s += 4;
		} else if (literal(s, end, "false")) {
			s += 5;
		} else if (literal(s, end, "null")) {
			s += 4;
		} else {
			return -2; /* an object or array: cJSON */
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

/* The state S names, or -1. */
static int state_of(struct sv s)
{
	if (s.n == 4 && !memcmp(s.p, "sent", 4))
		return USAGE_SENT;
	if (s.n == 7 && !memcmp(s.p, "created", 7))
		return USAGE_CREATED;
	if (s.n == 4 && !memcmp(s.p, "void", 4))
		return USAGE_VOID;
	return -1;
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
		int state = f[F_STATE].kind == M_STR ? state_of(f[F_STATE].str) : -1;
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
	for (size_t i = 0; i < ARRAY_LEN(f); i++)
		f[i].kind = M_OTHER; /* what is read of an absent member */
	int rc = scan_object(line, line + len, f, seen);
	if (rc == -2) {
		*tree = cJSON_ParseWithLength(line, len);
		memset(seen, 0, sizeof(seen));
		rc = cjson_members(*tree, f, seen);
	}
	return rc == 0 ? view_of(f, seen, v) : -1;
}

/* V as an entry, its strings copied. */
static struct usage_entry entry_of(const struct line_view *v, long long line)
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
	                            .line = line};
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

#define COLD_BUCKET_S 900      /* every local midnight, in every time zone, is on one */
#define COLD_MARK 64           /* where every COLD_MARK-th line starts is kept */
#define COLD_BLOOM_BITS 18     /* the load's filter of the full entries' hashes: 32 KiB */
#define COLD_PCOUNT_BITS 16    /* the load's counting filter of the pending keys: 128 KiB */
#define READ_BLOCK (128 << 10) /* the reader's buffer (a longer line is skipped whole) */

/* What the folded keys of one model add up to in one quarter hour (none is "sent":
 * a create whose outcome is not known stays a full entry). */
struct cold_bucket {
	double usd;
	uint64_t secs_model; /* seconds << 8 | the model's slot in usage.models */
	uint32_t q;          /* the quarter hour: its start / COLD_BUCKET_S */
	uint32_t creates;
};

/* A key whose latest line so far is an old "sent" without a video (the load only): its
 * "created" usually follows within a few hundred lines, and then it is folded without
 * ever being a full entry. Those left at the end become full entries. */
struct cold_pend {
	uint32_t h;    /* the key's hash */
	unsigned k;    /* its create number */
	size_t line;   /* its line's number, */
	long long off; /* and where it starts */
	char *key;     /* the name, then the claim */
	size_t name_n, claim_n;
};

struct usage_cold {
	long long hot_from; /* a key sent before this, in its final state, is folded */
	int fd;             /* the log, read back to confirm a key (-1: none) */
	struct coldidx idx; /* a folded key's hash → its latest line's number */
	size_t lines_max;   /* lines numbered below this may be folded; this number marks
	                     * a key that left the index */
	size_t n, n_old;    /* folded keys, of which older lines (keyed by video id) */
	long long *mark;    /* mark[i]: where line i * COLD_MARK starts */
	size_t nmark, capmark;
	struct cold_bucket *b; /* sorted by (q, model) */
	size_t nb, capb, last_b;
	int last_model;      /* the slot of the model of the line before (-1: none), */
	size_t last_model_n; /* and its length */
	/* the load only (NULL after it) */
	uint64_t *bloom;  /* the hashes of the full entries' keys and videos */
	size_t bloom_n;   /* hashes added to it */
	uint16_t *pcount; /* how many pending keys have each hash's low bits */
	struct cold_pend *pv;
	size_t npv, cappv;
	uint32_t *pslot; /* pv index + 1 by hash, linear probing, at most half full */
	size_t pcap;
	bool may_restart; /* more lines than lines_max stop the load (made again, sized) */
	bool overflow;    /* they did */
};

/* ---- hashes: word at a time, then a strong finalizer -------------------------------- */

#define HASH_MUL UINT64_C(0x9E3779B97F4A7C15)

static uint64_t hash_bytes(uint64_t h, struct sv s)
{
	const char *p = s.p;
	size_t n = p ? s.n : 0;
	h = (h ^ n) * HASH_MUL;
	for (; n >= 8; p += 8, n -= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * HASH_MUL;
		h ^= h >> 32;
	}
	if (n) {
		uint64_t w = 0;
		memcpy(&w, p, n);
		h = (h ^ w) * HASH_MUL;
		h ^= h >> 32;
	}
	return h;
}

static uint32_t hash_final(uint64_t h)
{
	h ^= h >> 31; /* splitmix64's finalizer: every bit depends on every byte */
	h *= UINT64_C(0xbf58476d1ce4e5b9);
	h ^= h >> 27;
	h *= UINT64_C(0x94d049bb133111eb);
	h ^= h >> 31;
	return (uint32_t)(h >> 32);
}

/* The hash of a key: (NAME, CLAIM, K) for a create, its video id for an older line. */
static uint32_t key_hash(struct sv name, struct sv claim, unsigned k, struct sv video)
{
	if (!k)
		return video_hash(video);
	return hash_final(hash_bytes(hash_bytes(UINT64_C(0x6b657973) + k, name), claim));
}

static uint32_t video_hash(struct sv video)
{
	return hash_final(hash_bytes(UINT64_C(0x766964656f), video));
}

static uint32_t line_hash(const struct line_view *v)
{
	return key_hash(v->name, v->claim, v->create, v->video_id);
}

/* ---- where lines start: one mark every COLD_MARK lines, a line read back ------------- */

/* Line L starts at OFF: marked when it is one of every COLD_MARK. */
static void cold_mark(struct usage_cold *c, size_t line, long long off)
{
	if (line % COLD_MARK || line / COLD_MARK != c->nmark)
		return;
	c->mark =
	    xgrow(c->mark, &c->capmark, (c->nmark + 1) * sizeof(*c->mark), 1024 * sizeof(*c->mark));
	c->mark[c->nmark++] = off;
}

static ssize_t pread_full(int fd, char *buf, size_t n, long long off)
{
	ssize_t r;
	do
		r = pread(fd, buf, n, (off_t)off);
	while (r < 0 && errno == EINTR);
	return r;
}

/* The line at OFF into BUF[USAGE_LINE_MAX] and V (strings in BUF, or *TREE: the caller
 * frees it); 0, or -1. */
static int cold_read_at(const struct usage_cold *c, long long off, char *buf, struct line_view *v,
                        cJSON **tree)
{
	*tree = NULL;
	ssize_t r = pread_full(c->fd, buf, USAGE_LINE_MAX, off);
	if (r <= 0)
		return -1;
	const char *nl = memchr(buf, '\n', (size_t)r);
	return parse_line(buf, nl ? (size_t)(nl - buf) + 1 : (size_t)r, v, tree);
}

/* Line number LINE into BUF[USAGE_LINE_MAX] and V, as cold_read_at: read from the mark
 * before it, its newlines counted. */
static int cold_read(const struct usage_cold *c, size_t line, char *buf, struct line_view *v,
                     cJSON **tree)
{
	char scan[16384];
	*tree = NULL;
	if (line / COLD_MARK >= c->nmark)
		return -1;
	long long off = c->mark[line / COLD_MARK];
	size_t skip = line % COLD_MARK;
	while (skip) {
		ssize_t r = pread_full(c->fd, scan, sizeof(scan), off);
		if (r <= 0)
			return -1;
		const char *p = scan, *end = scan + r, *nl;
		while (skip && (nl = memchr(p, '\n', (size_t)(end - p)))) {
			skip--;
			p = nl + 1;
		}
		if (skip) {
			off += r;
			continue;
		}
		off += p - scan;
		/* the line itself, when the block holds all of it */
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl && (size_t)(nl - p) + 1 <= USAGE_LINE_MAX) {
			size_t len = (size_t)(nl - p) + 1;
			memcpy(buf, p, len);
			return parse_line(buf, len, v, tree);
		}
	}
	return cold_read_at(c, off, buf, v, tree);
}

/* ---- the index of folded keys ---------------------------------------------------------- */

/*
 * The folded key (NAME, CLAIM, K) (K 0: the older line of VIDEO), whose hash is H: its
 * place in the index (for cold_unfold), its latest line in V (strings in
 * BUF[USAGE_LINE_MAX] or *TREE, which the caller frees), or NOT_FOUND. A candidate is
 * confirmed by reading its line back: a hash collision is never taken for the key.
 */
static size_t cold_find_h(const struct usage *u, uint32_t h, struct sv name, struct sv claim,
                          unsigned k, struct sv video, char *buf, struct line_view *v, cJSON **tree)
{
	const struct usage_cold *c = u->cold;
	*tree = NULL;
	if (!c || !c->n || (!k && !c->n_old))
		return NOT_FOUND;
	size_t it = 0, line;
	while ((line = coldidx_next(&c->idx, h, &it)) != COLDIDX_NONE) {
		if (line >= c->lines_max)
			continue; /* a key that left */
		if (cold_read(c, line, buf, v, tree) == 0 && v->create == k &&
		    (k ? sv_same(v->name, name) && sv_same(v->claim, claim)
		       : sv_same(v->video_id, video)))
			return it;
		cJSON_Delete(*tree);
		*tree = NULL;
	}
	return NOT_FOUND;
}

static size_t cold_find(const struct usage *u, struct sv name, struct sv claim, unsigned k,
                        struct sv video, char *buf, struct line_view *v, cJSON **tree)
{
	*tree = NULL;
	if (!u->cold)
		return NOT_FOUND;
	return cold_find_h(u, key_hash(name, claim, k, video), name, claim, k, video, buf, v, tree);
}

/* Whether an older line, folded, counts VIDEO. */
static bool cold_has_video_sv(const struct usage *u, struct sv video)
{
	if (!u->cold || !u->cold->n_old)
		return false;
	char buf[USAGE_LINE_MAX];
	struct line_view v;
	cJSON *tree;
	struct sv none = {"", 0};
	size_t i = cold_find_h(u, video_hash(video), none, none, 0, video, buf, &v, &tree);
	cJSON_Delete(tree);
	return i != NOT_FOUND;
}

static bool cold_has_video(const struct usage *u, const char *video_id)
{
	return cold_has_video_sv(u, sv_of(video_id));
}

/* ---- the totals of folded keys ---------------------------------------------------------- */

static unsigned bucket_model(const struct cold_bucket *b)
{
	return (unsigned)(b->secs_model & 0xff);
}

/* The first bucket at or after (Q, MODEL). */
static size_t bucket_pos(const struct usage_cold *c, uint32_t q, unsigned model)
{
	size_t lo = 0, hi = c->nb;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct cold_bucket *m = &c->b[mid];
		if (m->q < q || (m->q == q && bucket_model(m) < model))
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
	uint32_t q = (uint32_t)(v->at / COLD_BUCKET_S); /* 0 <= at < 2^38: fits */
	size_t p = c->last_b;                           /* lines come in order of "at", as a rule */
	if (p >= c->nb || c->b[p].q != q || bucket_model(&c->b[p]) != (unsigned)slot) {
		p = bucket_pos(c, q, (unsigned)slot);
		if (p == c->nb || c->b[p].q != q || bucket_model(&c->b[p]) != (unsigned)slot) {
			c->b =
			    xgrow(c->b, &c->capb, (c->nb + 1) * sizeof(*c->b), 256 * sizeof(*c->b));
			memmove(&c->b[p + 1], &c->b[p], (c->nb - p) * sizeof(*c->b));
			c->b[p] = (struct cold_bucket){.q = q, .secs_model = (uint64_t)slot};
			c->nb++;
		}
		c->last_b = p;
	}
	struct cold_bucket *b = &c->b[p];
	/* seconds <= 1e6 a line, lines < 2^30: the sum stays below 2^50 */
	if (sign > 0) {
		b->secs_model += (uint64_t)v->seconds << 8;
		b->usd += v->cost_usd;
		b->creates++;
	} else {
		b->secs_model -= (uint64_t)v->seconds << 8;
		b->usd -= v->cost_usd;
		b->creates--;
	}
}

/* MODEL's slot, the line before's first (lines name few models). */
static int cold_model(struct usage *u, struct sv model)
{
	struct usage_cold *c = u->cold;
	if (c->last_model >= 0 && model.p && model.n == c->last_model_n &&
	    !memcmp(model.p, u->models[c->last_model], model.n))
		return c->last_model;
	c->last_model = model_slot(u, model);
	c->last_model_n = model.n;
	return c->last_model;
}

/* The folded key at IT (cold_find), whose line is V, leaves the index and the totals. */
static void cold_unfold(struct usage *u, size_t it, const struct line_view *v)
{
	struct usage_cold *c = u->cold;
	cold_count(u, v, cold_model(u, v->model), -1);
	coldidx_set(&c->idx, it, c->lines_max);
	c->n--;
}

/* Whether line V, number LINE, a key's latest, is folded: its final state, sent before
 * hot_from, its model in the list. */
static bool cold_fits(struct usage *u, const struct line_view *v, long long line)
{
	struct usage_cold *c = u->cold;
	return v->state != USAGE_SENT && v->at < c->hot_from && line >= 0 &&
	       (size_t)line < c->lines_max && cold_model(u, v->model) >= 0;
}

/* Line V, number LINE, its key's hash H, folded (IT: the key's place when it was folded
 * already, else NOT_FOUND). */
static void cold_fold(struct usage *u, const struct line_view *v, size_t line, uint32_t h,
                      size_t it)
{
	struct usage_cold *c = u->cold;
	cold_count(u, v, cold_model(u, v->model), 1);
	if (it != NOT_FOUND) {
		coldidx_set(&c->idx, it, line);
		return;
	}
	coldidx_add(&c->idx, h, line);
	c->n++;
	c->n_old += !v->create;
}

/* ---- the load's filters and pending keys ------------------------------------------------ */

static void bloom_add(struct usage_cold *c, uint32_t h)
{
	if (!c->bloom)
		return;
	c->bloom[(h & ((1u << COLD_BLOOM_BITS) - 1)) >> 6] |= UINT64_C(1) << (h & 63);
	c->bloom_n++;
}

/* False: no full entry has hash H (true: maybe). */
static bool bloom_has(const struct usage_cold *c, uint32_t h)
{
	return !c->bloom ||
	       (c->bloom_n && c->bloom[(h & ((1u << COLD_BLOOM_BITS) - 1)) >> 6] >> (h & 63) & 1);
}

static size_t pcount_at(uint32_t h)
{
	return (h >> 7) & ((1u << COLD_PCOUNT_BITS) - 1);
}

/* The pending key of line V (its hash H): its slot in pslot, or NOT_FOUND. */
static size_t pend_find(const struct usage_cold *c, uint32_t h, const struct line_view *v)
{
	if (!c->npv || !c->pcount[pcount_at(h)])
		return NOT_FOUND;
	for (size_t i = h & (c->pcap - 1); c->pslot[i]; i = (i + 1) & (c->pcap - 1)) {
		const struct cold_pend *p = &c->pv[c->pslot[i] - 1];
		if (p->h == h && p->k == v->create && p->name_n == v->name.n &&
		    p->claim_n == v->claim.n && !memcmp(p->key, v->name.p, v->name.n) &&
		    !memcmp(p->key + p->name_n, v->claim.p, v->claim.n))
			return i;
	}
	return NOT_FOUND;
}

static void pslot_put(struct usage_cold *c, size_t idx)
{
	size_t i = c->pv[idx].h & (c->pcap - 1);
	while (c->pslot[i])
		i = (i + 1) & (c->pcap - 1);
	c->pslot[i] = (uint32_t)(idx + 1);
}

/* Line V (number LINE at OFF, hash H) pending: an old "sent" without a video. */
static void pend_add(struct usage_cold *c, const struct line_view *v, uint32_t h, size_t line,
                     long long off)
{
	if ((c->npv + 1) * 2 > c->pcap) {
		free(c->pslot);
		c->pcap = c->pcap ? c->pcap * 2 : 256;
		c->pslot = xcalloc(c->pcap, sizeof(*c->pslot));
		for (size_t i = 0; i < c->npv; i++)
			pslot_put(c, i);
	}
	c->pv = xgrow(c->pv, &c->cappv, (c->npv + 1) * sizeof(*c->pv), 64 * sizeof(*c->pv));
	struct cold_pend *p = &c->pv[c->npv];
	*p = (struct cold_pend){.h = h,
	                        .k = v->create,
	                        .line = line,
	                        .off = off,
	                        .name_n = v->name.n,
	                        .claim_n = v->claim.n};
	p->key = xmalloc(v->name.n + v->claim.n + 1);
	memcpy(p->key, v->name.p, v->name.n);
	memcpy(p->key + v->name.n, v->claim.p, v->claim.n);
	pslot_put(c, c->npv++);
	if (c->pcount[pcount_at(h)] < UINT16_MAX)
		c->pcount[pcount_at(h)]++;
}

/* The pending key in slot I leaves (a later line of it came). Linear probing's
 * deletion: the entries after it move back into the hole they would have probed. */
static void pend_del(struct usage_cold *c, size_t i)
{
	size_t mask = c->pcap - 1, idx = c->pslot[i] - 1;
	uint32_t h = c->pv[idx].h;
	for (size_t j = i;;) {
		c->pslot[i] = 0;
		for (;;) {
			j = (j + 1) & mask;
			if (!c->pslot[j])
				goto moved;
			size_t home = c->pv[c->pslot[j] - 1].h & mask;
			if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
				continue; /* its probe from home never passes the hole */
			break;
		}
		c->pslot[i] = c->pslot[j];
		i = j;
	}
moved:
	free(c->pv[idx].key);
	if (idx != --c->npv) { /* the last one takes its place in pv */
		c->pv[idx] = c->pv[c->npv];
		size_t s = c->pv[idx].h & mask;
		while (c->pslot[s] != c->npv + 1)
			s = (s + 1) & mask;
		c->pslot[s] = (uint32_t)(idx + 1);
	}
	if (c->pcount[pcount_at(h)] < UINT16_MAX)
		c->pcount[pcount_at(h)]--;
}

static int pend_by_line(const void *a, const void *b)
{
	const struct cold_pend *x = a, *y = b;
	return (x->line > y->line) - (x->line < y->line);
}

/* ---- a line at the compact load ---------------------------------------------------------- */

static void add_full(struct usage *u, const struct line_view *v, long long line);

/* Whether VIDEO is counted already (by a full entry or a folded older line). */
static bool video_counted(const struct usage *u, struct sv video)
{
	const struct usage_cold *c = u->cold;
	if (!c->bloom || (c->bloom_n && bloom_has(c, video_hash(video)))) {
		char *vid = sv_dup(video);
		bool has = find_video(u, vid) != NOT_FOUND;
		free(vid);
		if (has)
			return true;
	}
	return cold_has_video_sv(u, video);
}

/* The full entry of the create of line V, or NOT_FOUND. */
static size_t find_key_sv(const struct usage *u, const struct line_view *v)
{
	char *name = sv_dup(v->name), *claim = sv_dup(v->claim);
	size_t i = find_key(u, name, claim, v->create);
	free(name);
	free(claim);
	return i;
}

/* Line V (number LINE at OFF; H its key's hash) at the compact load: the latest line of
 * a key replaces what it counted, wherever that is (a full entry, a pending key, a
 * folded one); then it is folded, pending or a full entry. */
static void cold_take(struct usage *u, const struct line_view *v, uint32_t h, size_t line,
                      long long off)
{
	struct usage_cold *c = u->cold;
	if (v->create && bloom_has(c, h) && find_key_sv(u, v) != NOT_FOUND) {
		add_full(u, v, (long long)line); /* the full entry takes it */
		return;
	}
	size_t it = NOT_FOUND;
	if (v->create) {
		size_t p = pend_find(c, h, v);
		if (p != NOT_FOUND) {
			pend_del(c, p);
		} else {
			char buf[USAGE_LINE_MAX];
			struct line_view old;
			cJSON *tree;
			it = cold_find_h(u, h, v->name, v->claim, v->create, v->video_id, buf, &old,
			                 &tree);
			if (it != NOT_FOUND)
				cold_count(u, &old, cold_model(u, old.model), -1);
			cJSON_Delete(tree);
		}
		if (v->video_id.p && v->state != USAGE_VOID && video_counted(u, v->video_id))
			goto full; /* counted by another: a full entry, which counts nothing */
	} else if (video_counted(u, v->video_id)) {
		return; /* an older line whose video is counted already */
	}
	if (cold_fits(u, v, (long long)line)) {
		cold_fold(u, v, line, h, it);
		return;
	}
	if (v->create && v->state == USAGE_SENT && !v->video_id.p && v->at < c->hot_from) {
		if (it != NOT_FOUND) {
			coldidx_set(&c->idx, it, c->lines_max);
			c->n--;
		}
		(void)cold_model(u, v->model); /* the models in the order the log names them */
		pend_add(c, v, h, line, off);
		return;
	}
full:
	if (it != NOT_FOUND) {
		coldidx_set(&c->idx, it, c->lines_max);
		c->n--;
	}
	add_full(u, v, (long long)line);
}

/* Line V as a full entry (a new key, or its entry's latest line). */
static void apply_line(struct usage *u, const struct line_view *v, long long line)
{
	if (v->create) {
		size_t i = find_key_sv(u, v);
		struct usage_entry e = entry_of(v, line);
		if (i == NOT_FOUND)
			add_entry(u, &e);
		else
			update_entry(u, i, &e);
	} else {
		char *vid = sv_dup(v->video_id);
		bool has = usage_has(u, vid);
		free(vid);
		if (!has) {
			struct usage_entry e = entry_of(v, line);
			add_entry(u, &e);
		}
	}
}

/* apply_line at the compact load: the filter learns the entry's key and video. */
static void add_full(struct usage *u, const struct line_view *v, long long line)
{
	apply_line(u, v, line);
	if (v->create)
		bloom_add(u->cold, key_hash(v->name, v->claim, v->create, v->video_id));
	if (v->video_id.p)
		bloom_add(u->cold, video_hash(v->video_id));
}

/* The keys still pending at the end: full entries (an old create never settled), in the
 * order of their lines. */
static void pend_flush(struct usage *u)
{
	struct usage_cold *c = u->cold;
	if (c->npv > 1)
		qsort(c->pv, c->npv, sizeof(*c->pv), pend_by_line);
	for (size_t i = 0; i < c->npv; i++) {
		char buf[USAGE_LINE_MAX];
		struct line_view v;
		cJSON *tree;
		if (cold_read_at(c, c->pv[i].off, buf, &v, &tree) == 0)
			apply_line(u, &v, (long long)c->pv[i].line);
		else
			log_error("usage: %s changed while it was read (line %zu)", u->path,
			          c->pv[i].line + 1);
		cJSON_Delete(tree);
		free(c->pv[i].key);
	}
	free(c->pv);
	free(c->pslot);
	free(c->pcount);
	free(c->bloom);
	c->pv = NULL;
	c->pslot = NULL;
	c->pcount = NULL;
	c->bloom = NULL;
	c->npv = c->cappv = c->pcap = 0;
}

static void cold_start(struct usage *u, time_t now, bool may_restart)
{
	struct usage_cold *c = xcalloc(1, sizeof(*c));
	/* yesterday and today stay full: the jobs still moving are there */
	c->hot_from = usage_day_start(now - 86400);
	c->fd = -1;
	c->last_model = -1;
	c->may_restart = may_restart;
	c->bloom = xcalloc((size_t)1 << (COLD_BLOOM_BITS - 6), sizeof(*c->bloom));
	c->pcount = xcalloc((size_t)1 << COLD_PCOUNT_BITS, sizeof(*c->pcount));
	u->cold = c;
}

/*
 * The index made for the log at FD, from its first block BUF[HAVE] (or LINES, the
 * count of a load made again): as many lines as the block's average length says, and
 * a little more; a log with more lines is loaded again with its lines counted.
 */
static void cold_size(struct usage *u, int fd, const char *buf, size_t have, size_t lines)
{
	struct usage_cold *c = u->cold;
	struct stat st;
	if (!lines) {
		size_t nl = 0;
		for (const char *p = buf, *e = buf + have; (p = memchr(p, '\n', (size_t)(e - p)));
		     p++)
			nl++;
		if (fstat(fd, &st) != 0 || (unsigned long long)st.st_size <= have)
			lines = nl + 1;
		else if (nl)
			lines =
			    (size_t)((double)st.st_size / (double)have * (double)nl * 1.03125) + 64;
		else
			lines = (size_t)(st.st_size / 128) + 64;
	}
	if (lines > COLDIDX_MAX_POS - 1)
		lines = COLDIDX_MAX_POS - 1; /* the lines after it stay full entries */
	if (coldidx_init(&c->idx, lines, lines + 1) == 0)
		c->lines_max = lines;
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
		if (!keep[i] && cold_fits(u, &v, e->line)) {
			cold_fold(u, &v, (size_t)e->line, line_hash(&v), NOT_FOUND);
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
	coldidx_free(&c->idx);
	free(c->mark);
	free(c->b);
	for (size_t i = 0; i < c->npv; i++)
		free(c->pv[i].key);
	free(c->pv);
	free(c->pslot);
	free(c->pcount);
	free(c->bloom);
	free(c);
}

/* ---- the reader ---------------------------------------------------------------------------- */

/* Lines parsed and not applied yet: the compact load applies a line HELD_LINES lines
 * after it is parsed, its key's slot prefetched meanwhile (a slot is a cache miss). */
#define HELD_LINES 4

struct held_line {
	struct line_view v;
	cJSON *tree;
	size_t line;
	long long off;
	uint32_t h;
};

struct held {
	struct held_line l[HELD_LINES];
	size_t first, n;
};

/* The oldest held line applied (ALL: every one, before the block they are in moves). */
static void run_held(struct usage *u, struct held *hd, bool all)
{
	while (hd->n && (all || hd->n == HELD_LINES)) {
		struct held_line *l = &hd->l[hd->first];
		cold_take(u, &l->v, l->h, l->line, l->off);
		cJSON_Delete(l->tree);
		hd->first = (hd->first + 1) % HELD_LINES;
		hd->n--;
	}
}

/* Line number LINE at OFF (LEN bytes at P): applied (the full load), or held. 0, or -1
 * when the compact load must start again (more lines than its index was made for). */
static int take_line(struct usage *u, struct held *hd, const char *p, size_t len, size_t line,
                     long long off, bool skip)
{
	struct usage_cold *c = u->cold;
	if (c) {
		if (line >= c->lines_max && c->may_restart) {
			c->overflow = true;
			return -1;
		}
		cold_mark(c, line, off);
	}
	struct line_view v;
	cJSON *tree;
	if (skip || parse_line(p, len, &v, &tree) != 0) {
		if (!skip)
			cJSON_Delete(tree);
		return 0;
	}
	if (!c) {
		apply_line(u, &v, (long long)line);
		cJSON_Delete(tree);
		return 0;
	}
	uint32_t h = line_hash(&v);
	coldidx_prefetch(&c->idx, h);
	run_held(u, hd, false);
	hd->l[(hd->first + hd->n++) % HELD_LINES] =
	    (struct held_line){.v = v, .tree = tree, .line = line, .off = off, .h = h};
	return 0;
}

/* Every line of the log at FD into U, read in blocks; a line longer than the block is
 * skipped whole. COUNT: the lines counted for a load made again, else 0. 0, or -1 when
 * the compact load must start again. */
static int read_log(struct usage *u, int fd, size_t count)
{
	size_t cap = READ_BLOCK, have = 0, line = 0;
	char *buf = xmalloc(cap);
	long long off = 0, skip_from = 0; /* the file offset of buf[0]; of a long line */
	bool skipping = false, sized = !u->cold;
	struct held hd = {.n = 0};
	int rc = 0;
	for (;;) {
		ssize_t r = read(fd, buf + have, cap - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			log_error("usage: error reading %s: %s", u->path, strerror(errno));
		if (r <= 0)
			break;
		have += (size_t)r;
		if (!sized) {
			cold_size(u, fd, buf, have, count);
			sized = true;
		}
		size_t pos = 0;
		for (char *nl; rc == 0 && (nl = memchr(buf + pos, '\n', have - pos));) {
			size_t len = (size_t)(nl - (buf + pos)) + 1;
			rc = take_line(u, &hd, buf + pos, len, line++,
			               skipping ? skip_from : off + (long long)pos, skipping);
			skipping = false;
			pos += len;
		}
		if (u->cold)
			run_held(u, &hd, true); /* before their lines move */
		if (rc != 0)
			goto out;
		if (pos == 0 && have == cap) {
			if (!skipping)
				skip_from = off;
			skipping = true; /* longer than the buffer: not a usage line */
			pos = have;
		}
		memmove(buf, buf + pos, have - pos);
		have -= pos;
		off += (long long)pos;
	}
	/* a last line without its newline: whole if it parses (a torn one does not) */
	if (have && !skipping)
		rc = take_line(u, &hd, buf, have, line, off, false);
	if (u->cold)
		run_held(u, &hd, true);
out:
	free(buf);
	return rc;
}

/* The lines of the log at FD (its newlines, and a last line without one). */
static size_t count_lines(int fd)
{
	char buf[65536];
	size_t n = 0;
	long long off = 0;
	for (ssize_t r; (r = pread_full(fd, buf, sizeof(buf), off)) > 0; off += r)
		for (const char *p = buf, *e = buf + r; (p = memchr(p, '\n', (size_t)(e - p))); p++)
			n++;
	return n + 1;
}

static struct usage *load(const char *state_dir, bool compact, time_t now)
{
	size_t count = 0;
	for (;;) {
		struct usage *u = xcalloc(1, sizeof(*u));
		u->path = xasprintf("%s/%s", state_dir, USAGE_FILE);
		int fd = open(u->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno != ENOENT)
				log_error("usage: cannot read %s: %s", u->path, strerror(errno));
			return u;
		}
		if (compact) {
			cold_start(u, now, count == 0);
			u->cold->fd = fd; /* kept: a folded key is confirmed by reading its line */
		}
		if (read_log(u, fd, count) != 0) {
			/* more lines than the first block said: counted, and loaded again */
			count = count_lines(fd);
			usage_free(u);
			continue;
		}
		if (u->cold) {
			pend_flush(u);
			cold_sweep(u);
			return u;
		}
		if (close(fd) != 0)
			log_error("usage: cannot close %s: %s", u->path, strerror(errno));
		return u;
	}
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
	                            .line = -1};
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
	/* the first quarter hour that ends after FROM */
	long long first = from <= 0 ? 0 : from / COLD_BUCKET_S;
	if (first > UINT32_MAX)
		return;
	for (size_t p = bucket_pos(c, (uint32_t)first, 0);
	     p < c->nb && (long long)c->b[p].q * COLD_BUCKET_S < to; p++) {
		const struct cold_bucket *b = &c->b[p];
		if (model && strcmp(model, u->models[bucket_model(b)]) != 0)
			continue;
		sum->seconds += b->secs_model >> 8;
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
