/*
 * httpd_route.h — the status endpoint's router without a socket: what httpd.c does
 * with a request once libmicrohttpd has parsed it (method, decoded path, query
 * arguments, headers, cookies), as plain functions filling a response. The live
 * server (httpd.c) answers every request through them; fuzz/fuzz_httpd.c drives them
 * directly. Internal to the daemon: httpd.h is the contract for everything else.
 *
 * Ownership: a struct httpd_response owns its body and its file descriptor until
 * httpd_response_release (the server takes both when it sends them). Header values
 * point at string constants or into the response itself: do not copy the struct.
 */
#ifndef SORAD_HTTPD_ROUTE_H
#define SORAD_HTTPD_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "httpd.h"
#include "prompt.h"
#include "status_json.h"

enum httpd_lookup { HTTPD_HEADER, HTTPD_ARG, HTTPD_COOKIE };

/* One request, as libmicrohttpd hands it over. */
struct httpd_request {
	const char *method; /* "GET", "HEAD", anything else */
	const char *url;    /* the decoded path, without the query */
	bool raw_bad;       /* httpd_raw_target_bad() of the request target as received */
	/* The first header (name without case), decoded query argument or cookie named
	 * KEY, or NULL (an argument without '=' has no value: NULL too). */
	const char *(*lookup)(void *ud, enum httpd_lookup kind, const char *key);
	void *ud;
};

enum httpd_action {
	HTTPD_CONTINUE, /* httpd_refuse: nothing refused, route it */
	HTTPD_ANSWER,   /* send code, headers and the body (or the file) */
	HTTPD_WAIT,     /* /poll: wait up to wait_s seconds for job wait_name to finish */
	HTTPD_STREAM,   /* /api/v1/events: start the event stream (code and headers set) */
};

#define HTTPD_RESPONSE_HEADERS 12

struct httpd_response {
	enum httpd_action action;
	unsigned code;
	struct jbuf body;
	const char *static_body; /* instead of body when not NULL (the page), not owned */
	size_t static_len;
	int fd; /* the file to send (-1: none): bytes [off, off + len) */
	long long off, len, file_size;
	size_t n_headers;
	struct {
		const char *name, *value;
	} headers[HTTPD_RESPONSE_HEADERS];
	char etag[64], lastmod[64], crange[96]; /* values of the headers above */
	char wait_name[PROMPT_NAME_MAX + 1];
	long long wait_s;
};

void httpd_response_init(struct httpd_response *rs);
/* Frees the body and closes the file. RS can be initialized again afterwards. */
void httpd_response_release(struct httpd_response *rs);
/* The value of the response header NAME (case-insensitive), or NULL. */
const char *httpd_response_header(const struct httpd_response *rs, const char *name);

/* True when the raw request target (before decoding) holds a control byte or an
 * encoded one (%00..%1f, %7f): the decoded path could be truncated into another. */
bool httpd_raw_target_bad(const char *target);

/*
 * An endpoint that only routes (no socket, no loop): for fuzz_httpd and tests.
 * httpd_free frees it; httpd_set_conf swaps its conf.
 */
struct httpd *httpd_router_new(const struct conf *c, struct jobs *js,
                               const struct api_stats *stats);

/*
 * What is refused as soon as the headers are in, before any body is read: a method
 * other than GET and HEAD (405), a body (413). Fills RS with action HTTPD_ANSWER and
 * returns its code, or returns 0 (action HTTPD_CONTINUE) when the request goes on.
 */
unsigned httpd_refuse(struct httpd *h, const struct httpd_request *rq, struct httpd_response *rs);

/* Routes RQ (after httpd_refuse let it through) and fills RS; returns RS->code. */
unsigned httpd_route(struct httpd *h, const struct httpd_request *rq, struct httpd_response *rs);

/* ---- between httpd.c and httpd_route.c ------------------------------------------- */

/* The endpoint: the router's part (conf, jobs, the JSON cache) and the server's
 * (libmicrohttpd, waiters, streams, connections), which httpd.c alone touches. */
struct httpd {
	struct loop *loop;
	const struct conf *conf;
	struct jobs *jobs;
	const struct api_stats *stats;
	const struct usage *usage; /* the money figures of /metrics; NULL: none */
	struct strays *strays;     /* the notes of /api/v1/inbox; NULL: none */
	struct MHD_Daemon *mhd;
	struct mhd_loop *ml;           /* MHD inside the loop (mhd_loop.h); NULL: a router only */
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

/* A /poll whose wait ended (the job finished or the time is up): the job named NAME
 * as a Video object, or 404 when it is gone. Returns RS->code. */
unsigned httpd_route_waited(struct httpd *h, const struct httpd_request *rq,
                            struct httpd_response *rs, const char *name);

/* J changed: its cached JSON (if any) is stale. */
void httpd_cache_drop(struct httpd *h, const struct job *j);
/* Frees the JSON cache (it is allocated again on first use). */
void httpd_cache_free(struct httpd *h);

#endif
