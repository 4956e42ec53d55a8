/*
 * catalog.h — the service's model catalog: what each video model accepts (durations,
 * resolutions, aspect ratios, pixel sizes, first/last frame images, audio, seed) and
 * what it costs, as OpenRouter's GET /videos/models answers it (the schema of
 * @openrouter/sdk's VideoModelsListResponse: {"data": [VideoModel...]}), so that a
 * prompt file asking for what a model does not take fails before anything is spent,
 * with the same plain words as the static model table of conf.h ("4 seconds is not
 * available for alibaba/wan-2.6 (allowed: 5, 10)").
 *
 * The static table stays: a model it names is checked against it (the configuration
 * wins), the catalog only serves models it lacks.
 *
 * Parsing is defensive: the answer is untrusted. It is at most CATALOG_MAX_BYTES; a
 * field missing or of the wrong type is skipped (the constraint is then "not stated":
 * not checked, the service has the last word); a model without a usable id is
 * skipped; at most CATALOG_MAX_MODELS models and CATALOG_MAX_VALUES values per list
 * are kept, longer lists are cut there, and no more than four times as many entries
 * of one array are looked at (a million repeats are not read whole).
 *
 * The cache is STATE/catalog.json (CATALOG_FILE), written atomically (fsutil.h) by the
 * daemon only, in the answer's own schema plus when and from where it was fetched: a
 * catalog of another api_base is no catalog. It is fresh for CATALOG_MAX_AGE_S.
 *
 * Ownership: a struct catalog and everything in it belongs to whoever got it from
 * catalog_parse / catalog_load / catalog_fetch; catalog_free() frees it. The
 * daemon's current catalog (catalog_current) belongs to this module once installed.
 * Not thread-safe: the event loop's thread only.
 */
#ifndef SORAD_CATALOG_H
#define SORAD_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "conf.h"
#include "prompt.h"

#define CATALOG_FILE "catalog.json"
#define CATALOG_MAX_BYTES (4u << 20) /* an answer or cache larger is refused */
#define CATALOG_MAX_MODELS 1000u
#define CATALOG_MAX_VALUES 256u  /* per list of one model */
#define CATALOG_MAX_STRING 256u  /* bytes of one id, value or price; longer: skipped */
#define CATALOG_MAX_AGE_S 3600   /* a catalog older than this is fetched again */
#define CATALOG_MIN_REFETCH_S 60 /* a SIGHUP within this of the last fetch uses it */
#define CATALOG_RETRY_S 300      /* after a failed fetch, the next try at the soonest */

/* A list the catalog may or may not state: "stated" false when the field was missing,
 * null or not an array (no constraint); stated and empty: nothing is accepted. */
struct catalog_list {
	bool stated;
	char **v;
	size_t n;
};

/* One price: a pricing SKU's name and its USD per second, as the service spells it. */
struct catalog_price {
	char *sku; /* "duration_seconds_with_audio" */
	char *usd; /* "0.40" */
};

/* Yes, no, or not stated (null or missing). */
enum catalog_tri { CATALOG_UNKNOWN = -1, CATALOG_NO = 0, CATALOG_YES = 1 };

struct catalog_model {
	char *id;   /* "google/veo-3.1" */
	char *name; /* "Google: Veo 3.1", or NULL */
	bool durations_stated;
	unsigned *durations; /* seconds */
	size_t n_durations;
	struct catalog_list resolutions;   /* "720p", "1080p" */
	struct catalog_list aspect_ratios; /* "16:9" */
	struct catalog_list sizes;         /* "1280x720" */
	struct catalog_list frames;        /* "first_frame", "last_frame"; null: none */
	enum catalog_tri audio;            /* generate_audio: the model can make sound */
	enum catalog_tri seed;             /* a seed is accepted */
	struct catalog_price *prices;
	size_t n_prices;
};

struct catalog {
	struct catalog_model *models;
	size_t n;
	time_t fetched_at; /* wall clock of the fetch; 0 unknown */
	char *api_base;    /* where it came from, or NULL */
};

/* What a job asks of a model. */
struct catalog_request {
	const char *model;
	unsigned seconds; /* 0: not asked */
	const char *size; /* "1280x720", or NULL */
	bool first_frame; /* a reference image, sent as the first frame */
	bool last_frame;
	enum catalog_tri audio; /* CATALOG_YES: sound asked for; UNKNOWN: not said */
	bool seed;              /* a seed is given */
};

/*
 * Parses LEN bytes of DATA, a GET /videos/models answer or a cache file. Returns a new
 * catalog (possibly with no model), or NULL with a reason in why[whylen] when DATA is
 * too large, not JSON, or has no "data" array.
 */
struct catalog *catalog_parse(const char *data, size_t len, char *why, size_t whylen);
void catalog_free(struct catalog *cat);

/* The model ID of CAT, or NULL (CAT may be NULL). */
const struct catalog_model *catalog_find(const struct catalog *cat, const char *id);

/* Whether model ID lists SIZE ("1280x720") among its own pixel sizes (supported_sizes):
 * then the size is sent as it is rather than as a resolution and an aspect ratio. */
bool catalog_takes_size(const struct catalog *cat, const char *id, const char *size);

/*
 * Checks REQ against CAT. 0 when every value is accepted (or the catalog does not say);
 * -1 with every problem, one per line, in why[whylen], each naming what is allowed:
 *   "6 seconds is not available for alibaba/wan-2.6 (allowed: 5, 10)"
 *   "size 1024x1792 is not available for google/veo-3.1 (allowed: 1280x720, ...)"
 *   "a last frame is not available for openai/sora-2-pro (frame images: first_frame)"
 * A model not in CAT is one problem, naming the models it has.
 */
int catalog_validate(const struct catalog *cat, const struct catalog_request *req, char *why,
                     size_t whylen);

/* catalog_validate for a prompt file's spec (prompt.h): its model, seconds, size,
 * reference image (a first frame), last frame, audio and seed. */
int catalog_validate_spec(const struct catalog *cat, const struct job_spec *s, char *why,
                          size_t whylen);

/* The pixel sizes a model accepts: its sizes, then each resolution at each aspect
 * ratio that makes whole pixels ("720p" at "16:9": 1280x720), without repeats, as
 * "A, B, C" in buf[size]. Empty when the catalog states neither. */
void catalog_model_sizes(const struct catalog_model *m, char *buf, size_t size);

/*
 * The price in USD per second of a job of SIZE ("1280x720") on M, with sound or not
 * (AUDIO; unknown: the model's default, on where it makes sound), from M's pricing
 * SKUs: the first whose name is about seconds and does not contradict the job (a
 * "720p" SKU for a 1080p job, "with_audio" for a silent one); none fits: the highest
 * per-second price (an estimate errs high); -1 when M has none.
 */
double catalog_price_per_second(const struct catalog_model *m, const char *size,
                                enum catalog_tri audio);
/* An estimate for SECONDS of MODEL at SIZE from CAT's prices (for usage caps and
 * approve_over_usd); -1 when CAT has no price for it (CAT may be NULL). */
double catalog_estimate_cost(const struct catalog *cat, const char *model, const char *size,
                             unsigned seconds);

/*
 * Whether a catalog fetched at FETCHED_AT (wall clock) is due for a refetch at NOW:
 * older than MAX_AGE_S, never fetched (0), or from the future (the clock was set back:
 * its age is unknown).
 */
bool catalog_due(time_t fetched_at, time_t now, long max_age_s);

/* The cache: JSON in the answer's schema, with "fetched_at" and "api_base" added (the
 * same document `sorad models --json` prints). The caller frees the string. */
char *catalog_to_json(const struct catalog *cat);
/* Writes CAT to STATE_DIR/CATALOG_FILE atomically. 0 or -1 (logged). */
int catalog_save(const char *state_dir, const struct catalog *cat);
/* Reads STATE_DIR/CATALOG_FILE. NULL when there is none, it is unreadable, or it was
 * fetched from another API_BASE (why[whylen] says which; "" when there is none). */
struct catalog *catalog_load(const char *state_dir, const char *api_base, char *why, size_t whylen);

/* Prints CAT for people: each model with its durations, sizes or resolutions, aspect
 * ratios, frame images, audio, seed and price per second. */
void catalog_print(const struct catalog *cat, FILE *out);

/*
 * The daemon's catalog, used by prompt_validate (prompt.h) for models the static table
 * lacks. NULL until one is installed. catalog_install takes CAT (NULL: none) and frees
 * the previous one.
 */
const struct catalog *catalog_current(void);
void catalog_install(struct catalog *cat);

/*
 * Whether the daemon should use a catalog with configuration C: model_catalog = yes;
 * no; auto (the default): yes with api_protocol = openrouter, else no.
 */
bool catalog_wanted(const struct conf *c);

/*
 * The daemon's one call, at start and before each claim (FORCED false) and on SIGHUP
 * (FORCED true): when a catalog is wanted, the cache is read (once per api_base); when
 * the catalog is older than CATALOG_MAX_AGE_S (FORCED: than CATALOG_MIN_REFETCH_S) it
 * is fetched again (catalog_fetch), saved and installed; a failed fetch keeps the
 * cached one (logged) and is not tried again for CATALOG_RETRY_S (FORCED: a minute).
 * When none is wanted, the current one is dropped. Never fails the caller: without a
 * catalog, the static table serves. Cheap while the catalog is fresh; a fetch blocks
 * the caller (the loop) for at most the fetch's timeouts, once an hour at most.
 */
void catalog_refresh(const struct conf *c, bool forced);

/* ---- catalog_fetch.c ---------------------------------------------------------------- */

/*
 * GET API_BASE/videos/models with C's authentication (the key when there is one: the
 * catalog is public on OpenRouter) and extra headers, no redirects, at most
 * CATALOG_MAX_BYTES, bounded by C's connect timeout and CATALOG_FETCH_TIMEOUT_MS.
 * Returns the parsed catalog (fetched_at now, api_base C's), or NULL with the reason
 * in why[whylen] (the HTTP status and the service's message; never the key).
 * Blocking: the one place that talks to the service, so that the transport can move
 * under it (api.c's rework) with one call site to change.
 */
#define CATALOG_FETCH_TIMEOUT_MS 15000L
struct catalog *catalog_fetch(const struct conf *c, char *why, size_t whylen);

#endif
