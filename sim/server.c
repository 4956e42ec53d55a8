/*
 * server.c - see server.h.
 *
 * Slow responses: the connection is suspended (MHD_suspend_connection) with its
 * response prepared, and one timer thread resumes it when due. That costs no thread
 * per delayed request and never blocks MHD's polling threads, so other connections
 * are served normally while any number of responses are held back.
 */
#include "server.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "faults.h"
#include "form.h"
#include "gateway.h"
#include "reply.h"
#include "routes.h"
#include "stats.h"
#include "util.h"

/* Per-request state, owned by MHD's con_cls slot, freed in on_completed. */
struct conn {
	struct route route;
	struct form *form; /* create and remix only */
	unsigned long long body_len;
	bool too_large;
	bool answered;
	struct MHD_Response *pending; /* a slow response waiting for its resume */
	unsigned pending_status;
	int64_t t0;
};

struct slow {
	struct slow *next;
	int64_t due; /* monotonic ms */
	struct MHD_Connection *c;
};

static struct server_conf conf;
static struct MHD_Daemon *daemon_;
static pthread_t slow_thread;
static bool slow_running;
static pthread_mutex_t slow_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slow_cond;
static struct slow *slow_head;
static bool slow_stop;
static uint64_t request_counter;

/* ---------------------------------------------------------- delayed replies */

static void *slow_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&slow_lock);
	while (!slow_stop) {
		int64_t now = now_mono_ms();

		if (slow_head == NULL) {
			pthread_cond_wait(&slow_cond, &slow_lock);
		} else if (slow_head->due <= now) {
			struct slow *s = slow_head;

			slow_head = s->next;
			pthread_mutex_unlock(&slow_lock);
			MHD_resume_connection(s->c);
			free(s);
			pthread_mutex_lock(&slow_lock);
		} else {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += (slow_head->due - now) / 1000;
			ts.tv_nsec += ((slow_head->due - now) % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&slow_cond, &slow_lock, &ts);
		}
	}
	/* Suspended connections must be resumed before MHD_stop_daemon. */
	while (slow_head) {
		struct slow *s = slow_head;

		slow_head = s->next;
		MHD_resume_connection(s->c);
		free(s);
	}
	pthread_mutex_unlock(&slow_lock);
	return NULL;
}

static void slow_add(struct MHD_Connection *c, unsigned delay_ms)
{
	struct slow *s = xcalloc(1, sizeof(*s)), **pp;

	s->c = c;
	s->due = now_mono_ms() + delay_ms;
	pthread_mutex_lock(&slow_lock);
	for (pp = &slow_head; *pp && (*pp)->due <= s->due; pp = &(*pp)->next)
		;
	s->next = *pp;
	*pp = s;
	pthread_cond_signal(&slow_cond);
	pthread_mutex_unlock(&slow_lock);
}

/* ------------------------------------------------------- truncated replies */

/* A body served by callback: one that announces total bytes but delivers only the
 * first cut, or one sent chunked (its length unannounced), or both. */
struct cut {
	char *body; /* owned, or NULL when serving from fd */
	int fd;     /* owned, or -1 */
	uint64_t offset, cut, total;
};

static ssize_t cut_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct cut *t = cls;
	size_t n;

	if (pos >= t->total)
		return MHD_CONTENT_READER_END_OF_STREAM; /* a chunked body ends here */
	if (pos >= t->cut)
		return MHD_CONTENT_READER_END_WITH_ERROR; /* MHD closes the connection */
	n = t->cut - pos < max ? (size_t)(t->cut - pos) : max;
	if (t->body) {
		memcpy(out, t->body + pos, n);
		return (ssize_t)n;
	}
	{
		ssize_t got = pread(t->fd, out, n, (off_t)(t->offset + pos));

		return got > 0 ? got : MHD_CONTENT_READER_END_WITH_ERROR;
	}
}

static void cut_free(void *cls)
{
	struct cut *t = cls;

	free(t->body);
	if (t->fd >= 0)
		close(t->fd);
	free(t);
}

/* ------------------------------------------------------- trickled replies */

/* "[sim:trickle=N]": a chunked body that never ends, N bytes a second. When the
 * bytes due so far are sent, the connection is suspended and the timer thread
 * resumes it when the next ones are due: no polling thread waits or spins. */
struct trickle {
	struct MHD_Connection *c;
	unsigned bps;
	int64_t t0; /* monotonic ms of the first call */
};

static ssize_t trickle_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct trickle *t = cls;
	int64_t now = now_mono_ms();
	uint64_t due;

	if (t->t0 == 0)
		t->t0 = now;
	/* a first tenth of a second's worth at once, then N bytes a second */
	due = (uint64_t)(now - t->t0 + 100) * t->bps / 1000;
	if (pos < due) {
		size_t n = due - pos < max ? (size_t)(due - pos) : max;

		memset(out, 'x', n);
		return (ssize_t)n;
	}
	MHD_suspend_connection(t->c);
	slow_add(t->c, (unsigned)((pos + 1) * 1000 / t->bps - (uint64_t)(now - t->t0 + 100)) + 1);
	return 0;
}

/* The query arguments and the path are decoded with a '/' inside a segment kept as
 * %2F, so that routes.c can split the path first (see util.h). */
static size_t unescape_cb(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return url_unescape_keep_slash(s);
}

/* ----------------------------------------------------------------- replies */

/* With --clock-offset-s, the Date header is the service's clock too (libmicrohttpd
 * adds its own, from this machine's clock, only when the response has none). */
static void add_service_date(struct MHD_Response *resp)
{
	time_t t;
	struct tm tm;
	char date[64];

	if (sim_clock_offset_ms == 0)
		return;
	t = (time_t)(now_service_ms() / 1000);
	if (gmtime_r(&t, &tm) && strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_DATE, date);
}

/* Turns a reply into an MHD response, taking over its body or fd. A chunked reply
 * has an unknown size, which makes libmicrohttpd send it chunked (HTTP/1.1). */
static struct MHD_Response *make_response(struct MHD_Connection *c, struct reply *r, bool truncate)
{
	struct MHD_Response *resp;
	int i;

	if (r->trickle_bps) {
		struct trickle *t = xcalloc(1, sizeof(*t));

		t->c = c;
		t->bps = r->trickle_bps;
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, trickle_read, t,
		                                         free);
		if (resp == NULL)
			free(t);
	} else if (truncate || r->chunked) {
		struct cut *t = xcalloc(1, sizeof(*t));
		uint64_t total = r->fd >= 0 ? r->length : r->len;

		t->body = r->body;
		t->fd = r->fd;
		t->offset = r->offset;
		t->total = total;
		t->cut = truncate ? total / 2 : total;
		r->body = NULL;
		r->fd = -1;
		resp = MHD_create_response_from_callback(r->chunked ? MHD_SIZE_UNKNOWN : total,
		                                         16 * 1024, cut_read, t, cut_free);
		if (resp == NULL)
			cut_free(t);
	} else if (r->fd >= 0) {
		resp = MHD_create_response_from_fd_at_offset64(r->length, r->fd, r->offset);
		if (resp)
			r->fd = -1; /* MHD closes it */
	} else {
		resp = MHD_create_response_from_buffer(r->len, r->body ? r->body : "",
		                                       r->body ? MHD_RESPMEM_MUST_FREE
		                                               : MHD_RESPMEM_PERSISTENT);
		if (resp)
			r->body = NULL; /* MHD frees it */
	}
	if (resp == NULL) {
		log_err("cannot create a response for status %u", r->status);
		reply_release(r);
		return NULL;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
	for (i = 0; i < r->nheaders; i++)
		MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
	add_service_date(resp);
	reply_release(r);
	return resp;
}

/* Makes close() send an RST instead of a FIN: a real "connection reset by peer". */
static void arm_reset(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct linger l = {1, 0};

	if (ci && setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) < 0)
		log_warn("setsockopt SO_LINGER: %m");
}

static void access_log(const struct conn *k, const struct reply *r, const struct fault *f)
{
	if (!sim_verbose)
		return;
	fprintf(stderr, "sora-sim: access: %s %s -> %u%s%s %lldms\n", k->route.method,
	        k->route.path, r->status, f->kind == FAULT_NONE ? "" : " fault=",
	        f->kind == FAULT_NONE ? "" : fault_name(f->kind),
	        (long long)(now_mono_ms() - k->t0));
}

static enum MHD_Result finish(struct MHD_Connection *c, struct conn *k, struct reply *r,
                              const struct fault *f)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char outcome[16];

	k->answered = true;
	if (f->kind == FAULT_RESET || f->kind == FAULT_TRUNCATE)
		snprintf(outcome, sizeof(outcome), "%s", fault_name(f->kind));
	else
		snprintf(outcome, sizeof(outcome), "%u", r->status);
	if (k->route.api) {
		uint64_t n = __atomic_add_fetch(&request_counter, 1, __ATOMIC_RELAXED);

		stats_count(k->route.ep, outcome);
		if (f->kind != FAULT_NONE)
			stats_count_fault(fault_name(f->kind));
		reply_header(r, "x-request-id", "req_%016llx", (unsigned long long)splitmix64(&n));
		/* --chunked all: a gateway that re-streams every body (Portkey). */
		if (gateway_content()->chunked == CHUNKED_ALL)
			r->chunked = true;
	}
	access_log(k, r, f);
	if (f->kind == FAULT_RESET) {
		arm_reset(c);
		reply_release(r);
		return MHD_NO; /* MHD closes the connection without a response */
	}
	resp = make_response(c, r, f->kind == FAULT_TRUNCATE);
	if (resp == NULL)
		return MHD_NO;
	if (f->kind == FAULT_SLOW) {
		k->pending = resp;
		k->pending_status = r->status;
		MHD_suspend_connection(c);
		slow_add(c, f->delay_ms);
		return MHD_YES;
	}
	ret = MHD_queue_response(c, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	static const struct fault no_fault = {.kind = FAULT_NONE};
	struct conn *k = *con_cls;
	struct fault fault = no_fault;
	struct reply r;

	(void)cls;
	(void)version;
	if (k == NULL) {
		const char *cl =
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

		k = xcalloc(1, sizeof(*k));
		k->t0 = now_mono_ms();
		route_match(method, url, &k->route);
		*con_cls = k;
		/* A declared oversize body is refused before it is read. */
		if (cl && strtoull(cl, NULL, 10) > conf.max_body) {
			reply_init(&r);
			routes_too_large(&r, conf.max_body);
			return finish(c, k, &r, &no_fault);
		}
		if (k->route.has_body)
			k->form = form_new(c);
		return MHD_YES;
	}
	if (k->pending) { /* resumed after a slow delay */
		struct MHD_Response *resp = k->pending;
		enum MHD_Result ret;

		k->pending = NULL;
		ret = MHD_queue_response(c, k->pending_status, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	if (*upload_data_size > 0) {
		/* Bodies are always read to the end, so that an error reply is not
		 * mistaken by the client for a broken connection. */
		k->body_len += *upload_data_size;
		if (k->body_len > conf.max_body)
			k->too_large = true;
		else if (k->form && !k->answered)
			form_feed(k->form, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (k->answered)
		return MHD_YES;

	reply_init(&r);
	if (!k->route.api) {
		routes_handle(&k->route, c, k->form, &r);
	} else if (k->route.no_auth || routes_auth(c, &r) == 0) {
		faults_draw(&fault, k->route.kind == RT_CREATE || k->route.kind == RT_REMIX);
		if (fault.kind == FAULT_429 || fault.kind == FAULT_5XX)
			routes_fault_reply(&fault, &r); /* nothing is processed */
		else if (k->too_large)
			routes_too_large(&r, conf.max_body);
		else
			routes_handle(&k->route, c, k->form, &r);
		if (fault.kind == FAULT_5XX_AFTER_CREATE) {
			/* Only a created video's answer is lost; a refusal passes through a
			 * gateway unchanged, and then no fault happened. */
			if (r.status / 100 == 2) /* OpenRouter answers a create 202 */
				routes_after_create_reply(&fault, &r);
			else
				fault = no_fault;
		}
	}
	return finish(c, k, &r, &fault);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct conn *k = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (k == NULL)
		return;
	if (k->pending)
		MHD_destroy_response(k->pending);
	form_free(k->form);
	free(k);
	*con_cls = NULL;
}

int server_start(const struct server_conf *c, unsigned *port)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
	const union MHD_DaemonInfo *info;
	pthread_condattr_t ca;
	int rc;

	conf = *c;
	if (conf.addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (sim_verbose)
		flags |= MHD_USE_ERROR_LOG;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&slow_cond, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&slow_thread, NULL, slow_main, NULL);
	if (rc != 0) {
		log_err("pthread_create: %s", strerror(rc));
		return -1;
	}
	slow_running = true;
	daemon_ = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR,
	                           (const struct sockaddr *)&conf.addr, MHD_OPTION_THREAD_POOL_SIZE,
	                           conf.threads, MHD_OPTION_CONNECTION_LIMIT, conf.conn_limit,
	                           MHD_OPTION_CONNECTION_TIMEOUT, conf.conn_timeout_s,
	                           MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	                           MHD_OPTION_UNESCAPE_CALLBACK, unescape_cb, NULL, MHD_OPTION_END);
	if (daemon_ == NULL) {
		log_err("cannot listen (address in use, or not allowed?)");
		server_stop();
		return -1;
	}
	info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	if (info == NULL || info->port == 0) {
		log_err("cannot tell which port the daemon bound");
		server_stop();
		return -1;
	}
	*port = info->port;
	return 0;
}

void server_stop(void)
{
	if (slow_running) {
		pthread_mutex_lock(&slow_lock);
		slow_stop = true;
		pthread_cond_signal(&slow_cond);
		pthread_mutex_unlock(&slow_lock);
		pthread_join(slow_thread, NULL);
		slow_running = false;
	}
	if (daemon_) {
		MHD_stop_daemon(daemon_);
		daemon_ = NULL;
	}
}
