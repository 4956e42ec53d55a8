/*
 * routes.h - the Videos API itself: maps a method and path to an endpoint and
 * implements each endpoint (validation, the video table, content with Range) as a
 * struct reply, plus the 401, 413 and injected-fault replies. Knows nothing of how
 * replies are sent; server.c does that.
 */
#ifndef SIM_ROUTES_H
#define SIM_ROUTES_H

#include <microhttpd.h>
#include <stdbool.h>

#include "faults.h"
#include "form.h"
#include "gateway.h"
#include "media.h"
#include "reply.h"
#include "stats.h"

enum route_kind {
	RT_CREATE,
	RT_LIST,
	RT_RETRIEVE,
	RT_DELETE,
	RT_CONTENT,
	RT_REMIX,
	RT_MODELS, /* OpenRouter mode: GET /videos/models */
	RT_SIM_STATS,
	RT_SIM_RESET,
	RT_NOT_FOUND,
	RT_BAD_METHOD,
};

struct route {
	enum route_kind kind;
	enum endpoint ep;         /* the stats template */
	bool api;                 /* under /v1/: auth, faults and stats apply */
	bool has_body;            /* create and remix parse a request body */
	bool no_auth;             /* under the API but public (OpenRouter's model catalog) */
	char id[GATEWAY_ID_SIZE]; /* the {id} segment, decoded; "" if absurdly long */
	char method[16];
	char path[256];    /* for error messages, cut if long */
	const char *allow; /* for 405 */
};

struct routes_conf {
	const char *api_key; /* NULL: any non-empty bearer token */
	unsigned poll_after_ms;
};

void routes_init(const struct routes_conf *conf);
void route_match(const char *method, const char *url, struct route *rt);

/* 0 when the request carries an acceptable bearer token, else -1 and a 401 in *r. */
int routes_auth(struct MHD_Connection *c, struct reply *r);
/* The reply of an injected 429 or 5xx. */
void routes_fault_reply(const struct fault *f, struct reply *r);
/* Replaces the Video object of a create or remix with a gateway's 5xx (the video was
 * created all the same): --p5xx-after-create. */
void routes_after_create_reply(const struct fault *f, struct reply *r);
void routes_too_large(struct reply *r, unsigned long long limit);
/* Serves the MP4 of a completed video (Range, --chunked, ... as for /content). */
void routes_serve_video(const char *id, struct media *m, unsigned trickle_bps,
                        struct MHD_Connection *c, struct reply *r);
/* A prompt's "[sim:status=WORD]": WORD into word (GATEWAY_STATUS_SIZE bytes), "" without
 * the hook; -1 for a malformed hook, which each protocol refuses in its own words. */
int routes_status_hook(const char *prompt, char *word);
/* Runs the endpoint; form is the parsed body for create and remix, else NULL. */
void routes_handle(const struct route *rt, struct MHD_Connection *c, struct form *form,
                   struct reply *r);

#endif
