/*
 * api.h — the Videos API client: create, retrieve, list, delete, remix and content
 * download over libcurl's multi interface, with the retry policy of retry.h.
 *
 * Shape (after curl's docs/examples/ephiperfifo.c): one long-lived CURLM per client;
 * every attempt is an easy handle whose CURLOPT_PRIVATE is its struct api_req; easy
 * handles are freed in one function (the CURLMSG_DONE path, which cancellation and
 * api_client_free reuse). Nothing blocks: the embedding event loop watches the
 * sockets and the single timer the client asks for, and calls back in:
 *
 *   hooks.watch(fd, what, ud)  what = CURL_POLL_IN / _OUT / _INOUT: watch fd for
 *                              that; CURL_POLL_REMOVE: stop watching fd.
 *                              Then call api_client_socket_action(c, fd, events)
 *                              with CURL_CSELECT_IN / _OUT / _ERR bits.
 *   hooks.timer(ms, ud)        arm ONE one-shot timer to fire in ms milliseconds
 *                              (0: as soon as possible), replacing the previous one;
 *                              -1: disarm. When it fires, call api_client_timeout(c).
 *
 * curl's own timeouts, retry delays and rate-limit pauses are merged into that one
 * timer. A 429 pauses the whole client: until the pause ends no attempt starts (new
 * requests and retries queue), so every job slows down, not just the one that hit it.
 *
 * Retries: transient failures and 429s are retried up to conf->max_retries times
 * (see retry.h). Create and remix are not idempotent: they are retried only after
 * an explicit refusal (429) or when nothing was sent (no connection). Anything else
 * that may have reached the service (a 5xx of any kind, 408/409, a reset, a timeout,
 * a cut-off or unusable 2xx body) is in doubt (spend.h): the result has
 * outcome_unknown set and the caller must reconcile before sending anything again.
 *
 * Ownership: the client copies what it needs from the conf at api_client_new (the
 * conf may be freed afterwards). Requests belong to the client. A request's callback
 * runs exactly once, from api_client_socket_action / api_client_timeout /
 * api_client_run, never from inside the function that created it; the request and
 * its result are valid only during the callback and freed when it returns (move a
 * video out with video_move()). api_req_cancel() frees a request without calling
 * its callback. Callbacks may start and cancel other requests but must not free
 * the client. The API key is registered with log_add_secret() and never appears in
 * a result, error message or log line.
 */
#ifndef SORAD_API_H
#define SORAD_API_H

#include <curl/curl.h>
#include <stdbool.h>

#include "conf.h"
#include "retry.h"
#include "spend.h"
#include "variant.h"
#include "video.h"

#ifndef SORAD_VERSION
#define SORAD_VERSION "0"
#endif
#define API_USER_AGENT "sorad/" SORAD_VERSION

#define API_ATTEMPT_TIMES 32          /* attempts recorded per request */
#define API_DL_LOW_SPEED_BYTES 16384L /* downloads abort below this many bytes/s... */
#define API_DL_LOW_SPEED_SECS                                                                      \
	60L /* ...sustained this long; and each attempt after                                      \
	     * download_timeout_s in all (conf.h) */

enum api_op {
	API_OP_CREATE,
	API_OP_RETRIEVE,
	API_OP_LIST,
	API_OP_DELETE,
	API_OP_REMIX,
	API_OP_CONTENT
};

/* "create", "retrieve", ... */
const char *api_op_name(enum api_op op);

/* One attempt of a request, for logs, metrics and tests. */
struct api_attempt {
	long long start_ms;   /* CLOCK_MONOTONIC milliseconds when it started */
	long long end_ms;     /* ... and when its answer (or failure) was complete */
	long http_status;     /* 0: no HTTP answer */
	int curl_code;        /* CURLcode */
	long server_after_ms; /* the server's retry-after(-ms), -1 none */
	long wait_ms;         /* delay scheduled before the next attempt, -1 none followed */
};

/* What a finished request tells its callback. Strings and structs belong to it. */
struct api_result {
	enum api_op op;
	enum api_kind kind;       /* API_OK on success */
	long http_status;         /* of the last attempt; 0 when no HTTP answer came */
	int curl_code;            /* CURLcode of the last attempt */
	bool outcome_unknown;     /* create/remix: may have spent money (spend == SPEND_IN_DOUBT) */
	enum spend_outcome spend; /* create/remix: spend.h's verdict on the last attempt
	                           * (SPEND_REFUSED when nothing was sent at all) */
	unsigned attempts;        /* attempts made (1 + retries) */
	struct api_attempt attempt[API_ATTEMPT_TIMES]; /* the first API_ATTEMPT_TIMES */
	struct video video;                            /* create, retrieve, remix: when has_video */
	bool has_video;
	struct video_list list; /* list: when has_list */
	bool has_list;
	bool deleted;             /* delete: the server's "deleted" */
	struct api_error error;   /* kind != API_OK: what went wrong (message always set) */
	long poll_after_ms;       /* openai-poll-after-ms of the last answer, -1 absent */
	long retry_after_ms;      /* the server's retry delay of the last answer, bounded by
	                           * retry_after_max_s (retry_after_bound_ms), -1 none */
	char request_id[128];     /* x-request-id of the last answer, "" absent */
	bool has_skew;            /* the last answer had a Date header sorad could read */
	long long server_skew_s;  /* ...its time minus this machine's, in seconds */
	long long bytes;          /* content: bytes now in the file */
	long long content_length; /* content: the full size announced, -1 unknown */
	unsigned resumes;         /* content: attempts that continued with Range */
};

struct api_client;
struct api_req;

typedef void api_done_fn(struct api_req *req, void *ud);

struct api_loop_hooks {
	void (*watch)(int fd, int what, void *ud);
	void (*timer)(long ms, void *ud);
	void *ud;
};

/*
 * Makes a client from CONF (api_base, api_key, auth_style, extra_headers, timeouts,
 * retry knobs). HOOKS may be NULL for a client driven only by api_client_run().
 * Returns NULL (logged) if libcurl cannot be set up.
 */
struct api_client *api_client_new(const struct conf *conf, const struct api_loop_hooks *hooks);

/* Cancels every pending request (no callbacks), frees the client. NULL is fine.
 * hooks.watch may still be called with CURL_POLL_REMOVE while curl closes sockets. */
void api_client_free(struct api_client *c);

/* The loop saw EVENTS (CURL_CSELECT_* bits) on FD. 0, or -1 (logged). */
int api_client_socket_action(struct api_client *c, int fd, int events);

/* The client's timer fired. 0, or -1 (logged). */
int api_client_timeout(struct api_client *c);

/*
 * Drives the client itself with poll() on the sockets curl asked for and the merged
 * timer, until no request is pending (returns 0) or TIMEOUT_MS passed (-1: no
 * limit; returns -1 with requests still pending). For the command line and tests
 * only: the daemon must never call it, it blocks.
 */
int api_client_run(struct api_client *c, long timeout_ms);

/* Requests not yet finished. */
unsigned api_client_pending(const struct api_client *c);

/* Milliseconds left in the client-wide rate-limit pause, 0 when none. */
long api_client_paused_ms(const struct api_client *c);

/* Test hook: the jitter source for backoff, returning values in [0, 1). NULL
 * restores the built-in generator. */
void api_client_set_jitter(struct api_client *c, double (*fn)(void *ud), void *ud);

/* ---- operations: each returns the request (owned by the client), or NULL only
 * when C or CB is NULL. Bad arguments (an unsafe id, an unreadable reference
 * image) are reported through the callback like any other failure. JOB (may be
 * NULL) is the job name used in log lines; every string argument is copied. */

enum api_audio { API_AUDIO_UNSET = 0, API_AUDIO_ON, API_AUDIO_OFF };

struct api_create_params {
	const char *prompt;  /* required */
	const char *model;   /* NULL: the server's default */
	const char *seconds; /* "4", "8"...; NULL: default */
	const char *size;    /* "1280x720"...; NULL: default */
	bool size_as_is;     /* OpenRouter: the model lists SIZE (its catalog): sent as "size",
	                      * not turned into resolution + aspect_ratio */
	const char *input_reference; /* path of a PNG/JPEG/WebP file, or NULL: the first
	                              * frame (OpenRouter) */
	/* Beyond the Videos API (proto.h, enum proto_extra): a protocol that cannot send
	 * one that is set refuses the create before anything is sent. */
	const char *last_frame; /* path of the image the video ends on, or NULL */
	bool has_seed;
	long long seed;
	enum api_audio audio;     /* generate_audio (zero: unset) */
	const char *options_json; /* a JSON object whose members join the body, or NULL */
	/* Where the service posts the job's end (conf callback_url, callback.h), or NULL.
	 * Only OpenRouter's protocol sends it; the Videos API has no such field, and
	 * conf_load refuses callback_url with any other api_protocol. */
	const char *callback_url;
	const char *previous_job_id; /* the job whose video this one continues, or NULL */
};
struct api_req *api_create(struct api_client *c, const struct api_create_params *p, const char *job,
                           api_done_fn *cb, void *ud);

struct api_req *api_retrieve(struct api_client *c, const char *video_id, const char *job,
                             api_done_fn *cb, void *ud);

struct api_list_params {
	unsigned limit;    /* 0: server default; at most 100 */
	const char *after; /* cursor (a video id) or NULL */
	const char *order; /* "asc", "desc" or NULL */
};
struct api_req *api_list(struct api_client *c, const struct api_list_params *p, api_done_fn *cb,
                         void *ud);

struct api_req *api_delete(struct api_client *c, const char *video_id, const char *job,
                           api_done_fn *cb, void *ud);

struct api_req *api_remix(struct api_client *c, const char *video_id, const char *prompt,
                          const char *job, api_done_fn *cb, void *ud);

/*
 * Streams the VARIANT of VIDEO_ID into FD, which must be a regular file open for
 * writing; its previous content is discarded (truncated). The caller keeps FD open
 * until the callback and owns it (closing, fsync and renaming into place are the
 * caller's). On success result.bytes == result.content_length (when announced).
 * On failure the file holds garbage. A write error (ENOSPC, EIO...) ends with
 * API_LOCAL and is not retried. A body without Content-Length is cut off once it
 * passes MAX_BYTES (> 0; 0: no bound) and ends API_FATAL, not retried here: the file
 * never holds more. Each attempt is also cut after download_timeout_s, or below the
 * low-speed limit (API_DL_LOW_SPEED_*), as a transient failure.
 */
struct api_req *api_download(struct api_client *c, const char *video_id, enum api_variant variant,
                             int fd, long long max_bytes, const char *job, api_done_fn *cb,
                             void *ud);

/* The service's clock minus this machine's, in seconds, from the latest answer with a
 * readable Date header (any request of C): false when none came yet. */
bool api_client_server_skew(const struct api_client *c, long long *skew_s);

/*
 * Resumed downloads: a failed download continues with "Range: bytes=N-" where the
 * service advertised Accept-Ranges. A 206 whose body is not the span its Content-Range
 * announces (longer, shorter, or a Content-Length that disagrees) is dropped, the
 * download starts over whole, and the service is remembered as breaking ranges for
 * the process's lifetime (api_client_forget_ranges; logged once): no more Range
 * requests to it, from this client or another made for the same api_base. The caller
 * does the same when a resumed file fails its content check (result.resumes > 0).
 */
void api_client_forget_ranges(struct api_client *c, const char *job, const char *why);
bool api_client_ranges_broken(const struct api_client *c);

/* Frees a pending request without calling its callback. No effect on a request
 * whose callback is running (it is freed when the callback returns). */
void api_req_cancel(struct api_req *r);

/* The result; valid during the callback. */
struct api_result *api_req_result(struct api_req *r);
/* The job name and video id the request was made with (NULL if none). */
const char *api_req_job(const struct api_req *r);
const char *api_req_video_id(const struct api_req *r);

/* ---- statistics, for the status endpoint's /metrics ---------------------------------
 * Counters that outlive any one client: the caller owns a struct api_stats (zeroed)
 * and hands it to every client it makes, so a reload that replaces the client keeps
 * counting. Every attempt counts once under its operation and HTTP status (0: no
 * HTTP answer); pairs beyond API_STATS_MAX share the last slot, status -1. */
#define API_STATS_MAX 64

struct api_stats {
	struct {
		enum api_op op;
		long status;
		unsigned long long n;
	} calls[API_STATS_MAX];
	size_t n_calls;
	unsigned long long retries;          /* attempts scheduled again after a failure */
	unsigned long long bytes_downloaded; /* content bytes written to files */
};

/* Counts into S from now on (NULL: stop counting). S is borrowed: it must outlive C. */
void api_client_set_stats(struct api_client *c, struct api_stats *s);

/* ---- what the service can do (caps.h) ------------------------------------------------
 * Every finished request of C is shown to CAPS (caps_observe), which learns from it; a
 * failure that says the service lacks the operation (caps_refusal) is not retried and
 * is logged at debug (caps.h logs what was learned, once). CAPS is borrowed: it must
 * outlive C; NULL stops learning. api_client_caps: the caps set, or NULL. */
struct caps;
void api_client_set_caps(struct api_client *c, struct caps *caps);
struct caps *api_client_caps(const struct api_client *c);

#endif
