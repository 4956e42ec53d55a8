/* job.c — the job record's lifetime and state names (see job.h). */
#include "job.h"

#include <stdlib.h>
#include <string.h>

static const char *const state_names[JOB_STATE_COUNT] = {
    [JOB_CLAIMED] = "claimed",         [JOB_HELD] = "held",         [JOB_WAITING] = "waiting",
    [JOB_SUBMITTING] = "submitting",   [JOB_IN_DOUBT] = "in_doubt", [JOB_RUNNING] = "running",
    [JOB_DOWNLOADING] = "downloading", [JOB_DONE] = "done",         [JOB_FAILED] = "failed",
};

void job_init(struct job *j)
{
	memset(j, 0, sizeof(*j));
	j->video_created_at = j->video_completed_at = j->video_expires_at = -1;
	j->claimed_at = j->submit_at = j->finished_at = -1;
	j->dl_window_s = j->dl_seen_at = -1;
	j->reported_cost_usd = -1;
	j->typical_s = -1;
	j->creates_allowed = 1; /* one create, until one is proven to have made nothing */
}

void job_release(struct job *j)
{
	char **strs[] = {&j->name,         &j->source,        &j->prompt,   &j->model,
	                 &j->size,         &j->reference,     &j->remix_of, &j->remix_video_id,
	                 &j->video_id,     &j->status,        &j->error,    &j->error_code,
	                 &j->resolution,   &j->create_answer, &j->usage,    &j->dup_key,
	                 &j->history,      &j->last_frame,    &j->options,  &j->extend_of,
	                 &j->extend_job_id};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(*strs[i]); /* cppcheck-suppress shadowVariable ; false positive (2.10) */
	job_init(j);
}

unsigned job_creates_counted(const struct job *j)
{
	unsigned proven = (unsigned)__builtin_popcount(j->creates_void);
	return j->creates > proven ? j->creates - proven : 0;
}

double job_spent_usd(const struct job *j)
{
	return j->cost_usd > 0 ? j->cost_usd * job_creates_counted(j) : 0;
}

const char *job_state_name(enum job_state s)
{
	return (unsigned)s < JOB_STATE_COUNT ? state_names[s] : "?";
}

int job_state_parse(const char *s)
{
	for (int i = 0; s && i < JOB_STATE_COUNT; i++)
		if (!strcmp(s, state_names[i]))
			return i;
	return -1;
}

bool job_state_is_final(enum job_state s)
{
	return s == JOB_DONE || s == JOB_FAILED;
}

const char *job_source_file(const struct job *j)
{
	const char *slash = j->source ? strchr(j->source, '/') : NULL;
	return slash ? slash + 1 : (j->source ? j->source : "");
}
