/*
 * control.h — how command-line invocations hand state changes to the running daemon,
 * which stays the only writer of the state directory.
 *
 * The channel is a Unix stream socket STATE/control.sock (mode 0600 inside the 0700
 * state directory: only the daemon's user can talk to it). One connection carries
 * one request and one answer, each a single line of JSON of at most CONTROL_LINE_MAX
 * bytes:
 *
 *   → {"cmd":"approve","name":"batch"}
 *   ← {"ok":true,"message":"approved 3 job(s) of batch"}
 *   ← {"ok":false,"error":"not_found","message":"no held job named ..."}
 *   → {"cmd":"resolve","name":"fox","resolution":"adopt:video_123"}
 *   ← {"ok":false,"error":"not_in_doubt","message":"fox is running, not in doubt..."}
 *
 * Requests: "live" {} (the progress of every job submitting, running or downloading,
 * which the records do not hold: {"jobs":[{name, state, status, progress, elapsed_s,
 * typical_s, left_s}]}; an answer this large is sent as the client reads it),
 * "approve" {name}, "purge" {name}, "cancel" {name}, "reject" {name} (jobs_stop),
 * "retry" {name} (jobs_retry), "delete" {name, purge} (sorad delete: the daemon,
 * which holds the API key, deletes the video at the service, then with purge removes
 * the outputs and forgets the job; answered once the service answered, within
 * CONTROL_DELETE_MS),
 * "resolve" {name, resolution}, where a
 * resolution is what a job record stores for a decision taken offline ("adopt:ID",
 * "resubmit", "drop"; jobs_resolution_parse) and name may also be a video id. Error
 * codes: bad_request, not_found (unknown job), not_final (purge of a job in flight),
 * not_in_doubt (resolve of a job that is not in doubt), refused (jobs_resolve said
 * no: a video id unusable or another job's), io_error, busy, too_large; for delete
 * also cannot_delete (the service has no delete), unavailable (it did not delete),
 * config (it refused the request as set up), timeout (no answer in time).
 *
 * Why a socket rather than a control directory: the answer comes back on the same
 * connection (a command can say what happened, with an exit code), nothing is left
 * behind when a command is interrupted, and the daemon wakes up only when asked.
 * The daemon serves at most CONTROL_MAX_CONNS connections at once; each must send
 * its request within CONTROL_TIMEOUT_MS or is closed, so a stuck client cannot
 * pin the daemon's resources. The handler runs in the loop and must not block.
 *
 * When no daemon runs, commands act directly on the state directory under the same
 * lock the daemon takes (STATE/sorad.lock, flock): control_lock().
 *
 * Ownership: struct control owns its socket and connections; the loop is borrowed.
 */
#ifndef SORAD_CONTROL_H
#define SORAD_CONTROL_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "loop.h"

#define CONTROL_SOCKET "control.sock"
#define CONTROL_LINE_MAX 8192        /* a request */
#define CONTROL_ANSWER_MAX (4 << 20) /* an answer (live: every job in flight) */
#define CONTROL_MAX_CONNS 16
#define CONTROL_TIMEOUT_MS 5000
#define CONTROL_DELETE_MS 120000 /* a delete waits this long for the service's answer */

struct control;

/* Handles REQ (a JSON object) from connection CONN; fills ANSWER (an empty object)
 * with "ok", "message" and, on failure, "error". A handler whose answer must wait for
 * something (the service's answer to a DELETE) calls control_defer(CONN) instead and
 * answers later with control_reply; ANSWER is then dropped. */
struct control_conn;
typedef void control_fn(const cJSON *req, cJSON *answer, struct control_conn *conn, void *ud);

/*
 * Deferred answers. control_defer (only inside the handler, once) keeps CONN open for
 * up to DEADLINE_MS, after which the client gets {"ok":false,"error":"timeout"}. The
 * handle it returns must be given to control_reply exactly once: that sends ANSWER
 * when the client still waits (it may have hung up, the deadline passed, or the
 * control socket closed) and frees the handle either way.
 */
struct control_reply;
struct control_reply *control_defer(struct control_conn *conn, int deadline_ms);
void control_reply(struct control_reply *r, const cJSON *answer);

/* Listens on STATE_DIR/control.sock (replacing a stale socket). NULL (logged) on error. */
struct control *control_new(struct loop *l, const char *state_dir, control_fn *fn, void *ud);
/* Closes every connection and removes the socket. NULL is fine. */
void control_free(struct control *c);

/*
 * The daemon's handler: "approve" {name}, "purge" {name} and "resolve" {name,
 * resolution}, applied to a struct control_target passed as UD (the daemon keeps its
 * conf current across reloads). Pass as FN to control_new.
 */
struct jobs;
struct conf;
struct control_target {
	struct jobs *jobs;
	const struct conf *conf;
};
void control_handle(const cJSON *req, cJSON *answer, struct control_conn *conn, void *ud);

/*
 * `delete --purge`'s local part, shared by the daemon and the offline command:
 * removes NAME's output set (NAME.json first, so the set stops counting as complete)
 * and its failure report. 0, or -1; a sentence for the user in msg[msglen].
 */
int control_purge(const struct conf *c, const char *name, char *msg, size_t msglen);

/*
 * Client side: sends REQUEST (one JSON object, no newline) to the daemon of STATE_DIR
 * and returns its parsed answer (caller frees with cJSON_Delete), or NULL with a
 * reason in why[whylen] (no daemon listening, timeout, garbled answer).
 */
cJSON *control_call(const char *state_dir, const cJSON *request, char *why, size_t whylen);
/* The same, waiting up to TIMEOUT_MS for the answer (control_call: 30 s). */
cJSON *control_call_wait(const char *state_dir, const cJSON *request, int timeout_ms, char *why,
                         size_t whylen);

/*
 * Takes STATE_DIR/sorad.lock without waiting. Returns the locked descriptor (>= 0:
 * no daemon runs; the caller acts directly and closes it when done), -2 when a daemon
 * holds the lock, or -1 with errno set (the state directory cannot be used).
 * A missing state directory is created (mode 0700).
 */
int control_lock(const char *state_dir);

#endif
