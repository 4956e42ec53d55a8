/*
 * stats.h - request counters served at GET /__sim/stats: per endpoint template and
 * outcome ("200", "429", "reset", "truncated"...), and per prompt the number of
 * videos actually created, which is how tests prove that a client never submitted
 * the same job twice; and (videos.c) the detection delay of completions.
 */
#ifndef SIM_STATS_H
#define SIM_STATS_H

enum endpoint {
	EP_CREATE,
	EP_RETRIEVE,
	EP_CONTENT,
	EP_LIST,
	EP_DELETE,
	EP_REMIX,
	EP_MODELS, /* OpenRouter mode: the model catalog */
	EP_OTHER,  /* unknown /v1 routes and wrong methods */
	EP_COUNT
};

/* "POST /v1/videos", "GET /v1/videos/{id}", ... */
const char *endpoint_name(enum endpoint ep);

/* Counts one request with an outcome: a status code as a string or a fault name. */
void stats_count(enum endpoint ep, const char *outcome);
/* Counts one injected fault by its name ("429", "5xx", "5xx_after_create", "reset",
 * "truncated", "slow"): the "faults" object of the stats, so a soak can report what
 * it survived (a slow answer is otherwise counted only under its status). */
void stats_count_fault(const char *kind);
/* Counts one callback delivery of the OpenRouter mode by its outcome: the receiver's
 * status ("204", "401", ...) or "unreachable" (the "callbacks" object of the stats). */
void stats_count_callback(const char *outcome);
/* Counts one video actually created with this prompt. */
void stats_count_create(const char *prompt);
/* Benchmarks: from now on, append one line "<CLOCK_REALTIME ns> <prompt>" to PATH
 * for every video created (the prompt's control characters become spaces), flushed
 * at once. 0, or -1 (logged). */
int stats_log_creates(const char *path);
/* --log-bodies: appends the JSON body of every OpenRouter create (valid JSON, accepted
 * or not) to PATH, compact, one per line; stats_log_body writes one. */
int stats_log_bodies(const char *path);
void stats_log_body(const char *json);
/* Returns the stats JSON document; the caller frees it. */
char *stats_json(void);
void stats_reset(void);
void stats_shutdown(void);

#endif
