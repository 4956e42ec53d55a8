/*
 * video.h — the Videos API's JSON objects as C structs: a Video, a list page and an
 * error body, parsed defensively from untrusted bytes (any server, gateway or proxy
 * may send anything). Limits and what happens past them, per field:
 *
 *   whole body     at most VIDEO_JSON_MAX bytes, one JSON object, only whitespace
 *                  after it; otherwise rejected.
 *   id             opaque: 1..VIDEO_ID_MAX bytes of printable ASCII without
 *                  whitespace, quotes or '\\', and not "." or ".." (video_id_is_safe;
 *                  '/', '+', '=', '%' are fine: LiteLLM's ids are base64). Ids go into
 *                  URLs percent-encoded (video_id_escape) and never into file names.
 *                  Present but not safe (or not a string) → the whole object is
 *                  rejected. Absent, null or "" → NULL: some gateways answer a retrieve
 *                  with "id": ""; the caller, who knows which id it asked for, decides
 *                  (a create answer without an id is unusable; a list element without
 *                  one is skipped).
 *   remixed_from_video_id, list first_id / last_id
 *                  null/absent → NULL; present but not a safe id → rejected.
 *   status         required string, mapped without regard to case by one table
 *                  (video_status_from): queued, pending, in_queue → VIDEO_QUEUED;
 *                  in_progress, processing, running → VIDEO_IN_PROGRESS; completed;
 *                  failed; cancelled, canceled → VIDEO_CANCELLED; expired →
 *                  VIDEO_EXPIRED; any other word → VIDEO_UNKNOWN (the raw text, capped,
 *                  stays in status_raw). Missing/not a string → rejected.
 *   object, model, size, seconds, error.code, error type/code/param
 *                  "tokens": printable ASCII, at most VIDEO_TOKEN_MAX bytes; anything
 *                  else (wrong type, too long, control bytes) → NULL, never truncated,
 *                  so a mangled model name cannot match a real one. `seconds` may also
 *                  arrive as an integer (some gateways) and is then formatted.
 *   prompt         text: truncated to VIDEO_PROMPT_MAX bytes at a UTF-8 boundary
 *                  (prompt_truncated set); invalid UTF-8 → U+FFFD; NUL-free.
 *   error.message  text: truncated to VIDEO_MESSAGE_MAX bytes; invalid UTF-8 → U+FFFD;
 *                  control characters (newlines too) → spaces, so it fits one log line.
 *   progress       a number, clamped to 0..100; absent, null, NaN or not a number
 *                  → -1 ("unknown": LiteLLM sends none), never a made-up 0.
 *   usage          an object (LiteLLM and OpenRouter add one) → its compact JSON text
 *                  in usage_json when at most VIDEO_USAGE_MAX bytes, else NULL; its
 *                  "cost" (or "cost_usd", "total_cost"), a finite number >= 0 →
 *                  usage_cost, else -1.
 *   created_at, completed_at, expires_at
 *                  integral numbers in 1..VIDEO_TIME_MAX; null, absent, 0 (LiteLLM's
 *                  "don't know"), negative, fractional, huge, or numbers-as-strings
 *                  → -1 ("unknown").
 *   unknown keys   ignored.
 *
 * Ownership: every char * inside these structs is heap memory owned by the struct
 * and freed by its _release(); NULL means absent. _init() before use; _release()
 * leaves the struct re-initialized, ready for reuse.
 */
#ifndef SORAD_VIDEO_H
#define SORAD_VIDEO_H

#include <stdbool.h>
#include <stddef.h>

#include "retry.h"

#define VIDEO_JSON_MAX (1024 * 1024)        /* bytes of one JSON response */
#define VIDEO_ID_MAX 512                    /* bytes of an id (LiteLLM's are ~200) */
#define VIDEO_TOKEN_MAX 128                 /* bytes of model, size, codes... */
#define VIDEO_PROMPT_MAX (32000 * 4 + 1024) /* 32000 characters of UTF-8 + margin */
#define VIDEO_MESSAGE_MAX 4096              /* bytes of an error message */
#define VIDEO_LIST_MAX 1000                 /* elements of a list page (the API sends <= 100) */
#define VIDEO_TIME_MAX 253402300799LL       /* 9999-12-31T23:59:59Z */
#define VIDEO_USAGE_MAX 4096                /* bytes of a usage object as JSON text */

enum video_status {
	VIDEO_UNKNOWN = 0, /* a status word sorad does not know: treated as still running */
	VIDEO_QUEUED,
	VIDEO_IN_PROGRESS,
	VIDEO_COMPLETED,
	VIDEO_FAILED,
	VIDEO_CANCELLED, /* the service (or someone) cancelled it: it will never finish */
	VIDEO_EXPIRED,   /* the service no longer has it */
};

struct video {
	char *id; /* NULL: the answer named no id (see above) */
	char *object;
	char *model;
	enum video_status status;
	char *status_raw; /* as received (a token), e.g. "expired" for VIDEO_UNKNOWN */
	int progress;     /* 0..100, -1 unknown */
	long long created_at, completed_at, expires_at; /* unix seconds, -1 unknown */
	char *prompt;
	bool prompt_truncated;
	char *size;
	char *seconds;
	char *remixed_from_video_id;
	bool has_error;      /* "error" was an object */
	char *error_code;    /* may be NULL even when has_error */
	char *error_message; /* may be NULL even when has_error */
	char *usage_json;    /* the usage object as compact JSON, or NULL */
	double usage_cost;   /* the cost the service reported, -1 none */
};

struct video_list {
	struct video *data; /* n elements */
	size_t n;
	size_t n_skipped; /* elements that were not acceptable Video objects */
	char *first_id, *last_id;
	bool has_more;
};

/* An API error: the body {"error":{"message","type","param","code"}} plus what the
 * client knows (HTTP status, kind). Also filled for failures that never reached the
 * server (message says what happened). Never contains the API key. */
struct api_error {
	long http_status; /* 0: no HTTP response */
	enum api_kind kind;
	char *type, *code, *param; /* tokens, NULL when absent */
	char *message;             /* text, NULL when absent */
};

void video_init(struct video *v);
void video_release(struct video *v);
/* Moves SRC into DST (DST released first); SRC is left initialized. */
void video_move(struct video *dst, struct video *src);
/* "queued", "in_progress", "completed", "failed", "cancelled", "expired", "unknown". */
const char *video_status_name(enum video_status s);
/* True for the statuses after which nothing more will happen to the video. */
bool video_status_is_final(enum video_status s);
/* The status a service's word S means (the table in the comment above); NULL → unknown. */
enum video_status video_status_from(const char *s);

void video_list_init(struct video_list *l);
void video_list_release(struct video_list *l);

void api_error_init(struct api_error *e);
void api_error_release(struct api_error *e);

/* True when ID is an acceptable video id: 1..VIDEO_ID_MAX bytes of printable ASCII
 * (0x21..0x7e) other than '"', '\'', '`' and '\\', and not "." or "..". '/' is allowed:
 * an id is only ever used percent-encoded (video_id_escape), never as a file name. */
bool video_id_is_safe(const char *id);

/* S percent-encoded for one URL path segment or query value: the RFC 3986 unreserved
 * characters stay, every other byte (including '/', '+', '=', '%') becomes %XX.
 * Caller frees. */
char *video_id_escape(const char *s);

/*
 * Parsers. JSON[LEN] need not be NUL-terminated. On success return 0 with the
 * struct filled. On failure return -1, leave the struct initialized (empty), and
 * write the reason into err[errlen] (may be NULL); *syntax (may be NULL) tells
 * whether the bytes were not JSON at all (true: a truncated or garbled body) or a
 * JSON value of the wrong shape (false: a hostile or incompatible server).
 */
int video_parse(struct video *v, const char *json, size_t len, bool *syntax, char *err,
                size_t errlen);
int video_list_parse(struct video_list *l, const char *json, size_t len, bool *syntax, char *err,
                     size_t errlen);
/* The delete answer {"id", "object":"video.deleted", "deleted":bool}: *deleted set. */
int video_deleted_parse(bool *deleted, const char *json, size_t len, bool *syntax, char *err,
                        size_t errlen);

/*
 * Fills type/code/param/message of E from an error body. Accepts the OpenAI shape,
 * and leniently {"error":"text"}, {"message":"text"} and {"detail":"text"} (gateways).
 * Returns 0 when something was found, -1 otherwise (E's fields untouched then);
 * http_status and kind are never touched.
 */
int api_error_parse(struct api_error *e, const char *json, size_t len);

/* Text sanitizer used for server-supplied text outside JSON (e.g. a non-JSON error
 * body): at most MAX bytes, valid UTF-8, control characters as spaces. Caller frees. */
char *video_text_sanitize(const char *s, size_t len, size_t max);

#endif
