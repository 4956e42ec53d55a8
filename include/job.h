/*
 * job.h — one job's record: what was asked (the spec), where it stands (the state),
 * and what is known about it (video id, timings, error). The record is what the
 * state directory stores (store.h); the transitions between states live in job.c.
 *
 * States, in order of a successful run:
 *   claimed      the input was moved out of the inbox into the state directory
 *   held         waiting for a usage cap or an approval ("sorad approve NAME")
 *   waiting      a remix or an extension (extend_of) waiting for its source job to
 *                complete: nothing is sent meanwhile
 *   submitting   the intent to create was recorded; the create call may be in flight
 *                (after a crash: in doubt until reconciled against the API's list)
 *   in_doubt     a create may have spent money and the service cannot prove that it
 *                did not (no list, a list without prompts, an unusable answer...):
 *                nothing is sent until the user decides (`sorad resolve NAME
 *                --adopt VIDEO_ID | --resubmit | --drop`); the reason is the error
 *   running      the API has the video (video_id known), being polled
 *   downloading  completed remotely; assets being fetched into the outbox
 *   done         NAME.json is in the outbox
 *   failed       inputs moved to failed/ with NAME.error.txt
 *
 * Ownership: every string in struct job belongs to it; job_release() frees them.
 */
#ifndef SORAD_JOB_H
#define SORAD_JOB_H

#include <stdbool.h>

#define JOB_CREATES_MAX 31 /* creates one job may ever send (bits of creates_void) */

enum job_state {
	JOB_CLAIMED,
	JOB_HELD,
	JOB_WAITING,
	JOB_SUBMITTING,
	JOB_IN_DOUBT,
	JOB_RUNNING,
	JOB_DOWNLOADING,
	JOB_DONE,
	JOB_FAILED,
};
#define JOB_STATE_COUNT (JOB_FAILED + 1)

struct job {
	char *name; /* unique within the state directory; the outbox stem */
	enum job_state state;

	/* The spec, with defaults applied at claim time. */
	char *source;        /* the inbox file it came from, e.g. "batch.jsonl" */
	unsigned line;       /* line in a .jsonl batch, 0 otherwise */
	unsigned claim_jobs; /* jobs made from the same dropped file (0: unknown, older
	                      * records): the claim is recorded once that many exist */
	char *prompt;
	char *model;
	char *size;
	unsigned seconds;
	char *reference;      /* file name of the reference image kept with the job, or NULL */
	char *remix_of;       /* video id or job name, or NULL */
	char *remix_video_id; /* the source video, once remix_of is resolved */
	char *extend_of;      /* video (job) id or job name it continues, or NULL; never
	                       * with remix_of: either is the job's "source" (jobs.c) */
	char *extend_job_id;  /* the source's id, once extend_of is resolved: sent as
	                       * previous_job_id */
	/* Beyond the Videos API (prompt.h, proto.h): */
	char *last_frame; /* file name of the last-frame image kept with the job, or NULL */
	bool has_seed;
	long long seed;
	int audio;     /* 0 unset, 1 true, 2 false */
	char *options; /* a JSON object as compact text, or NULL */

	/* What the API said. */
	char *video_id; /* NULL until created */
	char *status;   /* last remote status ("queued", "in_progress"...), or NULL */
	int progress;   /* 0..100; -1 unknown (the service sends none, e.g. LiteLLM) */
	long long video_created_at, video_completed_at, video_expires_at; /* -1 unknown */

	/* Local timings, unix seconds (-1 unknown) and milliseconds where it matters. */
	long long claimed_at;
	long long submit_at; /* when the create intent was recorded */
	long long finished_at;
	long long next_at_ms;  /* wall ms: a claimed job's next try, 0 now; in doubt: since
	                        * when (kept for a restart only: while sorad runs, its
	                        * decisions use the monotonic clock, deadline.h) */
	long long dl_window_s; /* the download link's lifetime left when sorad saw the video
	                        * completed (deadline.h), -1 unknown */
	long long dl_seen_at;  /* ...and the wall time (unix s) it saw it, -1 unknown */
	unsigned attempts;     /* create attempts, polls and downloads retried so far */

	/* Money: creates (and remixes) sent for this job, counted durably before each is
	 * sent. A create may be sent only while creates < creates_allowed; the allowance
	 * grows by one only when a create was proven to have made nothing (an explicit
	 * refusal, or a reconciliation that proved absence) or the user said
	 * `sorad resolve --resubmit`. creates_void has bit k-1 set when create k is
	 * proven to have made nothing (it costs nothing). */
	unsigned creates;
	unsigned creates_allowed;
	unsigned creates_void;
	char *create_answer; /* what the latest create got back, in plain words, while its
	                      * outcome is in doubt (for the in-doubt reason), or NULL */
	char *resolution;    /* a decision taken while the daemon was down, applied at start:
	                      * "adopt:VIDEO_ID", "resubmit" or "drop"; NULL none */

	char *dup_key;            /* what it asks for, hashed (dupes.h); NULL in older records */
	char *history;            /* earlier failures of a job retried (`sorad retry`), one per
	                           * line: "DATE CODE: first line of the error"; NULL none */
	double cost_usd;          /* estimated at claim time from the price table */
	char *usage;              /* the service's "usage" object as JSON text, or NULL */
	double reported_cost_usd; /* the cost the service reported (usage), -1 none */
	long long typical_s;      /* not stored: how long this model's jobs have taken here
	                           * (eta.h), -1 unknown; set by whoever holds the means */
	char *error;              /* plain words, for NAME.error.txt and the status page;
	                           * for a held job: why it waits (jobs.h, "Holds") */
	char *error_code;         /* the API's error code or kind name, or NULL */
};

void job_init(struct job *j);
void job_release(struct job *j);

/*
 * Money, the one rule every surface uses (list, show, the status API and page,
 * NAME.json, and the usage log's entries, usage.h): each create sent for J costs
 * J->cost_usd (the price-table estimate of one generation) unless it was proven to
 * have made nothing (creates_void). A create refused at once costs $0; one in doubt
 * counts until it is proven otherwise.
 */
unsigned job_creates_counted(const struct job *j);
double job_spent_usd(const struct job *j);

/* "claimed", "held", ... ; "?" for an out-of-range value. */
const char *job_state_name(enum job_state s);
/* The state named S, or -1. */
int job_state_parse(const char *s);

/* The original file name the job came from (its source without the claim), or "". */
const char *job_source_file(const struct job *j);

/* True for done and failed: nothing more will happen to the job. */
bool job_state_is_final(enum job_state s);

#endif
