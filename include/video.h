/*
 * video.h — the Videos API's JSON objects as C structs: a Video, a list page and an
 * error body, parsed defensively from untrusted bytes (any server, gateway or proxy
 * may send anything). Limits and what happens past them, per field:
 *
 *   whole body     at most VIDEO_JSON_MAX bytes, one JSON object, only whitespace
 *                  after it; otherwise rejected.
 *   id             required; 1..VIDEO_ID_MAX bytes of printable ASCII without '/',
 *                  '\\', quotes or whitespace, and not "." or "..": ids end up in URLs
 *                  and file names. Anything else rejects the whole object.
 *   remixed_from_video_id, list first_id / last_id
 *                  null/absent → NULL; present but not a safe id → rejected.
 *   status         required string; a value outside the enum → VIDEO_UNKNOWN (the raw
 *                  text, capped, stays in status_raw). Missing/not a string → rejected.
 *   object, model, size, seconds, error.code, error type/code/param
 *                  "tokens": printable ASCII, at most VIDEO_TOKEN_MAX bytes; anything
 *                  else (wrong type, too long, control bytes) → NULL, never truncated,
 *                  so a mangled model name cannot match a real one. `seconds` may also
 *                  arrive as an integer (some gateways) and is then formatted.
 *   prompt         text: truncated to VIDEO_PROMPT_MAX bytes at a UTF-8 boundary
 *                  (prompt_truncated set); invalid UTF-8 → U+FFFD; NUL-free.
 *   error.message  text: truncated to VIDEO_MESSAGE_MAX bytes; invalid UTF-8 → U+FFFD;
 *                  control characters (newlines too) → spaces, so it fits one log line.
 *   progress       a number, clamped to 0..100 (NaN/absent/wrong type → 0).
 *   created_at, completed_at, expires_at
 *                  integral numbers in 0..VIDEO_TIME_MAX; null, absent, negative,
 *                  fractional, huge, or numbers-as-strings → -1 ("unknown").
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
#define VIDEO_ID_MAX 256                    /* bytes of an id (LiteLLM's are ~200) */
#define VIDEO_TOKEN_MAX 128                 /* bytes of model, size, codes... */
#define VIDEO_PROMPT_MAX (32000 * 4 + 1024) /* 32000 characters of UTF-8 + margin */
#define VIDEO_MESSAGE_MAX 4096              /* bytes of an error message */
#define VIDEO_LIST_MAX 1000                 /* elements of a list page (the API sends <= 100) */
#define VIDEO_TIME_MAX 253402300799LL       /* 9999-12-31T23:59:59Z */

enum video_status {
	VIDEO_UNKNOWN = 0, /* a status sorad does not know (e.g. "expired", "canceled") */
	VIDEO_QUEUED,
	VIDEO_IN_PROGRESS,
	VIDEO_COMPLETED,
	VIDEO_FAILED,
};

struct video {
	char *id;
	char *object;
	char *model;
	enum video_status status;
	char *status_raw; /* as received (a token), e.g. "expired" for VIDEO_UNKNOWN */
	int progress;     /* 0..100 */
	long long created_at, completed_at, expires_at; /* unix seconds, -1 unknown */
	char *prompt;
	bool prompt_truncated;
	char *size;
	char *seconds;
	char *remixed_from_video_id;
	bool has_error;      /* "error" was an object */
	char *error_code;    /* may be NULL even when has_error */
	char *error_message; /* may be NULL even when has_error */
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
/* "queued", "in_progress", "completed", "failed", "unknown". */
const char *video_status_name(enum video_status s);

void video_list_init(struct video_list *l);
void video_list_release(struct video_list *l);

void api_error_init(struct api_error *e);
void api_error_release(struct api_error *e);

/* True when ID may be used as a video id in a URL path segment or a file name. */
bool video_id_is_safe(const char *id);

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
