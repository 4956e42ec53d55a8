/*
 * callback.c — the listener of signed completion callbacks (see callback.h).
 *
 * libmicrohttpd runs inside the daemon's loop exactly as the status endpoint's does
 * (httpd.c): MHD_USE_EPOLL without an internal thread, MHD's epoll descriptor watched
 * by the loop, MHD_run when it is readable, and one loop timer armed from
 * MHD_get_timeout (disarmed when MHD has nothing pending, so an idle daemon sleeps).
 * Every request is therefore handled on the loop's thread, where the hook may touch
 * the jobs directly. A separate server rather than a route of the status endpoint:
 * that one is read-only and may be open to a LAN, while this one takes POSTs from the
 * Internet through a reverse proxy, with limits of its own.
 *
 * A request's body is gathered into one buffer of at most CBV_MAX_BODY bytes
 * (an announced Content-Length beyond it is refused before anything is read; a
 * chunked body that grows beyond it closes the connection), and the signature is
 * checked over exactly those bytes once the last one is in.
 */
#include "callback.h"
#include "callback_verify.h"
#include "httpd.h"
#include "log.h"
#include "mhd_loop.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define CALLBACK_PATH_MAX 1024

struct callback {
	struct loop *loop;
	const struct conf *conf;
	callback_hook_fn *hook;
	void *hook_ud;
	struct MHD_Daemon *mhd;
	struct mhd_loop *ml; /* MHD inside the loop (mhd_loop.h) */
	char *listen;
	unsigned port;
	char path[CALLBACK_PATH_MAX]; /* the one path taken: callback_url's, else "/" */
	struct cbv_seen seen;
	struct callback_stats stats;
	long long log_window_ms; /* the start of the current minute of refusal lines */
	unsigned log_lines, log_dropped;
};

/* One request in progress. */
struct creq {
	struct cbv_body body;
	bool answered; /* a refusal was queued before the body */
};

/* ---- answers and the log ------------------------------------------------------------- */

/* The peer's address as text (behind a reverse proxy: the proxy's). */
static const char *peer_of(struct MHD_Connection *conn, char *buf, size_t n)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	const void *addr = NULL;
	if (sa && sa->sa_family == AF_INET)
		addr = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa && sa->sa_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (!addr || !inet_ntop(sa->sa_family, addr, buf, (socklen_t)n))
		bcopy_str(buf, n, "?");
	return buf;
}

/* A refusal's log line, CALLBACK_LOG_BURST a minute at most (a flood of forged
 * callbacks must not flood the log); the lines held back are counted in the next. */
static void log_refusal(struct callback *cb, struct MHD_Connection *conn, unsigned code,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void log_refusal(struct callback *cb, struct MHD_Connection *conn, unsigned code,
                        const char *fmt, ...)
{
	long long now = loop_now_ms();
	if (now - cb->log_window_ms >= 60000) {
		if (cb->log_dropped)
			log_warn("callback: %u more refusals in the last minute were not logged",
			         cb->log_dropped);
		cb->log_window_ms = now;
		cb->log_lines = 0;
		cb->log_dropped = 0;
	}
	if (cb->log_lines >= CALLBACK_LOG_BURST) {
		cb->log_dropped++;
		return;
	}
	cb->log_lines++;
	char why[512], peer[INET6_ADDRSTRLEN + 1];
	va_list ap;
	va_start(ap, fmt);
	vbfmt(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_warn("callback: refused a request from %s (HTTP %u): %s",
	         peer_of(conn, peer, sizeof(peer)), code, why);
}

/* Queues CODE with the seed's error body ({"error":{message,type,code}}), or an empty
 * body for 204. */
static enum MHD_Result answer(struct MHD_Connection *conn, unsigned code, const char *ecode,
                              const char *message)
{
	struct MHD_Response *r;
	if (code == MHD_HTTP_NO_CONTENT) {
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	} else {
		char *body = xasprintf("{\"error\":{\"message\":\"%s\",\"type\":"
		                       "\"invalid_request_error\",\"code\":\"%s\"}}\n",
		                       message, ecode);
		r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
		if (!r)
			free(body);
	}
	if (!r)
		return MHD_NO;
	if (code != MHD_HTTP_NO_CONTENT)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "POST");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	enum MHD_Result rc = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result refuse(struct callback *cb, struct MHD_Connection *conn, unsigned code,
                              const char *ecode, const char *message)
{
	cb->stats.refused++;
	log_refusal(cb, conn, code, "%s", message);
	return answer(conn, code, ecode, message);
}

/* ---- a request ------------------------------------------------------------------------ */

/* Refusals that need only the request line and headers; MHD_YES when none applies
 * (the body is read next), else what queuing the refusal returned (*DONE set). */
static enum MHD_Result check_head(struct callback *cb, struct MHD_Connection *conn, const char *url,
                                  const char *method, bool *done)
{
	*done = true;
	if (strcmp(url, cb->path) != 0)
		return refuse(cb, conn, MHD_HTTP_NOT_FOUND, "not_found", "not the callback path");
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return refuse(cb, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
		              "only POST is taken");
	const char *cl =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && strtoull(cl, NULL, 10) > CBV_MAX_BODY)
		return refuse(cb, conn, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
		              "the body is larger than a callback's limit (64 KiB)");
	*done = false;
	return MHD_YES;
}

static const char *verdict_code(enum cbv_result v)
{
	switch (v) {
	case CBV_UNSIGNED:
		return "unsigned";
	case CBV_MALFORMED:
		return "malformed_signature";
	case CBV_STALE:
		return "stale_timestamp";
	case CBV_FUTURE:
		return "future_timestamp";
	default:
		return "bad_signature";
	}
}

/* The whole body is in: judge it and act. */
static enum MHD_Result finish(struct callback *cb, struct MHD_Connection *conn, struct creq *q)
{
	const char *sig = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, CBV_SIGNATURE_HEADER);
	const char *secret = cb->conf->callback_secret;
	long long skew = 0;
	if (!secret) /* conf_load never leaves callback_listen without one */
		return answer(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "no_secret", "no signing secret");
	const char *body = q->body.data ? q->body.data : "";
	enum cbv_result v =
	    cbv_verify(secret, strlen(secret), sig, body, q->body.len, clock_wall_s(), &skew);
	if (v == CBV_STALE || v == CBV_FUTURE) {
		cb->stats.refused++;
		log_refusal(cb, conn, MHD_HTTP_UNAUTHORIZED,
		            "%s: the sender's timestamp is %lld s %s this machine's clock (at most "
		            "%d s allowed: is the clock synchronized?)",
		            cbv_result_text(v), skew < 0 ? -skew : skew,
		            v == CBV_STALE ? "behind" : "ahead of", CBV_TOLERANCE_S);
		return answer(conn, MHD_HTTP_UNAUTHORIZED, verdict_code(v), cbv_result_text(v));
	}
	if (v != CBV_OK)
		return refuse(cb, conn, MHD_HTTP_UNAUTHORIZED, verdict_code(v), cbv_result_text(v));

	struct cbv_event ev;
	char why[256];
	if (cbv_parse_event(body, q->body.len, &ev, why, sizeof(why)) != 0) {
		cb->stats.refused++;
		log_refusal(cb, conn, MHD_HTTP_BAD_REQUEST, "signed, but not a callback event: %s",
		            why);
		return answer(conn, MHD_HTTP_BAD_REQUEST, "bad_event", "not a callback event");
	}
	if (cbv_seen_has(&cb->seen, &ev)) {
		cb->stats.duplicates++;
		log_event(LOG_DEBUG, NULL, ev.id, "callback: %s again: a duplicate, ignored",
		          ev.type);
		return answer(conn, MHD_HTTP_NO_CONTENT, NULL, NULL);
	}
	char *data = cbv_event_data(body, q->body.len);
	enum jobs_refresh_result rr =
	    cb->hook(ev.id, ev.status, data, data ? strlen(data) : 0, cb->hook_ud);
	free(data);
	switch (rr) {
	case JOBS_REFRESH_APPLIED:
		log_event(LOG_INFO, NULL, ev.id, "callback: %s: the job goes on from it", ev.type);
		break;
	case JOBS_REFRESH_UNKNOWN:
		cb->stats.unknown++;
		log_event(LOG_INFO, NULL, ev.id,
		          "callback: %s for a video no job of sorad's has: "
		          "ignored",
		          ev.type);
		return answer(conn, MHD_HTTP_NO_CONTENT, NULL, NULL);
	case JOBS_REFRESH_STARTED:
		log_event(LOG_INFO, NULL, ev.id, "callback: %s: refreshing the job now", ev.type);
		break;
	case JOBS_REFRESH_PENDING:
		log_event(LOG_INFO, NULL, ev.id,
		          "callback: %s: the job's answer is on its way already", ev.type);
		break;
	case JOBS_REFRESH_NOT_RUNNING:
		log_event(LOG_DEBUG, NULL, ev.id, "callback: %s: the job is past running", ev.type);
		break;
	}
	cb->stats.accepted++;
	cbv_seen_add(&cb->seen, &ev);
	return answer(conn, MHD_HTTP_NO_CONTENT, NULL, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	(void)version;
	struct callback *cb = cls;
	struct creq *q = *con_cls;
	if (!q) {
		q = xcalloc(1, sizeof(*q));
		*con_cls = q;
		bool done;
		enum MHD_Result rc = check_head(cb, conn, url, method, &done);
		q->answered = done;
		return rc;
	}
	if (q->answered) { /* refused already: whatever comes is dropped */
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size) {
		if (cbv_body_add(&q->body, upload, *upload_size) != 0) {
			cb->stats.refused++;
			log_refusal(cb, conn, MHD_HTTP_CONTENT_TOO_LARGE,
			            "the body grew beyond a callback's limit (64 KiB): connection "
			            "closed");
			return MHD_NO;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	q->answered = true;
	return finish(cb, conn, q);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct creq *q = *con_cls;
	if (!q)
		return;
	cbv_body_release(&q->body);
	free(q);
	*con_cls = NULL;
}

/* ---- lifetime ------------------------------------------------------------------------- */

/* The path of URL ("https://host[:port]/a/b" gives "/a/b"; none gives "/"). */
static void path_of(const char *url, char *buf, size_t n)
{
	const char *p = url ? strstr(url, "://") : NULL;
	p = p ? strchr(p + 3, '/') : NULL;
	if (!p || bcopy_str(buf, n, p) != 0)
		bcopy_str(buf, n, "/");
}

struct callback *callback_new(struct loop *l, const struct conf *c, callback_hook_fn *hook,
                              void *ud)
{
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	char why[256];
	if (!c->callback_listen || !c->callback_secret) {
		log_error("callback: no callback_listen or no signing secret");
		return NULL;
	}
	if (httpd_parse_listen(c->callback_listen, &ss, &sslen, why, sizeof(why)) != 0) {
		log_error("callback: cannot listen on '%s': %s", c->callback_listen, why);
		return NULL;
	}
	struct callback *cb = xcalloc(1, sizeof(*cb));
	cb->loop = l;
	cb->hook = hook;
	cb->hook_ud = ud;
	cb->listen = xstrdup(c->callback_listen);
	callback_set_conf(cb, c);
	unsigned flags =
	    MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	cb->mhd =
	    MHD_start_daemon(flags, 0, NULL, NULL, on_request, cb, MHD_OPTION_EXTERNAL_LOGGER,
	                     mhd_loop_log, "callback", MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	                     MHD_OPTION_CONNECTION_LIMIT, (unsigned)CALLBACK_MAX_CONNECTIONS,
	                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CALLBACK_CONNECTION_TIMEOUT,
	                     MHD_OPTION_NOTIFY_COMPLETED, on_completed, cb, MHD_OPTION_END);
	if (!cb->mhd) {
		log_error("callback: cannot listen on %s: %s", c->callback_listen,
		          errno ? strerror(errno) : "libmicrohttpd failed to start");
		callback_free(cb);
		return NULL;
	}
	cb->ml = mhd_loop_start(l, cb->mhd, &cb->port);
	if (!cb->ml) {
		log_error("callback: cannot watch libmicrohttpd's epoll descriptor");
		callback_free(cb);
		return NULL;
	}
	char host[256];
	bcopy_str(host, sizeof(host), c->callback_listen);
	char *colon = strrchr(host, ':');
	if (colon)
		*colon = '\0';
	log_info("callback: listening on http://%s:%u%s (signed callbacks only)", host, cb->port,
	         cb->path);
	return cb;
}

void callback_free(struct callback *cb)
{
	if (!cb)
		return;
	if (cb->ml)
		mhd_loop_stop(cb->ml); /* stops MHD too */
	else if (cb->mhd)
		MHD_stop_daemon(cb->mhd);
	free(cb->listen);
	free(cb);
}

void callback_set_conf(struct callback *cb, const struct conf *c)
{
	if (!cb)
		return;
	cb->conf = c;
	path_of(c->callback_url, cb->path, sizeof(cb->path));
}

const char *callback_listen(const struct callback *cb)
{
	return cb->listen;
}

unsigned callback_port(const struct callback *cb)
{
	return cb->port;
}

const struct callback_stats *callback_stats(const struct callback *cb)
{
	return &cb->stats;
}
