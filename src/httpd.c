/*
 * httpd.c — the read-only status endpoint (see httpd.h).
 *
 * Why libmicrohttpd runs inside our loop rather than in a thread of its own: the
 * endpoint only reads what the job state machine holds in memory, and that memory
 * changes on the loop's thread. With MHD_USE_EPOLL and no internal thread, MHD's own
 * epoll descriptor is one more fd in our epoll set: when it is readable we call
 * MHD_run, and MHD_get_timeout arms one loop timer (mhd_loop.c; disarmed when MHD has nothing
 * pending, so an idle daemon still never wakes up). Every request is then handled on
 * the loop's thread and reads the live jobs directly: no locks, no snapshots, no
 * torn reads. Long waits (/poll, the event stream) suspend their connection
 * (MHD_ALLOW_SUSPEND_RESUME) and are resumed by the jobs observer, so a waiter
 * costs a few hundred bytes, not a thread. The price is that a slow handler would
 * stall the daemon; none is slow: handlers only format memory or open one file,
 * which MHD then sends with sendfile.
 *
 * The router (httpd_route.c, httpd_route.h) never touches a connection: httpd_refuse
 * and httpd_route read the request through a lookup function and fill a struct
 * httpd_response, which respond() here turns into an MHD response, a suspended /poll
 * or an event stream. So fuzz/fuzz_httpd.c drives exactly the code that answers on
 * the socket. The raw request target is inspected before MHD decodes it (uri_logger).
 */
#include "httpd.h"
#include "decimal.h"
#include "httpd_route.h"
#include "log.h"
#include "mhd_loop.h"
#include "prompt.h"
#include "status_json.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
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

/* ---- the loop --------------------------------------------------------------------- */

/* A suspended connection was resumed outside MHD_run: let MHD see it soon. */
static void resume(struct hreq *q)
{
	if (!q->suspended)
		return;
	q->suspended = false;
	MHD_resume_connection(q->conn);
	mhd_loop_kick(q->h->ml);
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

/* The raw request target, before MHD decodes it: no encoded NUL or control bytes. */
static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct hreq *q = xcalloc(1, sizeof(*q));
	q->h = cls;
	q->conn = conn;
	q->raw_bad = httpd_raw_target_bad(uri);
	return q;
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
	httpd_cache_drop(h, j);
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
		httpd_route_waited(h, &rq, &rs, q->name);
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
	unsigned long long p;
	if (decimal_uint(port, 65535, &p) != 0)
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
	h->mhd = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_loop_log, "status",
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)h->max_conns, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)HTTPD_CONNECTION_TIMEOUT, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)HTTPD_MEMORY_LIMIT, MHD_OPTION_LISTEN_BACKLOG_SIZE, 128u,
	    MHD_OPTION_URI_LOG_CALLBACK, uri_logger, h, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
	    h, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h, MHD_OPTION_END);
	if (!h->mhd) {
		log_error("status: cannot listen on %s: %s", c->listen,
		          errno ? strerror(errno) : "libmicrohttpd failed to start");
		free(h->listen);
		free(h);
		return NULL;
	}
	h->wait_timer = loop_timer_new(l, on_wait_timer, h);
	h->ml = mhd_loop_start(l, h->mhd, &h->port);
	if (!h->ml) {
		log_error("status: cannot watch libmicrohttpd's epoll descriptor");
		httpd_free(h);
		return NULL;
	}
	char host[256];
	bcopy_str(host, sizeof(host), c->listen);
	char *colon = strrchr(host, ':');
	if (colon)
		*colon = '\0';
	log_info("status: listening on http://%s:%u/%s", host, h->port,
	         c->status_token ? " (token required)" : "");
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
		if (h->ml)
			mhd_loop_stop(h->ml); /* stops MHD too */
		else
			MHD_stop_daemon(h->mhd);
	}
	loop_timer_free(h->wait_timer);
	httpd_cache_free(h);
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
