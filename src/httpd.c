/*
 * httpd.c — the read-only status endpoint (see httpd.h).
 *
 * Why libmicrohttpd runs inside our loop rather than in a thread of its own: the
 * endpoint only reads what the job state machine holds in memory, and that memory
 * changes on the loop's thread. With MHD_USE_EPOLL and no internal thread, MHD's own
 * epoll descriptor is one more fd in our epoll set: when it is readable we call
 * MHD_run, and MHD_get_timeout arms one loop timer (disarmed when MHD has nothing
 * pending, so an idle daemon still never wakes up). Every request is then handled on
 * the loop's thread and reads the live jobs directly: no locks, no snapshots, no
 * torn reads. Long waits (/poll, the event stream) suspend their connection
 * (MHD_ALLOW_SUSPEND_RESUME) and are resumed by the jobs observer, so a waiter
 * costs a few hundred bytes, not a thread. The price is that a slow handler would
 * stall the daemon; none is slow: handlers only format memory or open one file,
 * which MHD then sends with sendfile.
 *
 * Security: the routes are a fixed table matched on the decoded path; the only file
 * ever opened is outbox_final_path(conf, NAME, variant) for a job that exists and is
 * done, where NAME is the job's own name from the state directory (checked again with
 * prompt_name_ok), never text from the URL. The raw request target is inspected
 * before MHD decodes it, so an encoded NUL cannot truncate a path into another one.
 *
 * The router never touches a connection (httpd_route.h): httpd_refuse and httpd_route
 * read the request through a lookup function and fill a struct httpd_response, which
 * respond() turns into an MHD response, a suspended /poll or an event stream. So
 * fuzz/fuzz_httpd.c drives exactly the code that answers on the socket.
 */
#include "httpd.h"
#include "httpd_route.h"
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

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum hkind { H_PLAIN, H_POLL, H_SSE };

/*
 * One open connection, while it has not sent complete request headers (from its
 * accept, or from the end of its last request on a kept-alive connection). A slow
 * client (slowloris: headers one byte at a time) or an idle one would otherwise hold
 * a slot until HTTPD_CONNECTION_TIMEOUT of silence, and enough of them fill
 * HTTPD_MAX_CONNECTIONS so that nobody else gets in. So when fewer than
 * HTTPD_SPARE_CONNECTIONS slots are left, the connection waiting longest for its
 * headers is shut down (shed): normal clients, whose headers come in one packet,
 * are never the oldest. Requests being answered, /poll waiters and event streams are
 * not in this list and are never shed.
 */
struct hconn {
	struct hconn *prev, *next; /* h->pending, oldest first */
	int fd;
	bool pending; /* in h->pending */
	bool shed;    /* shut down by us, not closed by MHD yet */
};

/* One request: allocated when its request line arrives (uri_logger), freed when MHD
 * says it is complete (on_completed). */
struct hreq {
	struct httpd *h;
	struct MHD_Connection *conn;
	enum hkind kind;
	struct hreq *prev, *next; /* in h->waiters or h->streams */
	bool linked;
	bool suspended;
	bool raw_bad;                   /* the raw target held an encoded NUL or control byte */
	bool closing;                   /* SSE: end the stream once the backlog is sent */
	bool answered;                  /* a response is queued */
	bool headers_seen;              /* the first call of on_request happened */
	long long deadline_ms;          /* poll: when to answer anyway */
	char name[PROMPT_NAME_MAX + 1]; /* poll: the job's name */
	struct jbuf out;                /* SSE: bytes not yet handed to MHD */
	size_t out_off;
};

/* A finished job's JSON never changes: the list serves it from here (see cached_video). */
struct jcache_ent {
	const struct job *j; /* NULL: free slot */
	char *json;          /* NULL: invalidated (the slot stays j's) */
	size_t len;
};
#define JCACHE_SLOTS 8192 /* at most half used: cleared when full */

struct httpd {
	struct loop *loop;
	const struct conf *conf;
	struct jobs *jobs;
	const struct api_stats *stats;
	const struct usage *usage; /* the money figures of /metrics; NULL: none */
	struct strays *strays;     /* the notes of /api/v1/inbox; NULL: none */
	struct MHD_Daemon *mhd;
	int epfd;
	struct loop_timer *mhd_timer;  /* MHD_get_timeout */
	struct loop_timer *wait_timer; /* the next poll deadline or stream keep-alive */
	struct hreq *waiters, *streams;
	size_t n_waiters, n_streams;
	struct hconn *pending, *pending_tail; /* connections without complete headers */
	size_t n_conns, n_shed, max_conns;
	unsigned long shed_total;
	long long shed_logged_ms;
	long long next_ping_ms;
	unsigned long long event_id;
	char *listen;
	unsigned port;
	long long started;
	struct jcache_ent *cache; /* JCACHE_SLOTS, allocated on first use */
	size_t cache_used;
};

/* ---- the loop --------------------------------------------------------------------- */

static void rearm(struct httpd *h)
{
	MHD_UNSIGNED_LONG_LONG ms;
	if (MHD_get_timeout(h->mhd, &ms) == MHD_YES)
		loop_timer_arm(h->mhd_timer, ms > 3600000ULL ? 3600000LL : (long long)ms);
	else
		loop_timer_disarm(h->mhd_timer);
}

static void run(struct httpd *h)
{
	MHD_run(h->mhd);
	rearm(h);
}

static void on_mhd_fd(int fd, uint32_t events, void *ud)
{
	(void)fd;
	(void)events;
	run(ud);
}

static void on_mhd_timer(void *ud)
{
	run(ud);
}

/* A suspended connection was resumed outside MHD_run: let MHD see it soon. */
static void resume(struct hreq *q)
{
	if (!q->suspended)
		return;
	q->suspended = false;
	MHD_resume_connection(q->conn);
	loop_timer_arm(q->h->mhd_timer, 0);
}

static void list_add(struct hreq **head, struct hreq *q)
{
	q->prev = NULL;
	q->next = *head;
	if (*head)
		(*head)->prev = q;
	*head = q;
	q->linked = true;
}

static void list_del(struct hreq **head, struct hreq *q)
{
	if (!q->linked)
		return;
	if (q->prev)
		q->prev->next = q->next;
	else
		*head = q->next;
	if (q->next)
		q->next->prev = q->prev;
	q->prev = q->next = NULL;
	q->linked = false;
}

static void sse_push(struct hreq *q, const char *s, size_t n);

/* The wait timer: poll deadlines and the streams' keep-alive. */
static void arm_wait_timer(struct httpd *h)
{
	long long at = -1;
	for (struct hreq *q = h->waiters; q; q = q->next)
		if (q->suspended && (at < 0 || q->deadline_ms < at))
			at = q->deadline_ms;
	if (h->streams && (at < 0 || h->next_ping_ms < at))
		at = h->next_ping_ms;
	if (at < 0)
		loop_timer_disarm(h->wait_timer);
	else
		loop_timer_arm_at(h->wait_timer, at);
}

static void on_wait_timer(void *ud)
{
	struct httpd *h = ud;
	long long now = loop_now_ms();
	for (struct hreq *q = h->waiters; q; q = q->next)
		if (q->suspended && q->deadline_ms <= now)
			resume(q);
	if (h->streams && h->next_ping_ms <= now) {
		static const char ping[] = ": keep-alive\n\n";
		for (struct hreq *q = h->streams; q; q = q->next)
			sse_push(q, ping, sizeof(ping) - 1);
		h->next_ping_ms = now + HTTPD_SSE_PING_MS;
	}
	arm_wait_timer(h);
}

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

/* A decimal in [0, MAX] with nothing else around it; -1 otherwise. */
static long long parse_uint(const char *s, long long max)
{
	long long v = 0;
	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (LLONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v <= max ? v : -1;
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

/* The raw request target, before MHD decodes it: no encoded NUL or control bytes. */
static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct hreq *q = xcalloc(1, sizeof(*q));
	q->h = cls;
	q->conn = conn;
	q->raw_bad = httpd_raw_target_bad(uri);
	return q;
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
	          SORAD_VERSION, (loop_now_ms() - q->h->started) / 1000, jobs_total(q->h->jobs));
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

/* A job changed: its cached JSON (if any) is stale. */
static void cache_drop(struct httpd *h, const struct job *j)
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
	if (e->j == j && e->json) {
		jbuf_add(b, e->json, e->len);
		return;
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
	e->len = b->len - start;
	e->json = xstrndup(b->p + start, e->len);
}

/* The index of the job named or with the video id ID, or -1. */
static long long job_index(const struct jobs *js, const char *id)
{
	const struct job *j = jobs_find(js, id);
	if (!j)
		return -1;
	size_t n = jobs_total(js);
	for (size_t i = 0; i < n; i++)
		if (jobs_at(js, i) == j)
			return (long long)i;
	return -1;
}

static unsigned serve_list(struct rq *q)
{
	const struct jobs *js = q->h->jobs;
	const char *s_limit = arg(q, "limit"), *after = arg(q, "after");
	const char *order = arg(q, "order"), *filter = arg(q, "status");
	long long limit = HTTPD_LIST_DEFAULT;
	if (s_limit) {
		/* As the API: 0 to 100 (0: an empty page that says whether there is more). */
		limit = parse_uint(s_limit, 1000000);
		if (limit < 0 || limit > HTTPD_LIST_MAX)
			return bad_request(q, "limit", "expected an integer from 0 to 100");
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
		const struct job *j = jobs_at(js, (size_t)i);
		if (!status_matches(j, filter))
			continue;
		if (count == limit) {
			more = true;
			break;
		}
		if (count++)
			jbuf_add(&b, ",", 1);
		cached_video(q->h, &b, j, now);
		if (!first)
			first = j;
		last = j;
	}
	jbuf_adds(&b, "],\"first_id\":");
	jbuf_add_jstr(&b, first ? status_json_id(first) : NULL);
	jbuf_adds(&b, ",\"last_id\":");
	jbuf_add_jstr(&b, last ? status_json_id(last) : NULL);
	size_t total = (size_t)n;
	if (filter) {
		total = 0;
		for (long long k = 0; k < n; k++)
			total += status_matches(jobs_at(js, (size_t)k), filter);
	}
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
	/* atoll cannot fail below: A and B are 0..18 digits (NOLINTs for cert-err34-c). */
	if (!na) {                      /* the last B bytes */
		long long n = atoll(b); /* NOLINT(cert-err34-c) */
		if (n == 0 || size == 0)
			return -1;
		*from = n >= size ? 0 : size - n;
		*to = size - 1;
		return 1;
	}
	long long s = atoll(a), e = nb ? atoll(b) : size - 1; /* NOLINT(cert-err34-c) */
	if (nb && e < s)
		return 0;
	if (s >= size)
		return -1;
	*from = s;
	*to = e < size - 1 ? e : size - 1;
	return 1;
}

static const char *variant_type(enum api_variant v)
{
	switch (v) {
	case API_VARIANT_THUMBNAIL:
		return "image/webp";
	case API_VARIANT_SPRITESHEET:
		return "image/jpeg";
	default:
		return "video/mp4";
	}
}

static unsigned serve_content(struct rq *q, const struct job *j)
{
	struct httpd_response *rs = q->out;
	const char *var = arg(q, "variant");
	enum api_variant v = API_VARIANT_VIDEO;
	if (var && !strcmp(var, "thumbnail"))
		v = API_VARIANT_THUMBNAIL;
	else if (var && !strcmp(var, "spritesheet"))
		v = API_VARIANT_SPRITESHEET;
	else if (var && strcmp(var, "video") != 0)
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
	add_header(rs, MHD_HTTP_HEADER_CONTENT_TYPE, variant_type(v));
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
		t = parse_uint(s, 1000000000);
		if (t < 0)
			return bad_request(q, "timeout", "expected a number of seconds (0 to 600)");
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

/* ---- the event stream --------------------------------------------------------------- */

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct hreq *q = cls;
	if (q->out_off < q->out.len) {
		size_t n = q->out.len - q->out_off;
		if (n > max)
			n = max;
		memcpy(buf, q->out.p + q->out_off, n);
		q->out_off += n;
		if (q->out_off == q->out.len) {
			jbuf_reset(&q->out);
			q->out_off = 0;
		}
		return (ssize_t)n;
	}
	if (q->closing)
		return MHD_CONTENT_READER_END_OF_STREAM;
	/* Nothing to send: sleep until the next event (sse_push resumes). */
	q->suspended = true;
	MHD_suspend_connection(q->conn);
	return 0;
}

static void sse_push(struct hreq *q, const char *s, size_t n)
{
	if (q->closing)
		return;
	if (q->out.len - q->out_off + n > HTTPD_SSE_BACKLOG) {
		/* A reader this slow gets closed; its EventSource reconnects and reloads. */
		q->closing = true;
	} else {
		jbuf_add(&q->out, s, n);
	}
	resume(q);
}

void httpd_job_changed(struct httpd *h, const struct job *j, enum job_state before)
{
	if (!h)
		return;
	cache_drop(h, j);
	if (j->state != before && job_state_is_final(j->state))
		for (struct hreq *q = h->waiters; q; q = q->next)
			if (q->suspended && !strcmp(q->name, j->name))
				resume(q);
	if (!h->streams)
		return;
	const char *ev;
	if (j->state != before)
		ev = j->state == JOB_DONE     ? "completed"
		     : j->state == JOB_FAILED ? "failed"
		                              : "state";
	else
		ev = j->state == JOB_CLAIMED && j->progress == 0 ? "created" : "progress";
	struct jbuf b = JBUF_INIT;
	jbuf_addf(&b, "id: %llu\nevent: %s\ndata: ", ++h->event_id, ev);
	status_json_video(&b, j, (long long)time(NULL), NULL);
	jbuf_adds(&b, "\n\n");
	for (struct hreq *q = h->streams; q; q = q->next)
		sse_push(q, b.p, b.len);
	jbuf_release(&b);
}

/* ---- sending what the router decided ---------------------------------------------- */

static void common_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
}

static enum MHD_Result queue(struct hreq *q, unsigned code, struct MHD_Response *r)
{
	if (!r)
		return MHD_NO;
	common_headers(r);
	enum MHD_Result rc = MHD_queue_response(q->conn, code, r);
	MHD_destroy_response(r);
	if (rc == MHD_YES)
		q->answered = true;
	return rc;
}

/* The event stream's response; Q joins h->streams. */
static struct MHD_Response *start_stream(struct hreq *q)
{
	struct httpd *h = q->h;
	if (h->n_streams >= HTTPD_MAX_SSE) {
		/* The oldest stream goes (a closed tab the server cannot see while its
		 * connection sleeps, most likely); a live page reconnects by itself. */
		struct hreq *old = h->streams;
		while (old && old->next)
			old = old->next;
		if (old) {
			old->closing = true;
			list_del(&h->streams, old);
			h->n_streams--;
			resume(old);
		}
	}
	struct MHD_Response *r =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, sse_read, q, NULL);
	if (!r)
		return NULL;
	q->kind = H_SSE;
	jbuf_adds(&q->out, "retry: 2000\n: sorad events\n\n");
	if (!h->streams)
		h->next_ping_ms = loop_now_ms() + HTTPD_SSE_PING_MS;
	list_add(&h->streams, q);
	h->n_streams++;
	arm_wait_timer(h);
	return r;
}

/* /poll of an unfinished job: Q sleeps in h->waiters until it finishes or time is up. */
static enum MHD_Result start_wait(struct hreq *q, const struct httpd_response *rs)
{
	struct httpd *h = q->h;
	q->kind = H_POLL;
	bcopy_str(q->name, sizeof(q->name), rs->wait_name);
	q->deadline_ms = loop_now_ms() + rs->wait_s * 1000;
	list_add(&h->waiters, q);
	h->n_waiters++;
	q->suspended = true;
	MHD_suspend_connection(q->conn);
	arm_wait_timer(h);
	return MHD_YES;
}

/* Sends RS (released here) on Q's connection. */
static enum MHD_Result respond(struct hreq *q, struct httpd_response *rs)
{
	struct MHD_Response *r = NULL;
	unsigned code = rs->code;
	if (rs->action == HTTPD_WAIT) {
		enum MHD_Result rc = start_wait(q, rs);
		httpd_response_release(rs);
		return rc;
	}
	if (rs->action == HTTPD_STREAM) {
		r = start_stream(q);
	} else if (rs->fd >= 0) {
		/* MHD owns the descriptor once the response exists, and sends it with sendfile. */
		r = MHD_create_response_from_fd_at_offset64((uint64_t)rs->len, rs->fd,
		                                            (uint64_t)rs->off);
		if (r)
			rs->fd = -1;
	} else if (rs->static_body) {
		r = MHD_create_response_from_buffer(rs->static_len, (void *)rs->static_body,
		                                    MHD_RESPMEM_PERSISTENT);
	} else {
		size_t len;
		char *p = jbuf_take(&rs->body, &len);
		r = MHD_create_response_from_buffer(len, p, MHD_RESPMEM_MUST_FREE);
		if (!r)
			free(p);
	}
	if (r)
		for (size_t i = 0; i < rs->n_headers; i++)
			MHD_add_response_header(r, rs->headers[i].name, rs->headers[i].value);
	httpd_response_release(rs);
	return queue(q, code, r);
}

static const char *mhd_lookup(void *ud, enum httpd_lookup kind, const char *key)
{
	enum MHD_ValueKind k = kind == HTTPD_HEADER ? MHD_HEADER_KIND
	                       : kind == HTTPD_ARG  ? MHD_GET_ARGUMENT_KIND
	                                            : MHD_COOKIE_KIND;
	return MHD_lookup_connection_value(ud, k, key);
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
	const struct job *j = jobs_find(q->h->jobs, id);
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

unsigned httpd_route(struct httpd *h, const struct httpd_request *rq, struct httpd_response *rs)
{
	struct rq q = {h, rq, rs};
	if (rq->raw_bad || rq->url[0] != '/')
		return bad_request(&q, "path", "control characters are not allowed");
	return route(&q, rq->url, !strcmp(rq->method, MHD_HTTP_METHOD_HEAD));
}

/* ---- connections without complete headers (see struct hconn) ------------------ */

static void pending_del(struct httpd *h, struct hconn *c)
{
	if (!c->pending)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		h->pending = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		h->pending_tail = c->prev;
	c->prev = c->next = NULL;
	c->pending = false;
}

static void pending_add(struct httpd *h, struct hconn *c)
{
	pending_del(h, c);
	c->prev = h->pending_tail;
	if (c->prev)
		c->prev->next = c;
	else
		h->pending = c;
	h->pending_tail = c;
	c->pending = true;
}

static struct hconn *conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* Keeps HTTPD_SPARE_CONNECTIONS slots free by shutting down the connections that wait
 * longest for their headers; MHD then sees the end of the stream and closes them. */
static void shed_slowest(struct httpd *h)
{
	size_t keep = h->max_conns - HTTPD_SPARE_CONNECTIONS;
	while (h->n_conns - h->n_shed > keep && h->pending && h->pending != h->pending_tail) {
		struct hconn *c = h->pending;
		pending_del(h, c);
		shutdown(c->fd, SHUT_RDWR);
		c->shed = true;
		h->n_shed++;
		h->shed_total++;
	}
	long long now = loop_now_ms();
	if (h->shed_total && now - h->shed_logged_ms >= 60000) {
		log_warn("status: connections nearly full: closed %lu that had not sent their "
		         "request in time (slow or idle clients)",
		         h->shed_total);
		h->shed_logged_ms = now;
		h->shed_total = 0;
	}
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
	struct httpd *h = cls;
	struct hconn *c = *socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!ci)
			return;
		c = xcalloc(1, sizeof(*c));
		c->fd = ci->connect_fd;
		*socket_context = c;
		h->n_conns++;
		pending_add(h, c);
		shed_slowest(h);
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && c) {
		pending_del(h, c);
		if (c->shed)
			h->n_shed--;
		h->n_conns--;
		free(c);
		*socket_context = NULL;
	}
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	(void)version;
	(void)upload;
	struct httpd *h = cls;
	struct hreq *q = *con_cls;
	if (!q) { /* uri_logger always runs first; this is only a safety net */
		q = uri_logger(h, url, conn);
		*con_cls = q;
	}
	struct httpd_request rq = {method, url, q->raw_bad, mhd_lookup, conn};
	struct httpd_response rs;
	httpd_response_init(&rs);
	if (q->kind == H_POLL) { /* resumed: the job finished or the time is up */
		list_del(&h->waiters, q);
		h->n_waiters--;
		q->kind = H_PLAIN;
		arm_wait_timer(h);
		struct rq r = {h, &rq, &rs};
		const struct job *j = jobs_find(h->jobs, q->name);
		if (j)
			serve_video(&r, j);
		else
			not_found(&r, "No video or job with that id.");
		return respond(q, &rs);
	}
	if (*upload_size) { /* a body we did not want: dropped, the answer is queued */
		*upload_size = 0;
		return MHD_YES;
	}
	if (q->answered)
		return MHD_YES;
	if (!q->headers_seen) {
		q->headers_seen = true;
		struct hconn *c = conn_of(conn);
		if (c) /* its headers are in: no longer a slow client */
			pending_del(h, c);
		/* Refusals go at once, before any body is read (the connection then closes). */
		if (httpd_refuse(h, &rq, &rs))
			return respond(q, &rs);
		/* Answering in this first call would make libmicrohttpd close the connection
		 * (it cannot know yet that there is no body); the second call keeps it. */
		return MHD_YES;
	}
	httpd_route(h, &rq, &rs);
	return respond(q, &rs);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	(void)toe;
	struct httpd *h = cls;
	struct hreq *q = *con_cls;
	struct hconn *c = conn_of(conn);
	if (c && !c->shed) /* kept alive: it waits for its next request's headers again */
		pending_add(h, c);
	if (!q)
		return;
	if (q->kind == H_POLL && q->linked) {
		list_del(&h->waiters, q);
		h->n_waiters--;
	} else if (q->kind == H_SSE && q->linked) {
		list_del(&h->streams, q);
		h->n_streams--;
	}
	jbuf_release(&q->out);
	free(q);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vbfmt(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	log_debug("status: libmicrohttpd: %s", msg);
}

/* ---- lifetime ----------------------------------------------------------------------- */

/* LISTEN as a socket address (httpd.h; the callback listener's too). */
int httpd_parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len, char *why,
                       size_t whylen)
{
	char host[256];
	const char *port;
	memset(ss, 0, sizeof(*ss));
	if (listen[0] == '[') {
		const char *end = strchr(listen, ']');
		if (!end || end[1] != ':' || (size_t)(end - listen - 1) >= sizeof(host))
			return bfmt(why, whylen, "bad address"), -1;
		memcpy(host, listen + 1, (size_t)(end - listen - 1));
		host[end - listen - 1] = '\0';
		port = end + 2;
	} else {
		const char *colon = strrchr(listen, ':');
		if (!colon || (size_t)(colon - listen) >= sizeof(host))
			return bfmt(why, whylen, "bad address"), -1;
		memcpy(host, listen, (size_t)(colon - listen));
		host[colon - listen] = '\0';
		port = colon + 1;
	}
	long long p = parse_uint(port, 65535);
	if (p < 0)
		return bfmt(why, whylen, "bad port"), -1;
	if (!strcmp(host, "localhost"))
		bcopy_str(host, sizeof(host), "127.0.0.1");
	if (!strcmp(host, "*") || !host[0])
		bcopy_str(host, sizeof(host), "0.0.0.0");
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)p);
		*len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*in6);
	} else {
		return bfmt(why, whylen, "'%s' is not a numeric IPv4 or IPv6 address", host), -1;
	}
	return 0;
}

/* HTTPD_MAX_CONNECTIONS, with the descriptors for them: the soft RLIMIT_NOFILE (1024
 * by default) is raised towards the hard one; 512 stay for the rest of the daemon. */
static size_t connection_limit(void)
{
	const rlim_t others = 512, want = HTTPD_MAX_CONNECTIONS + 512;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 64;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rl.rlim_cur =
		    rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && getrlimit(RLIMIT_NOFILE, &rl) != 0)
			return 64;
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
		return HTTPD_MAX_CONNECTIONS;
	return rl.rlim_cur > others + 64 ? (size_t)(rl.rlim_cur - others) : 64;
}

struct httpd *httpd_new(struct loop *l, const struct conf *c, struct jobs *js,
                        const struct api_stats *stats)
{
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	char why[256];
	if (httpd_parse_listen(c->listen, &ss, &sslen, why, sizeof(why)) != 0) {
		log_error("status: cannot listen on '%s': %s", c->listen, why);
		return NULL;
	}
	struct httpd *h = httpd_router_new(c, js, stats);
	h->max_conns = connection_limit();
	h->loop = l;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
	                 MHD_USE_TURBO | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
	                          mhd_log, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	                          MHD_OPTION_CONNECTION_LIMIT, (unsigned)h->max_conns,
	                          MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTPD_CONNECTION_TIMEOUT,
	                          MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTPD_MEMORY_LIMIT,
	                          MHD_OPTION_LISTEN_BACKLOG_SIZE, 128u, MHD_OPTION_URI_LOG_CALLBACK,
	                          uri_logger, h, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	                          MHD_OPTION_NOTIFY_CONNECTION, on_connection, h, MHD_OPTION_END);
	if (!h->mhd) {
		log_error("status: cannot listen on %s: %s", c->listen,
		          errno ? strerror(errno) : "libmicrohttpd failed to start");
		free(h->listen);
		free(h);
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	h->epfd = info ? info->epoll_fd : -1;
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : 0;
	h->mhd_timer = loop_timer_new(l, on_mhd_timer, h);
	h->wait_timer = loop_timer_new(l, on_wait_timer, h);
	if (h->epfd < 0 || loop_watch(l, h->epfd, EPOLLIN, on_mhd_fd, h) != 0) {
		log_error("status: cannot watch libmicrohttpd's epoll descriptor");
		httpd_free(h);
		return NULL;
	}
	rearm(h);
	char host[256];
	bcopy_str(host, sizeof(host), c->listen);
	char *colon = strrchr(host, ':');
	if (colon)
		*colon = '\0';
	log_info("status: listening on http://%s:%u/%s", host, h->port,
	         c->status_token ? " (token required)" : "");
	return h;
}

struct httpd *httpd_router_new(const struct conf *c, struct jobs *js, const struct api_stats *stats)
{
	struct httpd *h = xcalloc(1, sizeof(*h));
	h->conf = c;
	h->jobs = js;
	h->stats = stats;
	h->epfd = -1;
	h->listen = xstrdup(c->listen ? c->listen : "");
	h->started = loop_now_ms();
	return h;
}

void httpd_free(struct httpd *h)
{
	if (!h)
		return;
	if (h->mhd) {
		/* MHD must not be stopped with suspended connections: wake them all. */
		for (struct hreq *q = h->waiters; q; q = q->next)
			resume(q);
		for (struct hreq *q = h->streams; q; q = q->next) {
			q->closing = true;
			resume(q);
		}
		if (h->epfd >= 0)
			loop_unwatch(h->loop, h->epfd);
		MHD_stop_daemon(h->mhd);
	}
	loop_timer_free(h->mhd_timer);
	loop_timer_free(h->wait_timer);
	cache_clear(h);
	free(h->cache);
	free(h->listen);
	free(h);
}

void httpd_set_conf(struct httpd *h, const struct conf *c)
{
	if (h)
		h->conf = c;
}

void httpd_set_usage(struct httpd *h, const struct usage *u)
{
	if (h)
		h->usage = u;
}

void httpd_set_strays(struct httpd *h, struct strays *s)
{
	if (h)
		h->strays = s;
}

const char *httpd_listen(const struct httpd *h)
{
	return h->listen;
}

unsigned httpd_port(const struct httpd *h)
{
	return h->port;
}
