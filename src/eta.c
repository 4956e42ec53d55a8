/* eta.c — per-model running means of generation times (see eta.h). */
#include "eta.h"

#include <string.h>

#include "util.h"

#define ETA_DAY_S 86400

void eta_init(struct eta *e)
{
	memset(e, 0, sizeof(*e));
}

/* J's generation time in seconds, or -1. */
static long long generation_s(const struct job *j)
{
	long long d = -1;

	if (j->video_created_at > 0 && j->video_completed_at >= j->video_created_at)
		d = j->video_completed_at - j->video_created_at;
	else if (j->submit_at >= 0 && j->finished_at >= j->submit_at)
		d = j->finished_at - j->submit_at;
	return d > 0 && d <= ETA_DAY_S ? d : -1;
}

void eta_add(struct eta *e, const struct job *j)
{
	long long d = j->state == JOB_DONE && j->model ? generation_s(j) : -1;
	size_t i = 0;

	if (d < 0 || strlen(j->model) > ETA_MODEL_MAX)
		return;
	while (i < e->n && strcmp(e->m[i].model, j->model) != 0)
		i++;
	if (i == e->n) {
		if (e->n == ETA_MODELS)
			return;
		bcopy_str(e->m[i].model, sizeof(e->m[i].model), j->model);
		e->m[i].mean_s = 0;
		e->m[i].n = 0;
		e->n++;
	}
	if (e->m[i].n < ETA_WINDOW)
		e->m[i].n++;
	e->m[i].mean_s += ((double)d - e->m[i].mean_s) / e->m[i].n;
}

long long eta_typical_s(const struct eta *e, const char *model)
{
	for (size_t i = 0; model && i < e->n; i++)
		if (strcmp(e->m[i].model, model) == 0)
			return (long long)(e->m[i].mean_s + 0.5);
	return -1;
}

long long eta_elapsed_s(const struct job *j, long long now)
{
	long long start = j->submit_at >= 0 ? j->submit_at : j->video_created_at;
	return start >= 0 && now >= start ? now - start : -1;
}
