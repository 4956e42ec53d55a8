/*
 * videos.h - the video table and its state machine. A video's state is a pure
 * function of the wall clock: queued, then in_progress with rising progress, then
 * completed --gen-ms after creation (but never before its media are rendered, so
 * completed always means downloadable), or failed for a "[sim:fail]" prompt, or WORD
 * (never downloadable) for a "[sim:status=WORD]" prompt; a gateway may call the first
 * two states by other words (--queued-status, --running-status). Content
 * expires --expire-s after completion. Deleted videos stay as tombstones so that a
 * list cursor naming one still works. Reported times (created_at, completed_at,
 * expires_at) are on the service's clock (now_service_ms, --clock-offset-s); states
 * and expiry are judged on the monotonic clock, which a constant offset does not
 * move, so a video expires --expire-s after completion whatever the offset.
 *
 * All functions are thread-safe (one rwlock). JSON returned is owned by the caller.
 */
#ifndef SIM_VIDEOS_H
#define SIM_VIDEOS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "gateway.h"
#include "media.h"

#define VIDEO_ID_SIZE GATEWAY_ID_SIZE /* the longest id of any --id-style, + NUL */

struct videos_conf {
	uint64_t seed;           /* ids are a function of the seed and creation order */
	int64_t gen_ms;          /* creation to completion */
	int64_t expire_s;        /* completion to expiry of the content */
	unsigned gen_jitter_pct; /* each video's generation time varies by up to this % */
	bool progress_ease;      /* progress rises slowly first, fast at the end */
};

/* What a new video is made of. Strings are copied. */
struct video_spec {
	char model[32];
	char size[16];
	char seconds[8];
	unsigned width, height, secs;
	const char *prompt;
	char remixed_from[VIDEO_ID_SIZE];      /* "" when not a remix */
	char status_word[GATEWAY_STATUS_SIZE]; /* [sim:status=WORD] of the prompt, or "" */
};

enum video_lookup {
	VIDEO_OK,
	VIDEO_NOT_FOUND, /* unknown or deleted */
	VIDEO_NOT_READY, /* queued, in progress or failed: no content */
	VIDEO_EXPIRED,   /* completed, but the content has expired */
};

void videos_init(const struct videos_conf *conf);
void videos_shutdown(void);

/* Creates a video (queueing its render) and returns its JSON. */
cJSON *videos_create(const struct video_spec *spec);

/* The video's JSON, or NULL when unknown. *pending tells whether it is still queued
 * or in progress (the caller then sends openai-poll-after-ms). */
cJSON *videos_retrieve(const char *id, bool *pending);

/* Marks the video deleted; -1 when unknown. */
int videos_delete(const char *id);

/* What a prompt asks of its content downloads (test hooks; 0: nothing):
 * "[sim:content-status=N]" answers every content request with HTTP N (400..599, an
 * API error body), "[sim:trickle=N]" sends a chunked body at N bytes/s that never
 * ends; "[sim:content-fails=N]" answers the first N content requests (any variant)
 * with a 500. */
struct content_hooks {
	unsigned status;
	unsigned trickle_bps;
	unsigned fails; /* at creation: N of content-fails */
	bool fail_now;  /* videos_content: this request is one of those N */
};

/* The media of a completed, unexpired video in *m, and its prompt's hooks in *h. */
enum video_lookup videos_content(const char *id, struct media **m, struct content_hooks *h);

/* Copies model, size and seconds of a completed video into *spec, for a remix. */
enum video_lookup videos_remix_source(const char *id, struct video_spec *spec);

/* Adds "detection" to ROOT (GET /__sim/stats): over the videos whose completion an
 * answer (retrieve or list) has reported, the delay from completing to the first such
 * answer, on the simulator's monotonic clock: videos, p50_ms, p90_ms, p99_ms, max_ms,
 * mean_ms. */
void videos_detection_json(cJSON *root);

/* What the OpenRouter mode (openrouter.c) shapes its own answers from. */
enum video_phase {
	VIDEO_QUEUED,
	VIDEO_RUNNING,
	VIDEO_COMPLETED,
	VIDEO_FAILED,
	VIDEO_OTHER, /* ended with the prompt's [sim:status=WORD]: word */
};

struct video_info {
	enum video_phase phase;
	char word[GATEWAY_STATUS_SIZE]; /* VIDEO_OTHER's word, else "" */
	bool expired;                   /* completed, and the content has expired */
	char model[32];
	unsigned secs;
	int64_t created_real_ms; /* on the service's clock */
};

/* The state of the live video ID in *out; -1 when unknown or deleted. */
int videos_info(const char *id, struct video_info *out);

/* One page of the list in creation order (asc) or reverse (desc), starting after
 * the video `after` (NULL: from the start). Returns NULL when `after` is unknown. */
cJSON *videos_list(unsigned limit, const char *after, bool asc);

#endif
