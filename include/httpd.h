/*
 * httpd.h — the read-only status endpoint: a libmicrohttpd server inside the daemon's
 * event loop, serving the status page, the JSON API (the seed's read endpoints),
 * the finished files from the outbox, live events, /healthz and /metrics.
 *
 *   GET /                                   the status page (page.h)
 *   GET /healthz                            {"status":"ok",...}
 *   GET /metrics                            Prometheus text (metrics.h)
 *   GET /api/v1/videos                      ?limit=1..100 (20) &after=ID &order=desc|asc
 *                                           &status=queued|in_progress|completed|failed
 *                                           (or a local state name)
 *   GET /api/v1/videos/{id}                 by video id or job NAME
 *   GET /api/v1/videos/{id}/content         ?variant=video|thumbnail|spritesheet, Range
 *   GET /api/v1/videos/{id}/poll            ?timeout=0..600 (300) seconds
 *   GET /api/v1/events                      Server-Sent Events: created, state,
 *                                           progress, completed, failed
 *   GET /api/v1/inbox                       notes on images in the inbox that no
 *                                           prompt took (strays.h)
 *
 * GET and HEAD only (anything else: 405 with Allow). Errors are the seed's JSON
 * {"error":{"message","type","code"}}. With status_token set, every route but / and
 * /healthz needs "Authorization: Bearer TOKEN" (or the page's cookie sorad_token).
 *
 * Ownership: the httpd borrows the loop, conf, jobs and stats; they must outlive it
 * (a reload hands over the new conf with httpd_set_conf before freeing the old).
 */
#ifndef SORAD_HTTPD_H
#define SORAD_HTTPD_H

#include <sys/socket.h>

#include "api.h"
#include "conf.h"
#include "jobs.h"
#include "loop.h"

/* Open connections, waiters included: room for 1,000 concurrent clients (the file
 * descriptor limit is raised to fit; a lower hard limit lowers this). */
#define HTTPD_MAX_CONNECTIONS 1536
#define HTTPD_SPARE_CONNECTIONS 16  /* kept free: beyond, the slowest unfinished requests close */
#define HTTPD_CONNECTION_TIMEOUT 30 /* seconds of inactivity before a connection closes */
#define HTTPD_MEMORY_LIMIT (32 * 1024)  /* bytes per connection: request line + headers */
#define HTTPD_MAX_WAITERS 64            /* suspended /poll requests */
#define HTTPD_MAX_SSE 32                /* event streams; the oldest is closed beyond */
#define HTTPD_SSE_BACKLOG (1024 * 1024) /* bytes queued for one slow event reader */
#define HTTPD_SSE_PING_MS 25000         /* keep-alive comment while streams are open */
#define HTTPD_POLL_DEFAULT_S 300
#define HTTPD_POLL_MAX_S 600
#define HTTPD_LIST_DEFAULT 20
#define HTTPD_LIST_MAX 100

struct httpd;

/*
 * Starts serving on C->listen ("HOST:PORT", "[V6]:PORT"; port 0 picks a free one).
 * Logs "status: listening on http://HOST:PORT/". NULL (logged) when it cannot bind.
 */
struct httpd *httpd_new(struct loop *l, const struct conf *c, struct jobs *js,
                        const struct api_stats *stats);

/* The usage log /metrics reports money from (the daemon's; NULL: none). */
struct usage;
void httpd_set_usage(struct httpd *h, const struct usage *u);

/* The notes of GET /api/v1/inbox (images no prompt took; strays.h; NULL: none). */
struct strays;
void httpd_set_strays(struct httpd *h, struct strays *s);

/* Closes every connection (waiters and streams included) and frees H. NULL is fine. */
void httpd_free(struct httpd *h);

/* A reload: the new conf (same listen address; a new one needs a new httpd). */
void httpd_set_conf(struct httpd *h, const struct conf *c);

/* The address H listens on, as given in the conf ("127.0.0.1:4444"). */
const char *httpd_listen(const struct httpd *h);

/* The port actually bound. */
unsigned httpd_port(const struct httpd *h);

/* LISTEN ("HOST:PORT", "[V6]:PORT", "localhost:PORT", "*:PORT") as a socket address
 * for libmicrohttpd: 0, or -1 with the reason in WHY. Shared with callback.c. */
struct sockaddr_storage;
int httpd_parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len, char *why,
                       size_t whylen);

/* Jobs observer (jobs.h): wakes /poll waiters and sends events. */
void httpd_job_changed(struct httpd *h, const struct job *j, enum job_state before);

#endif
