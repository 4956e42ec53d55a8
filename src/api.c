/* api.c — the transport of the video API client over libcurl's multi interface (see
 * api.h); what goes on the wire and how answers read is the protocol's (proto.h). */
#include "api.h"
#include "caps.h"
#include "clock.h"
#include "decimal.h"
#include "proto.h"
#include "spend.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"
#include "util.h"

/* Bytes of a non-2xx body kept for the error message (the rest is discarded). */
#define ERROR_BODY_MAX (64 * 1024)
/* Jobs whose polling_url (OpenRouter) names a path other than the protocol's own. */
#define POLL_PATHS_MAX 64

enum req_state { REQ_WAITING, REQ_RUNNING, REQ_CALLBACK };

/* Where the current attempt's body goes. */
enum sink { SINK_UNDECIDED, SINK_MEMORY, SINK_FILE };

struct fdwatch {
	int fd;
	int what; /* CURL_POLL_* */
};

struct api_client {
	const struct proto *proto; /* api_protocol: what goes on the wire (proto.h) */
	struct {
		char *id, *path; /* a video and the path under base to poll it at */
	} poll[POLL_PATHS_MAX];
	unsigned poll_next; /* the slot to reuse next (oldest first) */
	CURLM *multi;
	struct api_loop_hooks hooks;
	bool has_hooks;

	char *base;      /* api_base without a trailing '/' */
	char *key;       /* the secret, zeroed on free */
	char *auth_line; /* "Authorization: Bearer KEY" or "api-key: KEY"; NULL: no key */
	char **extra;    /* validated extra header lines */
	size_t n_extra;
	long connect_timeout_ms, request_timeout_ms, retry_base_ms, retry_max_ms;
	long retry_after_max_ms;  /* a server's retry-after is honoured up to this */
	long download_timeout_ms; /* one download attempt's whole time */
	unsigned max_retries;
	bool has_skew; /* the latest answer's Date: its clock minus ours */
	long long server_skew_s;

	double (*jitter)(void *ud);
	void *jitter_ud;
	uint64_t rng;

	struct api_req *reqs; /* all live requests, a doubly linked list */
	unsigned n_reqs;

	long long curl_deadline; /* monotonic ms curl wants a timeout call, -1 none */
	long long deadline;      /* the merged deadline, -1 none */
	long long reported;      /* the deadline last given to hooks.timer, -2 unknown */
	long long pause_until;   /* client-wide rate-limit pause end, monotonic ms */

	struct fdwatch *fds; /* the sockets curl wants watched (for api_client_run) */
	size_t n_fds, cap_fds;

	struct api_stats *stats; /* borrowed; NULL: not counting */
	struct caps *caps;       /* borrowed; NULL: nothing learned (caps.h) */
	bool ranges_broken;      /* a resumed download came back inconsistent: no Range */
};

struct api_req {
	struct api_client *c;
	struct api_req *prev, *next;
	enum req_state state;
	api_done_fn *cb;
	void *ud;

	char *job, *video_id;
	char *url;
	const char *method; /* "GET", "POST", "DELETE" */
	char *log_path;     /* the URL without the base, for log lines */
	struct curl_slist *headers;

	/* create and remix: the body (proto.h) */
	struct proto_request body_req;
	/* content */
	int fd;
	long long dl_have;     /* bytes in the file */
	long long dl_from;     /* Range start asked for in this attempt, 0 none */
	long long dl_span_end; /* a 206: the byte after the span announced, -1 unknown */
	bool dl_ranges;        /* the server advertised Accept-Ranges: bytes */
	int dl_errno;          /* a local write failed: errno */
	long long dl_max;      /* the most bytes a body without Content-Length may bring, 0 any */
	bool dl_too_big;       /* ...and this one brought more */
	bool dl_range_bad;     /* a 206 did not start where asked */
	bool dl_range_corrupt; /* a 206 did not hold the span it announced */

	/* a failure found before any network work, reported on the first "attempt" */
	enum api_kind early_kind;
	char *early_msg;

	/* the current attempt */
	CURL *easy;
	curl_mime *mime;
	char errbuf[CURL_ERROR_SIZE];
	enum sink sink;
	char *body;
	size_t body_len, body_cap;
	bool too_big;
	long long t_start;
	struct {
		char retry_after[64], retry_after_ms[64], should_retry[16], poll_after[32];
		char request_id[128], accept_ranges[32], content_range[96], date[64];
		long long content_length;
	} h;

	unsigned retries;
	long long ready_at; /* REQ_WAITING: monotonic ms to start */
	struct api_result res;
};

/* ---------------------------------------------------------------- small helpers */

const char *api_op_name(enum api_op op)
{
	static const char *const names[] = {"create", "retrieve", "list",
	                                    "delete", "remix",    "content"};
	return (unsigned)op < ARRAY_LEN(names) ? names[op] : "?";
}

/* Replaces every occurrence of the API key in *S by "[REDACTED]". */
static void redact(const struct api_client *c, char **s)
{
	size_t klen;
	char *p;

	if (!*s || !c->key)
		return;
	klen = strlen(c->key);
	if (klen < 4)
		return;
	while ((p = strstr(*s, c->key))) {
		char *n = xasprintf("%.*s[REDACTED]%s", (int)(p - *s), *s, p + klen);
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = n;
	}
}

static void slist_free_wiped(struct curl_slist *l)
{
	for (struct curl_slist *i = l; i; i = i->next)
		explicit_bzero(i->data, strlen(i->data));
	curl_slist_free_all(l);
}

static struct curl_slist *slist_add(struct curl_slist *l, const char *line)
{
	struct curl_slist *n = curl_slist_append(l, line);
	if (!n) {
		fprintf(stderr, "sorad: out of memory in curl_slist_append\n");
		abort();
	}
	return n;
}

static double builtin_jitter(void *ud)
{
	struct api_client *c = ud;
	/* xorshift64*: plenty for jitter, no global state, no locking */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return (double)((c->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* ------------------------------------------------------------- timer handling */

static long long req_due(const struct api_client *c, const struct api_req *r)
{
	if (r->early_kind != API_OK)
		return r->ready_at; /* local failures do not wait for a rate-limit pause */
	return r->ready_at > c->pause_until ? r->ready_at : c->pause_until;
}

/* Recomputes the merged deadline and tells the loop when it changed. */
static void update_timer(struct api_client *c)
{
	long long d = c->curl_deadline;

	for (struct api_req *r = c->reqs; r; r = r->next) {
		if (r->state != REQ_WAITING)
			continue;
		long long t = req_due(c, r);
		if (d < 0 || t < d)
			d = t;
	}
	c->deadline = d;
	if (!c->has_hooks || !c->hooks.timer || d == c->reported)
		return;
	c->reported = d;
	if (d < 0) {
		c->hooks.timer(-1, c->hooks.ud);
	} else {
		long long ms = d - clock_mono_ms().ms;
		c->hooks.timer(ms < 0 ? 0 : (long)(ms > LONG_MAX ? LONG_MAX : ms), c->hooks.ud);
	}
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct api_client *c = userp;
	(void)multi;
	c->curl_deadline = timeout_ms < 0 ? -1 : clock_mono_ms().ms + timeout_ms;
	update_timer(c);
	return 0;
}

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct api_client *c = userp;
	size_t i;
	(void)e;
	(void)socketp;

	for (i = 0; i < c->n_fds && c->fds[i].fd != s; i++)
		;
	if (what == CURL_POLL_REMOVE) {
		if (i < c->n_fds)
			c->fds[i] = c->fds[--c->n_fds];
	} else {
		if (i == c->n_fds) {
			if (c->n_fds == c->cap_fds) {
				c->cap_fds = c->cap_fds ? c->cap_fds * 2 : 8;
				c->fds = xrealloc(c->fds, c->cap_fds * sizeof(*c->fds));
			}
			c->n_fds++;
		}
		c->fds[i].fd = s;
		c->fds[i].what = what;
	}
	if (c->has_hooks && c->hooks.watch)
		c->hooks.watch(s, what, c->hooks.ud);
	return 0;
}

/* ---------------------------------------------------------- request lifecycle */

static void attempt_reset(struct api_req *r)
{
	free(r->body);
	r->body = NULL;
	r->body_len = r->body_cap = 0;
	r->too_big = false;
	r->sink = SINK_UNDECIDED;
	r->errbuf[0] = '\0';
	memset(&r->h, 0, sizeof(r->h));
	r->h.content_length = -1;
	r->dl_range_bad = false;
	r->dl_range_corrupt = false;
	r->dl_too_big = false;
	r->dl_span_end = -1;
}

/* The one place where an easy handle is freed: from the CURLMSG_DONE path, and from
 * cancellation and client teardown, which end a transfer the same way. */
static void req_detach_easy(struct api_req *r)
{
	if (!r->easy)
		return;
	curl_multi_remove_handle(r->c->multi, r->easy);
	curl_easy_cleanup(r->easy);
	r->easy = NULL;
	curl_mime_free(r->mime);
	r->mime = NULL;
}

static void req_free(struct api_req *r)
{
	struct api_client *c = r->c;

	req_detach_easy(r);
	if (r->prev)
		r->prev->next = r->next;
	else
		c->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	c->n_reqs--;

	free(r->job);
	free(r->video_id);
	free(r->url);
	free(r->log_path);
	slist_free_wiped(r->headers);
	proto_request_release(&r->body_req);
	free(r->early_msg);
	free(r->body);
	video_release(&r->res.video);
	video_list_release(&r->res.list);
	api_error_release(&r->res.error);
	free(r);
}

static enum log_level outcome_level(const struct api_req *r)
{
	switch (r->res.kind) {
	case API_OK:
		return r->res.op == API_OP_RETRIEVE || r->res.op == API_OP_LIST ? LOG_DEBUG
		                                                                : LOG_INFO;
	case API_CONFIG:
		return LOG_ERROR;
	default:
		return LOG_WARNING;
	}
}

static const char *log_video_id(const struct api_req *r)
{
	if (r->video_id)
		return r->video_id;
	return r->res.has_video ? r->res.video.id : NULL;
}

/* Ends the request: logs the outcome, runs the callback, frees it. */
static void req_complete(struct api_req *r)
{
	struct api_client *c = r->c;
	struct api_result *res = &r->res;
	long long took = r->res.attempts ? clock_mono_ms().ms - res->attempt[0].start_ms : 0;
	/* A service that lacks the operation says so once, through caps.h, not per call. */
	bool refused = caps_observe(c->caps, res);

	if (res->kind != API_OK) {
		res->error.kind = res->kind;
		res->error.http_status = res->http_status;
		if (!res->error.message)
			res->error.message = xstrdup(api_kind_describe(res->kind));
		redact(c, &res->error.message);
		log_event(refused ? LOG_DEBUG : outcome_level(r), r->job, log_video_id(r),
		          "%s %s failed: %s (HTTP %ld, %u attempt%s, %lld ms%s%s): %s", r->method,
		          r->log_path, api_kind_name(res->kind), res->http_status, res->attempts,
		          res->attempts == 1 ? "" : "s", took,
		          res->request_id[0] ? ", request " : "", res->request_id,
		          res->error.message);
	} else {
		log_event(outcome_level(r), r->job, log_video_id(r),
		          "%s %s: HTTP %ld (%u attempt%s, %lld ms%s%s)", r->method, r->log_path,
		          res->http_status, res->attempts, res->attempts == 1 ? "" : "s", took,
		          res->request_id[0] ? ", request " : "", res->request_id);
	}
	r->state = REQ_CALLBACK;
	r->cb(r, r->ud);
	req_free(r);
	update_timer(c);
}

static void fail_now(struct api_req *r, enum api_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets the final error and completes. */
static void fail_now(struct api_req *r, enum api_kind kind, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vbfmt(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->res.kind = kind;
	free(r->res.error.message);
	r->res.error.message = xstrdup(msg);
	/* Only the early failures come here: this attempt never left the machine (an
	 * earlier one, if any, was refused), so a create made nothing. */
	r->res.spend = SPEND_REFUSED;
	r->res.outcome_unknown = false;
	req_complete(r);
}

/* --------------------------------------------------------- curl data callbacks */

static void copy_header_value(char *dst, size_t size, const char *v, size_t n)
{
	while (n && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n >= size)
		n = size - 1; /* over-long values are cut; they are parsed strictly later */
	for (size_t i = 0; i < n; i++)
		dst[i] = (v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?';
	dst[n] = '\0';
}

/* A decimal with nothing around it (decimal.h), or -1. */
static long long parse_ll(const char *s)
{
	unsigned long long v;
	return decimal_uint(s, LLONG_MAX, &v) == 0 ? (long long)v : -1;
}

static bool is_json_op(const struct api_req *r)
{
	return r->res.op != API_OP_CONTENT;
}

static size_t header_cb(char *buf, size_t size, size_t nitems, void *userp)
{
	struct api_req *r = userp;
	size_t n = size * nitems;
	const char *colon;
	size_t nl;

	if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
		/* a new response (after 1xx): forget the previous one's headers */
		memset(&r->h, 0, sizeof(r->h));
		r->h.content_length = -1;
		return n;
	}
	colon = memchr(buf, ':', n);
	if (!colon)
		return n;
	nl = (size_t)(colon - buf);
	const char *v = colon + 1;
	size_t vn = n - nl - 1;
#define HDR(name, field)                                                                           \
	if (nl == sizeof(name) - 1 && strncasecmp(buf, name, nl) == 0) {                           \
		copy_header_value(r->h.field, sizeof(r->h.field), v, vn);                          \
		return n;                                                                          \
	}
	HDR("retry-after", retry_after)
	HDR("retry-after-ms", retry_after_ms)
	HDR("x-should-retry", should_retry)
	HDR("openai-poll-after-ms", poll_after)
	HDR("x-request-id", request_id)
	HDR("accept-ranges", accept_ranges)
	HDR("content-range", content_range)
	HDR("date", date)
#undef HDR
	if (nl == 14 && strncasecmp(buf, "content-length", 14) == 0) {
		char tmp[32];
		long status = 0;
		copy_header_value(tmp, sizeof(tmp), v, vn);
		r->h.content_length = parse_ll(tmp);
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
		if (is_json_op(r) && status >= 200 && status < 300 &&
		    r->h.content_length > VIDEO_JSON_MAX) {
			r->too_big = true;
			return 0; /* refuse before receiving: aborts with CURLE_WRITE_ERROR */
		}
	}
	return n;
}

/* "bytes START-END/TOTAL": START, END and TOTAL (-1 when "*"); -1 when malformed. */
static int parse_content_range(const char *s, long long *start, long long *end, long long *total)
{
	char a[24], b[24], t[24];

	if (sscanf(s, "bytes %23[0-9]-%23[0-9]/%23[0-9*]", a, b, t) != 3)
		return -1;
	*start = parse_ll(a);
	*end = parse_ll(b);
	*total = strcmp(t, "*") == 0 ? -1 : parse_ll(t);
	return *start < 0 || *end < *start || (*total >= 0 && *end >= *total) ? -1 : 0;
}

/*
 * Services (api_base) seen breaking resumed downloads in this process's lifetime: a
 * client made for one of them after a reload asks no Range of it either. Loop thread
 * only (the CLI's clients are on its one thread too).
 */
static char *ranges_broken_at[8];

static bool ranges_known_broken(const char *base)
{
	for (size_t i = 0; i < ARRAY_LEN(ranges_broken_at) && ranges_broken_at[i]; i++)
		if (!strcmp(ranges_broken_at[i], base))
			return true;
	return false;
}

void api_client_forget_ranges(struct api_client *c, const char *job, const char *why)
{
	if (!c || c->ranges_broken)
		return;
	c->ranges_broken = true;
	log_event(LOG_WARNING, job, NULL,
	          "api: a resumed download from %s came back inconsistent (%s): downloads "
	          "from it start over whole from now on, without Range requests",
	          c->base, why);
	for (size_t i = 0; i < ARRAY_LEN(ranges_broken_at); i++)
		if (!ranges_broken_at[i]) {
			ranges_broken_at[i] = xstrdup(c->base);
			break;
		}
}

bool api_client_ranges_broken(const struct api_client *c)
{
	return c && c->ranges_broken;
}

/* Content: decides where this attempt's body goes, once its status is known. */
static int dl_choose_sink(struct api_req *r)
{
	long status = 0;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status == 206 && r->dl_from > 0) {
		long long start, end, total;
		if (parse_content_range(r->h.content_range, &start, &end, &total) < 0 ||
		    start != r->dl_from) {
			r->dl_range_bad = true;
			return -1;
		}
		r->dl_span_end = end + 1;
		if (r->h.content_length >= 0 && r->h.content_length != end - start + 1) {
			r->dl_range_corrupt = true; /* it announces two lengths */
			return -1;
		}
		r->sink = SINK_FILE; /* continue after the dl_have bytes already there */
		r->res.resumes++;
		return 0;
	}
	if (status >= 200 && status < 300) {
		/* the whole body: start the file over */
		if (ftruncate(r->fd, 0) < 0 || lseek(r->fd, 0, SEEK_SET) < 0) {
			r->dl_errno = errno;
			return -1;
		}
		r->dl_have = 0;
		r->sink = SINK_FILE;
		return 0;
	}
	r->sink = SINK_MEMORY; /* an error body */
	return 0;
}

static size_t write_cb(char *buf, size_t size, size_t nmemb, void *userp)
{
	struct api_req *r = userp;
	size_t n = size * nmemb;
	size_t limit;

	if (r->sink == SINK_UNDECIDED) {
		if (r->res.op == API_OP_CONTENT) {
			if (dl_choose_sink(r) < 0)
				return 0;
		} else {
			r->sink = SINK_MEMORY;
		}
	}
	if (r->sink == SINK_FILE) {
		if (r->dl_span_end >= 0 && r->dl_have + (long long)n > r->dl_span_end) {
			/* a 206 longer than its span (a gateway re-encoding it): not one byte
			 * more into the file */
			r->dl_range_corrupt = true;
			return 0;
		}
		if (r->dl_max > 0 && r->h.content_length < 0 &&
		    r->dl_have + (long long)n > r->dl_max) {
			/* an endless or oversized body of unannounced length: the file stays
			 * bounded */
			r->dl_too_big = true;
			return 0;
		}
		if (write_all(r->fd, buf, n) < 0) {
			r->dl_errno = errno ? errno : EIO;
			return 0;
		}
		r->dl_have += (long long)n;
		if (r->c->stats)
			r->c->stats->bytes_downloaded += n;
		return n;
	}
	/* memory: a JSON answer (limit enforced) or an error body (kept in part) */
	long status = 0;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	bool ok = status >= 200 && status < 300;
	limit = ok && is_json_op(r) ? VIDEO_JSON_MAX : ERROR_BODY_MAX;
	if (r->body_len + n > limit) {
		if (ok && is_json_op(r)) {
			r->too_big = true;
			return 0;
		}
		n = limit - r->body_len; /* keep the start of an error body, drop the rest */
		if (n == 0)
			return size * nmemb;
	}
	r->body = xgrow(r->body, &r->body_cap, r->body_len + n + 1, 4096);
	memcpy(r->body + r->body_len, buf, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
	return size * nmemb;
}

/* -------------------------------------------------------------- attempts */

/*
 * libcurl's global state and the multi handle, made for the first request rather than
 * with the client: curl_global_init() (also run by curl_multi_init()) initialises
 * OpenSSL, which touches about 2 MiB of libcrypto that an idle daemon never needs.
 * Thread-safe in libcurl >= 7.84; the notification thread does not use libcurl.
 */
static int client_ready(struct api_client *c)
{
	if (c->multi)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("api: curl_global_init failed");
		return -1;
	}
	c->multi = curl_multi_init();
	if (!c->multi) {
		log_error("api: curl_multi_init failed");
		curl_global_cleanup();
		return -1;
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	return 0;
}

static CURL *make_easy(struct api_req *r)
{
	struct api_client *c = r->c;
	if (client_ready(c) < 0)
		return NULL;
	CURL *e = curl_easy_init();

	if (!e)
		return NULL;
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_USERAGENT, API_USER_AGENT);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	if (r->res.op == API_OP_CONTENT) {
		/* a large file on a slow link may take long, but not forever: a body that
		 * trickles is cut by the low-speed limit, and every attempt by the whole
		 * download_timeout_s (then retried like any transient failure) */
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, API_DL_LOW_SPEED_BYTES);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, API_DL_LOW_SPEED_SECS);
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->download_timeout_ms);
	} else {
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->request_timeout_ms);
		curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	}
	if (strcmp(r->method, "DELETE") == 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
	if (r->res.op == API_OP_CREATE || r->res.op == API_OP_REMIX) {
		/* libcurl silently sends a request again when a reused connection turns out
		 * to have been closed by the server; for a create that would be a second,
		 * paid video. A fresh connection is never retried that way. */
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	}
	return e;
}

static int attach_body(struct api_req *r)
{
	const struct proto_request *b = &r->body_req;

	if (b->json) {
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, b->json);
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(b->json));
		return 0;
	}
	if (!b->n_parts)
		return 0;
	r->mime = curl_mime_init(r->easy);
	if (!r->mime)
		return -1;
	for (size_t i = 0; i < b->n_parts; i++) {
		const struct proto_part *p = &b->parts[i];
		curl_mimepart *part = curl_mime_addpart(r->mime);
		if (!part || curl_mime_name(part, p->name) != CURLE_OK)
			return -1;
		if (p->file) {
			/* streamed from the file by curl while sending, never read into memory */
			if (curl_mime_filedata(part, p->file) != CURLE_OK ||
			    curl_mime_type(part, p->mime) != CURLE_OK)
				return -1;
		} else if (curl_mime_data(part, p->value ? p->value : "", CURL_ZERO_TERMINATED) !=
		           CURLE_OK) {
			return -1;
		}
	}
	return curl_easy_setopt(r->easy, CURLOPT_MIMEPOST, r->mime) == CURLE_OK ? 0 : -1;
}

static void req_early_fail(struct api_req *r, enum api_kind kind, const char *msg);

/* Starts the next attempt of R (a WAITING request whose time has come). A setup
 * failure turns into an early failure that the timer reports. */
static void req_start(struct api_req *r)
{
	struct api_client *c = r->c;
	CURLMcode mc;

	if (r->early_kind != API_OK) {
		if (r->res.attempts == 0) {
			r->res.attempts = 1;
			r->res.attempt[0].start_ms = r->res.attempt[0].end_ms = clock_mono_ms().ms;
			r->res.attempt[0].server_after_ms = r->res.attempt[0].wait_ms = -1;
		}
		fail_now(r, r->early_kind, "%s", r->early_msg);
		return;
	}
	attempt_reset(r);
	r->easy = make_easy(r);
	if (!r->easy || attach_body(r) < 0) {
		/* reported from the timer like any early failure, never from the caller's
		 * own api_* call */
		log_event(LOG_ERROR, r->job, r->video_id, "%s %s: cannot set up the transfer",
		          r->method, r->log_path);
		req_detach_easy(r);
		req_early_fail(r, API_FATAL, "libcurl could not set up the request");
		return;
	}
	if (r->res.op == API_OP_CONTENT) {
		r->dl_from = 0;
		if (r->dl_ranges && !c->ranges_broken && r->dl_have > 0) {
			char range[48];
			bfmt(range, sizeof(range), "%lld-", r->dl_have);
			curl_easy_setopt(r->easy, CURLOPT_RANGE, range);
			r->dl_from = r->dl_have;
			if (lseek(r->fd, r->dl_have, SEEK_SET) < 0) {
				r->dl_from = 0;
				curl_easy_setopt(r->easy, CURLOPT_RANGE, NULL);
			}
		}
	}
	r->t_start = clock_mono_ms().ms;
	if (r->res.attempts < API_ATTEMPT_TIMES) {
		struct api_attempt *a = &r->res.attempt[r->res.attempts];
		a->start_ms = r->t_start;
		a->server_after_ms = a->wait_ms = -1;
	}
	r->res.attempts++;
	r->state = REQ_RUNNING;
	mc = curl_multi_add_handle(c->multi, r->easy);
	if (mc != CURLM_OK) {
		log_event(LOG_ERROR, r->job, r->video_id, "%s %s: curl_multi_add_handle: %s",
		          r->method, r->log_path, curl_multi_strerror(mc));
		req_detach_easy(r);
		r->state = REQ_WAITING;
		req_early_fail(r, API_FATAL, "libcurl could not start the request");
	}
}

/* Starts every waiting request whose time has come. Callbacks may run (early
 * failures), which may add or cancel requests: rescan from the head each time. */
static void start_due(struct api_client *c)
{
	bool again = true;

	while (again) {
		long long now = clock_mono_ms().ms;
		again = false;
		for (struct api_req *r = c->reqs; r; r = r->next) {
			if (r->state == REQ_WAITING && req_due(c, r) <= now) {
				req_start(r);
				again = true;
				break;
			}
		}
	}
}

static void poll_path_note(struct api_client *c, const char *id, const char *url);

/* Parses a 2xx JSON answer into the result. Returns the kind. */
static enum api_kind parse_success(struct api_req *r, char *why, size_t whylen)
{
	struct api_result *res = &r->res;
	bool syntax = false;
	char *poll_url = NULL;
	int rc = 0;

	switch (res->op) {
	case API_OP_CREATE:
	case API_OP_RETRIEVE:
	case API_OP_REMIX:
		rc = r->c->proto->parse_video(&res->video, &poll_url, r->body, r->body_len, &syntax,
		                              why, whylen);
		if (rc == 0 && poll_url) {
			const char *id = res->video.id ? res->video.id : r->video_id;
			if (id)
				poll_path_note(r->c, id, poll_url);
		}
		free(poll_url);
		if (rc == 0 && !res->video.id && res->op != API_OP_RETRIEVE) {
			/* a retrieve names its video already; a create answer without an id
			 * cannot be followed */
			bcopy_str(why, whylen, "the answer has no video id");
			video_release(&res->video);
			rc = -1;
		}
		res->has_video = rc == 0;
		break;
	case API_OP_LIST:
		rc = video_list_parse(&res->list, r->body, r->body_len, &syntax, why, whylen);
		res->has_list = rc == 0;
		break;
	case API_OP_DELETE:
		rc = video_deleted_parse(&res->deleted, r->body, r->body_len, &syntax, why, whylen);
		break;
	case API_OP_CONTENT:
		return API_OK;
	}
	if (rc == 0)
		return API_OK;
	/* a cut or garbled body is a transport accident; a well-formed wrong answer is not */
	return syntax ? API_TRANSIENT : API_FATAL;
}

/* Content: checks the bytes in the file against what the server announced. */
static enum api_kind check_download(struct api_req *r, long status, char *why, size_t whylen)
{
	long long expect = -1, start, end, total;

	if (r->sink == SINK_UNDECIDED && dl_choose_sink(r) < 0) /* an empty body */
		return r->dl_errno ? API_LOCAL : API_TRANSIENT;
	if (status == 206) {
		if (parse_content_range(r->h.content_range, &start, &end, &total) == 0)
			expect =
			    total >= 0
			        ? total
			        : (r->h.content_length >= 0 ? start + r->h.content_length : -1);
	} else {
		expect = r->h.content_length;
	}
	r->res.content_length = expect;
	r->res.bytes = r->dl_have;
	if (expect >= 0 && r->dl_have != expect) {
		bfmt(why, whylen, "download incomplete: %lld of %lld bytes", r->dl_have, expect);
		return API_TRANSIENT;
	}
	return API_OK;
}

static void note_headers(struct api_req *r)
{
	long long v = parse_ll(r->h.poll_after);

	r->res.poll_after_ms = v >= 0 && v <= 24LL * 3600 * 1000 ? (long)v : -1;
	bcopy_str(r->res.request_id, sizeof(r->res.request_id), r->h.request_id);
	if (strcasecmp(r->h.accept_ranges, "bytes") == 0)
		r->dl_ranges = true;
	time_t server = r->h.date[0] ? curl_getdate(r->h.date, NULL) : -1;
	r->res.has_skew = server > 0;
	r->res.server_skew_s = server > 0 ? (long long)server - (long long)time(NULL) : 0;
	if (server > 0) {
		r->c->has_skew = true;
		r->c->server_skew_s = r->res.server_skew_s;
	}
}

/* One attempt of OP answered with STATUS (0: no answer), counted into S if any. */
static void stats_count_call(struct api_stats *s, enum api_op op, long status)
{
	if (!s)
		return;
	size_t i;
	for (i = 0; i < s->n_calls; i++)
		if (s->calls[i].op == op && s->calls[i].status == status)
			break;
	if (i == s->n_calls) {
		if (s->n_calls < API_STATS_MAX) {
			s->n_calls++;
		} else {
			i = API_STATS_MAX - 1; /* the overflow slot */
			status = -1;
		}
		s->calls[i].op = op;
		s->calls[i].status = status;
	}
	s->calls[i].n++;
}

/* What the attempt that just ended with RC means, and what to do next. */
static void req_attempt_done(struct api_req *r, CURLcode rc)
{
	struct api_client *c = r->c;
	struct api_result *res = &r->res;
	long status = 0;
	long sent = 0;
	char why[512] = "";
	enum api_kind kind;
	bool answered, unsafe_to_repeat = false, error_body = false;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(r->easy, CURLINFO_REQUEST_SIZE, &sent);
	curl_off_t t_conn = 0, t_first = 0, t_total = 0;
	curl_easy_getinfo(r->easy, CURLINFO_CONNECT_TIME_T, &t_conn);
	curl_easy_getinfo(r->easy, CURLINFO_STARTTRANSFER_TIME_T, &t_first);
	curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME_T, &t_total);
	log_event(LOG_DEBUG, r->job, NULL,
	          "api: %s %s: connected %.1f ms, first byte %.1f ms, done %.1f ms", r->method,
	          api_op_name(r->res.op), (double)t_conn / 1e3, (double)t_first / 1e3,
	          (double)t_total / 1e3);
	req_detach_easy(r);
	r->state = REQ_WAITING;

	res->http_status = status;
	res->curl_code = (int)rc;
	struct api_attempt *cur = res->attempts && res->attempts <= API_ATTEMPT_TIMES
	                              ? &res->attempt[res->attempts - 1]
	                              : NULL;
	if (cur) {
		cur->end_ms = clock_mono_ms().ms;
		cur->http_status = status;
		cur->curl_code = (int)rc;
	}
	answered = status >= 300; /* the server's verdict is known even if the body broke */
	stats_count_call(c->stats, res->op, status);
	note_headers(r);
	video_release(&res->video);
	res->has_video = false;
	video_list_release(&res->list);
	res->has_list = false;
	api_error_release(&res->error);

	if (r->dl_errno) {
		kind = API_LOCAL;
		bfmt(why, sizeof(why), "writing the download failed: %s", strerror(r->dl_errno));
	} else if (r->dl_too_big) {
		kind = API_FATAL;
		bfmt(why, sizeof(why),
		     "the download passed %lld bytes without an announced length and was cut off "
		     "(download_max_mb)",
		     r->dl_max);
	} else if (r->too_big) {
		kind = API_FATAL;
		bfmt(why, sizeof(why), "response body larger than the %d byte limit",
		     VIDEO_JSON_MAX);
	} else if (r->dl_range_bad) {
		kind = API_TRANSIENT;
		r->dl_ranges = false; /* the next attempt starts over without Range */
		bfmt(why, sizeof(why), "resumed download did not continue at byte %lld",
		     r->dl_from);
	} else if (r->dl_range_corrupt || (rc == CURLE_OK && status == 206 && r->dl_span_end >= 0 &&
	                                   r->dl_have != r->dl_span_end)) {
		/* A 206 whose body is not the span it announced: the bytes already here
		 * cannot be trusted to join it. Start over whole, and ask this service for
		 * no more ranges. */
		kind = API_TRANSIENT;
		r->dl_ranges = false;
		bfmt(why, sizeof(why),
		     "the answer to Range: bytes=%lld- was a 206 whose body (%s%lld bytes) is not "
		     "its span (Content-Range %s, Content-Length %lld); restarting it whole",
		     r->dl_from, r->dl_range_corrupt ? "at least " : "", r->dl_have - r->dl_from,
		     r->h.content_range, r->h.content_length);
		r->dl_have = 0;
		api_client_forget_ranges(c, r->job, why);
	} else if (answered) {
		error_body = r->body && api_error_parse(&res->error, r->body, r->body_len) == 0;
		if (!error_body && r->body_len) {
			char *snip = video_text_sanitize(r->body, r->body_len, 200);
			bfmt(why, sizeof(why), "HTTP %ld: %s", status, snip);
			free(snip);
		} else if (!r->body_len) {
			bfmt(why, sizeof(why), "HTTP %ld with no error body", status);
		}
		kind = retry_classify_http(status, res->error.code);
		if (c->proto->error_kind) {
			enum api_kind k =
			    c->proto->error_kind(status, &res->error, r->body, r->body_len);
			if (k != API_OK)
				kind = k;
		}
		if (status == 416 && r->dl_from > 0) {
			/* the server will not serve the rest: start over without Range */
			kind = API_TRANSIENT;
			r->dl_ranges = false;
		}
	} else if (rc != CURLE_OK) {
		kind = retry_classify_curl((int)rc);
		bfmt(why, sizeof(why), "%s", r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
	} else if (res->op == API_OP_CONTENT) {
		kind = check_download(r, status, why, sizeof(why));
	} else if (status >= 200 && status < 300) {
		kind = parse_success(r, why, sizeof(why));
	} else {
		kind = API_FATAL; /* 1xx as final, or no status at all */
		bfmt(why, sizeof(why), "unexpected HTTP status %ld", status);
	}

	if (why[0] && !res->error.message)
		res->error.message = xstrdup(why);
	res->kind = kind;
	if (kind == API_OK) {
		if (res->op == API_OP_CREATE || res->op == API_OP_REMIX)
			res->spend =
			    spend_create_outcome(sent > 0, status, error_body, res->has_video);
		req_complete(r);
		return;
	}

	int should = answered ? retry_parse_should_retry(r->h.should_retry) : -1;
	long after =
	    answered ? retry_after_ms(r->h.retry_after_ms, r->h.retry_after, time(NULL)) : -1;
	/* What the server asked for decides whether this request is tried again (over
	 * 120 s: not now); how long anything waits for it is bounded (retry_after_max_s). */
	long bounded = retry_after_bound_ms(after, c->retry_after_max_ms);
	res->retry_after_ms = bounded;
	if (cur)
		cur->server_after_ms = after;

	/* Create and remix are never repeated once the service may have acted on them:
	 * only an explicit refusal makes it safe (spend.h, the one rule). */
	if (res->op == API_OP_CREATE || res->op == API_OP_REMIX) {
		res->spend = spend_create_outcome(sent > 0, status, error_body, false);
		unsafe_to_repeat = res->spend == SPEND_IN_DOUBT;
		res->outcome_unknown = unsafe_to_repeat;
	}

	/* "Not supported" will not change by asking again (caps.h). */
	bool again = !unsafe_to_repeat && !caps_refusal(res) &&
	             retry_should(kind, should, after, r->retries, c->max_retries);
	double j = c->jitter(c->jitter_ud);
	long delay = retry_delay_ms(after, r->retries, c->retry_base_ms, c->retry_max_ms, j);
	long long now = clock_mono_ms().ms;

	if (kind == API_RATE_LIMITED) {
		long pause = bounded > 0 ? bounded : delay;
		if (pause > RETRY_AFTER_MAX_MS)
			pause = RETRY_AFTER_MAX_MS;
		if (now + pause > c->pause_until) {
			c->pause_until = now + pause;
			log_event(LOG_WARNING, r->job, r->video_id,
			          "rate limited by the server: no request starts for %ld ms",
			          pause);
		}
	}
	if (!again) {
		req_complete(r);
		return;
	}
	r->retries++;
	if (c->stats)
		c->stats->retries++;
	r->ready_at = now + delay;
	if (cur)
		cur->wait_ms = delay;
	log_event(LOG_WARNING, r->job, r->video_id,
	          "%s %s: %s (HTTP %ld): %s; retry %u of %u in %ld ms", r->method, r->log_path,
	          api_kind_name(kind), status, res->error.message ? res->error.message : "",
	          r->retries, c->max_retries, delay);
}

static void process_done(struct api_client *c)
{
	CURLMsg *m;
	int left;

	if (!c->multi)
		return; /* no request yet */
	while ((m = curl_multi_info_read(c->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		CURL *e = m->easy_handle;
		CURLcode rc = m->data.result;
		void *priv = NULL;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
		if (priv)
			req_attempt_done(priv, rc);
	}
}

/* ---------------------------------------------------------------- public API */

struct api_client *api_client_new(const struct conf *conf, const struct api_loop_hooks *hooks)
{
	struct api_client *c;
	const char *base = conf->api_base ? conf->api_base : "https://api.openai.com/v1";
	size_t n = strlen(base);

	c = xcalloc(1, sizeof(*c));
	c->proto = proto_find(conf->api_protocol);
	if (!c->proto) {
		log_warn("api: unknown api_protocol '%s': speaking openai", conf->api_protocol);
		c->proto = &proto_openai;
	}
	if (hooks) {
		c->hooks = *hooks;
		c->has_hooks = true;
	}
	while (n && base[n - 1] == '/')
		n--;
	c->base = xstrndup(base, n);
	if (conf->api_key && conf->api_key[0]) {
		c->key = xstrdup(conf->api_key);
		log_add_secret(c->key);
		c->auth_line = conf->auth_style == AUTH_API_KEY
		                   ? xasprintf("api-key: %s", c->key)
		                   : xasprintf("Authorization: Bearer %s", c->key);
	}
	c->extra = xcalloc(conf->n_extra_headers + 1, sizeof(char *));
	for (size_t i = 0; i < conf->n_extra_headers; i++) {
		const char *h = conf->extra_headers[i];
		if (!h || strpbrk(h, "\r\n") || !strchr(h, ':')) {
			log_warn("api: extra header %zu ignored: not a single \"Name: value\" line",
			         i + 1);
			continue;
		}
		c->extra[c->n_extra++] = xstrdup(h);
	}
	c->connect_timeout_ms = conf->connect_timeout_ms > 0 ? conf->connect_timeout_ms : 10000;
	c->request_timeout_ms = conf->request_timeout_ms > 0 ? conf->request_timeout_ms : 60000;
	c->retry_base_ms = conf->retry_base_ms > 0 ? conf->retry_base_ms : 500;
	c->retry_max_ms = conf->retry_max_ms > 0 ? conf->retry_max_ms : 8000;
	c->max_retries = conf->max_retries;
	c->retry_after_max_ms =
	    (long)(conf->retry_after_max_s > 0 ? conf->retry_after_max_s : 600) * 1000L;
	c->download_timeout_ms =
	    (long)(conf->download_timeout_s > 0 ? conf->download_timeout_s : 1800) * 1000L;
	c->jitter = builtin_jitter;
	c->jitter_ud = c;
	c->rng = (uint64_t)clock_mono_ms().ms * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid() ^
	         (uint64_t)(uintptr_t)c;
	if (!c->rng)
		c->rng = 1;
	c->curl_deadline = c->deadline = -1;
	c->reported = -2;
	c->ranges_broken = ranges_known_broken(c->base);
	return c;
}

void api_client_free(struct api_client *c)
{
	if (!c)
		return;
	while (c->reqs)
		req_free(c->reqs); /* NOLINT(clang-analyzer-unix.Malloc): unlinks it (r->c == c) */
	if (c->multi) {
		curl_multi_cleanup(c->multi);
		curl_global_cleanup();
	}
	if (c->has_hooks && c->hooks.timer && c->reported != -1)
		c->hooks.timer(-1, c->hooks.ud);
	if (c->key) {
		explicit_bzero(c->key, strlen(c->key));
		free(c->key);
	}
	if (c->auth_line) {
		explicit_bzero(c->auth_line, strlen(c->auth_line));
		free(c->auth_line);
	}
	for (size_t i = 0; i < c->n_extra; i++)
		free(c->extra[i]);
	free(c->extra);
	for (size_t i = 0; i < POLL_PATHS_MAX; i++) {
		free(c->poll[i].id);
		free(c->poll[i].path);
	}
	free(c->base);
	free(c->fds);
	free(c);
}

int api_client_socket_action(struct api_client *c, int fd, int events)
{
	int running;
	if (!c->multi)
		return 0; /* no request was ever made: no socket of ours */
	CURLMcode mc = curl_multi_socket_action(c->multi, fd, events, &running);

	if (mc != CURLM_OK)
		log_error("api: curl_multi_socket_action(fd %d): %s", fd, curl_multi_strerror(mc));
	process_done(c);
	update_timer(c);
	return mc == CURLM_OK ? 0 : -1;
}

int api_client_timeout(struct api_client *c)
{
	CURLMcode mc = CURLM_OK;
	int running;

	c->reported = -2; /* the loop's one-shot timer has fired */
	if (c->curl_deadline >= 0 && c->curl_deadline <= clock_mono_ms().ms + 1) {
		c->curl_deadline = -1;
		mc = curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
		if (mc != CURLM_OK)
			log_error("api: curl_multi_socket_action(timeout): %s",
			          curl_multi_strerror(mc));
		process_done(c);
	}
	start_due(c);
	process_done(c);
	update_timer(c);
	return mc == CURLM_OK ? 0 : -1;
}

int api_client_run(struct api_client *c, long timeout_ms)
{
	long long end = timeout_ms < 0 ? -1 : clock_mono_ms().ms + timeout_ms;
	struct pollfd *pfd = NULL;
	size_t cap = 0;
	int rc = 0;

	update_timer(c);
	while (c->n_reqs > 0) {
		long long now = clock_mono_ms().ms;
		long long wait = c->deadline < 0 ? 1000 : c->deadline - now;

		if (end >= 0 && now >= end) {
			rc = -1;
			break;
		}
		if (wait < 0)
			wait = 0;
		if (end >= 0 && end - now < wait)
			wait = end - now;
		if (cap < c->n_fds) {
			cap = c->n_fds;
			pfd = xrealloc(pfd, cap * sizeof(*pfd));
		}
		size_t n = c->n_fds;
		for (size_t i = 0; i < n; i++) {
			pfd[i].fd = c->fds[i].fd;
			pfd[i].events = (short)(((c->fds[i].what & CURL_POLL_IN) ? POLLIN : 0) |
			                        ((c->fds[i].what & CURL_POLL_OUT) ? POLLOUT : 0));
			pfd[i].revents = 0;
		}
		if (poll(pfd, n, (int)(wait > INT_MAX ? INT_MAX : wait)) < 0 && errno != EINTR) {
			log_error("api: poll: %s", strerror(errno));
			rc = -1;
			break;
		}
		for (size_t i = 0; i < n; i++) {
			int ev = 0;
			if (!pfd[i].revents)
				continue;
			if (pfd[i].revents & (POLLIN | POLLHUP))
				ev |= CURL_CSELECT_IN;
			if (pfd[i].revents & POLLOUT)
				ev |= CURL_CSELECT_OUT;
			if (pfd[i].revents & (POLLERR | POLLNVAL))
				ev |= CURL_CSELECT_ERR;
			api_client_socket_action(c, pfd[i].fd, ev);
		}
		if (c->deadline >= 0 && c->deadline <= clock_mono_ms().ms)
			api_client_timeout(c);
	}
	free(pfd);
	return rc;
}

unsigned api_client_pending(const struct api_client *c)
{
	return c->n_reqs;
}

long api_client_paused_ms(const struct api_client *c)
{
	long long left = c->pause_until - clock_mono_ms().ms;
	return left > 0 ? (long)left : 0;
}

void api_client_set_jitter(struct api_client *c, double (*fn)(void *ud), void *ud)
{
	c->jitter = fn ? fn : builtin_jitter;
	c->jitter_ud = fn ? ud : c;
}

/* Allocates a request with its URL (base + PATH) and headers; not yet started. */
static struct api_req *req_new(struct api_client *c, enum api_op op, const char *method,
                               const char *path, const char *job, const char *video_id,
                               api_done_fn *cb, void *ud)
{
	struct api_req *r = xcalloc(1, sizeof(*r));

	r->c = c;
	r->cb = cb;
	r->ud = ud;
	r->method = method;
	r->fd = -1;
	r->job = job ? xstrdup(job) : NULL;
	r->video_id = video_id ? xstrdup(video_id) : NULL;
	r->url = xasprintf("%s%s", c->base, path);
	r->log_path = xstrdup(path);
	r->res.op = op;
	r->res.spend = SPEND_IN_DOUBT; /* until an attempt says otherwise (spend.h) */
	r->res.poll_after_ms = -1;
	r->res.retry_after_ms = -1;
	r->res.content_length = -1;
	video_init(&r->res.video);
	video_list_init(&r->res.list);
	api_error_init(&r->res.error);
	r->early_kind = API_OK;
	r->state = REQ_WAITING;
	r->ready_at = clock_mono_ms().ms;

	if (c->auth_line)
		r->headers = slist_add(r->headers, c->auth_line);
	r->headers = slist_add(r->headers, op == API_OP_CONTENT ? "Accept: application/binary"
	                                                        : "Accept: application/json");
	if (op == API_OP_REMIX)
		r->headers = slist_add(r->headers, "Content-Type: application/json");
	for (size_t i = 0; i < c->n_extra; i++)
		r->headers = slist_add(r->headers, c->extra[i]);

	r->next = c->reqs;
	if (c->reqs)
		c->reqs->prev = r;
	c->reqs = r;
	c->n_reqs++;
	return r;
}

static void req_early_fail(struct api_req *r, enum api_kind kind, const char *msg)
{
	if (r->early_kind != API_OK)
		return; /* the first reason wins */
	r->early_kind = kind;
	r->early_msg = xstrdup(msg);
}

/* Starts R now if nothing holds it back, else leaves it to the timer. */
static struct api_req *req_submit(struct api_req *r)
{
	struct api_client *c = r->c;

	if (r->early_kind == API_OK && c->pause_until <= clock_mono_ms().ms)
		req_start(r); /* never completes here: failures become early failures */
	update_timer(c);
	return r;
}

/*
 * polling_url: where the service says to poll a job. Honoured when it lies under
 * api_base (then the key goes nowhere else) and differs from the protocol's own path;
 * remembered for the latest POLL_PATHS_MAX such jobs, for this client's lifetime (after
 * a restart the protocol's path serves, as the service documents it).
 */
static void poll_path_note(struct api_client *c, const char *id, const char *url)
{
	const char *path = proto_path_under(c->base, url);
	char *esc, *own;
	size_t i;

	if (!path)
		return;
	esc = video_id_escape(id);
	own = c->proto->video_path(API_OP_RETRIEVE, esc, API_VARIANT_VIDEO);
	free(esc);
	bool same = own && !strcmp(own, path);
	free(own);
	for (i = 0; i < POLL_PATHS_MAX; i++)
		if (c->poll[i].id && !strcmp(c->poll[i].id, id))
			break;
	if (same) {
		if (i < POLL_PATHS_MAX) { /* back to the usual path */
			free(c->poll[i].id);
			free(c->poll[i].path);
			c->poll[i].id = c->poll[i].path = NULL;
		}
		return;
	}
	if (i == POLL_PATHS_MAX) {
		i = c->poll_next;
		c->poll_next = (c->poll_next + 1) % POLL_PATHS_MAX;
		free(c->poll[i].id);
		c->poll[i].id = xstrdup(id);
	}
	free(c->poll[i].path);
	c->poll[i].path = xstrdup(path);
}

static const char *poll_path_of(const struct api_client *c, const char *id)
{
	for (size_t i = 0; id && i < POLL_PATHS_MAX; i++)
		if (c->poll[i].id && !strcmp(c->poll[i].id, id))
			return c->poll[i].path;
	return NULL;
}

/* The protocol's path of OP for one video; validates the id (*ok) and says whether
 * the protocol has the request at all (*has). */
static char *video_path(const struct api_client *c, enum api_op op, const char *id,
                        enum api_variant variant, bool *ok, bool *has)
{
	char *esc, *p;

	*ok = video_id_is_safe(id);
	esc = video_id_escape(id && *ok ? id : "invalid");
	p = c->proto->video_path(op, esc, variant);
	free(esc);
	*has = p != NULL;
	if (!p)
		p = xstrdup("/videos");
	return p;
}

static void early_fail_unsupported(struct api_req *r)
{
	char msg[160];
	bfmt(msg, sizeof(msg), "api_protocol %s has no %s request", r->c->proto->name,
	     api_op_name(r->res.op));
	req_early_fail(r, API_FATAL, msg);
}

static struct api_req *req_for_video(struct api_client *c, enum api_op op, const char *method,
                                     const char *video_id, enum api_variant variant,
                                     const char *job, api_done_fn *cb, void *ud)
{
	bool ok, has;
	char *path = video_path(c, op, video_id, variant, &ok, &has);
	const char *polled = op == API_OP_RETRIEVE && ok ? poll_path_of(c, video_id) : NULL;
	struct api_req *r =
	    req_new(c, op, method, polled ? polled : path, job, ok ? video_id : NULL, cb, ud);

	free(path);
	if (!ok)
		req_early_fail(
		    r, API_VALIDATION,
		    "the video id is missing or not a usable id (printable ASCII without "
		    "quotes, backslashes or spaces, at most 512 bytes)");
	else if (!has)
		early_fail_unsupported(r);
	return r;
}

struct api_req *api_create(struct api_client *c, const struct api_create_params *p, const char *job,
                           api_done_fn *cb, void *ud)
{
	struct api_req *r;
	enum api_kind kind = API_FATAL;
	char why[512] = "";

	if (!c || !cb || !p)
		return NULL;
	r = req_new(c, API_OP_CREATE, "POST", "/videos", job, NULL, cb, ud);
	if (!p->prompt || !p->prompt[0])
		req_early_fail(r, API_VALIDATION, "the prompt is empty");
	if (c->proto->create(p, &r->body_req, &kind, why, sizeof(why)) < 0) {
		req_early_fail(r, kind, why[0] ? why : "the create request could not be built");
	} else if (r->body_req.json) {
		r->headers = slist_add(r->headers, "Content-Type: application/json");
	}
	return req_submit(r);
}

struct api_req *api_retrieve(struct api_client *c, const char *video_id, const char *job,
                             api_done_fn *cb, void *ud)
{
	if (!c || !cb)
		return NULL;
	return req_submit(
	    req_for_video(c, API_OP_RETRIEVE, "GET", video_id, API_VARIANT_VIDEO, job, cb, ud));
}

struct api_req *api_list(struct api_client *c, const struct api_list_params *p, api_done_fn *cb,
                         void *ud)
{
	char q[VIDEO_ID_MAX * 3 + 128] = "";
	size_t o = 0;
	struct api_req *r;
	bool bad = false;

	if (!c || !cb)
		return NULL;
	if (p && p->limit) {
		bfmt(q + o, sizeof(q) - o, "%climit=%u", o ? '&' : '?',
		     p->limit > 100 ? 100 : p->limit);
		o = strlen(q);
	}
	if (p && p->after) {
		if (video_id_is_safe(p->after)) {
			char *esc = video_id_escape(p->after);
			bfmt(q + o, sizeof(q) - o, "%cafter=%s", o ? '&' : '?', esc);
			free(esc);
			o = strlen(q);
		} else {
			bad = true;
		}
	}
	if (p && p->order) {
		if (strcmp(p->order, "asc") == 0 || strcmp(p->order, "desc") == 0) {
			bfmt(q + o, sizeof(q) - o, "%corder=%s", o ? '&' : '?', p->order);
		} else {
			bad = true;
		}
	}
	char *path = xasprintf("/videos%s", q);
	r = req_new(c, API_OP_LIST, "GET", path, NULL, NULL, cb, ud);
	free(path);
	if (bad)
		req_early_fail(r, API_VALIDATION,
		               "list: the cursor is not a safe id or the order is not asc/desc");
	if (c->proto->caps[CAPS_LIST] == CAPS_NO)
		early_fail_unsupported(r);
	return req_submit(r);
}

struct api_req *api_delete(struct api_client *c, const char *video_id, const char *job,
                           api_done_fn *cb, void *ud)
{
	if (!c || !cb)
		return NULL;
	return req_submit(
	    req_for_video(c, API_OP_DELETE, "DELETE", video_id, API_VARIANT_VIDEO, job, cb, ud));
}

struct api_req *api_remix(struct api_client *c, const char *video_id, const char *prompt,
                          const char *job, api_done_fn *cb, void *ud)
{
	struct api_req *r;
	cJSON *o;

	if (!c || !cb)
		return NULL;
	r = req_for_video(c, API_OP_REMIX, "POST", video_id, API_VARIANT_VIDEO, job, cb, ud);
	if (!prompt || !prompt[0])
		req_early_fail(r, API_VALIDATION, "the prompt is empty");
	o = cJSON_CreateObject();
	char *json = NULL;
	if (!o || !cJSON_AddStringToObject(o, "prompt", prompt ? prompt : "") ||
	    !(json = cJSON_PrintUnformatted(o)))
		req_early_fail(r, API_FATAL, "out of memory building the remix body");
	cJSON_Delete(o);
	if (json) {
		/* cJSON's allocation: copy into ours so that free() is always right */
		r->body_req.json = xstrdup(json);
		cJSON_free(json);
	}
	return req_submit(r);
}

bool api_client_server_skew(const struct api_client *c, long long *skew_s)
{
	if (!c || !c->has_skew)
		return false;
	*skew_s = c->server_skew_s;
	return true;
}

struct api_req *api_download(struct api_client *c, const char *video_id, enum api_variant variant,
                             int fd, long long max_bytes, const char *job, api_done_fn *cb,
                             void *ud)
{
	struct api_req *r;
	struct stat st;

	if (!c || !cb)
		return NULL;
	r = req_for_video(c, API_OP_CONTENT, "GET", video_id, variant, job, cb, ud);
	r->fd = fd;
	r->dl_max = max_bytes > 0 ? max_bytes : 0;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		req_early_fail(r, API_LOCAL, "the download target is not a regular file");
	else if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		req_early_fail(r, API_LOCAL, "the download target cannot be truncated");
	return req_submit(r);
}

void api_req_cancel(struct api_req *r)
{
	struct api_client *c;

	if (!r || r->state == REQ_CALLBACK)
		return;
	c = r->c;
	log_event(LOG_DEBUG, r->job, r->video_id, "%s %s: cancelled", r->method, r->log_path);
	req_free(r);
	update_timer(c);
}

struct api_result *api_req_result(struct api_req *r)
{
	return &r->res;
}

const char *api_req_job(const struct api_req *r)
{
	return r->job;
}

const char *api_req_video_id(const struct api_req *r)
{
	return r->video_id;
}

void api_client_set_stats(struct api_client *c, struct api_stats *s)
{
	if (c)
		c->stats = s;
}

void api_client_set_caps(struct api_client *c, struct caps *caps)
{
	if (!c)
		return;
	c->caps = caps;
	/* what the protocol has no request for is settled before anything is learned */
	caps_set_protocol(caps, c->proto->name, c->proto->caps);
}

struct caps *api_client_caps(const struct api_client *c)
{
	return c ? c->caps : NULL;
}
