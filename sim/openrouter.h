/*
 * openrouter.h - sora-sim's second protocol (--protocol openrouter): OpenRouter's
 * asynchronous video API under /api/v1, as its official TypeScript SDK
 * (@openrouter/sdk) and its documentation describe it (sim/README.md names the
 * sources). POST /videos (JSON, answered 202 {id, polling_url, status}), GET
 * /videos/{id} (status, unsigned_urls, usage.cost, error), GET /videos/{id}/content
 * (the MP4, index 0 only), GET /videos/models (the catalog, each model with the
 * durations, resolutions, aspect ratios, sizes and frame images it accepts and its
 * prices); a value a model does not accept is a 400 with OpenRouter's error body.
 * A job with a callback_url on loopback is announced there when it ends, signed as
 * OpenRouter signs (X-OpenRouter-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
 * "<t>,<raw body>">) by a thread of this module. The video table and its clock are
 * videos.c's, the media media.c's, the faults server.c's, as in the OpenAI mode.
 */
#ifndef SIM_OPENROUTER_H
#define SIM_OPENROUTER_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "faults.h"
#include "form.h"
#include "reply.h"
#include "routes.h"

struct openrouter_conf {
	const char *secret; /* signing secret of the callbacks (not copied); NULL: unsigned */
	size_t secret_len;
	unsigned callback_repeat; /* each callback delivered this many times (>= 1) */
};

/* Switches the protocol on (from the command line, before any request). */
void openrouter_enable(void);
bool openrouter_enabled(void);
/* Starts the callback thread; 0, or -1 (logged). */
int openrouter_start(const struct openrouter_conf *conf);
/* Stops the callback thread (pending callbacks are dropped) and frees the jobs. */
void openrouter_stop(void);

/* Routes PATH (the part after the API prefix) into *rt (already marked api). */
void openrouter_route_match(const char *method, const char *path, struct route *rt);
/* 0 when the request carries a key (API_KEY exactly, unless NULL), else -1 and a 401 in *r. */
int openrouter_auth(struct MHD_Connection *c, const char *api_key, struct reply *r);
/* OpenRouter's bodies for an injected 429 or 5xx, a 413, and a create whose answer a
 * 500 replaced (the job exists all the same). */
void openrouter_fault_reply(const struct fault *f, struct reply *r);
void openrouter_too_large(struct reply *r, unsigned long long limit);
void openrouter_after_create_reply(struct reply *r);
/* Runs an endpoint of the API; form is the body of a create, else NULL. */
void openrouter_handle(const struct route *rt, struct MHD_Connection *c, struct form *form,
                       struct reply *r);

#endif
