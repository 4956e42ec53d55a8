/*
 * eta.h — how long generations of each model have taken here, for an estimate when
 * the service reports no progress (LiteLLM's Video objects carry none): a small
 * per-model running mean of observed generation times. Memory only: the daemon
 * builds it from the finished job records at load and feeds it as jobs finish;
 * `sorad list`/`show` build their own from the records they read.
 *
 * A job's generation time is its video's completed_at - created_at when the service
 * gave both, else finished_at - submit_at (which includes the download). Times of
 * 0 s or over a day are ignored. Models past ETA_MODELS are not tracked.
 *
 * Ownership: struct eta holds no pointers; a zeroed struct (eta_init) is empty.
 */
#ifndef SORAD_ETA_H
#define SORAD_ETA_H

#include <stddef.h>

#include "job.h"

#define ETA_MODELS 32     /* models tracked */
#define ETA_MODEL_MAX 128 /* bytes of a model name (job records allow as much) */
#define ETA_WINDOW 50     /* the mean follows about the last this many jobs */

struct eta {
	struct {
		char model[ETA_MODEL_MAX + 1];
		double mean_s;
		unsigned n;
	} m[ETA_MODELS];
	size_t n;
};

void eta_init(struct eta *e);
/* Counts J if it is done and its generation time is known; anything else is ignored. */
void eta_add(struct eta *e, const struct job *j);
/* The mean generation time of MODEL in whole seconds, -1 when none was observed. */
long long eta_typical_s(const struct eta *e, const char *model);
/* Seconds since J was submitted (its submit_at, which this machine recorded) at unix
 * time NOW, this machine's clock; -1 when unknown. Not from the video's created_at: that
 * is the service's clock, which may be hours off. Only a record too old to have a
 * submit_at falls back to it. */
long long eta_elapsed_s(const struct job *j, long long now);

#endif
