/*
 * status_json.h — what the status endpoint says about jobs, as JSON: a job in the
 * seed's Video shape (id, object, status, model, progress, created_at, completed_at,
 * size, seconds, error) plus the local fields (name, state, video_id, prompt, source,
 * creates sent, a pending resolution, timings, estimated cost, files), and the list
 * object around a page of them.
 *
 * The JSON is written by hand into a growing buffer rather than through cJSON: a list
 * of 100 jobs is the hot path of the endpoint, and one append per field is several
 * times cheaper than building and printing a tree.
 *
 * Status mapping (the seed's four statuses from the local state):
 *   claimed, held, waiting, submitting, in_doubt → queued;  running → the API's status
 *   (queued or in_progress);  downloading → in_progress;  done → completed;
 *   failed → failed.
 * "state" keeps sorad's own state: a job in doubt is status queued, state in_doubt,
 * with error {"message": the reason, "type": "in_doubt", "code": its error_code
 * ("in_doubt" or more precise)}; only failed and in_doubt jobs carry an error.
 *
 * Ownership: a struct jbuf owns its bytes (jbuf_release frees them, jbuf_take hands
 * them over).
 */
#ifndef SORAD_STATUS_JSON_H
#define SORAD_STATUS_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "job.h"

struct jbuf {
	char *p; /* NUL-terminated when len > 0 */
	size_t len, cap;
};

#define JBUF_INIT                                                                                  \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void jbuf_release(struct jbuf *b);
/* Empties B, keeping its memory. */
void jbuf_reset(struct jbuf *b);
/* The bytes, ownership to the caller (B is left empty); never NULL. */
char *jbuf_take(struct jbuf *b, size_t *len);

void jbuf_add(struct jbuf *b, const char *s, size_t n);
void jbuf_adds(struct jbuf *b, const char *s);
void jbuf_addf(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* S as a JSON string literal (quotes included); NULL gives null. */
void jbuf_add_jstr(struct jbuf *b, const char *s);
/* S escaped for the inside of a JSON string (no quotes added). */
void jbuf_add_escaped(struct jbuf *b, const char *s);
/* V in decimal, without printf. */
void jbuf_add_int(struct jbuf *b, long long v);
/* S percent-encoded for a URL path segment or query value (unreserved bytes kept). */
void jbuf_add_urlenc(struct jbuf *b, const char *s);

/* The seed's status for J: "queued", "in_progress", "completed" or "failed". */
const char *status_json_status(const struct job *j);

/* The id the endpoint shows for J: its video id, or its name before it has one. */
const char *status_json_id(const struct job *j);

/* Seconds J probably has left (from its progress, else this model's typical duration
 * here), 0 while downloading, -1 unknown. NOW: unix seconds. */
long long status_json_remaining_s(const struct job *j, long long now);

/* The one vocabulary of filters (the status API's ?status=, `sorad list --state`, the
 * page): one of sorad's job states, or one of the API's statuses (queued,
 * in_progress, completed, failed), which J matches when status_json_status(J) is it. */
bool status_json_filter_ok(const char *f);
bool status_json_matches(const struct job *j, const char *f);

/*
 * Appends J as a Video object. NOW is the unix time (for the remaining-time estimate).
 * When FILE_BYTES is not NULL (a single object, not a list), FILE_BYTES[v] is the
 * size of each outbox file (-1: unknown) and is included.
 */
void status_json_video(struct jbuf *b, const struct job *j, long long now,
                       const long long *file_bytes);

/* Appends {"error":{"message":M,"type":TYPE,"param":PARAM,"code":CODE}}, the OpenAI
 * error object (PARAM and CODE may be NULL: null). status_json_error: PARAM null. */
void status_json_error_param(struct jbuf *b, const char *message, const char *type,
                             const char *param, const char *code);
void status_json_error(struct jbuf *b, const char *message, const char *type, const char *code);

#endif
