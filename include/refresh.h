/*
 * refresh.h — batch polling: while many jobs are running, their statuses come from
 * list calls (GET /videos?limit=100&order=desc) instead of one retrieve per job.
 *
 * The job state machine keeps its own polling schedule (2 s doubling to 10 s, or the
 * server's openai-poll-after-ms); when a job's poll comes due it asks the refresher
 * (refresh_due) instead of retrieving. The refresher walks the list newest first,
 * only as far back as the oldest due job's created_at (and at most
 * REFRESH_MAX_PAGES pages), at most one walk every REFRESH_MIN_GAP_MS or the
 * server's openai-poll-after-ms, whichever is longer, so the jobs that come due
 * close together share one walk. Videos submitted together finish together: after a
 * walk that found some finished, the next may start after REFRESH_HOT_GAP_MS instead
 * (still never sooner than the server's openai-poll-after-ms). Every due job seen is handed its
 * video (seen_fn); a tracked job that is not due yet is handed its video only when it has finished
 * (completed or failed), so it need not wait for its own poll. A due job not in the
 * walked pages (a straggler) is handed back (miss_fn) to retrieve it itself, and
 * from then on always polls itself. A service known to have no list (caps.h: configured,
 * or learned from a list answered 404/405/501 or "not supported") is not listed at
 * all: every job polls itself, without a warning per walk, until the list is asked
 * about again (CAPS_RELEARN_MS).
 *
 * Reading statuses changes nothing on the service and nothing is persisted here, so
 * exactly-once submission and crash safety stay the job state machine's.
 *
 * Ownership: the refresher borrows the loop and the API client (replace the client
 * with refresh_suspend + refresh_set_api). JOB pointers are opaque and borrowed: a
 * job must be untracked (refresh_untrack) before it is freed. Callbacks run from the
 * loop, never inside a refresh_* call; they may call any refresh_* function.
 */
#ifndef SORAD_REFRESH_H
#define SORAD_REFRESH_H

#include <stdbool.h>

#include "api.h"
#include "loop.h"

#define REFRESH_MIN_JOBS 4      /* below this many jobs in flight each job retrieves itself */
#define REFRESH_MIN_GAP_MS 100  /* between the starts of two walks */
#define REFRESH_HOT_GAP_MS 25   /* the same, right after a walk found videos finishing */
#define REFRESH_SHORT_GAP_MS 10 /* the shortest gap a due job may ask for (refresh_due) */
#define REFRESH_GATHER_MS 2     /* a walk starts this long after a job comes due, at least */
#define REFRESH_MAX_PAGES 5     /* pages of 100 per walk */
#define REFRESH_PAGE_LIMIT 100

/* The video V of JOB, read from a list (V is valid during the call; move what you
 * keep). POLL_AFTER_MS: the server's openai-poll-after-ms on that list, or -1. */
typedef void refresh_seen_fn(void *job, const struct video *v, long poll_after_ms, void *ud);
/* JOB was due but the walk did not show it (or the list failed): retrieve it now. */
typedef void refresh_miss_fn(void *job, void *ud);

struct refresh;

struct refresh *refresh_new(struct loop *l, struct api_client *api, refresh_seen_fn *seen,
                            refresh_miss_fn *miss, void *ud);
void refresh_free(struct refresh *rf);

/*
 * JOB (running, video VIDEO_ID created at CREATED_AT unix seconds, -1 unknown) is
 * due for a poll. GAP_MS (<= 0: REFRESH_MIN_GAP_MS): the longest gap between walks
 * the job can wait, for a short job whose few tens of milliseconds count (pollplan.h):
 * the next walk starts no later than the shortest gap asked since the last one
 * started, but never sooner than refresh_gap_ms allows. True: the refresher will
 * answer through seen_fn or miss_fn. False: the job is a known straggler, or the
 * service has no list, and must retrieve itself.
 */
bool refresh_due(struct refresh *rf, void *job, const char *video_id, long long created_at,
                 long gap_ms);

/* JOB is no longer running (or is freed): forget it. No effect if unknown. */
void refresh_untrack(struct refresh *rf, const void *job, const char *video_id);

/* Cancels the walk in flight and forgets every job (the API client is going away);
 * refresh_set_api gives the refresher its new client. */
void refresh_suspend(struct refresh *rf);
void refresh_set_api(struct refresh *rf, struct api_client *api);

/* The least time between the starts of two walks: REFRESH_MIN_GAP_MS, or
 * REFRESH_HOT_GAP_MS after a walk that found videos finishing (HOT), or less when the
 * jobs due asked for less (DUE_GAP_MS > 0, the shortest asked; refresh_due), but
 * never below REFRESH_SHORT_GAP_MS nor the server's openai-poll-after-ms
 * (SERVER_GAP_MS, 0 none). */
long refresh_gap_ms(bool hot, long due_gap_ms, long server_gap_ms);

/* Jobs tracked, list calls made (for tests and /metrics). */
size_t refresh_tracked(const struct refresh *rf);
unsigned long long refresh_lists(const struct refresh *rf);

#endif
