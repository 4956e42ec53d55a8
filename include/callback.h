/*
 * callback.h — the listener of signed completion callbacks (OpenRouter's
 * "callback_url", issue 17 item 5): a second libmicrohttpd server in the daemon's loop,
 * apart from the read-only status endpoint, on callback_listen (a loopback address a
 * reverse proxy forwards the public HTTPS callback_url to).
 *
 *   POST <the path of callback_url, "/" without one>
 *
 * is the only request taken (another path: 404; another method: 405 with Allow). The
 * body is read whole, at most CBV_MAX_BODY (64 KiB) bytes (more: 413, without reading on),
 * and only then judged (callback_verify.h): no signature or a malformed one: 401; a
 * timestamp outside the window: 401; a bad signature: 401; signed but not a callback
 * event: 400. Each refusal is logged with the peer and the reason (never the secret,
 * never the body), at most CALLBACK_LOG_BURST lines a minute (then a count).
 *
 * A good callback is answered 204 and handed to the hook: the daemon refreshes that
 * job at once (jobs_refresh_now). A callback seen before (same job id and status) is
 * answered 204 and not handed on. One for a job sorad does not know (another client
 * of the same workspace, or a create whose answer has not arrived yet) is answered 204
 * and logged, and not remembered as seen, so that a retry may still find the job.
 *
 * The body only says "look now": the job's outcome always comes from the service's
 * own answer, and polling goes on as the fallback, so a lost or refused callback
 * costs time, never a video.
 *
 * Ownership: the listener borrows the loop and the conf (its secret and URL; a
 * reload hands over the new one with callback_set_conf before the old is freed).
 */
#ifndef SORAD_CALLBACK_H
#define SORAD_CALLBACK_H

#include "conf.h"
#include "jobs.h"
#include "loop.h"

#define CALLBACK_MAX_CONNECTIONS 64
#define CALLBACK_CONNECTION_TIMEOUT 10 /* seconds of inactivity before a connection closes */
#define CALLBACK_LOG_BURST 20          /* refusal lines a minute, then one count */

struct callback;

/* What the hook says of a good callback's job (the log line follows it). */
typedef enum jobs_refresh_result callback_hook_fn(const char *video_id, const char *status,
                                                  const char *data, size_t len, void *ud);

/*
 * Starts listening on C->callback_listen (port 0 picks a free one) and logs
 * "callback: listening on http://HOST:PORT/PATH". HOOK(UD) is called for each good,
 * new callback, with its event's "data" as JSON DATA[LEN] (NULL when it cannot be had). NULL
 * (logged) when it cannot bind or C has no secret.
 */
struct callback *callback_new(struct loop *l, const struct conf *c, callback_hook_fn *hook,
                              void *ud);

/* Closes every connection and frees CB. NULL is fine. */
void callback_free(struct callback *cb);

/* A reload: the new conf (same callback_listen; a new one needs a new listener). The
 * events already seen are kept. */
void callback_set_conf(struct callback *cb, const struct conf *c);

/* The address CB listens on, as given in the conf; the port actually bound. */
const char *callback_listen(const struct callback *cb);
unsigned callback_port(const struct callback *cb);

/* Counts since the start (for tests and /metrics). */
struct callback_stats {
	unsigned long long accepted, duplicates, unknown, refused;
};
const struct callback_stats *callback_stats(const struct callback *cb);

#endif
