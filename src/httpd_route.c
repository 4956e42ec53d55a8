/*
 * httpd_route.c — the status endpoint's router (see httpd_route.h): what is answered
 * to a request once libmicrohttpd has parsed it, without a socket. httpd.c holds the
 * libmicrohttpd glue (connections, suspended /poll waiters, the event stream) and
 * sends what these functions decide.
 *
 * Security: the routes are a fixed table matched on the decoded path; the only file
 * ever opened is outbox_final_path(conf, NAME, variant) for a job that exists and is
 * done, where NAME is the job's own name from the state directory (checked again with
 * prompt_name_ok), never text from the URL. The raw request target is inspected
 * before MHD decodes it (httpd_raw_target_bad), so an encoded NUL cannot truncate a
 * path into another one.
 */
#include "httpd_route.h"
#include "decimal.h"
#include "httpd.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "page.h"
#include "prompt.h"
#include "status_json.h"
#include "strays.h"
#include "untrusted.h"
#include "util.h"
#include "video.h"

#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A finished job's JSON never changes: the list serves it from here (see cached_video). */
struct jcache_ent {
	const struct job *j;      /* NULL: free slot */
	unsigned long long stamp; /* j's (jobs_stamp): a pointer reused is another job */
	char *json;               /* NULL: invalidated (the slot stays j's) */
	size_t len;
};
#define JCACHE_SLOTS 8192 /* at most half used: cleared when full */

/* ---- responses (the router fills a struct httpd_response; respond() sends it) ------- */

/* A request being routed: the endpoint, what was asked, the answer being built. */
struct rq {
	struct httpd *h;
	const struct httpd_request *in;
	struct httpd_response *out;
};

void httpd_response_init(struct httpd_response *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->action = HTTPD_CONTINUE;
	rs->fd = -1;
}

void httpd_response_release(struct httpd_response *rs)
{
	jbuf_release(&rs->body);
	if (rs->fd >= 0)
		close(rs->fd);
	rs->fd = -1;
}

const char *httpd_response_header(const struct httpd_response *rs, const char *name)
{
	for (size_t i = 0; i < rs->n_headers; i++)
		if (!strcasecmp(rs->headers[i].name, name))
			return rs->headers[i].value;
	return NULL;
}

/* NAME and VALUE are constants or live in RS (etag, lastmod, crange). */
static void add_header(struct httpd_response *rs, const char *name, const char *value)
{
	if (rs->n_headers == HTTPD_RESPONSE_HEADERS) { /* a bug: the table is sized for all */
		log_error("status: response header %s dropped: no room", name);
		return;
	}
	rs->headers[rs->n_headers].name = name;
	rs->headers[rs->n_headers].value = value;
	rs->n_headers++;
}

static unsigned answer(struct rq *q, unsigned code)
{
	q->out->action = HTTPD_ANSWER;
	q->out->code = code;
	return code;
}

/* Answers the text in B (taken) with CODE and CTYPE. */
static unsigned send_buf(struct rq *q, unsigned code, const char *ctype, struct jbuf *b)
{
	jbuf_release(&q->out->body);
	q->out->body = *b;
	*b = (struct jbuf)JBUF_INIT;
	add_header(q->out, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	add_header(q->out, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return answer(q, code);
}

static unsigned send_json(struct rq *q, unsigned code, struct jbuf *b)
{
	return send_buf(q, code, "application/json", b);
}

/* The seed's error object; TYPE is "invalid_request_error" and the like. */
static unsigned send_error_param(struct rq *q, unsigned code, const char *type, const char *param,
                                 const char *err_code, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static unsigned send_error_param(struct rq *q, unsigned code, const char *type, const char *param,
                                 const char *err_code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vbfmt(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct jbuf b = JBUF_INIT;
	status_json_error_param(&b, msg, type, param, err_code);
	send_json(q, code, &b);
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		add_header(q->out, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (code == MHD_HTTP_UNAUTHORIZED)
		add_header(q->out, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"sorad\"");
	if (code == MHD_HTTP_SERVICE_UNAVAILABLE)
		add_header(q->out, MHD_HTTP_HEADER_RETRY_AFTER, "5");
	return code;
}

#define send_error(q, code, type, err_code, ...)                                                   \
	send_error_param(q, code, type, NULL, err_code, __VA_ARGS__)

static unsigned not_found(struct rq *q, const char *what)
{
	return send_error(q, MHD_HTTP_NOT_FOUND, "invalid_request_error", "not_found", "%s", what);
}

static unsigned bad_request(struct rq *q, const char *param, const char *why)
{
	return send_error_param(q, MHD_HTTP_BAD_REQUEST, "invalid_request_error", param,
	                        "invalid_parameter", "Invalid '%s': %s", param, why);
}

static const char *arg(struct rq *q, const char *key)
{
	return q->in->lookup(q->in->ud, HTTPD_ARG, key);
}

static const char *header(struct rq *q, const char *name)
{
	return q->in->lookup(q->in->ud, HTTPD_HEADER, name);
}

/* ---- security --------------------------------------------------------------------- */

/* Equal strings, in time that depends only on the secret's length. */
static bool token_eq(const char *given, const char *secret)
{
	size_t lg = strlen(given), ls = strlen(secret);
	unsigned char d = lg != ls;
	for (size_t i = 0; i < ls; i++)
		d |= (unsigned char)((i < lg ? given[i] : 0) ^ secret[i]);
	return d == 0;
}

static bool authorized(struct rq *q)
{
	const char *secret = q->h->conf->status_token;
	if (!secret || !*secret)
		return true;
	const char *auth = header(q, MHD_HTTP_HEADER_AUTHORIZATION);
	if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
		const char *t = auth + 7;
		while (*t == ' ')
			t++;
		return token_eq(t, secret);
	}
	/* The page's own requests (images, the player, the event stream) cannot carry
	 * a header; after the user typed the token, they carry this cookie. */
	const char *cookie = q->in->lookup(q->in->ud, HTTPD_COOKIE, "sorad_token");
	return cookie && token_eq(cookie, secret);
}

bool httpd_raw_target_bad(const char *target)
{
	for (const char *p = target; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return true;
		if (p[0] == '%' && p[1] && p[2] && (p[1] == '0' || p[1] == '1') &&
		    strchr("0123456789abcdefABCDEF", p[2]))
			return true; /* %00..%1f */
		if (p[0] == '%' && (p[1] == '7') && (p[2] == 'f' || p[2] == 'F'))
			return true;
	}
	return false;
}

/* ---- routes: status page, health, metrics ------------------------------------------- */

static unsigned serve_page(struct rq *q)
{
	size_t len;
	const char *body = page_html(&len);
	const char *etag = page_etag();
	const char *inm = header(q, MHD_HTTP_HEADER_IF_NONE_MATCH);
	bool same = inm && strcmp(inm, etag) == 0;
	if (!same) {
		q->out->static_body = body;
		q->out->static_len = len;
	}
	add_header(q->out, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
	add_header(q->out, MHD_HTTP_HEADER_ETAG, etag);
	add_header(q->out, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	/* Nothing on the page may reach another origin: it works offline and leaks nothing. */
	add_header(q->out, "Content-Security-Policy",
	           "default-src 'none'; script-src 'unsafe-inline'; "
	           "style-src 'unsafe-inline'; img-src 'self' data:; media-src 'self'; "
	           "connect-src 'self'; base-uri 'none'; form-action 'none'; "
	           "frame-ancestors 'none'");
	return answer(q, same ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK);
}

static unsigned serve_health(struct rq *q)
{
	struct jbuf b = JBUF_INIT;
	/* Constant time: a health check must stay cheap with any number of jobs. */
	jbuf_addf(&b, "{\"status\":\"ok\",\"version\":\"%s\",\"uptime_s\":%lld,\"jobs\":%zu}\n",
	          SORAD_VERSION, (loop_now_ms() - q->h->started) / 1000, jobs_known(q->h->jobs));
	return send_json(q, MHD_HTTP_OK, &b);
}

static unsigned serve_metrics(struct rq *q)
{
	struct jbuf b = JBUF_INIT;
	metrics_write(&b, q->h->jobs, q->h->stats);
	metrics_write_usage(&b, q->h->usage);
	return send_buf(q, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", &b);
}

/* ---- routes: the JSON API ------------------------------------------------------------- */

/* The notes about images in the inbox that no prompt took (strays.h). */
static unsigned serve_inbox(struct rq *q)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "object", "list");
	cJSON_AddItemToObject(o, "data",
	                      q->h->strays ? strays_json(q->h->strays, q->h->conf->inbox)
	                                   : cJSON_CreateArray());
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	struct jbuf b = JBUF_INIT;
	if (s)
		jbuf_adds(&b, s);
	free(s);
	jbuf_adds(&b, "\n");
	return send_json(q, MHD_HTTP_OK, &b);
}

/* Matches the filter F: a seed status or a local state name. */
static bool status_matches(const struct job *j, const char *f)
{
	return !f || status_json_matches(j, f);
}

/* ---- the JSON cache of finished jobs ------------------------------------------------- */

static void cache_clear(struct httpd *h)
{
	if (!h->cache)
		return;
	for (size_t i = 0; i < JCACHE_SLOTS; i++)
		free(h->cache[i].json);
	memset(h->cache, 0, JCACHE_SLOTS * sizeof(*h->cache));
	h->cache_used = 0;
}

/* J's slot (linear probing on the pointer), or the free slot where it goes. */
static struct jcache_ent *cache_slot(struct httpd *h, const struct job *j)
{
	uint64_t x = (uint64_t)(uintptr_t)j;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	for (size_t i = (size_t)x & (JCACHE_SLOTS - 1);; i = (i + 1) & (JCACHE_SLOTS - 1))
		if (h->cache[i].j == j || !h->cache[i].j)
			return &h->cache[i];
}

void httpd_cache_drop(struct httpd *h, const struct job *j)
{
	if (!h->cache)
		return;
	struct jcache_ent *e = cache_slot(h, j);
	if (e->j == j) {
		free(e->json);
		e->json = NULL;
	}
}

/*
 * Appends J as a Video object. A list of 100 is the endpoint's hot path, and nearly
 * every job in a long list is finished, its JSON fixed: formatted once, then copied.
 * Jobs still moving are formatted each time (their remaining time depends on now).
 */
static void cached_video(struct httpd *h, struct jbuf *b, const struct job *j, long long now)
{
	if (!job_state_is_final(j->state)) {
		status_json_video(b, j, now, NULL);
		return;
	}
	if (!h->cache)
		h->cache = xcalloc(JCACHE_SLOTS, sizeof(*h->cache));
	struct jcache_ent *e = cache_slot(h, j);
	unsigned long long stamp = jobs_stamp(j);
	if (e->j == j && e->json && e->stamp == stamp) {
		jbuf_add(b, e->json, e->len);
		return;
	}
	if (e->j == j) { /* invalidated, or another job at the same address */
		free(e->json);
		e->json = NULL;
	}
	size_t start = b->len;
	status_json_video(b, j, now, NULL);
	if (!e->j) {
		if (h->cache_used >= JCACHE_SLOTS / 2) {
			cache_clear(h);
			e = cache_slot(h, j);
		}
		h->cache_used++;
	}
	e->j = j;
	e->stamp = stamp;
	e->len = b->len - start;
	e->json = xstrndup(b->p + start, e->len);
}

/* The index of the job named or with the video id ID, or -1. */
static long long job_index(const struct jobs *js, const char *id)
{
	size_t i = jobs_index(js, jobs_find(js, id));
	return i == (size_t)-1 ? -1 : (long long)i;
}

struct live_count {
	const char *filter;
	size_t n;
};

static void count_live(const struct job *j, void *ud)
{
	struct live_count *c = ud;
	c->n += status_matches(j, c->filter);
}

/* How many jobs FILTER matches: the finished ones from the per-state counters (a
 * finished job's status follows from its state alone), the others counted. */
static size_t filtered_total(const struct jobs *js, const char *filter)
{
	static const enum job_state final[] = {JOB_DONE, JOB_FAILED};
	struct job d;
	job_init(&d);
	struct live_count c = {filter, 0};
	for (size_t i = 0; i < sizeof(final) / sizeof(final[0]); i++) {
		d.state = final[i];
		if (status_matches(&d, filter))
			c.n += jobs_count(js, final[i]);
	}
	jobs_each_live(js, count_live, &c);
	return c.n;
}

static unsigned serve_list(struct rq *q)
{
	const struct jobs *js = q->h->jobs;
	const char *s_limit = arg(q, "limit"), *after = arg(q, "after");
	const char *order = arg(q, "order"), *filter = arg(q, "status");
	long long limit = HTTPD_LIST_DEFAULT;
	if (s_limit) {
		/* As the API: 0 to 100 (0: an empty page that says whether there is more). */
		unsigned long long v;
		if (decimal_uint(s_limit, HTTPD_LIST_MAX, &v) != 0)
			return bad_request(q, "limit", "expected an integer from 0 to 100");
		limit = (long long)v;
	}
	bool desc = true;
	if (order && !strcmp(order, "asc"))
		desc = false;
	else if (order && strcmp(order, "desc") != 0)
		return bad_request(q, "order", "expected 'asc' or 'desc'");
	if (filter && !*filter)
		filter = NULL;
	if (filter && !status_json_filter_ok(filter))
		return bad_request(
		    q, "status", "expected queued, in_progress, completed, failed or a job state");
	long long n = (long long)jobs_total(js);
	long long i = desc ? n - 1 : 0, step = desc ? -1 : 1;
	if (after && *after) {
		long long at = job_index(js, after);
		if (at < 0)
			return bad_request(q, "after", "no video or job with that id");
		i = at + step;
	}

	struct jbuf b = JBUF_INIT;
	long long now = (long long)time(NULL);
	const struct job *first = NULL, *last = NULL;
	long long count = 0;
	bool more = false;
	jbuf_adds(&b, "{\"object\":\"list\",\"data\":[");
	for (; i >= 0 && i < n; i += step) {
		/* a finished job's status follows from its state: one not asked for is not
		 * read from its history line (jobs_at) */
		enum job_state st = jobs_state_at(js, (size_t)i);
		if (st == JOB_STATE_COUNT)
			continue; /* a place whose job left */
		if (filter && job_state_is_final(st)) {
			struct job d;
			job_init(&d);
			d.state = st;
			if (!status_matches(&d, filter))
				continue;
		}
		const struct job *j = jobs_at(js, (size_t)i);
		if (!j || !status_matches(j, filter))
			continue;
		if (count == limit) {
			more = true;
			break;
		}
		if (count++)
			jbuf_add(&b, ",", 1);
		j = jobs_whole(js, j);
		cached_video(q->h, &b, j, now);
		if (!first)
			first = j;
		last = j;
	}
	jbuf_adds(&b, "],\"first_id\":");
	jbuf_add_jstr(&b, first ? status_json_id(first) : NULL);
	jbuf_adds(&b, ",\"last_id\":");
	jbuf_add_jstr(&b, last ? status_json_id(last) : NULL);
	size_t total = filter ? filtered_total(js, filter) : jobs_known(js);
	jbuf_addf(&b, ",\"has_more\":%s,\"total\":%zu}\n", more ? "true" : "false", total);
	return send_json(q, MHD_HTTP_OK, &b);
}

/* The sizes of J's outbox files (-1: missing), for a single object. */
static void file_sizes(const struct conf *c, const struct job *j, long long bytes[3])
{
	for (int v = 0; v < 3; v++) {
		char path[PATH_MAX];
		struct stat st;
		bytes[v] = -1;
		if (j->state == JOB_DONE && prompt_name_ok(j->name) &&
		    outbox_final_path(c, j->name, (enum api_variant)v, path, sizeof(path)) == 0 &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode))
			bytes[v] = (long long)st.st_size;
	}
}

static unsigned serve_video(struct rq *q, const struct job *j)
{
	struct jbuf b = JBUF_INIT;
	long long bytes[3];
	file_sizes(q->h->conf, j, bytes);
	status_json_video(&b, j, (long long)time(NULL), bytes);
	jbuf_add(&b, "\n", 1);
	return send_json(q, MHD_HTTP_OK, &b);
}

static unsigned not_ready(struct rq *q, const struct job *j)
{
	if (j->state == JOB_FAILED)
		return send_error(q, MHD_HTTP_CONFLICT, "invalid_request_error", "video_failed",
		                  "Video '%s' failed; it has no content.", j->name);
	return send_error(q, MHD_HTTP_CONFLICT, "invalid_request_error", "video_not_ready",
	                  "Video '%s' is not completed yet (state %s, %d%%).", j->name,
	                  job_state_name(j->state), j->progress);
}

/*
 * A single byte range of a SIZE-byte file: 1 with [*from, *to] to serve, 0 when the
 * header is to be ignored (not bytes, several ranges, malformed: RFC 9110 lets a
 * server serve the whole file then), -1 when it cannot be satisfied (416).
 */
static int parse_range(const char *h, long long size, long long *from, long long *to)
{
	if (strncasecmp(h, "bytes=", 6) != 0 || strchr(h, ','))
		return 0;
	const char *p = h + 6;
	char a[24] = "", b[24] = "";
	size_t na = 0, nb = 0;
	while (*p == ' ')
		p++;
	while (*p >= '0' && *p <= '9' && na < sizeof(a) - 1)
		a[na++] = *p++;
	if (*p++ != '-')
		return 0;
	while (*p >= '0' && *p <= '9' && nb < sizeof(b) - 1)
		b[nb++] = *p++;
	while (*p == ' ')
		p++;
	if (*p || (!na && !nb) || na > 18 || nb > 18)
		return 0;
	/* A and B are 0..18 digits: each fits in a long long. */
	unsigned long long ua = 0, ub = 0;
	(void)decimal_uint_n(a, na, LLONG_MAX, &ua);
	(void)decimal_uint_n(b, nb, LLONG_MAX, &ub);
	if (!na) { /* the last B bytes */
		long long n = (long long)ub;
		if (n == 0 || size == 0)
			return -1;
		*from = n >= size ? 0 : size - n;
		*to = size - 1;
		return 1;
	}
	long long s = (long long)ua, e = nb ? (long long)ub : size - 1;
	if (nb && e < s)
		return 0;
	if (s >= size)
		return -1;
	*from = s;
	*to = e < size - 1 ? e : size - 1;
	return 1;
}

static unsigned serve_content(struct rq *q, const struct job *j)
{
	struct httpd_response *rs = q->out;
	const char *var = arg(q, "variant");
	enum api_variant v = API_VARIANT_VIDEO;
	if (var && api_variant_parse(var, &v) != 0)
		return bad_request(q, "variant", "expected video, thumbnail or spritesheet");
	if (j->state != JOB_DONE)
		return not_ready(q, j);

	/* The job's own name (from the state directory), never the URL's text. */
	char path[PATH_MAX];
	if (!prompt_name_ok(j->name) ||
	    outbox_final_path(q->h->conf, j->name, v, path, sizeof(path)) != 0)
		return not_found(q, "The file is not in the outbox.");
	/* Anyone who can write the outbox (a sync tool's peer) may have put a FIFO or a
	 * hard link there: the rule of untrusted.h, which never blocks the loop. */
	struct stat st;
	char why[256];
	int fd = untrusted_open(path, 0, 0, &st, why, sizeof(why));
	if (fd < 0) {
		if (errno != ENOENT)
			log_warn("status: not serving %s: %s", path, why);
		return not_found(q, "The file is not in the outbox (moved or deleted).");
	}
	long long size = (long long)st.st_size;
	bfmt(rs->etag, sizeof(rs->etag), "\"%llx-%llx\"", (unsigned long long)size,
	     (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
	         (unsigned long long)st.st_mtim.tv_nsec);
	struct tm tm;
	gmtime_r(&st.st_mtim.tv_sec, &tm);
	strftime(rs->lastmod, sizeof(rs->lastmod), "%a, %d %b %Y %H:%M:%S GMT", &tm);

	const char *inm = header(q, MHD_HTTP_HEADER_IF_NONE_MATCH);
	const char *ims = header(q, MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
	const char *range = header(q, MHD_HTTP_HEADER_RANGE);
	const char *ifr = header(q, MHD_HTTP_HEADER_IF_RANGE);
	unsigned code = MHD_HTTP_OK;
	long long from = 0, to = size - 1;
	if ((inm && (!strcmp(inm, rs->etag) || !strcmp(inm, "*"))) ||
	    (!inm && ims && !strcmp(ims, rs->lastmod))) {
		code = MHD_HTTP_NOT_MODIFIED;
	} else if (range && (!ifr || !strcmp(ifr, rs->etag) || !strcmp(ifr, rs->lastmod))) {
		int rr = parse_range(range, size, &from, &to);
		if (rr < 0) {
			close(fd);
			bfmt(rs->crange, sizeof(rs->crange), "bytes */%lld", size);
			status_json_error(&rs->body, "The requested range is outside the file.",
			                  "invalid_request_error", "range_not_satisfiable");
			add_header(rs, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
			add_header(rs, MHD_HTTP_HEADER_CONTENT_RANGE, rs->crange);
			add_header(rs, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
			rs->file_size = size;
			return answer(q, MHD_HTTP_RANGE_NOT_SATISFIABLE);
		}
		if (rr > 0)
			code = MHD_HTTP_PARTIAL_CONTENT;
	}

	if (code == MHD_HTTP_NOT_MODIFIED) {
		close(fd);
	} else { /* the server sends it with sendfile */
		rs->fd = fd;
		rs->off = from;
		rs->len = size ? to - from + 1 : 0;
		rs->file_size = size;
	}
	add_header(rs, MHD_HTTP_HEADER_CONTENT_TYPE, api_variant_mime(v));
	add_header(rs, MHD_HTTP_HEADER_ETAG, rs->etag);
	add_header(rs, MHD_HTTP_HEADER_LAST_MODIFIED, rs->lastmod);
	add_header(rs, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	add_header(rs, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	if (code == MHD_HTTP_PARTIAL_CONTENT) {
		bfmt(rs->crange, sizeof(rs->crange), "bytes %lld-%lld/%lld", from, to, size);
		add_header(rs, MHD_HTTP_HEADER_CONTENT_RANGE, rs->crange);
	}
	return answer(q, code);
}

/* /poll: answers at once for a finished job, else waits until it finishes. */
static unsigned serve_poll(struct rq *q, const struct job *j, bool head)
{
	const char *s = arg(q, "timeout");
	long long t = HTTPD_POLL_DEFAULT_S;
	if (s) {
		unsigned long long v;
		if (decimal_uint(s, 1000000000, &v) != 0)
			return bad_request(q, "timeout", "expected a number of seconds (0 to 600)");
		t = (long long)v;
		if (t > HTTPD_POLL_MAX_S)
			t = HTTPD_POLL_MAX_S;
	}
	if (job_state_is_final(j->state) || t == 0 || head)
		return serve_video(q, j);
	if (q->h->n_waiters >= HTTPD_MAX_WAITERS)
		return send_error(q, MHD_HTTP_SERVICE_UNAVAILABLE, "server_error",
		                  "too_many_waiters",
		                  "Too many requests are waiting already; retry later.");
	q->out->action = HTTPD_WAIT;
	q->out->code = 0;
	bcopy_str(q->out->wait_name, sizeof(q->out->wait_name), j->name);
	q->out->wait_s = t;
	return 0;
}

/* The event stream's headers; the server starts the stream itself (start_stream). */
static unsigned serve_events(struct rq *q, bool head)
{
	add_header(q->out, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	add_header(q->out, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	add_header(q->out, "X-Accel-Buffering", "no");
	answer(q, MHD_HTTP_OK);
	if (!head)
		q->out->action = HTTPD_STREAM;
	return MHD_HTTP_OK;
}

void httpd_cache_free(struct httpd *h)
{
	cache_clear(h);
	free(h->cache);
	h->cache = NULL;
}

/* ---- routing ------------------------------------------------------------------------ */

/* The job an {id} path segment names; answers 400/404 itself (*CODE) when there is none. */
static const struct job *find_job(struct rq *q, const char *id, unsigned *code)
{
	/* a job name, or a video id (which may hold '/': it is only looked up) */
	if ((!prompt_name_ok(id) && !video_id_is_safe(id)) || strchr(id, '\\')) {
		*code = bad_request(q, "id", "not a video id or job name");
		return NULL;
	}
	const struct job *j = jobs_whole(q->h->jobs, jobs_find(q->h->jobs, id));
	if (!j)
		*code = not_found(q, "No video or job with that id.");
	return j;
}

static unsigned route(struct rq *q, const char *url, bool head)
{
	static const char videos[] = "/api/v1/videos";
	if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
		return serve_page(q);
	if (!strcmp(url, "/healthz"))
		return serve_health(q);
	if (!authorized(q))
		return send_error(q, MHD_HTTP_UNAUTHORIZED, "invalid_request_error", "unauthorized",
		                  "This status endpoint needs its token: Authorization: Bearer "
		                  "TOKEN.");
	if (!strcmp(url, "/metrics"))
		return serve_metrics(q);
	if (!strcmp(url, "/api/v1/events"))
		return serve_events(q, head);
	if (!strcmp(url, "/api/v1/inbox"))
		return serve_inbox(q);
	if (!strcmp(url, videos))
		return serve_list(q);
	if (strncmp(url, videos, sizeof(videos) - 1) != 0 || url[sizeof(videos) - 1] != '/')
		return not_found(q, "No such route.");

	/* /api/v1/videos/{id}[/content|/poll]. The path arrives decoded, and a video id
	 * may hold '/' (LiteLLM's base64 ids, sent as %2F): the whole rest names a job
	 * first, else the rest up to a last segment content or poll. */
	const char *id = url + sizeof(videos);
	size_t idlen = strlen(id);
	const char *sub = NULL;
	const char *slash = strrchr(id, '/');
	if (slash && (!strcmp(slash + 1, "content") || !strcmp(slash + 1, "poll")) &&
	    !jobs_find(q->h->jobs, id)) {
		sub = slash + 1;
		idlen = (size_t)(slash - id);
	}
	if (idlen == 0 || idlen > VIDEO_ID_MAX)
		return bad_request(q, "id", "not a video id or job name");
	char name[VIDEO_ID_MAX + 1];
	memcpy(name, id, idlen);
	name[idlen] = '\0';
	unsigned code = 0;
	const struct job *j = find_job(q, name, &code);
	if (!j)
		return code;
	if (!sub)
		return serve_video(q, j);
	if (!strcmp(sub, "content"))
		return serve_content(q, j);
	return serve_poll(q, j, head);
}

unsigned httpd_refuse(struct httpd *h, const struct httpd_request *rq, struct httpd_response *rs)
{
	struct rq q = {h, rq, rs};
	if (strcmp(rq->method, MHD_HTTP_METHOD_HEAD) != 0 &&
	    strcmp(rq->method, MHD_HTTP_METHOD_GET) != 0)
		return send_error(&q, MHD_HTTP_METHOD_NOT_ALLOWED, "invalid_request_error",
		                  "method_not_allowed",
		                  "This endpoint is read-only: only GET and HEAD are allowed.");
	const char *cl = header(&q, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = header(&q, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	if ((cl && strcmp(cl, "0") != 0) || te)
		return send_error(&q, MHD_HTTP_CONTENT_TOO_LARGE, "invalid_request_error",
		                  "body_not_allowed", "A GET or HEAD request carries no body.");
	return 0;
}

unsigned httpd_route_waited(struct httpd *h, const struct httpd_request *rq,
                            struct httpd_response *rs, const char *name)
{
	struct rq q = {h, rq, rs};
	const struct job *j = jobs_whole(h->jobs, jobs_find(h->jobs, name));
	if (!j)
		return not_found(&q, "No video or job with that id.");
	return serve_video(&q, j);
}

unsigned httpd_route(struct httpd *h, const struct httpd_request *rq, struct httpd_response *rs)
{
	struct rq q = {h, rq, rs};
	if (rq->raw_bad || rq->url[0] != '/')
		return bad_request(&q, "path", "control characters are not allowed");
	return route(&q, rq->url, !strcmp(rq->method, MHD_HTTP_METHOD_HEAD));
}

struct httpd *httpd_router_new(const struct conf *c, struct jobs *js, const struct api_stats *stats)
{
	struct httpd *h = xcalloc(1, sizeof(*h));
	h->conf = c;
	h->jobs = js;
	h->stats = stats;
	h->listen = xstrdup(c->listen ? c->listen : "");
	h->started = loop_now_ms();
	return h;
}
