/*
 * reconcile.h — proving what a create in doubt (spend.h) did, from the service's list
 * of videos, or saying that it cannot be proven.
 *
 * A listed video is this job's lost create when it matches on what the service really
 * echoes: the prompt, compared after the same normalization sorad's parsers apply
 * (line ends, control characters and runs of white space are one space, ends trimmed);
 * the model, where a dated snapshot ("sora-2-2025-10-06" for "sora-2") or a configured
 * alias (model "sora-2" { aliases = {...} }) also matches; size and seconds only when
 * the service reports them; the remix source for a remix; and a creation time no
 * earlier than the intent less a clock allowance, when the service reports one.
 *
 * Absence is proven only by a list that answers, echoes prompts, holds no item sorad
 * had to skip (an unusable id might be the one), is in newest-first order, and reaches
 * back past the job's intent (an item created before it) or ends (no more pages).
 * Anything else is RECONCILE_UNPROVEN with the reason in plain words: the caller puts
 * the job in doubt instead of creating it again.
 *
 * Pure functions over what the list parser made; no I/O, no clock.
 */
#ifndef SORAD_RECONCILE_H
#define SORAD_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "job.h"
#include "video.h"

/* Prompts equal after normalization (NULL equals nothing). */
bool reconcile_prompt_equal(const char *a, const char *b);

/* REPORTED (what the service says) names the model SENT: equal (case-insensitive),
 * SENT followed by "-YYYY-MM-DD" (a dated snapshot), or one of SENT's aliases in C's
 * model table (C may be NULL). */
bool reconcile_model_matches(const struct conf *c, const char *sent, const char *reported);

enum reconcile_match {
	RECONCILE_NO,    /* not this job's */
	RECONCILE_YES,   /* this job's lost create */
	RECONCILE_MAYBE, /* everything matches, but the service gives no creation time, so
	                  * it may be an older video of the same prompt */
};

/* Whether V could be the lost result of J's latest create (J->submit_at is when its
 * intent was recorded; SLACK seconds of clock difference are allowed). */
enum reconcile_match reconcile_video_matches(const struct conf *c, const struct job *j,
                                             const struct video *v, long long slack);

/* Where a search through the list stands, between pages. Zero it to start. */
struct reconcile_scan {
	unsigned pages;                  /* pages read */
	long long last_created;          /* creation time of the last dated item seen, 0 none */
	char maybe_id[VIDEO_ID_MAX + 1]; /* the first RECONCILE_MAYBE item, "" none */
};

enum reconcile_verdict {
	RECONCILE_ADOPT,     /* *ADOPT is the job's video */
	RECONCILE_NEXT_PAGE, /* read the page after l->last_id */
	RECONCILE_ABSENT,    /* proven: the service made nothing for this create */
	RECONCILE_UNPROVEN,  /* cannot be proven either way: why[] says why */
};

/*
 * Takes one page L of a newest-first list. OWNED tells whether a video id already
 * belongs to another job (never adopted twice). MAX_PAGES bounds the search.
 */
enum reconcile_verdict reconcile_page(struct reconcile_scan *s, const struct conf *c,
                                      const struct job *j, const struct video_list *l,
                                      long long slack, unsigned max_pages,
                                      bool (*owned)(const char *id, void *ud), void *ud,
                                      const struct video **adopt, char *why, size_t whylen);

/* Whether a failed list call means the service has no list at all (404, 405, 501, or a
 * 5xx whose error says it is not supported or not implemented). */
bool reconcile_list_unsupported(long http_status, const char *error_message);

#endif
